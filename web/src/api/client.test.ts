import { http, HttpResponse } from 'msw';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { network } from '../test/msw';
import { meTrainer } from '../test/fixtures';
import { ApiError, NetworkError, ok, rest, setAuthLostHandler, upload } from './client';
import { tokens } from './tokens';

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

const me = () => ok(rest.GET('/api/auth/users/me/'));

describe('rest client (openapi-fetch over the session rules)', () => {
  it('refreshes once on 401, stores the rotated pair, retries with the new token', async () => {
    tokens.set({ access: 'old', refresh: 'r1' });
    const seen: string[] = [];
    network.use(
      http.post('/api/auth/jwt/refresh/', async ({ request }) => {
        seen.push(`refresh ${request.headers.get('Authorization') ?? ''}`);
        expect(await request.json()).toEqual({ refresh: 'r1' });
        return HttpResponse.json({ access: 'new', refresh: 'r2' });
      }),
      http.get('/api/auth/users/me/', ({ request }) => {
        const auth = request.headers.get('Authorization');
        seen.push(`me ${auth}`);
        return auth === 'Bearer new' ? HttpResponse.json(meTrainer) : HttpResponse.json({ detail: 'expired' }, { status: 401 });
      }),
    );
    expect(await me()).toEqual(meTrainer);
    expect(seen).toEqual(['me Bearer old', 'refresh ', 'me Bearer new']);
    expect(tokens.access()).toBe('new');
    expect(tokens.refresh()).toBe('r2');
  });

  it('sends the same body again after the refresh', async () => {
    tokens.set({ access: 'old', refresh: 'r1' });
    const bodies: unknown[] = [];
    network.use(
      http.post('/api/auth/jwt/refresh/', () => HttpResponse.json({ access: 'new', refresh: 'r2' })),
      http.post('/api/messaging/templates/', async ({ request }) => {
        bodies.push(await request.json());
        if (request.headers.get('Authorization') !== 'Bearer new') return HttpResponse.json({ detail: 'expired' }, { status: 401 });
        return HttpResponse.json({ id: 1, title: 'A', content: 'B', created_at: 'x', updated_at: 'x' }, { status: 201 });
      }),
    );
    await ok(rest.POST('/api/messaging/templates/', { body: { title: 'A', content: 'B' } }));
    expect(bodies).toEqual([
      { title: 'A', content: 'B' },
      { title: 'A', content: 'B' },
    ]);
  });

  it('goes to login when the refresh is refused', async () => {
    tokens.set({ access: 'old', refresh: 'r1' });
    const lost = vi.fn();
    setAuthLostHandler(lost);
    network.use(http.all('*', () => HttpResponse.json({ detail: 'Token is invalid or expired' }, { status: 401 })));
    await expect(me()).rejects.toBeInstanceOf(ApiError);
    expect(lost).toHaveBeenCalled();
    expect(tokens.access()).toBeNull();
  });

  it("reads the server's error text; network failures are NetworkError", async () => {
    tokens.set({ access: 'a', refresh: 'r' });
    network.use(http.get('/api/auth/users/me/', () => HttpResponse.json({ error: 'Cannot send messages in an archived conversation.' }, { status: 400 }), { once: true }));
    await expect(me()).rejects.toThrow('Cannot send messages in an archived conversation.');
    network.use(http.get('/api/auth/users/me/', () => HttpResponse.json({ content: ['Ensure this field has no more than 2000 characters.'] }, { status: 400 }), { once: true }));
    await expect(me()).rejects.toThrow('no more than 2000');
    network.use(http.get('/api/auth/users/me/', () => HttpResponse.error()));
    await expect(me()).rejects.toBeInstanceOf(NetworkError);
  });
});

/** Just enough XMLHttpRequest: answers with `reply(authHeader)` after reporting progress. */
function xhrStub(reply: (auth: string | undefined, x: { body: FormData }) => { status: number; body?: unknown } | 'network') {
  const sent: { method: string; url: string; auth?: string; body: FormData }[] = [];
  class X {
    headers: Record<string, string> = {};
    method = '';
    url = '';
    status = 0;
    responseText = '';
    upload = { onprogress: null as null | ((e: object) => void) };
    onload: null | (() => void) = null;
    onerror: null | (() => void) = null;
    ontimeout: null | (() => void) = null;
    onabort: null | (() => void) = null;
    open(m: string, u: string) {
      this.method = m;
      this.url = u;
    }
    setRequestHeader(k: string, v: string) {
      this.headers[k] = v;
    }
    send(body: FormData) {
      sent.push({ method: this.method, url: this.url, auth: this.headers.Authorization, body });
      setTimeout(() => {
        const r = reply(this.headers.Authorization, { body });
        if (r === 'network') return this.onerror?.();
        this.upload.onprogress?.({ lengthComputable: true, loaded: 30, total: 120 });
        this.upload.onprogress?.({ lengthComputable: true, loaded: 120, total: 120 });
        this.status = r.status;
        this.responseText = r.body === undefined ? '' : JSON.stringify(r.body);
        this.onload?.();
      }, 0);
    }
    abort() {}
  }
  vi.stubGlobal('XMLHttpRequest', X);
  return sent;
}

describe('upload (multipart through XMLHttpRequest)', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('sends the form with the Bearer token and reports progress', async () => {
    tokens.set({ access: 'a1', refresh: 'r1' });
    const sent = xhrStub(() => ({ status: 201, body: { id: 7 } }));
    const form = new FormData();
    form.append('content', 'hi');
    const progress: number[] = [];
    expect(await upload('/api/x/send/', form, { onProgress: (f) => progress.push(f) })).toEqual({ id: 7 });
    expect(sent).toEqual([{ method: 'POST', url: '/api/x/send/', auth: 'Bearer a1', body: form }]);
    expect(progress).toEqual([0.25, 1]);
  });

  it('refreshes once on 401 and sends again', async () => {
    tokens.set({ access: 'old', refresh: 'r1' });
    vi.stubGlobal('fetch', vi.fn(async () => json({ access: 'new', refresh: 'r2' })));
    const sent = xhrStub((auth) => (auth === 'Bearer new' ? { status: 201, body: { ok: true } } : { status: 401, body: { detail: 'expired' } }));
    expect(await upload('/api/x/', new FormData())).toEqual({ ok: true });
    expect(sent.map((s) => s.auth)).toEqual(['Bearer old', 'Bearer new']);
  });

  it("rejects with the server's text, or a NetworkError when there is no answer", async () => {
    tokens.set({ access: 'a', refresh: 'r' });
    xhrStub(() => ({ status: 400, body: { error: 'Image must be under 5MB.' } }));
    await expect(upload('/api/x/', new FormData())).rejects.toThrow('Image must be under 5MB.');
    xhrStub(() => ({ status: 429, body: { detail: 'Request was throttled. Expected available in 3 seconds.' } }));
    await expect(upload('/api/x/', new FormData())).rejects.toMatchObject({ status: 429 });
    xhrStub(() => 'network');
    await expect(upload('/api/x/', new FormData())).rejects.toBeInstanceOf(NetworkError);
  });
});

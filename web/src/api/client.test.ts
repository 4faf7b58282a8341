import { afterEach, describe, expect, it, vi } from 'vitest';
import { api, ApiError, NetworkError, setAuthLostHandler, upload } from './client';
import { tokens } from './tokens';

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

describe('api client', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('refreshes once on 401, stores the rotated pair, retries with the new token', async () => {
    tokens.set({ access: 'old', refresh: 'r1' });
    const seen: string[] = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string, init: RequestInit) => {
        const auth = (init.headers as Record<string, string>).Authorization ?? '';
        seen.push(`${url} ${auth}`);
        if (url === '/api/auth/jwt/refresh/') {
          expect(JSON.parse(init.body as string)).toEqual({ refresh: 'r1' });
          return json({ access: 'new', refresh: 'r2' });
        }
        return auth === 'Bearer new' ? json({ ok: true }) : json({ detail: 'expired' }, 401);
      }),
    );
    expect(await api('/api/x/')).toEqual({ ok: true });
    expect(seen).toEqual(['/api/x/ Bearer old', '/api/auth/jwt/refresh/ ', '/api/x/ Bearer new']);
    expect(tokens.access()).toBe('new');
    expect(tokens.refresh()).toBe('r2');
  });

  it('goes to login when the refresh is refused', async () => {
    tokens.set({ access: 'old', refresh: 'r1' });
    const lost = vi.fn();
    setAuthLostHandler(lost);
    vi.stubGlobal('fetch', vi.fn(async () => json({ detail: 'Token is invalid or expired' }, 401)));
    await expect(api('/api/x/')).rejects.toBeInstanceOf(ApiError);
    expect(lost).toHaveBeenCalled();
    expect(tokens.access()).toBeNull();
  });

  it("reads the server's error text; network failures are NetworkError", async () => {
    tokens.set({ access: 'a', refresh: 'r' });
    vi.stubGlobal('fetch', vi.fn(async () => json({ error: 'Cannot send messages in an archived conversation.' }, 400)));
    await expect(api('/api/x/')).rejects.toThrow('Cannot send messages in an archived conversation.');
    vi.stubGlobal('fetch', vi.fn(async () => json({ content: ['Ensure this field has no more than 2000 characters.'] }, 400)));
    await expect(api('/api/x/')).rejects.toThrow('no more than 2000');
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))));
    await expect(api('/api/x/')).rejects.toBeInstanceOf(NetworkError);
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

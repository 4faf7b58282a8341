import { afterEach, describe, expect, it, vi } from 'vitest';
import { api, ApiError, NetworkError, setAuthLostHandler } from './client';
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
          expect(JSON.parse(String(init.body))).toEqual({ refresh: 'r1' });
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

import { tokens } from './tokens';
import type { TokenPair } from './types';

/** An HTTP error with the server's JSON body (if any) and a readable message. */
export class ApiError extends Error {
  constructor(
    public status: number,
    public body: unknown,
  ) {
    super(describeError(status, body));
    this.name = 'ApiError';
  }
}

/** The request never got an answer (server down, network gone). */
export class NetworkError extends Error {
  constructor(cause: unknown) {
    super('Network error: the server could not be reached.');
    this.name = 'NetworkError';
    this.cause = cause;
  }
}

export function describeError(status: number, body: unknown): string {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    if (typeof b.error === 'string') return b.error;
    if (typeof b.detail === 'string') return b.detail;
    for (const v of Object.values(b)) {
      if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
    }
  }
  if (status === 429) return 'Too many requests, try again in a moment.';
  if (status >= 500) return 'The server had a problem, try again.';
  return `Request failed (${status}).`;
}

let refreshing: Promise<boolean> | null = null;
let onAuthLost: () => void = () => {};

/** What to do when the session cannot be renewed (go to the login page). */
export function setAuthLostHandler(fn: () => void): void {
  onAuthLost = fn;
}

/** Trade the refresh token for a new pair, once at a time; false if refused. */
export function refreshTokens(): Promise<boolean> {
  if (refreshing) return refreshing;
  const refresh = tokens.refresh();
  if (!refresh) return Promise.resolve(false);
  refreshing = (async () => {
    try {
      const res = await fetch('/api/auth/jwt/refresh/', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ refresh }),
      });
      if (!res.ok) {
        // Another tab may have rotated the token meanwhile: its new pair is usable.
        if (tokens.refresh() !== refresh && tokens.refresh()) return true;
        return false;
      }
      const pair = (await res.json()) as Partial<TokenPair>;
      if (!pair.access) return false;
      tokens.set({ access: pair.access, refresh: pair.refresh ?? refresh });
      return true;
    } catch {
      // Network trouble is not a refused session: keep the tokens.
      throw new NetworkError('refresh');
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  signal?: AbortSignal;
  /** Do not try to refresh on 401 (login itself). */
  anonymous?: boolean;
}

async function send(path: string, opts: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  const access = tokens.access();
  if (access && !opts.anonymous) headers.Authorization = `Bearer ${access}`;
  try {
    return await fetch(path, {
      method: opts.method ?? 'GET',
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: opts.signal,
    });
  } catch (e) {
    if ((e as Error)?.name === 'AbortError') throw e;
    throw new NetworkError(e);
  }
}

/** JSON request to the API: Bearer token, one refresh-and-retry on 401. */
export async function api<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  let res = await send(path, opts);
  if (res.status === 401 && !opts.anonymous) {
    const ok = await refreshTokens();
    if (ok) res = await send(path, opts);
    if (!ok || res.status === 401) {
      tokens.clear();
      onAuthLost();
    }
  }
  let body: unknown = null;
  const text = await res.text();
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  if (!res.ok) throw new ApiError(res.status, body);
  return body as T;
}

/** Turn an absolute `next` URL of a page envelope into a same-origin path. */
export function pathOf(url: string): string {
  try {
    const u = new URL(url, window.location.origin);
    return u.pathname + u.search;
  } catch {
    return url;
  }
}

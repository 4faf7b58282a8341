import { i18n } from '../i18n';
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
    super(i18n.t('errors.network'));
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
  if (status === 429) return i18n.t('errors.tooMany');
  if (status >= 500) return i18n.t('errors.server');
  return i18n.t('errors.requestFailed', { status });
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

function parseBody(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Send once; on 401 renew the session and send again; session gone: back to login. */
async function withRefresh<R extends { status: number }>(attempt: () => Promise<R>, anonymous?: boolean): Promise<R> {
  let res = await attempt();
  if (res.status === 401 && !anonymous) {
    const ok = await refreshTokens();
    if (ok) res = await attempt();
    if (!ok || res.status === 401) {
      tokens.clear();
      onAuthLost();
    }
  }
  return res;
}

/** JSON request to the API: Bearer token, one refresh-and-retry on 401. */
export async function api<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const res = await withRefresh(() => send(path, opts), opts.anonymous);
  const body = parseBody(await res.text());
  if (!res.ok) throw new ApiError(res.status, body);
  return body as T;
}

export interface UploadOptions {
  method?: string;
  /** Fraction of the request body sent so far, 0 to 1. */
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

function xhrSend(path: string, form: FormData, opts: UploadOptions): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(opts.method ?? 'POST', path);
    xhr.setRequestHeader('Accept', 'application/json');
    const access = tokens.access();
    if (access) xhr.setRequestHeader('Authorization', `Bearer ${access}`);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) opts.onProgress?.(Math.min(1, e.loaded / e.total));
    };
    xhr.onload = () => resolve({ status: xhr.status, text: xhr.responseText });
    xhr.onerror = () => reject(new NetworkError('upload failed'));
    xhr.ontimeout = () => reject(new NetworkError('upload timed out'));
    xhr.onabort = () => reject(new DOMException('The upload was aborted.', 'AbortError'));
    opts.signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    // No Content-Type: the browser writes multipart/form-data with its boundary.
    xhr.send(form);
  });
}

/**
 * A multipart request (a photo) through XMLHttpRequest, which reports upload progress (fetch
 * does not). Same rules as `api`: Bearer token, one refresh-and-retry on 401, ApiError with the
 * server's text, NetworkError when there is no answer.
 */
export async function upload<T>(path: string, form: FormData, opts: UploadOptions = {}): Promise<T> {
  const res = await withRefresh(() => xhrSend(path, form, opts));
  const body = parseBody(res.text);
  if (res.status === 0) throw new NetworkError('no answer');
  if (res.status < 200 || res.status >= 300) throw new ApiError(res.status, body);
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

/** A file from the API (an export): Bearer token, one refresh-and-retry on 401. */
export async function download(path: string): Promise<{ blob: Blob; filename: string | null }> {
  const res = await withRefresh(() => send(path, {}));
  if (!res.ok) throw new ApiError(res.status, parseBody(await res.text()));
  return { blob: await res.blob(), filename: filenameOf(res.headers.get('Content-Disposition')) };
}

/** The `filename` of a `Content-Disposition` header (`filename*=UTF-8''…` preferred). */
export function filenameOf(header: string | null): string | null {
  if (!header) return null;
  const star = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(header);
  if (star) {
    try {
      return decodeURIComponent(star[1].trim());
    } catch {
      /* fall through to the plain one */
    }
  }
  const plain = /filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]+))/.exec(header);
  if (!plain) return null;
  return (plain[1] ?? plain[2]).replace(/\\(.)/g, '$1').trim() || null;
}

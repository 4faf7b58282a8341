import createClient from 'openapi-fetch';
import type { paths } from './schema';
import { i18n } from '../i18n';
import { tokens } from './tokens';

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

/** Where the API is: this page's origin (absolute, as `Request` needs outside a browser page). */
const ORIGIN = typeof location === 'undefined' ? '' : location.origin;
const JSON_ACCEPT = { Accept: 'application/json' };

interface Outgoing {
  url: string;
  init: RequestInit;
}

/**
 * openapi-fetch's request as `fetch` arguments, its body read once as bytes: a retry sends the
 * same bytes, and the browser's tools (and the end-to-end tests) see the body as sent.
 */
async function unpack(request: Request): Promise<Outgoing> {
  const body = request.body === null ? undefined : await request.arrayBuffer();
  return { url: request.url, init: { method: request.method, headers: request.headers, body, signal: request.signal } };
}

/** `fetch` at call time (tests replace it), with the transport failures as NetworkError. */
async function send({ url, init }: Outgoing, authorization?: string): Promise<Response> {
  const headers = new Headers(init.headers);
  if (authorization) headers.set('Authorization', authorization);
  try {
    return await fetch(url, { ...init, headers });
  } catch (e) {
    if ((e as Error)?.name === 'AbortError') throw e;
    throw new NetworkError(e);
  }
}

/** Requests that need no session (login, token refresh): no token, no refresh. */
export const restAnonymous = createClient<paths>({
  baseUrl: ORIGIN,
  headers: JSON_ACCEPT,
  fetch: async (request: Request) => send(await unpack(request)),
});

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
      const { data: pair, response } = await restAnonymous.POST('/api/auth/jwt/refresh/', { body: { refresh } });
      if (!response.ok) {
        // Another tab may have rotated the token meanwhile: its new pair is usable.
        if (tokens.refresh() !== refresh && tokens.refresh()) return true;
        return false;
      }
      if (!pair?.access) return false;
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

/** Send once; on 401 renew the session and send again; session gone: back to login. */
async function withRefresh<R extends { status: number }>(attempt: () => Promise<R>): Promise<R> {
  let res = await attempt();
  if (res.status === 401) {
    const ok = await refreshTokens();
    if (ok) res = await attempt();
    if (!ok || res.status === 401) {
      tokens.clear();
      onAuthLost();
    }
  }
  return res;
}

/** The REST transport: Bearer token, one refresh-and-retry on 401. */
async function sendWithSession(request: Request): Promise<Response> {
  const outgoing = await unpack(request);
  return withRefresh(() => {
    const access = tokens.access();
    return send(outgoing, access ? `Bearer ${access}` : undefined);
  });
}

/**
 * The typed REST client (openapi-fetch over ./schema.d.ts): paths, parameters, bodies and
 * answers as the server's OpenAPI document describes them. Its calls answer `{ data, error,
 * response }`; `ok()` turns a refusal into an ApiError.
 */
export const rest = createClient<paths>({ baseUrl: ORIGIN, headers: JSON_ACCEPT, fetch: sendWithSession });


/** The answer of a `rest` call, or an ApiError with the server's status and body. */
export async function ok<R extends { data?: unknown; error?: unknown; response: Response }>(
  call: Promise<R>,
): Promise<Exclude<R['data'], undefined>> {
  const { data, error, response } = await call;
  if (!response.ok) throw new ApiError(response.status, error ?? null);
  return (data ?? null) as Exclude<R['data'], undefined>;
}

function parseBody(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
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
 * A multipart request (a photo) through XMLHttpRequest: the one call that does not go through
 * `rest`, because only XMLHttpRequest reports upload progress (`upload.onprogress`); fetch,
 * and so openapi-fetch, cannot. Same rules: Bearer token, one refresh-and-retry on 401,
 * ApiError with the server's text, NetworkError when there is no answer. `T` is the answer's
 * schema, named by the caller.
 */
export async function upload<T>(path: string, form: FormData, opts: UploadOptions = {}): Promise<T> {
  const res = await withRefresh(() => xhrSend(path, form, opts));
  const body = parseBody(res.text);
  if (res.status === 0) throw new NetworkError('no answer');
  if (res.status < 200 || res.status >= 300) throw new ApiError(res.status, body);
  return body as T;
}

/** The `page` of a page envelope's `next` URL (undefined for none): the only thing it changes. */
export function pageOf(next: string | null | undefined): number | undefined {
  if (!next) return undefined;
  try {
    const page = Number(new URL(next, ORIGIN || 'http://localhost').searchParams.get('page'));
    return Number.isInteger(page) && page > 0 ? page : undefined;
  } catch {
    return undefined;
  }
}

/** A file from the API (an export), as a `rest` call with `parseAs: 'blob'`. */
export async function download(
  call: Promise<{ data?: unknown; error?: unknown; response: Response }>,
): Promise<{ blob: Blob; filename: string | null }> {
  const { data, error, response } = await call;
  if (!response.ok) throw new ApiError(response.status, error ?? null);
  return { blob: data as Blob, filename: filenameOf(response.headers.get('Content-Disposition')) };
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

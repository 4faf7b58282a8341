/**
 * Browser push notifications (wire contract Part B 8): the service worker at /sw.js, and this
 * browser's Web Push subscription registered with the server as a `webpush` device.
 *
 * One subscription per browser profile. It belongs to the account that turned it on (kept in
 * localStorage); signing out removes it from the server and unsubscribes, so whoever signs in
 * next starts with notifications off.
 */
import { ApiError, NetworkError } from '../api/client';
import {
  fetchVapidPublicKey,
  registerWebPush,
  unregisterWebPush,
  type WebPushSubscriptionJSON,
} from '../api/endpoints';
import type { Me } from '../api/types';

export const SW_URL = '/sw.js';
const OWNER_KEY = 'spotter.push.owner';
/** How long subscribe() and the worker's activation may take before we give up. */
export const PUSH_TIMEOUT_MS = 20_000;

export type PushSupport = 'ok' | 'insecure' | 'unsupported';
/** What the switch shows. `on` = this browser has a subscription that belongs to this account. */
export type PushStatus = 'checking' | 'unsupported' | 'insecure' | 'denied' | 'off' | 'on';

export const TEXT = {
  unsupported: 'Notifications are not supported in this browser.',
  insecure: 'Notifications need a secure (https) connection.',
  denied: "Notifications are blocked in this browser's settings.",
  dismissed: 'Notifications were not allowed. Turn the switch on to be asked again.',
  enableFailed: 'Could not enable notifications.',
  disableFailed: 'Could not turn notifications off.',
} as const;

export type PushErrorKind = 'unsupported' | 'insecure' | 'denied' | 'dismissed' | 'key' | 'subscribe' | 'server' | 'worker';

/** A failed enable or disable, with a message for people. */
export class PushError extends Error {
  constructor(
    public kind: PushErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PushError';
  }
}

/** Whether this browser, on this page, can do Web Push. */
export function pushSupport(): PushSupport {
  if (typeof window === 'undefined' || typeof navigator === 'undefined') return 'unsupported';
  if (!('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) {
    // Browsers hide the APIs outside secure contexts: say so rather than "unsupported".
    return window.isSecureContext === false ? 'insecure' : 'unsupported';
  }
  if (window.isSecureContext === false) return 'insecure';
  return 'ok';
}

/** The account a push subscription is for: the real user, also while impersonating. */
export function pushOwner(me: Me): number {
  return me.is_impersonating && me.original_user_id != null ? me.original_user_id : me.id;
}

function storedOwner(): string | null {
  try {
    return localStorage.getItem(OWNER_KEY);
  } catch {
    return null;
  }
}
function setStoredOwner(owner: number | null): void {
  try {
    if (owner == null) localStorage.removeItem(OWNER_KEY);
    else localStorage.setItem(OWNER_KEY, String(owner));
  } catch {
    /* storage unavailable: the subscription is still adopted on the next load */
  }
}

/** base64url (padded or not) to bytes, for `applicationServerKey`. */
export function base64UrlToBytes(s: string): Uint8Array<ArrayBuffer> {
  const b64 = s.trim().replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function sameBytes(a: ArrayBuffer | null | undefined, b: Uint8Array): boolean {
  if (!a) return false;
  const x = new Uint8Array(a);
  return x.length === b.length && x.every((v, i) => v === b[i]);
}

function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

// ---------- the service worker ----------

/**
 * Register /sw.js (scope /); null where service workers are unavailable. Registering again is
 * harmless: the browser answers with the registration it has.
 */
export function registerServiceWorker(): Promise<ServiceWorkerRegistration | null> {
  if (typeof navigator === 'undefined' || !('serviceWorker' in navigator) || window.isSecureContext === false) {
    return Promise.resolve(null);
  }
  return navigator.serviceWorker.register(SW_URL, { scope: '/', updateViaCache: 'none' });
}

/**
 * Page side of the worker: register it, and follow its `spotter:navigate` messages (a click on
 * a notification while the dashboard is open) with the app's router.
 */
export function startServiceWorker(navigateTo: (path: string) => void): void {
  if (typeof navigator === 'undefined' || !('serviceWorker' in navigator) || window.isSecureContext === false) return;
  navigator.serviceWorker.addEventListener('message', (e: MessageEvent) => {
    const d = e.data as { type?: unknown; url?: unknown } | null;
    if (d && d.type === 'spotter:navigate' && typeof d.url === 'string' && d.url.startsWith('/') && !d.url.startsWith('//')) {
      navigateTo(d.url);
    }
  });
  navigator.serviceWorker.startMessages?.();
  registerServiceWorker().catch((e: unknown) => console.warn('Spotter: service worker registration failed', e));
}

/** The registration with an active worker (needed by pushManager.subscribe). */
async function activeRegistration(): Promise<ServiceWorkerRegistration> {
  let reg: ServiceWorkerRegistration | null;
  try {
    reg = await registerServiceWorker();
  } catch (e) {
    throw new PushError('worker', `${TEXT.enableFailed} The service worker did not install (${(e as Error)?.message ?? e}).`, { cause: e });
  }
  if (!reg) throw new PushError('unsupported', TEXT.unsupported);
  if (reg.active) return reg;
  return withTimeout(
    navigator.serviceWorker.ready,
    PUSH_TIMEOUT_MS,
    () => new PushError('worker', `${TEXT.enableFailed} The service worker did not start.`),
  );
}

/** This browser's current subscription, without registering anything. */
export async function currentSubscription(): Promise<PushSubscription | null> {
  if (pushSupport() !== 'ok') return null;
  const reg = await navigator.serviceWorker.getRegistration('/');
  if (!reg?.pushManager) return null;
  return reg.pushManager.getSubscription();
}

function subscriptionJSON(sub: PushSubscription): WebPushSubscriptionJSON {
  const j = sub.toJSON();
  return { endpoint: j.endpoint ?? sub.endpoint, expirationTime: j.expirationTime ?? null, keys: j.keys ?? {} };
}

function serverSentence(e: unknown): string {
  if (e instanceof ApiError && e.status === 404) return 'Push notifications are not available on this server.';
  if (e instanceof NetworkError) return 'The server could not be reached.';
  if (e instanceof Error && e.message) return e.message;
  return 'The server had a problem, try again.';
}

// ---------- turning it on and off ----------

/**
 * Turn notifications on for `owner`: ask for permission (call this straight from the click, so
 * the browser sees the user's gesture), fetch the VAPID key, subscribe, register with the
 * server. Throws PushError; on any failure after subscribing, unsubscribes again.
 */
export async function enablePush(owner: number): Promise<PushSubscription> {
  const support = pushSupport();
  if (support !== 'ok') throw new PushError(support, TEXT[support]);
  let permission: NotificationPermission;
  try {
    permission = await Notification.requestPermission();
  } catch (e) {
    throw new PushError('denied', TEXT.denied, { cause: e });
  }
  if (permission === 'denied') throw new PushError('denied', TEXT.denied);
  if (permission !== 'granted') throw new PushError('dismissed', TEXT.dismissed);

  let key: Uint8Array<ArrayBuffer>;
  try {
    const res = await fetchVapidPublicKey();
    if (!res || typeof res.public_key !== 'string' || !res.public_key) throw new Error('The server sent no push key.');
    key = base64UrlToBytes(res.public_key);
  } catch (e) {
    throw new PushError('key', `${TEXT.enableFailed} ${serverSentence(e)}`, { cause: e });
  }

  const reg = await activeRegistration();
  let sub = await reg.pushManager.getSubscription();
  if (sub && !sameBytes(sub.options?.applicationServerKey, key)) {
    // Made with another server key (the key was rotated): it cannot receive our pushes.
    await sub.unsubscribe().catch(() => false);
    sub = null;
  }
  if (!sub) {
    try {
      sub = await withTimeout(
        reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key }),
        PUSH_TIMEOUT_MS,
        () => new Error('no answer from the push service'),
      );
    } catch (e) {
      const err = e as Error;
      const detail = err?.message ? ` (${err.message})` : '';
      throw new PushError('subscribe', `${TEXT.enableFailed} This browser could not create a push subscription${detail}.`, { cause: e });
    }
  }

  try {
    await registerWebPush(subscriptionJSON(sub));
  } catch (e) {
    await sub.unsubscribe().catch(() => false);
    throw new PushError('server', `${TEXT.enableFailed} ${serverSentence(e)}`, { cause: e });
  }
  setStoredOwner(owner);
  return sub;
}

/**
 * Turn notifications off: remove the subscription from the server (best effort: an
 * unsubscribed endpoint is dead anyway, the server drops it at its next push) and unsubscribe.
 */
export function disablePush(opts: { server?: boolean; timeoutMs?: number } = {}): Promise<void> {
  return dropSubscription(opts);
}

async function dropSubscription({ server = true, timeoutMs = PUSH_TIMEOUT_MS }: { server?: boolean; timeoutMs?: number }): Promise<void> {
  let sub: PushSubscription | null;
  try {
    sub = await currentSubscription();
  } catch (e) {
    throw new PushError('worker', `${TEXT.disableFailed} ${(e as Error)?.message ?? ''}`.trim(), { cause: e });
  }
  setStoredOwner(null);
  if (!sub) return;
  if (server) {
    try {
      await withTimeout(unregisterWebPush(subscriptionJSON(sub)), timeoutMs, () => new Error('timeout'));
    } catch (e) {
      console.warn('Spotter: could not remove the push subscription from the server', e);
    }
  }
  try {
    await sub.unsubscribe();
  } catch (e) {
    throw new PushError('subscribe', `${TEXT.disableFailed} ${(e as Error)?.message ?? ''}`.trim(), { cause: e });
  }
}

/** On sign-out (before the tokens go): unregister from the server and unsubscribe, quickly. */
export async function signOutPush(me: Me, timeoutMs = 3000): Promise<void> {
  if (pushSupport() !== 'ok') return;
  try {
    // While impersonating, the tokens are the trainee's: the server cannot remove the trainer's
    // device with them. Unsubscribing kills the endpoint; the server drops it at its next push.
    await withTimeout(disablePush({ server: !me.is_impersonating, timeoutMs }), timeoutMs + 500, () => new Error('timeout'));
  } catch (e) {
    console.warn('Spotter: push sign-out', e);
  }
}

/** The state as this browser has it, without asking the server anything. */
export async function checkPush(owner: number): Promise<PushStatus> {
  const support = pushSupport();
  if (support !== 'ok') return support;
  if (Notification.permission === 'denied') return 'denied';
  const sub = await currentSubscription().catch(() => null);
  if (!sub || Notification.permission !== 'granted') return 'off';
  const stored = storedOwner();
  return stored === null || stored === String(owner) ? 'on' : 'off';
}

/**
 * On load: work out the state, and keep the server in step with it. A subscription of this
 * account is registered again (the server upserts it: it may have been rotated or dropped); one
 * left behind by another account, or one the browser no longer allows, is removed.
 * The caller runs it once per owner (StrictMode mounts twice).
 */
export async function syncPush(owner: number): Promise<PushStatus> {
  const support = pushSupport();
  if (support !== 'ok') return support;
  const sub = await currentSubscription().catch(() => null);
  const permission = Notification.permission;
  if (!sub) {
    setStoredOwner(null);
    return permission === 'denied' ? 'denied' : 'off';
  }
  const stored = storedOwner();
  if (permission !== 'granted' || (stored !== null && stored !== String(owner))) {
    // Not allowed any more, or someone else's: drop it (the server only if it is ours).
    await dropSubscription({ server: stored === String(owner) }).catch(() => {});
    return permission === 'denied' ? 'denied' : 'off';
  }
  setStoredOwner(owner);
  await registerWebPush(subscriptionJSON(sub)).catch((e: unknown) => {
    console.warn('Spotter: could not register the push subscription again', e);
  });
  return 'on';
}

/** Close the notifications of a conversation (it was just read here). */
export async function closeConversationNotifications(conversationId: number): Promise<void> {
  if (pushSupport() !== 'ok' || Notification.permission !== 'granted') return;
  try {
    const reg = await navigator.serviceWorker.getRegistration('/');
    const list = (await reg?.getNotifications({ tag: `conversation-${conversationId}` })) ?? [];
    list.forEach((n) => n.close());
  } catch {
    /* nothing to close */
  }
}

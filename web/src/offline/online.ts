/**
 * Online state for the whole app: TanStack Query's `onlineManager` (paused queries and
 * mutations follow it; the outbox is the paused sends). By itself it follows the browser's
 * `online`/`offline` events and starts out "online". Two additions:
 *
 * - At start-up the browser's `navigator.onLine === false` (reliable: "certainly offline") seeds
 *   it, so a page loaded offline from the service worker starts paused instead of trying (and
 *   failing) to send the restored outbox.
 * - `navigator.onLine === true` only means "some network": a request that gets no answer at
 *   all (the app's `NetworkError`, e.g. no route, a captive portal, the server away) also counts
 *   as offline. Failed attempts retry only once online again (TanStack pauses a retryer while
 *   offline), and a small probe of `/healthz` (with backoff, never from a cache) tells when the
 *   server answers again.
 */
import { onlineManager, type QueryClient } from '@tanstack/react-query';
import { useSyncExternalStore } from 'react';
import { NetworkError } from '../api/client';
import { mutationKeys } from '../data/keys';

/** At start-up: a page opened offline starts offline. */
export function seedOnlineState(nav: Pick<Navigator, 'onLine'> | undefined = globalThis.navigator): void {
  if (nav && nav.onLine === false) onlineManager.setOnline(false);
}

export function useOnline(): boolean {
  return useSyncExternalStore(
    (cb) => onlineManager.subscribe(cb),
    () => onlineManager.isOnline(),
    () => true,
  );
}

export function isNetworkError(e: unknown): boolean {
  return e instanceof NetworkError || (e instanceof Error && e.name === 'NetworkError');
}

export const PROBE_URL = '/healthz';
export const PROBE_FIRST_MS = 1_000;
export const PROBE_MAX_MS = 15_000;

/** Whether the server answers at all (any HTTP status is an answer). */
async function serverAnswers(fetchFn: typeof fetch): Promise<boolean> {
  try {
    await fetchFn(PROBE_URL, { cache: 'no-store' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Watch `client`'s queries and mutations for requests that got no answer: mark the app offline
 * and probe until the server answers, then online again (paused sends resume). Returns a stop
 * function. Started by main.tsx (the real app), not by component tests.
 */
export function watchConnectivity(
  client: QueryClient,
  { fetchFn = (...a: Parameters<typeof fetch>) => fetch(...a) }: { fetchFn?: typeof fetch } = {},
): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let delay = PROBE_FIRST_MS;
  let stopped = false;

  const probe = async () => {
    timer = null;
    if (stopped) return;
    if (await serverAnswers(fetchFn)) {
      delay = PROBE_FIRST_MS;
      if (!stopped) onlineManager.setOnline(true);
      return;
    }
    delay = Math.min(delay * 2, PROBE_MAX_MS);
    if (!stopped) timer = setTimeout(() => void probe(), delay);
  };
  const unreachable = () => {
    if (onlineManager.isOnline()) onlineManager.setOnline(false);
    timer ??= setTimeout(() => void probe(), delay);
  };
  // The browser says it is back: look at once rather than at the next backoff step.
  const onBrowserOnline = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    delay = PROBE_FIRST_MS;
    void probe();
  };

  const failed = (action: { type: string; error?: unknown }) =>
    (action.type === 'failed' || action.type === 'error') && isNetworkError(action.error);
  const unQueries = client.getQueryCache().subscribe((e) => {
    if (e.type === 'updated' && failed(e.action)) unreachable();
  });
  const unMutations = client.getMutationCache().subscribe((e) => {
    if (e?.type === 'updated' && failed(e.action)) unreachable();
  });
  window.addEventListener('online', onBrowserOnline);
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    unQueries();
    unMutations();
    window.removeEventListener('online', onBrowserOnline);
  };
}

/** How many sends without an answer, each after the server answered the probe, before "Not sent". */
export const SEND_NETWORK_TRIES = 20;

/**
 * With the watch above (the real app, main.tsx): a send that got no answer is not marked failed
 * but tried again, and since the watch has just marked the app offline, TanStack pauses it until
 * the server answers: it waits in the outbox ("Waiting for connection…", kept across a reload)
 * like a send written offline. Its client_message_id stays, so a request that did reach the
 * server is answered with the stored message. Refusals (4xx, 5xx) are not retried here.
 */
export function sendsWaitForNetwork(client: QueryClient): void {
  client.setMutationDefaults(mutationKeys.send, {
    ...client.getMutationDefaults(mutationKeys.send),
    retry: (failures, error) => isNetworkError(error) && failures < SEND_NETWORK_TRIES,
    // No backoff of its own: the pause while offline (and the probe's backoff) is the wait.
    retryDelay: 0,
  });
}

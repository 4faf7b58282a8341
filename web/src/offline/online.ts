/**
 * Online state for the whole app: TanStack Query's `onlineManager` (paused queries and
 * mutations follow it). It listens to the browser's `online`/`offline` events but starts out
 * "online"; a page loaded while offline (the shell from the service worker) must start paused,
 * or the restored outbox would try to send at once and fail. So the browser's own flag seeds it.
 */
import { onlineManager } from '@tanstack/react-query';
import { useSyncExternalStore } from 'react';

/** At start-up: `navigator.onLine === false` is reliable ("certainly offline"). */
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

/**
 * The QueryClient's provider, with the outbox restored from IndexedDB first (persist.ts): while
 * restoring, queries wait; then `me` is marked stale (fetched again when online), the restored
 * sends are shown again as pending bubbles, and `resumePausedMutations()` sends them (or leaves
 * them paused while offline). Without IndexedDB (jsdom, some private modes) it is the plain
 * provider.
 */
import { QueryClientProvider, type QueryClient } from '@tanstack/react-query';
import { PersistQueryClientProvider, type Persister } from '@tanstack/react-query-persist-client';
import { useState, type ReactNode } from 'react';
import { keys } from '../data/keys';
import { hasIndexedDb, idbPersister, persistOptions } from './persist';

/**
 * After a restore (also when nothing was stored). Not awaited: the app shows once this returns,
 * and paused sends may wait for the network for a long time.
 */
export function afterRestore(client: QueryClient): void {
  void client.invalidateQueries({ queryKey: keys.me, exact: true });
  void client.resumePausedMutations();
}

export function OfflineQueryProvider({
  client,
  persister,
  children,
}: {
  client: QueryClient;
  /** Default: IndexedDB where there is one; `null`: no persistence. */
  persister?: Persister | null;
  children: ReactNode;
}) {
  const [p] = useState(() => (persister !== undefined ? persister : hasIndexedDb() ? idbPersister() : null));
  if (!p) return <QueryClientProvider client={client}>{children}</QueryClientProvider>;
  return (
    <PersistQueryClientProvider
      client={client}
      persistOptions={persistOptions(p)}
      onSuccess={() => afterRestore(client)}
      onError={() => console.warn('Spotter: the offline outbox could not be restored')}
    >
      {children}
    </PersistQueryClientProvider>
  );
}

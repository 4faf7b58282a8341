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
import { keys, mutationKeys } from '../data/keys';
import { showPendingSend, type SendVariables } from '../data/mutations';
import { hasIndexedDb, idbPersister, persistOptions } from './persist';

/**
 * After a restore (also when nothing was stored): the restored sends' bubbles first (their
 * onMutate ran on the page before the reload), then they are resumed. The sends themselves are
 * not awaited: they may wait for the network for a long time, and the app shows meanwhile.
 */
export async function afterRestore(client: QueryClient): Promise<void> {
  const restored = client.getMutationCache().findAll({ mutationKey: mutationKeys.send, status: 'pending' });
  const shown: Promise<unknown>[] = [];
  for (const m of restored) {
    const v = m.state.variables as SendVariables | undefined;
    if (v) shown.push(showPendingSend(client, v));
  }
  await Promise.all(shown);
  // Restored as it was: fetched again as soon as the network allows.
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

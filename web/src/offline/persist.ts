/**
 * The outbox on disk: TanStack Query's persisted client in IndexedDB (idb-keyval), so sends
 * written offline survive a reload or a closed tab and go out, in order, when the connection
 * returns (`resumePausedMutations` after the restore; the server de-duplicates a resend by its
 * `client_message_id`, which is part of the mutation's variables).
 *
 * What is kept: every pending mutation (paused ones, and one still in flight when the page went
 * away: it is sent again, and the server answers the stored message), plus two small queries the
 * app needs to open offline: the account (`me`, the gate to the app) and the active conversation
 * list (names for the chat header). Both are fetched again as soon as the network allows.
 * Message histories are not kept. Signing out clears the cache, and with it the stored copy.
 *
 * The persister is the one TanStack's docs give for IndexedDB (idb-keyval, structured clone, so
 * a photo's File survives too), with writes coalesced: one at a time, the latest state wins.
 */
import {
  defaultShouldDehydrateQuery,
  hashKey,
  type Mutation,
  type Query,
} from '@tanstack/react-query';
import type { PersistedClient, PersistQueryClientOptions, Persister } from '@tanstack/react-query-persist-client';
import { createStore, del, get, set, type UseStore } from 'idb-keyval';
import { keys, mutationKeys } from '../data/keys';

/** IndexedDB database and object store of the outbox (one entry, `KEY`). */
export const OUTBOX_DB = 'spotter-offline';
export const OUTBOX_STORE = 'query-client';
export const OUTBOX_KEY = 'client';
/** Changing it discards what older builds stored (a change of the stored shape). */
export const BUSTER = 'spotter-outbox-1';
/** A stored outbox older than this (since the app last ran) is dropped rather than sent. */
export const MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;

/** Queries kept across reloads (see above). */
const KEPT_QUERIES = new Set([hashKey(keys.me), hashKey(keys.conversations(false))]);

export function shouldPersistQuery(query: Query): boolean {
  return KEPT_QUERIES.has(query.queryHash) && defaultShouldDehydrateQuery(query);
}

const SEND = hashKey(mutationKeys.send);

/**
 * Sends only (their function and cache updates are the client's mutation defaults, so a restored
 * one can run): paused ones, and any still pending when the page goes away.
 */
export function shouldPersistMutation(mutation: Mutation): boolean {
  const key = mutation.options.mutationKey;
  return !!key && hashKey(key) === SEND && mutation.state.status === 'pending';
}

/** `value` if IndexedDB can store it (structured clone), else undefined. */
function cloneable<T>(value: T): T | undefined {
  if (value === undefined) return undefined;
  try {
    structuredClone(value);
    return value;
  } catch {
    return undefined;
  }
}

/**
 * What goes to disk: pending mutations are stored as paused (after a restore they wait for
 * `resumePausedMutations`, even the one that was in flight), without errors, and with their
 * `onMutate` context only where it can be cloned.
 */
export function toStored(client: PersistedClient): PersistedClient {
  const state = client.clientState;
  return {
    ...client,
    clientState: {
      ...state,
      mutations: state.mutations.map((m) => ({
        ...m,
        state: {
          ...m.state,
          isPaused: true,
          error: null,
          failureReason: null,
          failureCount: 0,
          context: cloneable(m.state.context),
        },
      })),
    },
  };
}

/** The IndexedDB persister. `store`: another database (tests). */
export function idbPersister(store: UseStore = createStore(OUTBOX_DB, OUTBOX_STORE)): Persister {
  let latest: PersistedClient | null = null;
  let writing: Promise<void> | null = null;
  const drain = async () => {
    while (latest) {
      const next = latest;
      latest = null;
      try {
        await set(OUTBOX_KEY, toStored(next), store);
      } catch (e) {
        // Quota, private mode, a blocked database: the app still works, without the outbox.
        console.warn('Spotter: could not save the offline outbox', e);
      }
    }
    writing = null;
  };
  return {
    persistClient(client) {
      latest = client;
      writing ??= drain();
      return writing;
    },
    restoreClient: () => get<PersistedClient>(OUTBOX_KEY, store),
    async removeClient() {
      latest = null;
      await writing;
      await del(OUTBOX_KEY, store);
    },
  };
}

/** Whether this browser has IndexedDB (not jsdom, not some private modes). */
export function hasIndexedDb(): boolean {
  return typeof indexedDB !== 'undefined' && indexedDB !== null;
}

export function persistOptions(persister: Persister): Omit<PersistQueryClientOptions, 'queryClient'> {
  return {
    persister,
    maxAge: MAX_AGE_MS,
    buster: BUSTER,
    dehydrateOptions: { shouldDehydrateQuery: shouldPersistQuery, shouldDehydrateMutation: shouldPersistMutation },
  };
}

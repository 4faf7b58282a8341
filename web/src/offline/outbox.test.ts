// The outbox: paused sends kept in IndexedDB (fake-indexeddb here), restored after a "reload"
// (a new QueryClient on the same database) and sent once each, in order, with their ids.
import 'fake-indexeddb/auto';
import { MutationObserver, onlineManager, QueryClient, type MutationOptions } from '@tanstack/react-query';
import { persistQueryClientRestore, persistQueryClientSave, type PersistedClient } from '@tanstack/react-query-persist-client';
import { createStore, get } from 'idb-keyval';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { keys } from '../data/keys';
import { afterRestore } from './OfflineQueryProvider';
import { idbPersister, OUTBOX_KEY, persistOptions, toStored } from './persist';

interface SendVars {
  conversationId: number;
  content: string;
  clientMessageId: string;
  createdAt: string;
}

let dbSeq = 0;
let store: ReturnType<typeof createStore>;
beforeEach(() => {
  // A fresh database per test: nothing carries over.
  store = createStore(`outbox-test-${++dbSeq}`, 'query-client');
});
afterEach(() => {
  onlineManager.setOnline(true);
});

/** A QueryClient like the app's: the send's defaults set where the client is made. */
function makeClient(mutationFn: (v: SendVars) => Promise<unknown>) {
  const qc = new QueryClient();
  qc.setMutationDefaults(['messages', 'send'], {
    mutationFn,
    networkMode: 'online',
  } satisfies MutationOptions<unknown, Error, SendVars>);
  qc.mount();
  return qc;
}

function send(qc: QueryClient, vars: SendVars) {
  const observer = new MutationObserver<unknown, Error, SendVars>(qc, {
    mutationKey: ['messages', 'send'],
    scope: { id: `send:${vars.conversationId}` },
  });
  return observer.mutate(vars).catch(() => undefined);
}

const vars = (n: number, conversationId = 7): SendVars => ({
  conversationId,
  content: `message ${n}`,
  clientMessageId: `cmid-${n}`,
  createdAt: new Date(Date.UTC(2026, 11, 3, 21, n)).toISOString(),
});

const stored = () => get<PersistedClient>(OUTBOX_KEY, store);

async function save(qc: QueryClient, persister = idbPersister(store)) {
  await persistQueryClientSave({ queryClient: qc, ...persistOptions(persister) });
}

async function reload(mutationFn: (v: SendVars) => Promise<unknown>) {
  const qc = makeClient(mutationFn);
  await persistQueryClientRestore({ queryClient: qc, ...persistOptions(idbPersister(store)) });
  await afterRestore(qc);
  return qc;
}

const pausedSends = (qc: QueryClient) =>
  qc.getMutationCache().findAll({ mutationKey: ['messages', 'send'] }).filter((m) => m.state.isPaused);

describe('the outbox', () => {
  it('keeps sends written offline across a reload, then sends each once, in order, with its id', async () => {
    onlineManager.setOnline(false);
    const never = vi.fn(async () => ({}));
    const first = makeClient(never);
    void send(first, vars(1));
    void send(first, vars(2));
    void send(first, vars(3));
    await vi.waitFor(() => expect(pausedSends(first)).toHaveLength(3));
    await save(first);
    expect(never).not.toHaveBeenCalled();

    const onDisk = await stored();
    expect(onDisk?.clientState.mutations.map((m) => (m.state.variables as SendVars).clientMessageId)).toEqual([
      'cmid-1',
      'cmid-2',
      'cmid-3',
    ]);

    // The page is reloaded, still offline: the three are back, paused, nothing sent.
    const sent: string[] = [];
    let inFlight = 0;
    const mutationFn = vi.fn(async (v: SendVars) => {
      inFlight++;
      expect(inFlight).toBe(1); // one at a time within the conversation
      await new Promise((r) => setTimeout(r, 5));
      sent.push(v.clientMessageId);
      inFlight--;
      return { id: sent.length, client_message_id: v.clientMessageId };
    });
    const second = await reload(mutationFn);
    expect(pausedSends(second).map((m) => (m.state.variables as SendVars).content)).toEqual(['message 1', 'message 2', 'message 3']);
    expect(second.getMutationCache().getAll().every((m) => m.options.scope?.id === 'send:7')).toBe(true);
    expect(mutationFn).not.toHaveBeenCalled();

    onlineManager.setOnline(true);
    await vi.waitFor(() => expect(sent).toEqual(['cmid-1', 'cmid-2', 'cmid-3']));
    await vi.waitFor(() => expect(second.getMutationCache().getAll().every((m) => m.state.status === 'success')).toBe(true));
    expect(mutationFn).toHaveBeenCalledTimes(3);

    // Once sent, the stored outbox is empty: a later reload sends nothing again.
    await save(second);
    expect((await stored())?.clientState.mutations).toEqual([]);
    const third = await reload(mutationFn);
    expect(third.getMutationCache().getAll()).toEqual([]);
    expect(mutationFn).toHaveBeenCalledTimes(3);
  });

  it('a send still in flight when the page went away is sent again after the reload (same id)', async () => {
    const hanging = vi.fn(() => new Promise<never>(() => {}));
    const first = makeClient(hanging);
    void send(first, vars(1));
    await vi.waitFor(() => expect(hanging).toHaveBeenCalledTimes(1));
    expect(first.getMutationCache().getAll()[0].state.isPaused).toBe(false);
    await save(first);
    // On disk as paused, so that resumePausedMutations picks it up.
    expect((await stored())?.clientState.mutations[0].state).toMatchObject({ status: 'pending', isPaused: true });

    const mutationFn = vi.fn(async (v: SendVars) => ({ client_message_id: v.clientMessageId }));
    await reload(mutationFn);
    await vi.waitFor(() => expect(mutationFn).toHaveBeenCalledTimes(1));
    expect(mutationFn.mock.calls[0][0]).toMatchObject({ clientMessageId: 'cmid-1', content: 'message 1' });
  });

  it("keeps each conversation's order, without one conversation waiting for another", async () => {
    onlineManager.setOnline(false);
    const first = makeClient(async () => ({}));
    for (const v of [vars(1, 7), vars(2, 8), vars(3, 7), vars(4, 8)]) void send(first, v);
    await vi.waitFor(() => expect(pausedSends(first)).toHaveLength(4));
    await save(first);

    const order: string[] = [];
    const release: Record<number, () => void> = {};
    const mutationFn = vi.fn(
      (v: SendVars) =>
        new Promise((resolve) => {
          order.push(v.clientMessageId);
          release[v.conversationId] = () => resolve({});
        }),
    );
    await reload(mutationFn);
    onlineManager.setOnline(true);
    // The first of each conversation starts; the second of each waits for its predecessor.
    await vi.waitFor(() => expect(order.slice().sort()).toEqual(['cmid-1', 'cmid-2']));
    release[8]();
    await vi.waitFor(() => expect(order).toContain('cmid-4'));
    expect(order).not.toContain('cmid-3');
    release[7]();
    await vi.waitFor(() => expect(order).toContain('cmid-3'));
  });

  it('keeps the account and the active conversation list, not message histories nor other queries', async () => {
    const qc = makeClient(async () => ({}));
    qc.setQueryData(keys.me, { id: 1, first_name: 'Sam' });
    qc.setQueryData(keys.conversations(false), [{ id: 7 }]);
    qc.setQueryData(keys.conversations(true), [{ id: 9 }]);
    qc.setQueryData(keys.messages(7), { messages: [{ id: 1, content: 'private' }], hasMore: false });
    qc.setQueryData(keys.templates, [{ id: 1 }]);
    await save(qc);
    const kept = (await stored())?.clientState.queries.map((q) => q.queryKey);
    expect(kept).toEqual([keys.me, keys.conversations(false)]);
  });

  it('keeps only sends: a pending edit, delete or start has no function after a reload', async () => {
    onlineManager.setOnline(false);
    const qc = makeClient(async () => ({}));
    void send(qc, vars(1));
    for (const key of [['messages', 'edit'], ['messages', 'delete'], ['conversations', 'start']]) {
      void new MutationObserver(qc, { mutationKey: key, mutationFn: async () => ({}) }).mutate().catch(() => undefined);
    }
    await vi.waitFor(() => expect(qc.getMutationCache().getAll().filter((m) => m.state.isPaused)).toHaveLength(4));
    await save(qc);
    expect((await stored())?.clientState.mutations.map((m) => m.mutationKey)).toEqual([['messages', 'send']]);
  });

  it('stores what IndexedDB can clone: no errors, a context only if it clones', () => {
    const client: PersistedClient = {
      timestamp: 1,
      buster: 'b',
      clientState: {
        queries: [],
        mutations: [
          {
            mutationKey: ['messages', 'send'],
            state: {
              context: { rollback: () => {} },
              data: undefined,
              error: new Error('boom'),
              failureCount: 2,
              failureReason: new Error('boom'),
              isPaused: false,
              status: 'pending',
              variables: vars(1),
              submittedAt: 5,
            },
          },
        ],
      },
    };
    const out = toStored(client).clientState.mutations[0].state;
    expect(out).toMatchObject({ isPaused: true, error: null, failureReason: null, failureCount: 0, context: undefined, variables: vars(1) });
    expect(() => structuredClone(toStored(client))).not.toThrow();
  });

  it('an outbox stored more than 7 days ago is dropped, not sent', async () => {
    onlineManager.setOnline(false);
    const first = makeClient(async () => ({}));
    void send(first, vars(1));
    await vi.waitFor(() => expect(pausedSends(first)).toHaveLength(1));
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() - 8 * 24 * 3600_000);
      await save(first);
    } finally {
      vi.useRealTimers();
    }
    expect(await stored()).toBeDefined();
    const mutationFn = vi.fn(async () => ({}));
    const second = await reload(mutationFn);
    expect(second.getMutationCache().getAll()).toEqual([]);
    onlineManager.setOnline(true);
    expect(mutationFn).not.toHaveBeenCalled();
    expect(await stored()).toBeUndefined();
  });

  it('a stored outbox from another build (buster) is dropped, not sent', async () => {
    onlineManager.setOnline(false);
    const first = makeClient(async () => ({}));
    void send(first, vars(1));
    await vi.waitFor(() => expect(pausedSends(first)).toHaveLength(1));
    await persistQueryClientSave({ queryClient: first, ...persistOptions(idbPersister(store)), buster: 'an-older-build' });
    const mutationFn = vi.fn(async () => ({}));
    const second = await reload(mutationFn);
    expect(second.getMutationCache().getAll()).toEqual([]);
    expect(await stored()).toBeUndefined();
  });

  it('signing out (the cache cleared) leaves an empty outbox behind', async () => {
    onlineManager.setOnline(false);
    const qc = makeClient(async () => ({}));
    void send(qc, vars(1));
    await vi.waitFor(() => expect(pausedSends(qc)).toHaveLength(1));
    await save(qc);
    qc.clear();
    await save(qc);
    expect((await stored())?.clientState.mutations).toEqual([]);
  });
});

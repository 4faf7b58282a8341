// The outbox in the whole app (fake server at the network boundary, fake-indexeddb): messages
// written offline wait, come back after a "reload" (a new QueryClient and App on the same
// database), and go out once each, in order, with their client_message_id.
import 'fake-indexeddb/auto';
import { onlineManager } from '@tanstack/react-query';
import type { PersistedClient } from '@tanstack/react-query-persist-client';
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { createStore, get } from 'idb-keyval';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App, makeQueryClient } from '../App';
import { ana, conv, msg } from '../test/fixtures';
import { FakeServer } from '../test/server';
import { idbPersister, OUTBOX_KEY } from './persist';
import { sendsWaitForNetwork, watchConnectivity } from './online';

let server: FakeServer;
let store: ReturnType<typeof createStore>;
let dbSeq = 0;
const stops: (() => void)[] = [];

const input = () => screen.getByLabelText<HTMLTextAreaElement>('message input');
const log = () => screen.getByRole('log');
const write = (text: string) => {
  fireEvent.change(input(), { target: { value: text } });
  fireEvent.keyDown(input(), { key: 'Enter' });
};
const bubble = (text: string) => within(log()).getByText(text).closest('li.msg')!;
const sends = () =>
  server.calls
    .filter((c) => c.method === 'POST' && c.path === '/api/messaging/conversations/1/send/')
    .map((c) => c.body as { content: string; client_message_id: string });
const storedSends = async () =>
  ((await get<PersistedClient>(OUTBOX_KEY, store))?.clientState.mutations ?? []).map(
    (m) => (m.state.variables as { clientMessageId: string }).clientMessageId,
  );

/** The app as main.tsx starts it, on this test's database. */
function start({ watch = false } = {}) {
  const client = makeQueryClient();
  if (watch) {
    stops.push(watchConnectivity(client));
    sendsWaitForNetwork(client);
  }
  return render(<App client={client} persister={idbPersister(store)} />);
}

describe('the outbox in the app (fetch and WebSocket mocked, IndexedDB faked)', () => {
  beforeEach(() => {
    server = new FakeServer().install();
    server.conversations = [conv(1, ana)];
    server.messages = [msg(1, { sender: ana })];
    store = createStore(`outbox-flow-${++dbSeq}`, 'query-client');
    localStorage.setItem('spotter.access', 'A');
    localStorage.setItem('spotter.refresh', 'R');
    window.history.pushState(null, '', '/messages/1');
  });
  afterEach(() => {
    stops.splice(0).forEach((s) => s());
    act(() => onlineManager.setOnline(true));
    vi.unstubAllGlobals();
  });

  it('written offline: waiting, still waiting after a reload, then sent once each, in order, with their ids', async () => {
    const first = start();
    await screen.findByText('message 1');
    act(() => onlineManager.setOnline(false));
    expect(screen.getByText("You're offline — messages will be sent when you're back")).toBeTruthy();

    write('first while offline');
    write('second while offline');
    await waitFor(() => expect(bubble('second while offline').getAttribute('data-receipt')).toBe('waiting'));
    expect(bubble('first while offline').getAttribute('data-receipt')).toBe('waiting');
    expect(within(bubble('first while offline') as HTMLElement).getByRole('img', { name: 'Waiting for connection…' })).toBeTruthy();
    const ids = ['first while offline', 'second while offline'].map((t) => bubble(t).getAttribute('data-client-id'));
    expect(ids.every((id) => /^[0-9a-f-]{36}$/.test(id ?? ''))).toBe(true);
    await waitFor(async () => expect(await storedSends()).toEqual(ids));
    expect(sends()).toHaveLength(0);

    // "Reload", still offline: the two bubbles are back, waiting; nothing sent.
    first.unmount();
    start();
    await waitFor(() => expect(bubble('second while offline').getAttribute('data-receipt')).toBe('waiting'));
    expect(bubble('first while offline').getAttribute('data-receipt')).toBe('waiting');
    expect(['first while offline', 'second while offline'].map((t) => bubble(t).getAttribute('data-client-id'))).toEqual(ids);
    expect(screen.getByText('2 messages waiting')).toBeTruthy();
    expect(sends()).toHaveLength(0);

    act(() => onlineManager.setOnline(true));
    await waitFor(() => expect(bubble('second while offline').getAttribute('data-receipt')).toBe('sent'));
    expect(sends().map((b) => [b.content, b.client_message_id])).toEqual([
      ['first while offline', ids[0]],
      ['second while offline', ids[1]],
    ]);
    // One bubble each (the server's copy took the pending one's place), history back too.
    await screen.findByText('message 1');
    expect(within(log()).getAllByText('first while offline')).toHaveLength(1);
    expect(within(log()).getAllByText('second while offline')).toHaveLength(1);
    await waitFor(async () => expect(await storedSends()).toEqual([]));
    expect(screen.queryByText("You're offline — messages will be sent when you're back")).toBeNull();
  });

  it('a send that gets no answer waits (not "Not sent") and goes out once the server answers', async () => {
    start({ watch: true });
    await screen.findByText('message 1');
    let down = true;
    const answer = globalThis.fetch;
    vi.stubGlobal(
      'fetch',
      vi.fn((url: RequestInfo | URL, init?: RequestInit) => (down ? Promise.reject(new TypeError('Failed to fetch')) : answer(url, init))),
    );
    write('into the void');
    await waitFor(() => expect(bubble('into the void').getAttribute('data-receipt')).toBe('waiting'));
    expect(screen.getByText("You're offline — messages will be sent when you're back")).toBeTruthy();
    expect(screen.queryByText(/Not sent/)).toBeNull();
    const id = bubble('into the void').getAttribute('data-client-id');
    await waitFor(async () => expect(await storedSends()).toEqual([id]));

    down = false;
    // The probe (after its first second) finds the server; the send goes out, once.
    await waitFor(() => expect(bubble('into the void').getAttribute('data-receipt')).toBe('sent'), { timeout: 4000 });
    expect(sends().map((b) => b.client_message_id)).toEqual([id]);
  });
});

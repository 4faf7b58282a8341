import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ServerFrame } from '../api/types';
import { backoffDelay, RealtimeClient, userSocketUrl } from './socket';

class FakeSocket {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: string[] = [];
  closedWith: number | null = null;
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(public url: string) {
    FakeSocket.all.push(this);
  }
  send(s: string) {
    this.sent.push(s);
  }
  close(code = 1000) {
    this.closedWith = code;
    this.readyState = 3;
  }
  // test helpers
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  receive(f: unknown) {
    this.onmessage?.({ data: JSON.stringify(f) });
  }
  serverClose(code: number) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
}

const last = () => FakeSocket.all[FakeSocket.all.length - 1];

function make(over: Partial<ConstructorParameters<typeof RealtimeClient>[0]> = {}) {
  let token = 't1';
  const refresh = vi.fn(async () => {
    token = 't2';
    return true;
  });
  const client = new RealtimeClient({
    url: () => `ws://host/ws/messaging/?token=${token}`,
    refreshToken: refresh,
    WebSocketImpl: FakeSocket as unknown as typeof WebSocket,
    random: () => 0.5,
    ...over,
  });
  return { client, refresh };
}

describe('backoffDelay', () => {
  it('grows exponentially, is capped, and jitters between half and full', () => {
    expect(backoffDelay(0, 500, 10_000, () => 0)).toBe(250);
    expect(backoffDelay(0, 500, 10_000, () => 1)).toBe(500);
    expect(backoffDelay(3, 500, 10_000, () => 1)).toBe(4000);
    expect(backoffDelay(20, 500, 10_000, () => 1)).toBe(10_000);
    expect(backoffDelay(20, 500, 10_000, () => 0)).toBe(5000);
  });
});

describe('RealtimeClient', () => {
  beforeEach(() => {
    FakeSocket.all = [];
    vi.useFakeTimers();
  });
  afterEach(() => vi.useRealTimers());

  it('connects, delivers frames, reconnects with growing delays after drops', () => {
    const { client } = make();
    const frames: ServerFrame[] = [];
    const opens: boolean[] = [];
    client.onFrame((f) => frames.push(f));
    client.onOpen((r) => opens.push(r));
    client.start();
    expect(client.status).toBe('connecting');
    last().open();
    expect(client.status).toBe('open');
    last().receive({ type: 'unread_count', unread_count: 3 });
    expect(frames).toEqual([{ type: 'unread_count', unread_count: 3 }]);

    last().serverClose(1001); // server going away
    expect(client.status).toBe('reconnecting');
    expect(FakeSocket.all).toHaveLength(1);
    vi.advanceTimersByTime(374); // 500 * (0.5 + 0.5*0.5) = 375
    expect(FakeSocket.all).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.all).toHaveLength(2);
    last().serverClose(1006); // refused again: wait longer
    vi.advanceTimersByTime(749);
    expect(FakeSocket.all).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.all).toHaveLength(3);
    last().open();
    expect(opens).toEqual([false, true]);
    client.stop();
  });

  it('refreshes the token on 4001 and reconnects with the new one', async () => {
    const { client, refresh } = make();
    client.start();
    last().open();
    last().serverClose(4001);
    await vi.advanceTimersByTimeAsync(0);
    expect(refresh).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(last().url).toContain('token=t2');
    client.stop();
  });

  it('stops and reports lost auth when the refresh is refused', async () => {
    const onAuthLost = vi.fn();
    const { client } = make({ refreshToken: async () => false, onAuthLost });
    client.start();
    last().serverClose(4001);
    await vi.advanceTimersByTimeAsync(0);
    expect(onAuthLost).toHaveBeenCalled();
    expect(client.status).toBe('stopped');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it('falls back to polling when it never connects, keeps trying', () => {
    const { client } = make({ pollAfterFailures: 3 });
    const statuses: string[] = [];
    client.onStatus((s) => statuses.push(s));
    client.start();
    for (let i = 0; i < 3; i++) {
      last().serverClose(1006);
      vi.advanceTimersByTime(20_000);
    }
    expect(statuses).toContain('polling');
    last().open();
    expect(client.status).toBe('open');
    client.stop();
  });

  it('pings, and drops a silent connection', () => {
    const { client } = make({ pingInterval: 1000, pongTimeout: 500 });
    client.start();
    const first = last();
    first.open();
    vi.advanceTimersByTime(1000);
    expect(first.sent).toEqual([JSON.stringify({ type: 'ping' })]);
    first.receive({ type: 'pong' });
    vi.advanceTimersByTime(1000);
    vi.advanceTimersByTime(500); // no pong this time
    expect(first.closedWith).toBe(4000);
    expect(client.status).toBe('reconnecting');
    vi.advanceTimersByTime(1000);
    expect(FakeSocket.all.length).toBe(2);
    client.stop();
  });

  it('send() works only while open; stop() closes and never reconnects', () => {
    const { client } = make();
    client.start();
    expect(client.send({ type: 'ping' })).toBe(false);
    last().open();
    expect(client.send({ type: 'read', conversation_id: 1 })).toBe(true);
    client.stop();
    expect(last().closedWith).toBe(1000);
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it('builds ws and wss URLs', () => {
    expect(userSocketUrl('a b', { protocol: 'http:', host: 'h:1' })).toBe('ws://h:1/ws/messaging/?token=a%20b');
    expect(userSocketUrl('x', { protocol: 'https:', host: 'h' })).toBe('wss://h/ws/messaging/?token=x');
  });
});

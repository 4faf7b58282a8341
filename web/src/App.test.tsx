import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Conversation, Message } from './api/types';
import { App, makeQueryClient } from './App';
import { conv, meTrainer, msg, ana } from './test/fixtures';

/** A fake server at the fetch boundary, and a fake WebSocket. */
class FakeSocket {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: unknown[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(public url: string) {
    FakeSocket.all.push(this);
    setTimeout(() => {
      this.readyState = 1;
      this.onopen?.();
    }, 0);
  }
  send(s: string) {
    this.sent.push(JSON.parse(s));
  }
  close() {
    this.readyState = 3;
  }
  push(frame: unknown) {
    act(() => this.onmessage?.({ data: JSON.stringify(frame) }));
  }
}

let conversations: Conversation[] = [];
let messages: Message[] = [];
const calls: string[] = [];

function json(body: unknown, status = 200) {
  return Promise.resolve(new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } }));
}

function fakeFetch(input: RequestInfo | URL, init?: RequestInit) {
  const url = new URL((input instanceof Request ? input.url : input.toString()), 'http://localhost');
  const method = init?.method ?? 'GET';
  calls.push(`${method} ${url.pathname}${url.search}`);
  const p = url.pathname;
  if (p === '/api/auth/users/me/') return json(meTrainer);
  if (p === '/api/messaging/unread-count/') return json({ unread_count: 0 });
  if (p === '/api/messaging/conversations/')
    return json({ count: conversations.length, next: null, previous: null, results: conversations });
  if (/\/messages\/$/.test(p)) {
    const after = url.searchParams.get('after');
    if (after) return json({ results: messages.filter((m) => m.id > Number(after)), has_more: false });
    return json({ results: [...messages].reverse(), has_more: false });
  }
  if (/\/send\/$/.test(p)) {
    const body = JSON.parse(init?.body as string);
    const m = msg(100 + messages.length, { content: body.content, client_message_id: body.client_message_id });
    messages.push(m);
    return json(m, 201);
  }
  if (/\/read\/$/.test(p)) return json({ conversation_id: 1, messages_marked: 0, read_at: new Date().toISOString() });
  return json({ detail: 'not found' }, 404);
}

function boot(path: string) {
  localStorage.setItem('spotter.access', 'A');
  localStorage.setItem('spotter.refresh', 'R');
  window.history.pushState(null, '', path);
  return render(<App client={makeQueryClient()} />);
}

describe('App (fetch and WebSocket mocked)', () => {
  beforeEach(() => {
    FakeSocket.all = [];
    calls.length = 0;
    conversations = [];
    messages = [];
    vi.stubGlobal('fetch', vi.fn(fakeFetch));
    vi.stubGlobal('WebSocket', FakeSocket);
  });
  afterEach(() => vi.unstubAllGlobals());

  it('shows a Messages link in the navigation and the empty state', async () => {
    boot('/messages');
    expect(await screen.findByText('No conversations yet')).toBeTruthy();
    const nav = screen.getByRole('navigation', { name: 'Main' });
    expect(within(nav).getByRole('link', { name: 'Messages' }).getAttribute('href')).toBe('/messages');
    await waitFor(() => expect(FakeSocket.all[0]?.url).toContain('/ws/messaging/?token=A'));
  });

  it('lists conversations with names and previews, opens a chat, merges socket messages once', async () => {
    conversations = [conv(1, ana, { last_message_preview: 'See you at 6', unread_count: 2 })];
    messages = [msg(1, { content: 'See you at 6' })];
    boot('/messages');
    const item = await screen.findByText('Ana Lima');
    expect(screen.getByText('See you at 6')).toBeTruthy();
    expect(screen.getByLabelText('2 unread')).toBeTruthy();
    fireEvent.click(item);
    expect(await screen.findByRole('heading', { name: 'Ana Lima' })).toBeTruthy();
    expect((await screen.findAllByRole('separator')).length).toBe(1); // one day: one date separator
    const input = screen.getByLabelText('message input');
    expect(screen.getByRole<HTMLButtonElement>('button', { name: 'Send message' }).disabled).toBe(true);

    // Send: optimistic, then confirmed; the socket echo does not duplicate it.
    fireEvent.change(input, { target: { value: 'On my way' } });
    fireEvent.keyDown(input, { key: 'Enter' });
    await waitFor(() => expect(calls.some((c) => c.startsWith('POST /api/messaging/conversations/1/send/'))).toBe(true));
    await waitFor(() => expect(document.querySelector('[data-receipt="sent"]')).toBeTruthy());
    const sock = FakeSocket.all[FakeSocket.all.length - 1];
    sock.push({ type: 'new_message', conversation_id: 1, message: messages[messages.length - 1] });
    const log = () => screen.getByRole('log');
    expect(within(log()).getAllByText('On my way')).toHaveLength(1);

    // The other side types, then writes.
    sock.push({ type: 'typing_indicator', conversation_id: 1, user_id: ana.id, is_typing: true });
    expect(await screen.findByText('Ana is typing…')).toBeTruthy();
    const reply = msg(500, { sender: ana, content: 'Great!' });
    sock.push({ type: 'new_message', conversation_id: 1, message: reply });
    expect(await screen.findByText('Great!')).toBeTruthy();
    expect(screen.queryByText('Ana is typing…')).toBeNull();

    // Receipts: delivered, then read.
    const mine = messages[messages.length - 1];
    sock.push({ type: 'delivery_receipt', conversation_id: 1, up_to_message_id: mine.id, delivered_at: new Date().toISOString() });
    await waitFor(() => expect(document.querySelector('[data-receipt="delivered"]')).toBeTruthy());
    sock.push({ type: 'read_receipt', conversation_id: 1, reader_id: ana.id, read_at: new Date(Date.now() + 60_000).toISOString() });
    await waitFor(() => expect(document.querySelector('[data-receipt="read"]')).toBeTruthy());

    // Unread badge from the socket.
    sock.push({ type: 'unread_count', unread_count: 4 });
    expect((await screen.findByTestId('unread-badge')).textContent).toBe('4');
  });

  it('turns an open chat read-only when the socket says the conversation was archived', async () => {
    conversations = [conv(1, ana)];
    messages = [msg(1, { content: 'See you at 6' })];
    boot('/messages/1');
    expect(await screen.findByText('See you at 6')).toBeTruthy();
    expect(screen.queryByText(/This conversation is archived/)).toBeNull();
    await waitFor(() => expect(FakeSocket.all.length).toBeGreaterThan(0));
    const sock = FakeSocket.all[FakeSocket.all.length - 1];
    // The list refetched after the frame still says is_archived: false (a stale page); the
    // socket's word holds.
    sock.push({ type: 'conversation_archived', conversation_id: 1 });
    expect(await screen.findByText(/This conversation is archived/)).toBeTruthy();
    expect(screen.getByText('See you at 6')).toBeTruthy();
  });

  it('marks a failed send and retries it with the same client_message_id', async () => {
    conversations = [conv(1)];
    boot('/messages/1');
    const input = await screen.findByLabelText('message input');
    let fail = true;
    const seen: string[] = [];
    vi.stubGlobal(
      'fetch',
      vi.fn((i: RequestInfo | URL, init?: RequestInit) => {
        if ((i instanceof Request ? i.url : i.toString()).includes('/send/')) {
          seen.push(JSON.parse(init?.body as string).client_message_id);
          if (fail) return Promise.reject(new TypeError('Failed to fetch'));
        }
        return fakeFetch(i, init);
      }),
    );
    fireEvent.change(input, { target: { value: 'lost?' } });
    fireEvent.keyDown(input, { key: 'Enter' });
    const retry = await screen.findByRole('button', { name: 'Retry' });
    expect(document.querySelector('[data-receipt="failed"]')).toBeTruthy();
    fail = false;
    fireEvent.click(retry);
    await waitFor(() => expect(document.querySelector('[data-receipt="sent"]')).toBeTruthy());
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBe(seen[1]);
    expect(within(screen.getByRole('log')).getAllByText('lost?')).toHaveLength(1);
  });

  it('offline, sends wait ("Waiting for connection…") and go out in order when the connection returns', async () => {
    conversations = [conv(1)];
    boot('/messages/1');
    const input = await screen.findByLabelText('message input');
    act(() => void window.dispatchEvent(new Event('offline')));
    try {
      for (const text of ['first', 'second']) {
        fireEvent.change(input, { target: { value: text } });
        fireEvent.keyDown(input, { key: 'Enter' });
      }
      const log = screen.getByRole('log');
      await waitFor(() => expect(within(log).getAllByRole('img', { name: 'Waiting for connection…' })).toHaveLength(2));
      expect(log.querySelectorAll('[data-receipt="failed"]')).toHaveLength(0);
      expect(calls.filter((c) => c.includes('/send/'))).toEqual([]);
    } finally {
      act(() => void window.dispatchEvent(new Event('online')));
    }
    await waitFor(() => expect(document.querySelectorAll('[data-receipt="sent"]')).toHaveLength(2));
    expect(messages.map((m) => m.content)).toEqual(['first', 'second']);
    expect(screen.queryByRole('img', { name: 'Waiting for connection…' })).toBeNull();
  });

  it('redirects to the login page without a token', async () => {
    window.history.pushState(null, '', '/messages');
    render(<App client={makeQueryClient()} />);
    expect(await screen.findByRole('heading', { name: 'Sign in' })).toBeTruthy();
    await waitFor(() => expect(window.location.pathname).toBe('/login'));
  });
});

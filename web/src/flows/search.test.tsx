// Search: a debounced box above the conversation list (2 characters at least), results across
// conversations with the other person's name, the date and <mark>ed matches, "More results";
// a result opens its conversation around the message (?around=), marked, and scrolling loads
// older and newer messages from there.
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SearchResult } from '../api/types';
import { ana, ben, conv, msg, trainer } from '../test/fixtures';
import { boot, FakeServer, FakeSocket } from '../test/server';

let server: FakeServer;
const box = () => screen.getByRole<HTMLInputElement>('searchbox', { name: 'Search messages' });
const results = () => screen.getByRole('region', { name: 'Search results' });
const log = () => screen.getByRole('log');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function result(over: Partial<SearchResult>): SearchResult {
  return {
    message_id: 1,
    conversation_id: 1,
    sender_id: ana.id,
    sender_first_name: ana.first_name,
    sender_last_name: ana.last_name,
    content: 'squat',
    image_url: null,
    created_at: '2026-02-19T10:00:00.000000Z',
    other_participant_id: ana.id,
    other_participant_first_name: ana.first_name,
    other_participant_last_name: ana.last_name,
    highlights: [{ start: 0, end: 5 }],
    ...over,
  };
}

describe('message search (fetch and WebSocket mocked)', () => {
  beforeEach(() => {
    server = new FakeServer().install();
    server.conversations = [conv(1, ana), conv(2, ben)];
    // 80 messages with Ana; #50 is the one the search finds.
    server.messages = Array.from({ length: 80 }, (_, i) =>
      msg(i + 1, { sender: i % 2 ? trainer : ana, content: i + 1 === 50 ? 'Squat depth looks great' : `chat ${i + 1}` }),
    );
    server.searchable = [
      result({ message_id: 50, content: 'Squat depth looks great', highlights: [{ start: 0, end: 5 }] }),
      result({
        message_id: 500,
        conversation_id: 2,
        sender_id: trainer.id,
        content: '💪 squats done, then SQUAT jumps',
        highlights: [
          { start: 2, end: 7 },
          { start: 20, end: 25 },
        ],
        other_participant_id: ben.id,
        other_participant_first_name: ben.first_name,
        other_participant_last_name: ben.last_name,
      }),
      ...Array.from({ length: 23 }, (_, i) => result({ message_id: 600 + i, conversation_id: 2, content: `squat set ${i}` })),
    ];
  });
  afterEach(() => vi.unstubAllGlobals());

  it('waits for 2 characters and a pause, then lists results with names and marked matches; "More results" pages', async () => {
    boot('/messages');
    await screen.findByText('Ana Lima');
    fireEvent.change(box(), { target: { value: 's' } });
    expect(within(results()).getByRole('status').textContent).toBe('Type at least 2 characters to search.');
    await sleep(400);
    fireEvent.change(box(), { target: { value: 'sq' } });
    fireEvent.change(box(), { target: { value: 'squat' } });
    expect(within(results()).getByRole('status').textContent).toBe('Searching…');
    await within(results()).findByText('25 messages found');
    // One request, for the text typed last (debounced).
    expect(server.log().filter((c) => c.includes('/search/'))).toEqual(['GET /api/messaging/search/?q=squat&page=1']);
    // The conversation list is replaced by the results.
    expect(screen.queryByRole('link', { name: /Ben Okafor.*hello/ })).toBeNull();

    const first = within(results()).getAllByRole('link')[0];
    expect(first.getAttribute('href')).toBe('/messages/1?message=50');
    expect(within(first).getByText('Ana Lima')).toBeTruthy();
    expect(first.querySelector('time')!.getAttribute('dateTime')).toBe('2026-02-19T10:00:00.000000Z');
    expect([...first.querySelectorAll('mark')].map((m) => m.textContent)).toEqual(['Squat']);
    // Code points: the emoji counts as one; two ranges; my own message says "You:".
    const second = within(results()).getAllByRole('link')[1];
    expect(within(second).getByText('Ben Okafor')).toBeTruthy();
    expect([...second.querySelectorAll('mark')].map((m) => m.textContent)).toEqual(['squat', 'SQUAT']);
    expect(second.textContent).toContain('You: 💪 squats done, then SQUAT jumps');

    expect(within(results()).getAllByRole('link')).toHaveLength(20);
    fireEvent.click(within(results()).getByRole('button', { name: 'More results' }));
    await waitFor(() => expect(within(results()).getAllByRole('link')).toHaveLength(25));
    expect(server.log()).toContain('GET /api/messaging/search/?q=squat&page=2');
    expect(within(results()).queryByRole('button', { name: 'More results' })).toBeNull();

    // Escape clears the box: the conversations are back.
    fireEvent.keyDown(box(), { key: 'Escape' });
    expect(box().value).toBe('');
    expect(screen.queryByRole('region', { name: 'Search results' })).toBeNull();
    expect(screen.getByText('Ben Okafor')).toBeTruthy();
  });

  it("shows the server's refusal (rate limit) and no results", async () => {
    server.on((r) =>
      r.path.endsWith('/search/') ? { status: 429, body: { detail: 'Request was throttled. Expected available in 7 seconds.' } } : undefined,
    );
    boot('/messages');
    await screen.findByText('Ana Lima');
    fireEvent.change(box(), { target: { value: 'squat' } });
    const alert = await within(results()).findByRole('alert');
    expect(alert.textContent).toContain('Request was throttled. Expected available in 7 seconds.');
  });

  it('opens a result in place: around the message, marked, then older and newer load from there', async () => {
    boot('/messages');
    await screen.findByText('Ana Lima');
    fireEvent.change(box(), { target: { value: 'squat' } });
    const link = await within(results()).findByRole('link', { name: /Squat depth looks great/ });
    fireEvent.click(link);
    await waitFor(() => expect(window.location.pathname + window.location.search).toBe('/messages/1?message=50'));
    const target = await within(await screen.findByRole('log')).findByText('Squat depth looks great');
    const li = target.closest('li')!;
    expect(li.getAttribute('data-message-id')).toBe('50');
    expect(li.className).toContain('flash');
    await waitFor(() => expect(document.activeElement).toBe(li));
    // The first messages request is the window around it, not the newest page.
    const history = server.log().filter((c) => c.startsWith('GET /api/messaging/conversations/1/messages/'));
    expect(history[0]).toBe('GET /api/messaging/conversations/1/messages/?around=50&limit=30');
    // From there, older and newer pages come in (the view is not full in jsdom).
    await waitFor(() => expect(history.length).toBeGreaterThan(0));
    await waitFor(() => expect(server.log().some((c) => c.includes('/messages/?before='))).toBe(true));
    await waitFor(() => expect(server.log().some((c) => /\/messages\/\?after=\d+&limit=30/.test(c))).toBe(true));
    await within(log()).findByText('chat 80');
    await within(log()).findByText('chat 1');
    const ids = [...log().querySelectorAll('li[data-message-id]')].map((e) => Number(e.getAttribute('data-message-id')));
    expect(ids).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
    // The mark fades.
    await waitFor(() => expect(li.className).not.toContain('flash'), { timeout: 4000 });
    // The search stays, with the opened result marked.
    expect(within(results()).getByRole('link', { name: /Squat depth looks great/ }).getAttribute('aria-current')).toBe('page');
  }, 15_000); // it waits for the mark to fade (FLASH_MS) after paging through 80 messages

  it('live messages wait while reading an older window; "Jump to latest" shows them', async () => {
    // Newer pages fail here: the window stays open.
    server.on((r) => (r.query.get('after') ? { status: 503, body: { detail: 'Service temporarily unavailable, try again shortly.' } } : undefined));
    boot('/messages/1?message=50');
    await within(await screen.findByRole('log')).findByText('Squat depth looks great');
    expect(within(log()).queryByText('chat 80')).toBeNull();
    await waitFor(() => expect(FakeSocket.all.length).toBeGreaterThan(0));
    const live = msg(81, { sender: ana, content: 'new while away', created_at: new Date().toISOString() });
    server.messages.push(live);
    FakeSocket.last().push({ type: 'new_message', conversation_id: 1, message: live });
    // Not appended after a gap.
    expect(within(log()).queryByText('new while away')).toBeNull();
    server.handlers = [];
    fireEvent.click(screen.getByRole('button', { name: 'Jump to latest' }));
    // (The log gives way to "Loading messages…" while the newest page comes.)
    await within(await screen.findByRole('log')).findByText('new while away');
    expect(window.location.search).toBe('');
    expect(server.log()).toContain('GET /api/messaging/conversations/1/messages/?limit=30');
    expect(screen.queryByRole('button', { name: 'Jump to latest' })).toBeNull();
  });

  it('a message that cannot be opened says so and shows the newest messages', async () => {
    boot('/messages/1?message=9999');
    expect((await screen.findByText(/That message could not be opened/)).textContent).toContain('Message not found.');
    await within(await screen.findByRole('log')).findByText('chat 80');
  });
});

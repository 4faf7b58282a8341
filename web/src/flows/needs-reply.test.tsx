// The "needs reply" inbox (trainers): `conversations/?needs_reply=true`, longest waiting first,
// each with "waiting 3 h" kept current; live from the user socket: a trainee's new_message adds
// or keeps (waiting_since unchanged), the trainer's removes at once, conversation_archived
// removes; a count on the tab.
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Message } from '../api/types';
import { ana, ben, conv, meAna, msg, trainer } from '../test/fixtures';
import { boot, FakeServer, FakeSocket } from '../test/server';

let server: FakeServer;
const cy = { id: 5, first_name: 'Cy', last_name: 'Young', email: 'cy@example.com', profile_image: null };
const ago = (min: number) => new Date(Date.now() - min * 60_000).toISOString();
const inbox = () => screen.getByRole('list', { name: 'Waiting for your reply, longest first' });
const names = () => within(inbox()).queryAllByText(/./, { selector: '.conv-name' }).map((n) => n.textContent);
const waitingOf = (name: string) =>
  within(inbox()).getByText(name, { selector: '.conv-name' }).closest('a')!.querySelector('.waiting')!.textContent;
const count = () => screen.queryByTestId('needs-reply-count')?.textContent ?? null;
const frame = (conversation_id: number, m: Partial<Message>) => ({
  type: 'new_message',
  conversation_id,
  message: msg(Math.floor(Math.random() * 1e6) + 100, { conversation_id, created_at: new Date().toISOString(), ...m }),
});

async function openInbox() {
  boot('/messages?view=needs-reply');
  await waitFor(() => expect(names()).toEqual(['Ana Lima', 'Ben Okafor']));
  await waitFor(() => expect(FakeSocket.all.length).toBeGreaterThan(0));
  return FakeSocket.last();
}

describe('needs reply (fetch and WebSocket mocked)', () => {
  beforeEach(() => {
    server = new FakeServer().install();
    server.conversations = [
      conv(1, ana, { last_message_at: ago(130), last_message_preview: 'My knee hurts', unread_count: 1 }),
      conv(2, ben, { last_message_at: ago(20), last_message_preview: 'Friday instead?', unread_count: 1 }),
      conv(3, cy, { last_message_at: ago(5), last_message_preview: 'See you', unread_count: 0 }),
    ];
    server.needsReply = [
      { ...server.conversations[0], waiting_since: ago(185) },
      { ...server.conversations[1], waiting_since: ago(20) },
    ];
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it('lists the waiting conversations, longest first, with how long and a count on the tab', async () => {
    await openInbox();
    expect(server.log()).toContain('GET /api/messaging/conversations/?needs_reply=true');
    expect(waitingOf('Ana Lima')).toBe('waiting 3 h');
    expect(waitingOf('Ben Okafor')).toBe('waiting 20 min');
    const time = within(inbox()).getByText('waiting 3 h');
    expect(time.getAttribute('datetime')).toBe(server.needsReply[0].waiting_since);
    expect(time.className).toContain('waiting-fresh');
    expect(count()).toBe('2');
    const tab = screen.getByRole('link', { name: 'Needs reply, 2 waiting' });
    expect(tab.getAttribute('aria-current')).toBe('true');
    // A row opens the chat and the inbox stays.
    expect(within(inbox()).getByText('Ana Lima').closest('a')!.getAttribute('href')).toBe('/messages/1?view=needs-reply');
  });

  it('the waiting time moves on as time passes', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    await openInbox();
    expect(waitingOf('Ana Lima')).toBe('waiting 3 h');
    act(() => void vi.advanceTimersByTime(60 * 60_000));
    await waitFor(() => expect(waitingOf('Ana Lima')).toBe('waiting 4 h'));
    expect(within(inbox()).getByText('waiting 4 h').className).toContain('waiting-late');
    expect(waitingOf('Ben Okafor')).toBe('waiting 1 h');
  });

  it('a trainee’s new_message adds the conversation (last) or keeps it (waiting since unchanged)', async () => {
    const sock = await openInbox();
    sock.push(frame(3, { sender: cy, content: 'Quick question' }));
    await waitFor(() => expect(names()).toEqual(['Ana Lima', 'Ben Okafor', 'Cy Young']));
    expect(waitingOf('Cy Young')).toBe('waiting <1 min');
    expect(count()).toBe('3');
    // The row shows the live preview.
    expect(within(inbox()).getByText('Quick question')).toBeTruthy();
    sock.push(frame(1, { sender: ana, content: 'Also: skip tomorrow?' }));
    await within(inbox()).findByText('Also: skip tomorrow?');
    expect(names()).toEqual(['Ana Lima', 'Ben Okafor', 'Cy Young']);
    expect(waitingOf('Ana Lima')).toBe('waiting 3 h');
  });

  it('the trainer’s message (from here or elsewhere) removes it at once; conversation_archived too', async () => {
    const sock = await openInbox();
    // Answered from another device: the frame (the server's list agrees, for any refetch).
    server.needsReply = server.needsReply.filter((c) => c.id !== 2);
    sock.push(frame(2, { sender: trainer, content: 'Friday works.' }));
    await waitFor(() => expect(names()).toEqual(['Ana Lima']));
    expect(count()).toBe('1');
    // Answered here.
    fireEvent.click(within(inbox()).getByText('Ana Lima'));
    const box = await screen.findByLabelText<HTMLTextAreaElement>('message input');
    fireEvent.change(box, { target: { value: 'Rest, and ice it.' } });
    fireEvent.keyDown(box, { key: 'Enter' });
    await screen.findByText('All caught up');
    expect(count()).toBeNull();
    // A trainee writes again, then is removed: gone again.
    server.needsReply = [{ ...server.conversations[2], waiting_since: new Date().toISOString() }];
    sock.push(frame(3, { sender: cy, content: 'Hello?' }));
    await waitFor(() => expect(names()).toEqual(['Cy Young']));
    server.needsReply = [];
    sock.push({ type: 'conversation_archived', conversation_id: 3 });
    await screen.findByText('All caught up');
  });

  it('an old copy of the trainer’s message (arriving after a newer trainee message) does not remove it', async () => {
    const sock = await openInbox();
    const old = msg(500, { conversation_id: 1, sender: trainer, content: 'old answer', created_at: ago(140) });
    sock.push({ type: 'new_message', conversation_id: 1, message: old });
    await new Promise((r) => setTimeout(r, 20));
    expect(names()).toEqual(['Ana Lima', 'Ben Okafor']);
  });

  it('a trainee message in a conversation not listed anywhere: the inbox is asked again', async () => {
    const sock = await openInbox();
    const before = server.log().filter((c) => c.includes('needs_reply')).length;
    server.needsReply = [...server.needsReply, { ...conv(9, cy), waiting_since: new Date().toISOString() }];
    sock.push(frame(9, { sender: cy, content: 'New here' }));
    await waitFor(() => expect(server.log().filter((c) => c.includes('needs_reply')).length).toBeGreaterThan(before));
    await waitFor(() => expect(names()).toEqual(['Ana Lima', 'Ben Okafor', 'Cy Young']));
  });

  it('the count shows on the tab from the active list too; trainees have no inbox', async () => {
    boot('/messages');
    await waitFor(() => expect(count()).toBe('2'));
    expect(screen.queryByRole('list', { name: /Waiting for your reply/ })).toBeNull();
  });

  it('trainees: no tab, no request', async () => {
    server.me = meAna;
    boot('/messages?view=needs-reply');
    await screen.findByText('My knee hurts');
    expect(screen.queryByRole('group', { name: 'Which conversations' })).toBeNull();
    expect(server.log().some((c) => c.includes('needs_reply'))).toBe(false);
  });
});

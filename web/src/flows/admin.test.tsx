// The admin console: only admins see it (it is their home); the user finder, a user's
// conversations (archived ones marked) and their message search; a conversation's history
// read-only (no input, the audit banner, tombstones, photos), older pages by `before`. Every
// history open is a logged read, so nothing is prefetched (a hover fetches nothing).
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SearchResult } from '../api/types';
import { adminConv, ana, ben, meAdmin, meAna, msg, trainer, user } from '../test/fixtures';
import { boot, FakeServer } from '../test/server';

let server: FakeServer;
const nav = () => screen.getByRole('navigation', { name: 'Main' });
const adminReads = () => server.log().filter((c) => c.startsWith('GET /api/admin/conversations/') && c.includes('/messages/'));

describe('admin console (fetch mocked)', () => {
  beforeEach(() => {
    server = new FakeServer().install();
    server.me = meAdmin;
    server.users = [user(ana, 'trainee'), user(ben, 'trainee', { is_active: false }), user(trainer, 'trainer')];
    server.adminConversations = [
      adminConv(1, ana, { message_count: 45 }),
      adminConv(5, ana, { is_archived: true, archived_at: '2026-02-20T10:00:00Z', trainer: { ...trainer, id: 9, first_name: 'Old', last_name: 'Coach' } }),
      adminConv(2, ben),
    ];
    server.messages = Array.from({ length: 45 }, (_, i) => msg(i + 1, { sender: i % 2 ? ana : trainer, content: `note ${i + 1}` }));
    server.messages[44] = { ...server.messages[44], content: '', is_deleted: true };
    server.messages[43] = {
      ...server.messages[43],
      content: 'my form',
      image: 'http://localhost/media/44.jpg',
      thumbnail: 'http://localhost/media/44-thumb.jpg',
      image_width: 640,
      image_height: 480,
    };
  });
  afterEach(() => vi.unstubAllGlobals());

  it('is the admin’s home: Admin and Audit log in the top bar, no Messages', async () => {
    boot('/');
    await screen.findByRole('heading', { name: 'Admin', level: 1 });
    expect(window.location.pathname).toBe('/admin');
    expect(within(nav()).getByRole('link', { name: 'Admin' }).getAttribute('aria-current')).toBe('page');
    expect(within(nav()).getByRole('link', { name: 'Audit log' })).toBeTruthy();
    expect(within(nav()).queryByRole('link', { name: /Messages/ })).toBeNull();
    // The user finder lists accounts with their role; a deactivated one is marked.
    const list = await screen.findByRole('list', { name: 'Accounts' });
    expect(within(list).getAllByRole('link')).toHaveLength(3);
    expect(within(list).getByRole('link', { name: /Ben Okafor/ }).textContent).toContain('deactivated');
  });

  it('is not there for trainers and trainees', async () => {
    server.me = meAna;
    boot('/admin');
    await screen.findByRole('heading', { name: 'Page not found' });
    expect(within(nav()).queryByRole('link', { name: 'Admin' })).toBeNull();
    expect(within(nav()).queryByRole('link', { name: 'Audit log' })).toBeNull();
    expect(server.log().some((c) => c.includes('/api/admin/'))).toBe(false);
  });

  it('finds a user, lists their conversations (archived marked), opens one read-only; nothing prefetched', async () => {
    boot('/admin');
    const finder = await screen.findByRole('searchbox', { name: 'Find a user' });
    fireEvent.change(finder, { target: { value: 'ana' } });
    await waitFor(() => expect(server.log()).toContain('GET /api/admin/users/?q=ana'));
    await waitFor(() => expect(within(screen.getByRole('list', { name: 'Accounts' })).getAllByRole('link')).toHaveLength(1));
    fireEvent.click(screen.getByRole('link', { name: /Ana Lima/ }));
    await screen.findByRole('heading', { name: 'Ana Lima', level: 1 });
    expect(window.location.pathname).toBe('/admin/users/3');
    const convs = await screen.findByRole('list', { name: 'Their conversations' });
    expect(server.log()).toContain('GET /api/admin/conversations/?user=3');
    const rows = within(convs).getAllByRole('link');
    expect(rows).toHaveLength(2);
    expect(rows[0].textContent).toContain('Sam Rivera');
    expect(rows[0].textContent).toContain('45 messages');
    expect(rows[0].textContent).not.toContain('Archived');
    expect(rows[1].textContent).toContain('Old Coach');
    expect(rows[1].textContent).toContain('Archived');
    // Hovering or focusing a conversation reads nothing.
    fireEvent.mouseEnter(rows[0]);
    fireEvent.mouseOver(rows[0]);
    fireEvent.focus(rows[0]);
    expect(adminReads()).toEqual([]);

    fireEvent.click(rows[0]);
    await screen.findByRole('heading', { name: 'Sam Rivera and Ana Lima' });
    expect(window.location.pathname).toBe('/admin/conversations/1');
    expect(screen.getByTestId('readonly-banner').textContent).toContain('Read-only · this read is recorded in the audit log');
    const log = screen.getByRole('log', { name: 'Messages, read-only' });
    await within(log).findByText('note 43');
    expect(adminReads()).toEqual(['GET /api/admin/conversations/1/messages/?limit=30']);
    // No input box, no menus.
    expect(screen.queryByRole('textbox')).toBeNull();
    expect(screen.queryByLabelText('message input')).toBeNull();
    expect(within(log).queryByRole('button', { name: /Message actions|More/ })).toBeNull();
    // The tombstone and the photo.
    expect(within(log).getByText('This message was deleted')).toBeTruthy();
    expect(within(log).getByRole('button', { name: 'Open photo from Ana Lima' })).toBeTruthy();
    expect(within(log).getByText('my form')).toBeTruthy();
    // Names on the bubbles; nobody is "you".
    expect(log.textContent).not.toContain('You:');
    // Older messages by `before`.
    expect(within(log).queryByText('note 1')).toBeNull();
    fireEvent.click(within(log).getByRole('button', { name: 'Load older messages' }));
    await within(log).findByText('note 1');
    expect(adminReads()).toEqual([
      'GET /api/admin/conversations/1/messages/?limit=30',
      'GET /api/admin/conversations/1/messages/?limit=30&before=16',
    ]);
    expect(within(log).getByText('The beginning of the conversation.')).toBeTruthy();
    expect(within(log).queryByRole('button', { name: 'Load older messages' })).toBeNull();
    // Back to the account: the list is not fetched again (each read is logged).
    fireEvent.click(screen.getByRole('link', { name: /Back to the account/ }));
    await screen.findByRole('list', { name: 'Their conversations' });
    expect(server.log().filter((c) => c === 'GET /api/admin/conversations/?user=3')).toHaveLength(1);
  });

  it('an archived conversation says so in its header', async () => {
    boot('/admin/users/3');
    const convs = await screen.findByRole('list', { name: 'Their conversations' });
    fireEvent.click(within(convs).getByRole('link', { name: /Old Coach/ }));
    await screen.findByRole('heading', { name: 'Old Coach and Ana Lima' });
    expect(screen.getByText('Archived', { selector: '.admin-history-head .pill' })).toBeTruthy();
    await screen.findByText('No messages in this conversation.');
  });

  it('searches the user’s messages (from 2 characters) and opens a result', async () => {
    const hit: SearchResult = {
      message_id: 7,
      conversation_id: 1,
      sender_id: ana.id,
      sender_first_name: 'Ana',
      sender_last_name: 'Lima',
      content: 'my knee hurts',
      image_url: null,
      created_at: '2026-02-19T10:00:00Z',
      other_participant_id: trainer.id,
      other_participant_first_name: 'Sam',
      other_participant_last_name: 'Rivera',
      highlights: [{ start: 3, end: 7 }],
    };
    server.searchable = [
      hit,
      { ...hit, message_id: 8, sender_id: trainer.id, sender_first_name: 'Sam', sender_last_name: 'Rivera', content: 'rest that knee', highlights: [{ start: 10, end: 14 }] },
    ];
    boot('/admin/users/3');
    const box = await screen.findByRole('searchbox', { name: 'Search their messages' });
    fireEvent.change(box, { target: { value: 'k' } });
    fireEvent.change(box, { target: { value: 'knee' } });
    const results = await screen.findByRole('list', { name: 'Search results' });
    expect(server.log().filter((c) => c.startsWith('GET /api/admin/search/'))).toEqual(['GET /api/admin/search/?user=3&q=knee&page=1']);
    expect(within(screen.getByRole('region', { name: 'Search their messages' })).getByRole('status').textContent).toBe('2 messages found');
    expect(results.querySelector('mark')?.textContent).toBe('knee');
    const links = within(results).getAllByRole('link');
    expect(links[0].textContent).toContain('Ana Lima to Sam Rivera');
    await waitFor(() => expect(links[1].textContent).toContain('Sam Rivera to Ana Lima'));
    fireEvent.click(links[0]);
    await screen.findByTestId('readonly-banner');
    expect(window.location.pathname).toBe('/admin/conversations/1');
  });

  it('shows the server’s refusal of a history', async () => {
    server.on((r) => (r.path === '/api/admin/conversations/1/messages/' ? { status: 503, body: { detail: 'Service temporarily unavailable, try again shortly.' } } : undefined));
    boot('/admin/conversations/1?user=3');
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Could not load this conversation');
    // Not retried on its own: each try would be a read.
    expect(adminReads()).toHaveLength(1);
  });
});

// "Who accessed my data" (every user, from the settings panel): sentences with the actor's name
// and role, the conversation's other person, the time; the operator and removed accounts; the
// empty state; a calm message when an impersonation token is refused.
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AccessEntry } from '../api/types';
import { ana, conv, meAdmin, meAna, meTrainer } from '../test/fixtures';
import { boot, FakeServer } from '../test/server';

let server: FakeServer;

function entry(id: number, over: Partial<AccessEntry> = {}): AccessEntry {
  return {
    id,
    actor_id: 1,
    actor_name: 'Ada Admin',
    actor_role: 'admin',
    action: 'admin.read_messages',
    subject_user_id: ana.id,
    conversation_id: 1,
    created_at: '2026-12-03T18:02:00Z',
    ...over,
  };
}

describe('who accessed my data (fetch mocked)', () => {
  beforeEach(() => {
    server = new FakeServer().install();
    server.me = meAna;
    server.conversations = [conv(1, ana)];
  });
  afterEach(() => vi.unstubAllGlobals());

  it('opens from the settings panel and reads as sentences, the operator and removed accounts too', async () => {
    server.accessLog = [
      entry(5),
      entry(4, { actor_id: 2, actor_name: 'Sam Rivera', actor_role: 'trainer', action: 'impersonation.start', conversation_id: null }),
      entry(3, { action: 'export', conversation_id: null, actor_name: '[removed]', actor_role: null, actor_id: 44 }),
      entry(2, { actor_id: 0, actor_name: 'Spotter operator', actor_role: null, action: 'erase', conversation_id: null }),
    ];
    boot('/messages');
    fireEvent.click(await screen.findByRole('button', { name: 'Ana Lima, settings' }));
    fireEvent.click(within(screen.getByRole('dialog', { name: 'Settings' })).getByRole('link', { name: 'Who accessed my data' }));
    await screen.findByRole('heading', { name: 'Who accessed my data' });
    expect(window.location.pathname).toBe('/access-log');
    expect(screen.queryByRole('dialog', { name: 'Settings' })).toBeNull();
    const list = await screen.findByRole('list', { name: 'Accesses, newest first' });
    await waitFor(() => expect(within(list).getAllByRole('listitem')[0].textContent).toContain('with Sam Rivera'));
    const items = within(list).getAllByRole('listitem').map((li) => li.textContent);
    const when = new Date('2026-12-03T18:02:00Z');
    const stamp = `${when.toLocaleDateString(undefined, { day: 'numeric', month: 'short' })} ${when.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })}`;
    expect(items).toEqual([
      `Ada Admin (admin) read your messages in your conversation with Sam Rivera · ${stamp}`,
      `Sam Rivera (trainer) started viewing Spotter as you · ${stamp}`,
      `A removed account exported your messages · ${stamp}`,
      `Spotter operator erased your data · ${stamp}`,
    ]);
    expect(server.log()).toContain('GET /api/users/access-log/');
  });

  it('says so when nobody accessed anything', async () => {
    server.me = meTrainer;
    boot('/access-log');
    await screen.findByText('Nobody else has accessed your data.');
  });

  it('is there for admins as well', async () => {
    server.me = meAdmin;
    server.accessLog = [entry(1, { actor_id: 9, actor_name: 'Other Admin', conversation_id: null, action: 'admin.read_conversations' })];
    boot('/access-log');
    await screen.findByText(/Other Admin \(admin\) looked at the list of your conversations/);
  });

  it('pages with "Load more"', async () => {
    server.adminPageSize = 2;
    server.accessLog = [entry(3), entry(2), entry(1)];
    boot('/access-log');
    const list = await screen.findByRole('list', { name: 'Accesses, newest first' });
    expect(within(list).getAllByRole('listitem')).toHaveLength(2);
    fireEvent.click(screen.getByRole('button', { name: 'Load more' }));
    await waitFor(() => expect(within(list).getAllByRole('listitem')).toHaveLength(3));
  });

  it('with an impersonation token: a calm message, not an error', async () => {
    server.me = { ...meAna, is_impersonating: true, original_user_id: 2 };
    boot('/access-log');
    const note = await screen.findByText(/private to Ana/);
    expect(note.getAttribute('role')).toBe('status');
    expect(note.textContent).toContain('This list is private to Ana: it cannot be viewed while viewing Spotter as them.');
    expect(screen.queryByRole('alert')).toBeNull();
    expect(server.log()).toContain('GET /api/users/access-log/');
  });
});

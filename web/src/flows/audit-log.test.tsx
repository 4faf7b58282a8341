// The audit log (admins): newest first, actions in words, names resolved (the operator too),
// ip, time, the hash shortened with a copy button; filters (actor, subject from the finder or
// an id, since/until) sent as the server wants them, with its field errors; "Load more".
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AuditEntry } from '../api/types';
import { admin, ana, ben, meAdmin, trainer, user } from '../test/fixtures';
import { boot, FakeServer } from '../test/server';

let server: FakeServer;
const table = () => screen.getByRole('table');
const bodyRows = () => within(table()).getAllByRole('row').slice(1);

function entry(id: number, over: Partial<AuditEntry> = {}): AuditEntry {
  return {
    id,
    actor_id: admin.id,
    action: 'admin.read_messages',
    subject_user_id: ana.id,
    conversation_id: 1,
    ip: '10.0.0.7',
    created_at: new Date(Date.parse('2026-12-01T08:00:00Z') + id * 3600_000).toISOString(),
    hash: `${String(id).padStart(4, '0')}abcdef0123456789`.padEnd(64, 'f'),
    ...over,
  };
}

describe('audit log (fetch mocked)', () => {
  beforeEach(() => {
    server = new FakeServer().install();
    server.me = meAdmin;
    server.users = [user(admin, 'admin'), user(ana, 'trainee'), user(ben, 'trainee'), user(trainer, 'trainer')];
    server.audit = [
      entry(1, { action: 'admin.read_conversations', conversation_id: null }),
      entry(2, { actor_id: trainer.id, action: 'impersonation.start', subject_user_id: ben.id, conversation_id: null }),
      entry(3, { actor_id: 0, action: 'erase', subject_user_id: 77, conversation_id: null, ip: null }),
      entry(4),
    ];
  });
  afterEach(() => vi.unstubAllGlobals());

  it('lists entries newest first, in words, with names, ip, time and a short hash to copy', async () => {
    const writeText = vi.fn(() => Promise.resolve());
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    boot('/admin/audit-log');
    await screen.findByRole('table');
    await waitFor(() => expect(bodyRows()[0].textContent).toContain('Ada Admin'));
    const cells = (i: number) => within(bodyRows()[i]).getAllByRole('cell').map((c) => c.textContent);
    expect(bodyRows()).toHaveLength(4);
    expect(cells(0).slice(1, 5)).toEqual(['Ada Admin', 'read messages', 'Ana Lima · conversation 1', '10.0.0.7']);
    expect(cells(1).slice(1, 4)).toEqual(['Spotter operator', 'erased an account', 'User #77']);
    expect(cells(2).slice(1, 4)).toEqual(['Sam Rivera', 'impersonation started', 'Ben Okafor']);
    expect(cells(3)[2]).toBe('listed conversations');
    const hash = server.audit[3].hash;
    expect(within(bodyRows()[0]).getByText(`${hash.slice(0, 12)}…`).getAttribute('title')).toBe(hash);
    fireEvent.click(within(bodyRows()[0]).getByRole('button', { name: `Copy hash ${hash.slice(0, 12)}` }));
    expect(writeText).toHaveBeenCalledWith(hash);
    await within(bodyRows()[0]).findByRole('button', { name: 'Hash copied' });
    expect(screen.getByText('4 entries')).toBeTruthy();
  });

  it('filters by actor, subject and time, in the address; shows the server’s field errors; clears', async () => {
    boot('/admin/audit-log');
    await screen.findByRole('table');
    const form = screen.getByRole('form', { name: 'Filters' });
    // The subject from the finder's list (a datalist of accounts), or typed.
    await waitFor(() => expect(form.querySelectorAll('datalist option').length).toBeGreaterThan(0));
    fireEvent.change(within(form).getByLabelText('Subject'), { target: { value: String(ben.id) } });
    expect(within(form).getByText('Ben Okafor (trainee)')).toBeTruthy();
    fireEvent.change(within(form).getByLabelText('Actor'), { target: { value: String(trainer.id) } });
    fireEvent.change(within(form).getByLabelText('From'), { target: { value: '2026-12-01T08:30' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Apply filters' }));
    const since = new Date('2026-12-01T08:30').toISOString();
    await waitFor(() =>
      expect(server.log()).toContain(`GET /api/admin/audit-log/?actor=2&subject=4&since=${encodeURIComponent(since)}`),
    );
    await waitFor(() => expect(bodyRows()).toHaveLength(1));
    expect(bodyRows()[0].textContent).toContain('impersonation started');
    expect(window.location.search).toContain('subject=4');

    // A bad id: the server's words under the field.
    fireEvent.change(within(form).getByLabelText('Actor'), { target: { value: 'ada' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Apply filters' }));
    await within(form).findByText('A valid integer is required.');
    expect(within(form).getByLabelText('Actor').getAttribute('aria-invalid')).toBe('true');

    fireEvent.click(within(form).getByRole('button', { name: 'Clear' }));
    await waitFor(() => expect(bodyRows()).toHaveLength(4));
    expect(window.location.search).toBe('');
    expect(within(form).getByLabelText<HTMLInputElement>('Subject').value).toBe('');
  });

  it('says when nothing matches', async () => {
    boot('/admin/audit-log?subject=999');
    await screen.findByText('No entries match these filters.');
  });

  it('pages with "Load more"', async () => {
    server.adminPageSize = 3;
    server.audit = Array.from({ length: 7 }, (_, i) => entry(i + 1));
    boot('/admin/audit-log');
    await screen.findByRole('table');
    expect(bodyRows()).toHaveLength(3);
    fireEvent.click(screen.getByRole('button', { name: 'Load more' }));
    await waitFor(() => expect(bodyRows()).toHaveLength(6));
    expect(server.log()).toContain('GET /api/admin/audit-log/?page=2');
    fireEvent.click(screen.getByRole('button', { name: 'Load more' }));
    await waitFor(() => expect(bodyRows()).toHaveLength(7));
    expect(screen.queryByRole('button', { name: 'Load more' })).toBeNull();
    expect(bodyRows().map((r) => r.getAttribute('data-entry-id'))).toEqual(['7', '6', '5', '4', '3', '2', '1']);
  });

  it('the account page links to the entries about them', async () => {
    boot('/admin/users/4');
    fireEvent.click(await screen.findByRole('link', { name: 'Audit log about them' }));
    await screen.findByRole('table');
    expect(server.log()).toContain('GET /api/admin/audit-log/?subject=4');
    expect(screen.getByLabelText<HTMLInputElement>('Subject').value).toBe('4');
  });
});

// Exports: "Download my messages" (JSON or CSV) in the settings panel for trainers and
// trainees, and "Export this user's messages" on an account in the admin console: fetched with
// the Bearer token, saved through a blob: URL under the server's filename; refusals in words.
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { filenameOf } from '../api/client';
import { ana, meAdmin, meAna, user } from '../test/fixtures';
import { boot, FakeServer } from '../test/server';

let server: FakeServer;
let clicked: { href: string; download: string }[];

describe('exports (fetch mocked)', () => {
  beforeEach(() => {
    server = new FakeServer().install();
    server.me = meAna;
    clicked = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push({ href: this.href, download: this.download });
    });
    server.on((r) => {
      const m = r.path.match(/^\/api\/(?:messaging|admin\/users\/(\d+))\/export\/$/);
      if (!m) return undefined;
      const format = r.query.get('format');
      const id = m[1] ?? String(server.me.id);
      return {
        status: 200,
        raw: format === 'csv' ? 'conversation_id,message_id\r\n1,2\r\n' : '{"conversations":[]}',
        headers: {
          'Content-Type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json',
          'Content-Disposition': `attachment; filename="spotter-export-${id}-2026-12-03.${format}"`,
        },
      };
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllGlobals();
  });

  it('a trainee downloads their messages as CSV from the settings panel', async () => {
    boot('/messages');
    fireEvent.click(await screen.findByRole('button', { name: 'Ana Lima, settings' }));
    const panel = screen.getByRole('dialog', { name: 'Settings' });
    fireEvent.click(within(panel).getByRole('button', { name: 'Download my messages as CSV' }));
    await within(panel).findByText('Downloaded spotter-export-3-2026-12-03.csv');
    const call = server.calls.find((c) => c.path === '/api/messaging/export/')!;
    expect(call.query.get('format')).toBe('csv');
    expect(call.headers.Authorization).toBe('Bearer A');
    expect(clicked).toEqual([{ href: expect.stringMatching(/^blob:/), download: 'spotter-export-3-2026-12-03.csv' }]);
  });

  it('says why when refused (the hourly limit)', async () => {
    server.handlers.unshift((r) =>
      r.path === '/api/messaging/export/' ? { status: 429, body: { detail: 'Request was throttled. Expected available in 360 seconds.' } } : undefined,
    );
    boot('/messages');
    fireEvent.click(await screen.findByRole('button', { name: 'Ana Lima, settings' }));
    fireEvent.click(screen.getByRole('button', { name: 'Download my messages as JSON' }));
    const alert = await within(screen.getByRole('dialog', { name: 'Settings' })).findByRole('alert');
    expect(alert.textContent).toContain('Exports are limited to 10 an hour.');
    expect(clicked).toEqual([]);
  });

  it('an admin exports a user’s messages from their account page (and has no export of their own)', async () => {
    server.me = meAdmin;
    server.users = [user(ana, 'trainee')];
    boot('/admin/users/3');
    const region = await screen.findByRole('region', { name: 'Export' });
    fireEvent.click(within(region).getByRole('button', { name: 'Export this user’s messages as JSON' }));
    await within(region).findByText('Downloaded spotter-export-3-2026-12-03.json');
    expect(server.log()).toContain('GET /api/admin/users/3/export/?format=json');
    expect(clicked[0].download).toBe('spotter-export-3-2026-12-03.json');
    fireEvent.click(screen.getByRole('button', { name: 'Ada Admin, settings' }));
    expect(screen.queryByRole('button', { name: /Download my messages/ })).toBeNull();
    await waitFor(() => expect(screen.getByRole('link', { name: 'Who accessed my data' })).toBeTruthy());
  });

  it('reads the filename of Content-Disposition', () => {
    expect(filenameOf('attachment; filename="spotter-export-3-2026-12-03.json"')).toBe('spotter-export-3-2026-12-03.json');
    expect(filenameOf("attachment; filename*=UTF-8''na%C3%AFve.csv; filename=\"naive.csv\"")).toBe('naïve.csv');
    expect(filenameOf('attachment; filename=plain.csv')).toBe('plain.csv');
    expect(filenameOf(null)).toBeNull();
    expect(filenameOf('attachment')).toBeNull();
  });
});

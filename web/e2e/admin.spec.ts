// End-to-end: the admin console and the audit log against a real `spotter serve --demo` (this
// file's own server and data folder) in Debian's Chromium. The "done when": the demo
// admin opens a trainee's conversation in the console (read-only); the audit log then shows that
// read; logged in as that trainee, "Who accessed my data" shows the admin's read. Exports too:
// the admin's of the trainee's messages (CSV) and the trainee's own (JSON), both real downloads.
// The cases run in order and build on each other; they wait for responses and the DOM, never sleep.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page, Request } from '@playwright/test';
import { expect, expectAccessible, test } from './fixtures';
import { SHOTS, USERS } from './helpers';

test.use({ suite: 'admin' });
test.describe.configure({ mode: 'serial' });

const M = '/api/messaging';
const tokens: Record<string, string> = {};
const ids: Record<string, number> = {};
let convId: number;
let admin: Page; // the admin's page

const historyResponse = (page: Page, id: number) =>
  page.waitForResponse((r) => new URL(r.url()).pathname === `/api/admin/conversations/${id}/messages/` && r.request().method() === 'GET');

test.beforeAll(async ({ api }) => {
  for (const who of ['admin', 'trainer', 'ana'] as const) tokens[who] = await api.token(USERS[who]);
  for (const who of ['admin', 'trainer', 'ana'] as const) ids[who] = (await api.me(tokens[who])).id;
  convId = (await api.start(tokens.trainer, ids.ana, 'Welcome aboard, Ana!')).conversation_id;
  await api.send(tokens.ana, convId, 'Thanks! My knee feels better this week.');
  const oops = await api.send(tokens.trainer, convId, 'Sent to the wrong person, sorry');
  await api.call(`${M}/conversations/${convId}/messages/${oops.id}/`, { token: tokens.trainer, method: 'DELETE' });
  await api.send(tokens.trainer, convId, 'Great, keep the squats light until Friday.');
});

test('the demo admin finds a trainee and opens their conversation, read-only', async ({ session }) => {
  admin = await session.open(USERS.admin, { path: '/admin' });
  const nav = admin.getByRole('navigation', { name: 'Main' });
  await expect(nav.getByRole('link', { name: 'Admin' })).toBeVisible();
  await expect(nav.getByRole('link', { name: /Messages/ })).toHaveCount(0);
  await expect(admin.getByRole('list', { name: 'Accounts' })).toBeVisible();
  await expectAccessible(admin, 'admin console, user finder');

  const usersAnswer = admin.waitForResponse((r) => r.url().includes('/api/admin/users/?q=ana') && r.ok());
  await admin.getByRole('searchbox', { name: 'Find a user' }).fill('ana');
  await usersAnswer;
  const accounts = admin.getByRole('list', { name: 'Accounts' });
  await expect(accounts.getByRole('link')).toHaveCount(1);
  await expect(accounts.getByRole('link', { name: /Ana Lima/ })).toBeVisible();

  const convsAnswer = admin.waitForResponse((r) => r.url().includes(`/api/admin/conversations/?user=${ids.ana}`) && r.ok());
  await accounts.getByRole('link', { name: /Ana Lima/ }).click();
  await expect(admin.getByRole('heading', { name: 'Ana Lima', level: 1 })).toBeVisible();
  await convsAnswer;
  const row = admin.getByRole('list', { name: 'Their conversations' }).getByRole('link', { name: /Sam Rivera/ });
  await expect(row).toContainText('4 messages');
  // Hovering reads nothing: a history is fetched only when opened.
  const early: Request[] = [];
  const count = (r: Request) => {
    if (new URL(r.url()).pathname.endsWith('/messages/') && r.url().includes('/api/admin/')) early.push(r);
  };
  admin.on('request', count);
  await row.hover();
  await admin.getByRole('heading', { name: 'Conversations' }).hover();
  admin.off('request', count);
  expect(early).toHaveLength(0);
  await expectAccessible(admin, "admin console, a user's page");
  await admin.screenshot({ path: join(SHOTS, 'admin-console-user.png'), animations: 'disabled' });

  const history = historyResponse(admin, convId);
  await row.click();
  expect((await history).status()).toBe(200);
  const log = admin.getByRole('log', { name: 'Messages, read-only' });
  await expect(log.getByText('Thanks! My knee feels better this week.')).toBeVisible();
  await expect(log.getByText('Great, keep the squats light until Friday.')).toBeVisible();
  await expect(log.getByText('This message was deleted')).toBeVisible();
  await expect(admin.getByRole('heading', { name: 'Sam Rivera and Ana Lima' })).toBeVisible();
  await expect(admin.getByTestId('readonly-banner')).toContainText('Read-only · this read is recorded in the audit log');
  await expect(admin.getByRole('textbox')).toHaveCount(0);
  await expect(admin.getByLabel('message input')).toHaveCount(0);
  await expectAccessible(admin, 'admin console, read-only history');
  await admin.screenshot({ path: join(SHOTS, 'admin-console-history.png'), animations: 'disabled' });
});

test('the admin exports the trainee’s messages as CSV (a real download, the server’s filename)', async () => {
  await admin.getByRole('link', { name: /Back to the account/ }).click();
  const region = admin.getByRole('region', { name: 'Export' });
  await expect(region).toBeVisible();
  const [download] = await Promise.all([
    admin.waitForEvent('download'),
    region.getByRole('button', { name: 'Export this user’s messages as CSV' }).click(),
  ]);
  expect(download.suggestedFilename()).toMatch(new RegExp(`^spotter-export-${ids.ana}-\\d{4}-\\d{2}-\\d{2}\\.csv$`));
  const csv = readFileSync(await download.path(), 'utf8');
  expect(csv.startsWith('conversation_id,message_id,sender_id,sender_name,created_at,edited_at,is_deleted,content,image\r\n')).toBe(true);
  expect(csv).toMatch(/Thanks! My knee feels better this week\./);
  await expect(region.getByText(`Downloaded ${download.suggestedFilename()}`)).toBeVisible();
});

test('the audit log shows that read, with the admin and the trainee by name', async ({ api }) => {
  // On the server: one entry per participant whose messages it showed.
  const entries = (await api.call(`/api/admin/audit-log/?actor=${ids.admin}`, { token: tokens.admin })).results;
  const reads = entries.filter((e: { action: string; conversation_id: number }) => e.action === 'admin.read_messages' && e.conversation_id === convId);
  expect(reads.map((e: { subject_user_id: number }) => e.subject_user_id).sort()).toEqual([ids.trainer, ids.ana].sort());

  const answer = admin.waitForResponse((r) => new URL(r.url()).pathname === '/api/admin/audit-log/' && r.ok());
  await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' }).click();
  await answer;
  const table = admin.getByRole('table');
  const anaRead = table.getByRole('row').filter({ hasText: 'read messages' }).filter({ hasText: 'Ana Lima' }).first();
  await expect(anaRead).toContainText('Alex Admin');
  await expect(anaRead).toContainText(`conversation ${convId}`);
  await expect(table.getByRole('row').filter({ hasText: 'exported messages' }).filter({ hasText: 'Ana Lima' }).first()).toBeVisible();
  await expectAccessible(admin, 'audit log');

  // Narrowed to Ana as the subject: the read is still there, Sam's entry is not.
  const filtered = admin.waitForResponse((r) => r.url().includes(`/api/admin/audit-log/?subject=${ids.ana}`) && r.ok());
  await admin.getByLabel('Subject').fill(String(ids.ana));
  await admin.getByRole('button', { name: 'Apply filters' }).click();
  await filtered;
  await expect
    .poll(() => admin.locator('table tbody tr').evaluateAll((trs) => trs.every((tr) => (tr.children[3].textContent ?? '').startsWith('Ana Lima'))))
    .toBe(true);
  expect(await table.getByRole('row').filter({ hasText: 'read messages' }).count()).toBeGreaterThanOrEqual(1);
  await admin.screenshot({ path: join(SHOTS, 'audit-log.png'), animations: 'disabled' });
});

test('the trainee sees the admin’s read under "Who accessed my data"', async ({ session }) => {
  const ana = await session.open(USERS.ana);
  await ana.getByRole('button', { name: 'Ana Lima, settings' }).click();
  await expect(ana.getByRole('dialog', { name: 'Settings' })).toBeVisible();
  await expectAccessible(ana, "a trainee's settings panel");
  const answer = ana.waitForResponse((r) => new URL(r.url()).pathname === '/api/users/access-log/' && r.ok());
  await ana.getByRole('dialog', { name: 'Settings' }).getByRole('link', { name: 'Who accessed my data' }).click();
  await expect(ana.getByRole('heading', { name: 'Who accessed my data' })).toBeVisible();
  const body = await (await answer).json();
  expect(
    body.results.some(
      (e: { action: string; actor_name: string; conversation_id: number }) =>
        e.action === 'admin.read_messages' && e.actor_name === 'Alex Admin' && e.conversation_id === convId,
    ),
  ).toBe(true);
  const list = ana.getByRole('list', { name: 'Accesses, newest first' });
  await expect(list.getByText('Alex Admin (admin) read your messages in your conversation with Sam Rivera').first()).toBeVisible();
  await expect(list.getByText('Alex Admin (admin) exported your messages')).toBeVisible();
  await expectAccessible(ana, 'who accessed my data');
  await ana.screenshot({ path: join(SHOTS, 'access-log.png'), animations: 'disabled' });

  // Her own download, from the settings panel: JSON with her conversation in it.
  await ana.getByRole('button', { name: 'Ana Lima, settings' }).click();
  const panel = ana.getByRole('dialog', { name: 'Settings' });
  const [download] = await Promise.all([
    ana.waitForEvent('download'),
    panel.getByRole('button', { name: 'Download my messages as JSON' }).click(),
  ]);
  expect(download.suggestedFilename()).toMatch(new RegExp(`^spotter-export-${ids.ana}-.*\\.json$`));
  const doc = JSON.parse(readFileSync(await download.path(), 'utf8'));
  expect(doc.user.id).toBe(ids.ana);
  expect(
    doc.conversations.some(
      (c: { id: number; messages: { content: string }[] }) =>
        c.id === convId && c.messages.some((m) => m.content === 'Great, keep the squats light until Friday.'),
    ),
  ).toBe(true);
  await expect(panel.getByText(`Downloaded ${download.suggestedFilename()}`)).toBeVisible();
  await ana.screenshot({ path: join(SHOTS, 'settings-export.png'), animations: 'disabled' });
});

test('on a phone: the read-only history fits, the banner stays; the audit log fits too', async ({ session }) => {
  const phone = await session.open(USERS.admin, { path: `/admin/users/${ids.ana}`, viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
  const row = phone.getByRole('list', { name: 'Their conversations' }).getByRole('link', { name: /Sam Rivera/ });
  await expect(row).toBeVisible();
  await expectAccessible(phone, "admin console, a user's page on a phone");
  const history = historyResponse(phone, convId);
  await row.click();
  await history;
  await expect(phone.getByRole('log', { name: 'Messages, read-only' }).getByText('Great, keep the squats light until Friday.')).toBeVisible();
  await expect(phone.getByTestId('readonly-banner')).toBeVisible();
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow, `no sideways scroll (${overflow}px)`).toBeLessThanOrEqual(0);
  await expectAccessible(phone, 'read-only history on a phone');
  await phone.screenshot({ path: join(SHOTS, 'admin-console-history-phone.png'), animations: 'disabled' });

  // The audit log on a phone: the table scrolls inside its box, the page does not.
  const answer = phone.waitForResponse((r) => new URL(r.url()).pathname === '/api/admin/audit-log/' && r.ok());
  await phone.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' }).click();
  await answer;
  await expect(phone.getByRole('table').getByRole('row').filter({ hasText: 'read messages' }).first()).toBeVisible();
  const sideways = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(sideways, `no sideways scroll (${sideways}px)`).toBeLessThanOrEqual(0);
  await expectAccessible(phone, 'audit log on a phone');
});

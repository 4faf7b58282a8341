// End-to-end: the admin console and the audit log against a real `spotter serve --demo` (its own
// server and data folder) in Debian's headless Chromium. The "done when": the demo admin
// opens a trainee's conversation in the console (read-only); the audit log then shows that read;
// logged in as that trainee, "Who accessed my data" shows the admin's read. Exports too: the
// admin's of the trainee's messages (CSV) and the trainee's own (JSON), both real downloads.
// Loaded by messages.e2e.test.mjs (the file scripts/web-test.sh runs); can also run alone:
//   node --test --test-reporter=spec e2e/admin.e2e.test.mjs
// The cases run in order and build on each other; they wait for responses and the DOM, never sleep.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Api, launchBrowser, loggedInPage, repoRoot, SpotterServer, USERS } from './harness.mjs';

const SHOTS = join(repoRoot, 'docs/screenshots');
const T = { timeout: 90_000 };
const M = '/api/messaging';

describe('Admin console, audit log, who accessed my data', { timeout: 600_000 }, () => {
  /** @type {SpotterServer} */ let server;
  /** @type {Api} */ let api;
  let browser;
  const tokens = {};
  const ids = {};
  let convId;
  const contexts = [];
  let admin; // the admin's page

  const open = async (email, opts) => {
    const r = await loggedInPage(browser, server.url, email, opts);
    contexts.push(r.context);
    return r.page;
  };
  const historyResponse = (page, id) =>
    page.waitForResponse((r) => new URL(r.url()).pathname === `/api/admin/conversations/${id}/messages/` && r.request().method() === 'GET');

  before(async () => {
    server = new SpotterServer();
    await server.start();
    api = new Api(server.url);
    for (const who of ['admin', 'trainer', 'ana']) tokens[who] = await api.token(USERS[who]);
    for (const who of ['admin', 'trainer', 'ana']) ids[who] = (await api.me(tokens[who])).id;
    convId = (await api.start(tokens.trainer, ids.ana, 'Welcome aboard, Ana!')).conversation_id;
    await api.send(tokens.ana, convId, 'Thanks! My knee feels better this week.');
    const oops = await api.send(tokens.trainer, convId, 'Sent to the wrong person, sorry');
    await api.call(`${M}/conversations/${convId}/messages/${oops.id}/`, { token: tokens.trainer, method: 'DELETE' });
    await api.send(tokens.trainer, convId, 'Great, keep the squats light until Friday.');
    browser = await launchBrowser();
    mkdirSync(SHOTS, { recursive: true });
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close().catch(() => {});
    await server?.stop();
    server?.cleanup();
    if (server) console.log(`# admin server logs: ${server.logDir}`);
  });

  it('the demo admin finds a trainee and opens their conversation, read-only', T, async () => {
    admin = await open(USERS.admin, { path: '/admin' });
    const nav = admin.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Admin' }).waitFor();
    assert.equal(await nav.getByRole('link', { name: /Messages/ }).count(), 0);
    await admin.getByRole('list', { name: 'Accounts' }).waitFor();

    const usersAnswer = admin.waitForResponse((r) => r.url().includes('/api/admin/users/?q=ana') && r.ok());
    await admin.getByRole('searchbox', { name: 'Find a user' }).fill('ana');
    await usersAnswer;
    const accounts = admin.getByRole('list', { name: 'Accounts' });
    await accounts.getByRole('link', { name: /Ana Lima/ }).waitFor();
    await admin.waitForFunction(() => document.querySelectorAll('[aria-label="Accounts"] a').length === 1);

    const convsAnswer = admin.waitForResponse((r) => r.url().includes(`/api/admin/conversations/?user=${ids.ana}`) && r.ok());
    await accounts.getByRole('link', { name: /Ana Lima/ }).click();
    await admin.getByRole('heading', { name: 'Ana Lima', level: 1 }).waitFor();
    await convsAnswer;
    const row = admin.getByRole('list', { name: 'Their conversations' }).getByRole('link', { name: /Sam Rivera/ });
    await row.waitFor();
    assert.match(await row.textContent(), /4 messages/);
    // Hovering reads nothing: a history is fetched only when opened.
    let early = 0;
    const count = (r) => {
      if (new URL(r.url()).pathname.endsWith('/messages/') && r.url().includes('/api/admin/')) early++;
    };
    admin.on('request', count);
    await row.hover();
    await admin.getByRole('heading', { name: 'Conversations' }).hover();
    admin.off('request', count);
    assert.equal(early, 0);
    await admin.screenshot({ path: join(SHOTS, 'admin-console-user.png') });

    const history = historyResponse(admin, convId);
    await row.click();
    assert.equal((await history).status(), 200);
    const log = admin.getByRole('log', { name: 'Messages, read-only' });
    await log.getByText('Thanks! My knee feels better this week.').waitFor();
    await log.getByText('Great, keep the squats light until Friday.').waitFor();
    await log.getByText('This message was deleted').waitFor();
    await admin.getByRole('heading', { name: 'Sam Rivera and Ana Lima' }).waitFor();
    assert.match(await admin.getByTestId('readonly-banner').textContent(), /Read-only · this read is recorded in the audit log/);
    assert.equal(await admin.getByRole('textbox').count(), 0);
    assert.equal(await admin.getByLabel('message input').count(), 0);
    await admin.screenshot({ path: join(SHOTS, 'admin-console-history.png') });
  });

  it('the admin exports the trainee’s messages as CSV (a real download, the server’s filename)', T, async () => {
    await admin.getByRole('link', { name: /Back to the account/ }).click();
    const region = admin.getByRole('region', { name: 'Export' });
    await region.waitFor();
    const [download] = await Promise.all([
      admin.waitForEvent('download'),
      region.getByRole('button', { name: 'Export this user’s messages as CSV' }).click(),
    ]);
    assert.match(download.suggestedFilename(), new RegExp(`^spotter-export-${ids.ana}-\\d{4}-\\d{2}-\\d{2}\\.csv$`));
    const csv = readFileSync(await download.path(), 'utf8');
    assert.ok(csv.startsWith('conversation_id,message_id,sender_id,sender_name,created_at,edited_at,is_deleted,content,image\r\n'));
    assert.match(csv, /Thanks! My knee feels better this week\./);
    await region.getByText(`Downloaded ${download.suggestedFilename()}`).waitFor();
  });

  it('the audit log shows that read, with the admin and the trainee by name', T, async () => {
    // On the server: one entry per participant whose messages it showed.
    const entries = (await api.call(`/api/admin/audit-log/?actor=${ids.admin}`, { token: tokens.admin })).results;
    const reads = entries.filter((e) => e.action === 'admin.read_messages' && e.conversation_id === convId);
    assert.deepEqual(reads.map((e) => e.subject_user_id).sort(), [ids.trainer, ids.ana].sort());

    const answer = admin.waitForResponse((r) => new URL(r.url()).pathname === '/api/admin/audit-log/' && r.ok());
    await admin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' }).click();
    await answer;
    const table = admin.getByRole('table');
    const anaRead = table.getByRole('row').filter({ hasText: 'read messages' }).filter({ hasText: 'Ana Lima' });
    await anaRead.first().waitFor();
    assert.match(await anaRead.first().textContent(), /Alex Admin/);
    assert.match(await anaRead.first().textContent(), new RegExp(`conversation ${convId}`));
    await table.getByRole('row').filter({ hasText: 'exported messages' }).filter({ hasText: 'Ana Lima' }).first().waitFor();

    // Narrowed to Ana as the subject: the read is still there, Sam's entry is not.
    const filtered = admin.waitForResponse((r) => r.url().includes(`/api/admin/audit-log/?subject=${ids.ana}`) && r.ok());
    await admin.getByLabel('Subject').fill(String(ids.ana));
    await admin.getByRole('button', { name: 'Apply filters' }).click();
    await filtered;
    await admin.waitForFunction(
      (name) => [...document.querySelectorAll('table tbody tr')].every((tr) => tr.children[3].textContent.startsWith(name)),
      'Ana Lima',
    );
    assert.ok((await table.getByRole('row').filter({ hasText: 'read messages' }).count()) >= 1);
    await admin.screenshot({ path: join(SHOTS, 'audit-log.png') });
  });

  it('the trainee sees the admin’s read under "Who accessed my data"', T, async () => {
    const ana = await open(USERS.ana);
    await ana.getByRole('button', { name: 'Ana Lima, settings' }).click();
    const answer = ana.waitForResponse((r) => new URL(r.url()).pathname === '/api/users/access-log/' && r.ok());
    await ana.getByRole('dialog', { name: 'Settings' }).getByRole('link', { name: 'Who accessed my data' }).click();
    await ana.getByRole('heading', { name: 'Who accessed my data' }).waitFor();
    const body = await (await answer).json();
    assert.ok(body.results.some((e) => e.action === 'admin.read_messages' && e.actor_name === 'Alex Admin' && e.conversation_id === convId));
    const list = ana.getByRole('list', { name: 'Accesses, newest first' });
    await list.getByText('Alex Admin (admin) read your messages in your conversation with Sam Rivera').first().waitFor();
    await list.getByText('Alex Admin (admin) exported your messages').waitFor();
    await ana.screenshot({ path: join(SHOTS, 'access-log.png') });

    // Her own download, from the settings panel: JSON with her conversation in it.
    await ana.getByRole('button', { name: 'Ana Lima, settings' }).click();
    const panel = ana.getByRole('dialog', { name: 'Settings' });
    const [download] = await Promise.all([
      ana.waitForEvent('download'),
      panel.getByRole('button', { name: 'Download my messages as JSON' }).click(),
    ]);
    assert.match(download.suggestedFilename(), new RegExp(`^spotter-export-${ids.ana}-.*\\.json$`));
    const doc = JSON.parse(readFileSync(await download.path(), 'utf8'));
    assert.equal(doc.user.id, ids.ana);
    assert.ok(doc.conversations.some((c) => c.id === convId && c.messages.some((m) => m.content === 'Great, keep the squats light until Friday.')));
    await panel.getByText(`Downloaded ${download.suggestedFilename()}`).waitFor();
    await ana.screenshot({ path: join(SHOTS, 'settings-export.png') });
  });

  it('on a phone: the read-only history fits, the banner stays; the audit log fits too', T, async () => {
    const phone = await open(USERS.admin, { path: `/admin/users/${ids.ana}`, viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
    const row = phone.getByRole('list', { name: 'Their conversations' }).getByRole('link', { name: /Sam Rivera/ });
    await row.waitFor();
    const history = historyResponse(phone, convId);
    await row.click();
    await history;
    await phone.getByRole('log', { name: 'Messages, read-only' }).getByText('Great, keep the squats light until Friday.').waitFor();
    await phone.getByTestId('readonly-banner').waitFor();
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `no sideways scroll (${overflow}px)`);
    await phone.screenshot({ path: join(SHOTS, 'admin-console-history-phone.png') });

    // The audit log on a phone: the table scrolls inside its box, the page does not.
    const answer = phone.waitForResponse((r) => new URL(r.url()).pathname === '/api/admin/audit-log/' && r.ok());
    await phone.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' }).click();
    await answer;
    await phone.getByRole('table').getByRole('row').filter({ hasText: 'read messages' }).first().waitFor();
    const sideways = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(sideways <= 0, `no sideways scroll (${sideways}px)`);
  });
});

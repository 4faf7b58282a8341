// End-to-end: the coaching tools against a real `spotter serve --demo` (its own server and data
// folder) in Debian's headless Chromium: saved replies (the `/` picker and the manager), the
// "needs reply" inbox kept live from the socket, the trainer's figures, broadcasts with live
// progress, and scheduled messages (pending, edited, cancelled, sent).
// Loaded by messages.e2e.test.mjs (the file scripts/web-test.sh runs); can also run alone:
//   node --test --test-reporter=spec e2e/coaching.e2e.test.mjs
// The cases run in order and build on each other. The server runs on the system clock: a
// message scheduled a few seconds ahead is waited for (its frame, the DOM), never slept for.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Api, launchBrowser, loggedInPage, repoRoot, sleep, SpotterServer, USERS, waitUntil } from './harness.mjs';

const SHOTS = join(repoRoot, 'docs/screenshots');
const T = { timeout: 90_000 };
const M = '/api/messaging';

describe('Coaching tools: saved replies, needs reply, figures, broadcasts, scheduled messages', { timeout: 600_000 }, () => {
  /** @type {SpotterServer} */ let server;
  /** @type {Api} */ let api;
  let browser;
  const tokens = {};
  const ids = {};
  const conv = {};
  const contexts = [];
  let sam; // the trainer's page

  const open = async (email, opts) => {
    const r = await loggedInPage(browser, server.url, email, opts);
    contexts.push(r.context);
    return r.page;
  };
  const log = (page) => page.getByRole('log');
  const input = (page) => page.getByLabel('message input');
  const list = (page) => page.getByRole('navigation', { name: 'Conversations' });
  const picker = (page) => page.getByTestId('saved-reply-picker');
  const option = (page, name) => picker(page).getByRole('option', { name });
  const tab = (page, name) => page.getByRole('group', { name: 'Which conversations' }).getByRole('link', { name });
  const inboxRows = (page) => list(page).getByRole('list', { name: 'Waiting for your reply, longest first' }).locator('.conv-name');
  const openChat = async (page, name) => {
    await list(page).getByRole('link', { name: new RegExp(name) }).click();
    await page.locator('.chat-header').getByRole('heading', { name }).waitFor();
  };

  before(async () => {
    server = new SpotterServer();
    await server.start();
    api = new Api(server.url);
    for (const who of ['trainer', 'ana', 'ben', 'cy']) tokens[who] = await api.token(USERS[who]);
    for (const t of (await api.trainees(tokens.trainer)).results) ids[t.first_name.toLowerCase()] = t.id;
    for (const who of ['cy', 'ben', 'ana']) {
      conv[who] = (await api.start(tokens.trainer, ids[who], `Welcome aboard, ${who}!`)).conversation_id;
    }
    browser = await launchBrowser();
    mkdirSync(SHOTS, { recursive: true });
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close().catch(() => {});
    await server?.stop();
    server?.cleanup();
    if (server) console.log(`# coaching server logs: ${server.logDir}`);
  });

  it('saved replies: created in the manager from the picker, a duplicate title refused in the server’s words', T, async () => {
    sam = await open(USERS.trainer, { path: `/messages/${conv.ana}` });
    await log(sam).getByText('Welcome aboard, ana!').waitFor();
    await input(sam).fill('/');
    await picker(sam).getByText('No saved replies yet.').waitFor();
    await option(sam, 'Create a saved reply…').click();
    const dialog = sam.getByRole('dialog', { name: 'Saved replies' });
    await dialog.waitFor();
    const add = async (title, content) => {
      await dialog.getByLabel('Title').fill(title);
      await dialog.getByLabel('Reply', { exact: true }).fill(content);
      await dialog.getByRole('button', { name: 'Add saved reply' }).click();
    };
    await add('Check-in', 'Hi {first_name}, how did today’s session feel?');
    await dialog.getByRole('list', { name: 'Your saved replies' }).getByText('Check-in').waitFor();
    await add('Weekly plan', 'Here is your plan for the week: 3 strength sessions, 2 easy runs, 1 rest day.');
    await add('Form check', 'Send me a short video of your squat from the side, please.');
    await dialog.getByRole('list', { name: 'Your saved replies' }).getByText('Weekly plan').waitFor();
    // The server's refusal, in its words, under the field.
    await add('CHECK-IN', 'again');
    await dialog.getByText('You already have a saved reply with this title.').waitFor();
    // Edit one in place.
    await dialog.getByRole('button', { name: 'Edit “Form check”' }).click();
    await dialog.getByLabel('Title').fill('Form check (squat)');
    await dialog.getByRole('button', { name: 'Save changes' }).click();
    await dialog.getByRole('list', { name: 'Your saved replies' }).getByText('Form check (squat)').waitFor();
    const stored = await api.call(`${M}/templates/`, { token: tokens.trainer });
    assert.deepEqual(
      stored.map((t) => t.title),
      ['Check-in', 'Form check (squat)', 'Weekly plan'],
    );
    // Escape closes it; the message box has the focus again.
    await sam.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await input(sam).evaluate((el) => el === document.activeElement), true);
  });

  it('saved replies: "/" opens the picker, typing filters by title, arrows and Enter insert, Escape closes', T, async () => {
    await input(sam).fill('');
    await input(sam).pressSequentially('/');
    await option(sam, /Check-in/).waitFor();
    assert.equal(await picker(sam).getByRole('option').count(), 4, 'three replies and "Manage saved replies…"');
    await input(sam).pressSequentially('PLAN');
    await waitUntil(async () => (await picker(sam).getByRole('option').count()) === 2, { what: 'the filter' });
    await option(sam, /Weekly plan/).waitFor();
    // Escape closes it and keeps the text.
    await input(sam).press('Escape');
    await picker(sam).waitFor({ state: 'detached' });
    assert.equal(await input(sam).inputValue(), '/PLAN');

    // In the middle of a sentence: after a space, the keyboard picks the second match.
    await input(sam).fill('Great work today. /');
    await option(sam, /Check-in/).waitFor();
    await input(sam).pressSequentially('c');
    await waitUntil(async () => (await picker(sam).getByRole('option').count()) === 3, { what: 'two matches' });
    await sleep(200);
    await sam.screenshot({ path: join(SHOTS, 'saved-replies-picker.png') });
    await input(sam).press('ArrowDown');
    assert.equal(await option(sam, /Form check/).getAttribute('aria-selected'), 'true');
    await input(sam).press('ArrowUp');
    await input(sam).press('Enter');
    await picker(sam).waitFor({ state: 'detached' });
    // {first_name} became Ana's name; the `/c` went.
    assert.equal(await input(sam).inputValue(), 'Great work today. Hi Ana, how did today’s session feel?');
    await input(sam).press('Enter');
    await log(sam).getByText('Great work today. Hi Ana, how did today’s session feel?').waitFor();

    // Tab inserts too, and a click.
    await input(sam).pressSequentially('/week');
    await option(sam, /Weekly plan/).waitFor();
    await input(sam).press('Tab');
    assert.match(await input(sam).inputValue(), /^Here is your plan for the week/);
    await input(sam).fill('/form');
    await option(sam, /Form check/).click();
    assert.equal(await input(sam).inputValue(), 'Send me a short video of your squat from the side, please.');
    await input(sam).fill('');
  });

  it('needs reply: trainees waiting, longest first, live from the socket, with a count on the tab', T, async () => {
    await api.send(tokens.ana, conv.ana, 'Session felt hard, my knee hurts a bit');
    await sleep(30);
    await api.send(tokens.ben, conv.ben, 'Can we move Thursday to Friday?');
    await tab(sam, /Needs reply/).click();
    await sam.waitForURL((u) => u.search === '?view=needs-reply');
    await waitUntil(async () => (await inboxRows(sam).allTextContents()).join() === 'Ana Lima,Ben Okafor', { what: 'Ana, then Ben' });
    await sam.getByTestId('needs-reply-count').getByText('2').waitFor();
    assert.match(await list(sam).locator('.waiting').first().textContent(), /^waiting/);
    // Cy writes: on the list at once, last (the newest wait).
    await api.send(tokens.cy, conv.cy, 'Quick question about protein');
    await waitUntil(async () => (await inboxRows(sam).allTextContents()).join() === 'Ana Lima,Ben Okafor,Cy Young', { what: 'Cy added live' });
    await sam.getByTestId('needs-reply-count').getByText('3').waitFor();
    // Ana again: she stays first (waiting since her first unanswered message).
    await api.send(tokens.ana, conv.ana, 'Should I skip tomorrow?');
    await list(sam).getByText('Should I skip tomorrow?').waitFor();
    assert.equal((await inboxRows(sam).allTextContents())[0], 'Ana Lima');
    await sleep(200);
    await sam.screenshot({ path: join(SHOTS, 'needs-reply.png') });
    // The trainer answers Ana: off the list at once.
    await openChat(sam, 'Ana Lima');
    await input(sam).fill('Rest tomorrow, ice the knee, and we will adapt the plan.');
    await input(sam).press('Enter');
    await waitUntil(async () => (await inboxRows(sam).allTextContents()).join() === 'Ben Okafor,Cy Young', { what: 'Ana off the list' });
    await sam.getByTestId('needs-reply-count').getByText('2').waitFor();
    // Answered elsewhere (the API, as from the phone app): off the list too.
    await api.send(tokens.trainer, conv.ben, 'Friday works.');
    await waitUntil(async () => (await inboxRows(sam).allTextContents()).join() === 'Cy Young', { what: 'Ben off the list' });
    // The server agrees.
    const waiting = await api.call(`${M}/conversations/?needs_reply=true`, { token: tokens.trainer });
    assert.deepEqual(waiting.results.map((c) => c.id), [conv.cy]);
  });

  it('figures on the trainees page: 7 and 30 days, human durations', T, async () => {
    await sam.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Trainees' }).click();
    const card = sam.getByRole('region', { name: 'Your messaging' });
    await card.waitFor();
    await waitUntil(async () => (await card.getByTestId('stat-conversations').locator('.figure-value').textContent()) === '3', {
      what: 'conversations: 3',
    });
    const value = (id) => card.getByTestId(id).locator('.figure-value').textContent();
    assert.equal(await value('stat-received'), '4');
    assert.equal(await value('stat-waiting'), '1');
    assert.match(await value('stat-median'), /^\d+ s$|^\d+ min$/);
    assert.match(await value('stat-p90'), /^\d+ s$|^\d+ min$/);
    assert.equal(await card.getByRole('button', { name: '7 days' }).getAttribute('aria-pressed'), 'true');
    await card.getByRole('button', { name: '30 days' }).click();
    assert.equal(await card.getByRole('button', { name: '30 days' }).getAttribute('aria-pressed'), 'true');
    await waitUntil(async () => (await value('stat-received')) === '4', { what: '30-day figures' });
    await sleep(200);
    await card.screenshot({ path: join(SHOTS, 'messaging-figures.png') });
    // "Waiting now" opens the inbox.
    await card.getByTestId('stat-waiting').getByRole('link').click();
    await sam.waitForURL((u) => u.pathname === '/messages' && u.search === '?view=needs-reply');
    await waitUntil(async () => (await inboxRows(sam).allTextContents()).join() === 'Cy Young', { what: 'the inbox' });
  });

  it('broadcast to all trainees: preview with a real name, progress live to done, the message in each conversation', T, async () => {
    await sam.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Broadcasts' }).click();
    await sam.getByText('No broadcasts yet.').waitFor();
    await sam.getByRole('link', { name: 'New broadcast' }).click();
    const form = sam.getByRole('form', { name: 'New broadcast' });
    await form.getByText('Cy Young').waitFor();
    await form.getByRole('checkbox', { name: 'All trainees' }).check();
    await form.getByText('3 of 3 selected').waitFor();
    const box = form.getByLabel('Message', { exact: true });
    await box.fill('Hi ');
    await form.getByRole('button', { name: 'Insert {first_name}' }).click();
    await box.press('End');
    await box.pressSequentially(', the gym is closed on Monday: a home workout is in your plan.');
    const preview = sam.getByTestId('broadcast-preview');
    await preview.getByText('Hi Ana, the gym is closed on Monday: a home workout is in your plan.').waitFor();
    await form.getByRole('combobox').selectOption({ label: 'Cy Young' });
    await preview.getByText('Hi Cy, the gym is closed on Monday', { exact: false }).waitFor();
    await sleep(200);
    await sam.screenshot({ path: join(SHOTS, 'broadcast-composer.png') });

    await form.getByRole('button', { name: 'Send to 3 trainees' }).click();
    await sam.waitForURL((u) => /^\/broadcasts\/\d+$/.test(u.pathname));
    ids.broadcast = Number(new URL(sam.url()).pathname.split('/').pop());
    await waitUntil(async () => (await sam.getByTestId('broadcast-counts').textContent()) === '3 of 3 sent', {
      timeout: 15_000,
      what: 'the progress to reach 3 of 3',
    });
    await sam.locator('.bc-detail-head').getByText('Sent', { exact: true }).waitFor();
    const bar = sam.getByRole('progressbar', { name: 'Broadcast progress' });
    assert.equal(await bar.getAttribute('aria-valuenow'), '3');
    await sleep(300);
    await sam.screenshot({ path: join(SHOTS, 'broadcast-progress.png') });
    const stored = await api.call(`${M}/broadcasts/${ids.broadcast}/`, { token: tokens.trainer });
    assert.equal(stored.state, 'done');
    assert.equal(stored.sent, 3);
    assert.deepEqual(stored.failures ?? [], []);

    // Each trainee has it, with their own name, in their conversation.
    const ben = await open(USERS.ben, { path: `/messages/${conv.ben}` });
    await log(ben).getByText('Hi Ben, the gym is closed on Monday: a home workout is in your plan.').waitFor();
    const anaMsgs = (await api.messages(tokens.ana, conv.ana)).results.map((m) => m.content);
    assert.ok(anaMsgs.includes('Hi Ana, the gym is closed on Monday: a home workout is in your plan.'));
    // The trainer answered everyone: nobody waits any more.
    const waiting = await api.call(`${M}/conversations/?needs_reply=true`, { token: tokens.trainer });
    assert.equal(waiting.results.length, 0);
  });

  it('a scheduled broadcast is listed with its time and can be cancelled', T, async () => {
    await sam.getByRole('link', { name: 'Broadcasts' }).first().click();
    await sam.getByRole('link', { name: 'New broadcast' }).click();
    const form = sam.getByRole('form', { name: 'New broadcast' });
    await form.getByRole('checkbox', { name: /Ana Lima/ }).check();
    await form.getByRole('checkbox', { name: /Ben Okafor/ }).check();
    await form.getByLabel('Message', { exact: true }).fill('Reminder: weigh-in tomorrow morning, {first_name}.');
    await form.getByRole('radio', { name: 'Schedule' }).check();
    await form.getByRole('button', { name: 'Schedule for 2 trainees' }).click();
    await sam.waitForURL((u) => /^\/broadcasts\/\d+$/.test(u.pathname));
    const id = Number(new URL(sam.url()).pathname.split('/').pop());
    await sam.locator('.bc-detail-head').getByText('Scheduled', { exact: true }).waitFor();
    await sam.getByRole('main').getByRole('link', { name: 'Broadcasts' }).click();
    const list = sam.getByRole('list', { name: 'Your broadcasts' });
    const row = list.locator(`li[data-broadcast-id="${id}"]`);
    await row.getByText('Scheduled').waitFor();
    await row.getByText(/^for Tomorrow/).waitFor();
    // Newest first: above the one sent.
    assert.deepEqual(await list.locator('li').evaluateAll((els) => els.map((e) => Number(e.dataset.broadcastId))), [id, ids.broadcast]);
    await row.getByRole('button', { name: 'Cancel' }).click();
    await row.getByRole('button', { name: 'Cancel broadcast' }).click();
    await row.getByText('Cancelled').waitFor();
    assert.equal((await api.call(`${M}/broadcasts/${id}/`, { token: tokens.trainer })).state, 'cancelled');
  });

  it('scheduled messages: scheduled beside Send, pending in the chat, edited, another cancelled, then sent', T, async () => {
    const ana = await open(USERS.ana, { path: `/messages/${conv.ana}` });
    await sam.goto(`/messages/${conv.ana}`);
    await log(sam).getByText('Rest tomorrow, ice the knee', { exact: false }).waitFor();
    const pending = sam.getByRole('region', { name: 'Scheduled messages' });
    const item = (text) => pending.locator('li.scheduled-item').filter({ hasText: text });

    // From a quick pick.
    await input(sam).fill('How is the knee this morning?');
    await sam.getByRole('button', { name: 'Schedule message' }).click();
    const pop = sam.getByRole('dialog', { name: 'Schedule message' });
    await pop.getByRole('button', { name: /^Tomorrow 6:00/ }).click();
    await item('How is the knee this morning?').getByText(/^Scheduled for Tomorrow 06:00$/).waitFor();
    assert.equal(await input(sam).inputValue(), '');
    // From a date and time (in two hours).
    await input(sam).fill('Reminder: 10 minutes of mobility before bed');
    await sam.getByRole('button', { name: 'Schedule message' }).click();
    const inTwoHours = await sam.evaluate(() => {
      const d = new Date(Date.now() + 2 * 3_600_000);
      const p = (n) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
    });
    await pop.getByLabel('Date and time').fill(inTwoHours);
    await pop.getByRole('button', { name: 'Schedule', exact: true }).click();
    await item('Reminder: 10 minutes of mobility before bed').waitFor();
    // Soonest first; the server lists the same.
    assert.deepEqual(await pending.locator('.content').allTextContents(), ['Reminder: 10 minutes of mobility before bed', 'How is the knee this morning?']);
    const stored = await api.call(`${M}/conversations/${conv.ana}/scheduled/`, { token: tokens.trainer });
    assert.deepEqual(stored.map((s) => s.content), ['Reminder: 10 minutes of mobility before bed', 'How is the knee this morning?']);
    // Ana sees none of it.
    assert.equal(await ana.getByRole('region', { name: 'Scheduled messages' }).count(), 0);
    await sleep(200);
    await sam.screenshot({ path: join(SHOTS, 'scheduled-messages.png') });

    // Cancel one.
    await item('Reminder: 10 minutes of mobility before bed').getByRole('button', { name: 'Cancel' }).click();
    await item('Reminder: 10 minutes of mobility before bed').getByRole('button', { name: 'Cancel message' }).click();
    await item('Reminder: 10 minutes of mobility before bed').waitFor({ state: 'detached' });

    // Edit the other: new text, and a time 3 seconds ahead (by the browser's clock).
    await item('How is the knee').getByRole('button', { name: 'Edit' }).click();
    const editor = pending.getByRole('group', { name: 'Edit scheduled message' });
    await editor.getByLabel('Scheduled message text').fill('How is the knee today? Ice helped?');
    const soon = await sam.evaluate(() => {
      const d = new Date(Date.now() + 3_000);
      const p = (n) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
    });
    await editor.getByLabel('Send at').fill(soon);
    await editor.getByRole('button', { name: 'Save' }).click();
    await item('How is the knee today? Ice helped?').getByText(/^Scheduled for Today/).waitFor();

    // It goes out: gone from pending (scheduled_message frame), a message on both sides (new_message).
    await log(sam).getByText('How is the knee today? Ice helped?', { exact: true }).waitFor({ timeout: 20_000 });
    await pending.waitFor({ state: 'detached' });
    await log(ana).getByText('How is the knee today? Ice helped?', { exact: true }).waitFor();
    const left = await api.call(`${M}/conversations/${conv.ana}/scheduled/`, { token: tokens.trainer });
    assert.deepEqual(left, []);
    const sent = (await api.messages(tokens.ana, conv.ana)).results.filter((m) => m.content === 'How is the knee today? Ice helped?');
    assert.equal(sent.length, 1, 'sent once');
    assert.equal((await api.messages(tokens.ana, conv.ana)).results.some((m) => m.content === 'Reminder: 10 minutes of mobility before bed'), false);
  });

  it('trainees schedule too: pending in their conversation', T, async () => {
    const cy = await open(USERS.cy, { path: `/messages/${conv.cy}` });
    await log(cy).getByText('Welcome aboard, cy!').waitFor();
    await input(cy).fill('Note to self: ask about creatine');
    await cy.getByRole('button', { name: 'Schedule message' }).click();
    await cy.getByRole('dialog', { name: 'Schedule message' }).getByRole('button', { name: /^In 1 hour/ }).click();
    await cy.getByRole('region', { name: 'Scheduled messages' }).getByText('Note to self: ask about creatine').waitFor();
    // The saved replies picker is the trainer's only.
    await input(cy).fill('/');
    await sleep(200);
    assert.equal(await picker(cy).count(), 0);
  });
});


// End-to-end: the built dashboard (web/dist) served by a real `spotter serve --demo`, driven in
// Debian's Chromium through playwright-core. Run by scripts/web-test.sh:
//   node --test --test-reporter=spec --test-concurrency=1 e2e/messages.e2e.test.mjs
// The cases run in order and build on each other (one server, one data folder).
// The browser push suite (push.e2e.test.mjs), the photos, edit/delete and search suite
// (photos-edit-search.e2e.test.mjs), the coaching tools suite (coaching.e2e.test.mjs) and the admin
// console suite (admin.e2e.test.mjs), each
// with its own server, are loaded at the end of this file.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Api, launchBrowser, loggedInPage, repoRoot, sleep, SpotterServer, USERS, waitUntil } from './harness.mjs';

const SHOTS = join(repoRoot, 'docs/screenshots');
const T = { timeout: 60_000 };

describe('Spotter web dashboard', { timeout: 600_000 }, () => {
  /** @type {SpotterServer} */ let server;
  /** @type {Api} */ let api;
  let browser;
  let trainerToken;
  const ids = {};
  const pages = {};
  const contexts = [];

  const open = async (email, opts) => {
    const r = await loggedInPage(browser, server.url, email, opts);
    contexts.push(r.context);
    return r.page;
  };
  const log = (page) => page.getByRole('log');
  const input = (page) => page.getByLabel('message input');
  const sendButton = (page) => page.getByRole('button', { name: 'Send message' });
  const badge = (page) => page.getByTestId('unread-badge');
  const navLink = (page, name) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name });
  const countIn = async (page, text) => log(page).getByText(text, { exact: true }).count();

  before(async () => {
    server = new SpotterServer();
    await server.start();
    api = new Api(server.url);
    trainerToken = await api.token(USERS.trainer);
    const trainees = (await api.trainees(trainerToken)).results;
    for (const t of trainees) ids[t.first_name.toLowerCase()] = t.id;
    browser = await launchBrowser();
    mkdirSync(SHOTS, { recursive: true });
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close().catch(() => {});
    await server?.stop();
    server?.cleanup();
    if (server) console.log(`# server logs: ${server.logDir}`);
  });

  it('shows a "Messages" link in the navigation', T, async () => {
    pages.trainer = await open(USERS.trainer);
    const link = pages.trainer.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Messages' });
    await link.waitFor();
    assert.equal(await link.getAttribute('href'), '/messages');
  });

  it('navigates to /messages from another page', T, async () => {
    const p = pages.trainer;
    await navLink(p, 'Trainees').click();
    await p.waitForURL('**/trainees');
    await navLink(p, 'Messages').click();
    await p.waitForURL((u) => u.pathname === '/messages');
    await p.getByRole('heading', { name: 'Messages', level: 1 }).waitFor();
  });

  it('shows the empty state "No conversations yet"', T, async () => {
    await pages.trainer.getByText('No conversations yet').waitFor();
  });

  it("starts a conversation from the trainee page's Message button", T, async () => {
    const p = pages.trainer;
    await navLink(p, 'Trainees').click();
    await p.getByLabel('Search trainees').fill('Ana');
    await waitUntil(async () => (await p.getByRole('link', { name: /Ben Okafor/ }).count()) === 0, { what: 'search to filter' });
    await p.getByRole('link', { name: /Ana Lima/ }).click();
    await p.waitForURL(`**/trainees/${ids.ana}`);
    await p.getByRole('heading', { name: 'Ana Lima' }).waitFor();
    await p.getByRole('button', { name: 'Message' }).click();
    await p.waitForURL(`**/messages/new/${ids.ana}`);
    await p.getByText('Your first message starts the conversation.').waitFor();
    await input(p).fill('Hi Ana! Welcome to Spotter 👋');
    await input(p).press('Enter');
    await p.waitForURL((u) => /^\/messages\/\d+$/.test(u.pathname));
    ids.anaConv = Number(new URL(p.url()).pathname.split('/').pop());
    await log(p).getByText('Hi Ana! Welcome to Spotter 👋').waitFor();
    const row = p.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: /Ana Lima/ });
    await row.getByText('Hi Ana! Welcome to Spotter 👋').waitFor();
  });

  it('lists conversations with names and previews, most recent first, live', T, async () => {
    const p = pages.trainer;
    // Started elsewhere (the API): the open list picks it up from the socket.
    const started = await api.start(trainerToken, ids.ben, 'Leg day tomorrow, 7am?');
    ids.benConv = started.conversation_id;
    const list = p.getByRole('navigation', { name: 'Conversations' });
    await list.getByText('Leg day tomorrow, 7am?').waitFor({ timeout: 5000 });
    const names = await list.locator('.conv-name').allTextContents();
    assert.deepEqual(names, ['Ben Okafor', 'Ana Lima']);
    await list.getByText('Hi Ana! Welcome to Spotter 👋').waitFor();
  });

  it("opens a chat whose header shows the other person's name", T, async () => {
    const p = pages.trainer;
    await p.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: /Ben Okafor/ }).click();
    await p.waitForURL(`**/messages/${ids.benConv}`);
    await p.locator('.chat-header').getByRole('heading', { name: 'Ben Okafor' }).waitFor();
    await log(p).getByText('Leg day tomorrow, 7am?').waitFor();
  });

  it('has a labelled message input and a disabled send button', T, async () => {
    const p = pages.trainer;
    await input(p).waitFor();
    assert.equal(await input(p).evaluate((el) => el.tagName), 'TEXTAREA');
    assert.equal(await sendButton(p).isDisabled(), true);
    await input(p).fill('   ');
    assert.equal(await sendButton(p).isDisabled(), true, 'whitespace only');
  });

  it('enables send after typing', T, async () => {
    const p = pages.trainer;
    await input(p).fill('');
    await input(p).pressSequentially('Hello');
    assert.equal(await sendButton(p).isEnabled(), true);
    await input(p).fill('');
    assert.equal(await sendButton(p).isDisabled(), true);
  });

  it('trainer and trainee chat live: messages, typing, receipts, unread badge', T, async () => {
    const sam = pages.trainer;
    const ana = (pages.ana = await open(USERS.ana));
    // Ana has the welcome message unread.
    await waitUntil(async () => (await badge(ana).textContent()) === '1', { what: "Ana's badge to show 1" });

    // Sam opens Ana's chat and writes: Ana's list and badge follow within a second.
    await sam.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: /Ana Lima/ }).click();
    await sam.waitForURL(`**/messages/${ids.anaConv}`);
    await input(sam).fill('Ready for today? 5 x 5 squats.');
    const t0 = Date.now();
    await input(sam).press('Enter');
    await ana.getByRole('navigation', { name: 'Conversations' }).getByText('Ready for today? 5 x 5 squats.').waitFor({ timeout: 1000 });
    const latency = Date.now() - t0;
    assert.ok(latency <= 1000, `arrived after ${latency} ms`);
    await waitUntil(async () => (await badge(ana).textContent()) === '2', { timeout: 1000, what: 'badge to count up to 2' });

    // Delivered (✓✓) once Ana's socket got it, not yet read.
    const samLast = sam.locator('li.msg.mine').last();
    await waitUntil(async () => (await samLast.getAttribute('data-receipt')) === 'delivered', { timeout: 3000, what: 'delivered receipt' });

    // Ana opens the chat: it is marked read, Sam's ticks turn "read", Ana's badge clears.
    await ana.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: /Sam Rivera/ }).click();
    await log(ana).getByText('Ready for today? 5 x 5 squats.').waitFor();
    await waitUntil(async () => (await samLast.getAttribute('data-receipt')) === 'read', { timeout: 3000, what: 'read receipt' });
    const title = await samLast.locator('.receipt').getAttribute('title');
    assert.match(title, /^Read /);
    await waitUntil(async () => (await badge(ana).count()) === 0, { timeout: 3000, what: "Ana's badge to clear" });

    // Ana types: Sam sees it; she clears the box: it goes away.
    await input(ana).pressSequentially('Sure', { delay: 30 });
    await sam.getByText('Ana is typing…').waitFor({ timeout: 2000 });
    await input(ana).fill('');
    await sam.getByText('Ana is typing…').waitFor({ state: 'hidden', timeout: 3000 });

    // Ana answers: Sam gets it within a second; the unread count of the open chat stays 0.
    await input(ana).fill('Yes! See you at 6 💪');
    const t1 = Date.now();
    await input(ana).press('Enter');
    await log(sam).getByText('Yes! See you at 6 💪').waitFor({ timeout: 1000 });
    assert.ok(Date.now() - t1 <= 1000);
    await sleep(300);
    assert.equal(await badge(sam).count(), 0, 'reading the chat leaves no unread badge');
    assert.equal(await countIn(sam, 'Yes! See you at 6 💪'), 1);
    assert.equal(await countIn(ana, 'Yes! See you at 6 💪'), 1);
  });

  it("trainee page's Message button opens the existing conversation", T, async () => {
    const p = pages.trainer;
    await p.goto(`/trainees/${ids.ana}`);
    await p.getByRole('button', { name: 'Message' }).click();
    await p.waitForURL(`**/messages/${ids.anaConv}`);
    await log(p).getByText('Yes! See you at 6 💪').waitFor();
  });

  it('archived conversations are read-only, in the Archived list', T, async () => {
    const p = pages.trainer;
    const started = await api.start(trainerToken, ids.cy, 'Cy, your new plan is ready.');
    ids.cyConv = started.conversation_id;
    const list = p.getByRole('navigation', { name: 'Conversations' });
    await list.getByRole('link', { name: /Cy Young/ }).waitFor();
    await api.removeTrainee(trainerToken, ids.cy);
    // Leaves the active list (live, or at the latest on the next refetch).
    await waitUntil(async () => (await list.getByRole('link', { name: /Cy Young/ }).count()) === 0, {
      timeout: 5000,
      what: 'Cy to leave the active list',
    });
    await list.getByRole('link', { name: 'Archived' }).click();
    await list.getByRole('link', { name: /Cy Young/ }).click();
    await p.waitForURL((u) => u.pathname === `/messages/${ids.cyConv}`);
    await log(p).getByText('Cy, your new plan is ready.').waitFor();
    await p.getByText(/This conversation is archived/).waitFor();
    assert.equal(await input(p).isDisabled(), true);
    assert.equal(await sendButton(p).isDisabled(), true);
    await list.getByRole('link', { name: 'Active' }).click();
    await p.waitForURL((u) => u.pathname === '/messages' && u.search === '');
  });

  it('impersonation shows a banner and a read-only chat', T, async () => {
    const imp = await api.impersonate(trainerToken, ids.ben);
    const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 800 } });
    contexts.push(context);
    const p = await context.newPage();
    await p.goto('/login');
    await p.evaluate(([a, r]) => {
      localStorage.setItem('spotter.access', a);
      localStorage.setItem('spotter.refresh', r);
    }, [imp.access, imp.refresh]);
    await p.goto('/messages');
    const banner = p.getByTestId('impersonation-banner');
    await banner.waitFor();
    assert.match(await banner.textContent(), /Viewing as Ben Okafor/);
    await p.getByRole('navigation', { name: 'Conversations' }).getByRole('link', { name: /Sam Rivera/ }).click();
    await log(p).getByText('Leg day tomorrow, 7am?').waitFor();
    await p.getByText(/impersonation\). Messaging is read-only/).waitFor();
    assert.equal(await input(p).isDisabled(), true);
    assert.equal(await sendButton(p).isDisabled(), true);
    // Viewing as Ben did not mark his messages read.
    const conv = (await api.conversations(await api.token(USERS.ben))).results.find((c) => c.id === ids.benConv);
    assert.equal(conv.unread_count, 1);
    // Ending it returns to the trainer, on Ben's page.
    await p.getByRole('button', { name: 'End impersonation' }).click();
    await p.waitForURL(`**/trainees/${ids.ben}`);
    await p.getByRole('heading', { name: 'Ben Okafor' }).waitFor();
    assert.equal(await p.getByTestId('impersonation-banner').count(), 0);
    assert.equal((await api.me(await p.evaluate(() => localStorage.getItem('spotter.access')))).email, USERS.trainer);
    await context.close();
  });

  it('loads older messages at the top without jumping; a pill announces new ones while scrolled up', T, async () => {
    const p = pages.trainer;
    const benToken = await api.token(USERS.ben);
    // 35 more messages (each side stays under the 30-a-minute send limit).
    for (let i = 1; i <= 35; i++) {
      const fromBen = i % 3 !== 0;
      await api.send(fromBen ? benToken : trainerToken, ids.benConv, `Set ${i}: ${fromBen ? 'done' : 'next one heavier'}`);
    }
    await p.goto(`/messages/${ids.benConv}`);
    await log(p).getByText('Set 35: done').waitFor();
    const first = log(p).getByText('Leg day tomorrow, 7am?');
    assert.equal(await first.count(), 0, 'the oldest message is not loaded yet');
    const scroll = p.locator('.message-scroll');
    // The reader starts at the bottom.
    assert.ok(await scroll.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight < 5));
    // Scroll to the top: older messages come in and the message in view stays in place.
    const anchor = log(p).getByText('Set 6: next one heavier', { exact: true });
    // Scroll to the top and measure in one go, before the scroll event loads anything.
    const before = await scroll.evaluate((el) => {
      el.scrollTop = 0;
      const a = [...el.querySelectorAll('.content')].find((c) => c.textContent === 'Set 6: next one heavier');
      return a.getBoundingClientRect().y;
    });
    await first.waitFor();
    await sleep(200);
    const afterY = (await anchor.boundingBox()).y;
    assert.ok(Math.abs(afterY - before) < 4, `view jumped by ${afterY - before}px`);
    await p.getByText('Beginning of the conversation').waitFor();
    // Scrolled up: a new message does not pull the view down, it shows a pill.
    const top = await scroll.evaluate((el) => el.scrollTop);
    await api.send(benToken, ids.benConv, 'Done with the whole workout!');
    const pill = p.getByRole('button', { name: /1 new message/ });
    await pill.waitFor({ timeout: 2000 });
    const [topNow, fromBottom] = await scroll.evaluate((el) => [el.scrollTop, el.scrollHeight - el.scrollTop - el.clientHeight]);
    assert.ok(Math.abs(topNow - top) < 4 && fromBottom > 200, `the view stayed up (${top} -> ${topNow})`);
    await pill.click();
    await waitUntil(() => scroll.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight < 5), { what: 'scrolled to the bottom' });
    await pill.waitFor({ state: 'detached' });
    const ids_ = await log(p).locator('li[data-message-id]').evaluateAll((els) => els.map((e) => Number(e.dataset.messageId)));
    assert.equal(new Set(ids_).size, ids_.length, 'no duplicate message');
    assert.deepEqual([...ids_].sort((a, b) => a - b), ids_, 'ordered by id');
    assert.equal(ids_.length, 37);
  });

  it('survives a server restart mid-chat: nothing lost, nothing doubled', T, async () => {
    const sam = pages.trainer;
    const ana = pages.ana;
    await sam.goto(`/messages/${ids.anaConv}`);
    await log(sam).getByText('Yes! See you at 6 💪').waitFor();
    await log(ana).getByText('Yes! See you at 6 💪').waitFor();

    await server.kill();
    await sam.getByText('Reconnecting…').waitFor({ timeout: 15_000 });
    // Ana writes while the server is down: it waits in the outbox (no answer = offline), kept.
    await input(ana).fill('Did you get this? (sent while offline)');
    await input(ana).press('Enter');
    await ana.locator('li.msg.mine[data-receipt="waiting"]').waitFor({ timeout: 10_000 });

    await server.start(); // same data folder, same port
    // Sent before the pages are back on their sockets: they catch up over REST.
    await api.send(trainerToken, ids.anaConv, 'Back online? (1)');
    await api.send(trainerToken, ids.anaConv, 'Back online? (2)');

    for (const text of ['Back online? (1)', 'Back online? (2)']) {
      await log(ana).getByText(text).waitFor({ timeout: 20_000 });
    }
    await log(sam).getByText('Did you get this? (sent while offline)').waitFor({ timeout: 20_000 });
    await waitUntil(async () => (await ana.locator('li.msg.mine:is([data-receipt="waiting"], [data-receipt="failed"])').count()) === 0, {
      timeout: 10_000,
      what: 'the waiting send to go out',
    });
    // Live again after the restart.
    await input(sam).fill('All good, connection restored.');
    await input(sam).press('Enter');
    await log(ana).getByText('All good, connection restored.').waitFor({ timeout: 2000 });
    await sleep(500);
    for (const [p, text] of [
      [ana, 'Back online? (1)'],
      [ana, 'Back online? (2)'],
      [sam, 'Back online? (1)'],
      [sam, 'Did you get this? (sent while offline)'],
      [ana, 'Did you get this? (sent while offline)'],
      [ana, 'All good, connection restored.'],
    ]) {
      assert.equal(await countIn(p, text), 1, `"${text}" shown once`);
    }
    const stored = (await api.messages(trainerToken, ids.anaConv)).results.filter((m) => m.content.includes('sent while offline'));
    assert.equal(stored.length, 1, 'stored once on the server');
  });

  it('desktop screenshot of a real conversation', T, async () => {
    const sam = pages.trainer;
    await input(sam).fill('Great session today. Tomorrow: mobility + 20 min easy run.');
    await input(sam).press('Enter');
    await log(pages.ana).getByText('Great session today.', { exact: false }).waitFor({ timeout: 2000 });
    await input(pages.ana).pressSequentially('Perfect, thanks', { delay: 20 });
    await sam.getByText('Ana is typing…').waitFor({ timeout: 2000 });
    await sleep(400);
    await sam.screenshot({ path: join(SHOTS, 'messages-desktop.png') });
    await input(pages.ana).fill('');
  });

  it('phone layout (390x844): list, then chat with a back button', T, async () => {
    const p = await open(USERS.ana, { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
    const list = p.getByRole('navigation', { name: 'Conversations' });
    await list.getByRole('link', { name: /Sam Rivera/ }).waitFor();
    const listBox = await list.boundingBox();
    assert.ok(listBox && listBox.width >= 380, `list spans the screen (${listBox?.width})`);
    assert.equal(await p.locator('.chat-pane').isVisible(), false, 'no chat beside the list');
    await list.getByRole('link', { name: /Sam Rivera/ }).click();
    await log(p).getByText('All good, connection restored.').waitFor();
    assert.equal(await list.isVisible(), false, 'the list hides behind the chat');
    const back = p.getByRole('link', { name: 'Back to conversations' });
    assert.equal(await back.isVisible(), true);
    const scroll = p.locator('.message-scroll');
    const noOverflow = await p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    assert.ok(noOverflow, 'no horizontal overflow');
    assert.ok((await scroll.boundingBox()).width <= 390);
    await sleep(300);
    await p.screenshot({ path: join(SHOTS, 'messages-phone.png') });
    await back.click();
    await list.waitFor();
    // Installable: a manifest with icons.
    const manifest = await p.evaluate(async () => {
      const href = document.querySelector('link[rel="manifest"]')?.getAttribute('href');
      return href ? (await fetch(href)).json() : null;
    });
    assert.equal(manifest?.display, 'standalone');
    assert.ok(manifest.icons.some((i) => i.sizes === '512x512' && i.type === 'image/png'));
  });
});

// Browser push notifications: after the suite above, with a server of its own.
await import('./push.e2e.test.mjs');
// Photos, edit and delete, search, message notifications: with a server of its own.
await import('./photos-edit-search.e2e.test.mjs');
// Coaching tools (saved replies, needs reply, figures, broadcasts, scheduled messages): its own server.
await import('./coaching.e2e.test.mjs');
// Admin console, audit log, "Who accessed my data": its own server.
await import('./admin.e2e.test.mjs');
// The installable app, the offline shell and the outbox: its own server.
await import('./offline.e2e.test.mjs');

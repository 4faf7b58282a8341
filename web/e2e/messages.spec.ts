// End-to-end: messaging in the built dashboard (web/dist), served by a real `spotter serve --demo`
// (the `server` fixture: this file's own server and data folder), in Debian's Chromium.
// The cases run in order and build on each other.
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, expectAccessible, test } from './fixtures';
import { SHOTS, USERS } from './helpers';

test.use({ suite: 'messages' });
test.describe.configure({ mode: 'serial' });

const log = (page: Page) => page.getByRole('log');
const input = (page: Page) => page.getByLabel('message input');
const sendButton = (page: Page) => page.getByRole('button', { name: 'Send message' });
const badge = (page: Page) => page.getByTestId('unread-badge');
const navLink = (page: Page, name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name });
const convList = (page: Page) => page.getByRole('navigation', { name: 'Conversations' });
/** How many times `text` is shown as a whole message in the chat. */
const shownIn = (page: Page, text: string) => log(page).getByText(text, { exact: true });

let trainerToken: string;
const ids: Record<string, number> = {};
const pages: Record<string, Page> = {};

test.beforeAll(async ({ api }) => {
  trainerToken = await api.token(USERS.trainer);
  for (const t of (await api.trainees(trainerToken)).results) ids[t.first_name.toLowerCase()] = t.id;
});

test('the login page is accessible', async ({ session }) => {
  const page = await (await session.newContext()).newPage();
  await page.goto('/login');
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await expectAccessible(page, 'login');
  // A refused sign-in shows its error, accessibly too.
  await page.getByLabel('Email').fill(USERS.trainer);
  await page.getByLabel('Password').fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toBeVisible();
  await expectAccessible(page, 'login with an error');
});

test('shows a "Messages" link in the navigation', async ({ session }) => {
  pages.trainer = await session.open(USERS.trainer);
  const link = navLink(pages.trainer, 'Messages');
  await expect(link).toBeVisible();
  await expect(link).toHaveAttribute('href', '/messages');
});

test('navigates to /messages from another page', async () => {
  const p = pages.trainer;
  await navLink(p, 'Trainees').click();
  await p.waitForURL('**/trainees');
  await navLink(p, 'Messages').click();
  await p.waitForURL((u) => u.pathname === '/messages');
  await expect(p.getByRole('heading', { name: 'Messages', level: 1 })).toBeVisible();
});

test('shows the empty state "No conversations yet"', async () => {
  await expect(pages.trainer.getByText('No conversations yet')).toBeVisible();
  await expectAccessible(pages.trainer, 'messages list, empty');
});

test("starts a conversation from the trainee page's Message button", async () => {
  const p = pages.trainer;
  await navLink(p, 'Trainees').click();
  await expect(p.getByRole('link', { name: /Ben Okafor/ })).toBeVisible();
  await expectAccessible(p, 'trainees');
  await p.getByLabel('Search trainees').fill('Ana');
  await expect(p.getByRole('link', { name: /Ben Okafor/ })).toHaveCount(0);
  await p.getByRole('link', { name: /Ana Lima/ }).click();
  await p.waitForURL(`**/trainees/${ids.ana}`);
  await expect(p.getByRole('heading', { name: 'Ana Lima' })).toBeVisible();
  await expectAccessible(p, "a trainee's page");
  await p.getByRole('button', { name: 'Message' }).click();
  await p.waitForURL(`**/messages/new/${ids.ana}`);
  await expect(p.getByText('Your first message starts the conversation.')).toBeVisible();
  await expectAccessible(p, 'new conversation');
  await input(p).fill('Hi Ana! Welcome to Spotter 👋');
  await input(p).press('Enter');
  await p.waitForURL((u) => /^\/messages\/\d+$/.test(u.pathname));
  ids.anaConv = Number(new URL(p.url()).pathname.split('/').pop());
  await expect(log(p).getByText('Hi Ana! Welcome to Spotter 👋')).toBeVisible();
  const row = convList(p).getByRole('link', { name: /Ana Lima/ });
  await expect(row.getByText('Hi Ana! Welcome to Spotter 👋')).toBeVisible();
});

test('lists conversations with names and previews, most recent first, live', async ({ api }) => {
  const p = pages.trainer;
  // Started elsewhere (the API): the open list picks it up from the socket.
  const started = await api.start(trainerToken, ids.ben, 'Leg day tomorrow, 7am?');
  ids.benConv = started.conversation_id;
  const list = convList(p);
  await expect(list.getByText('Leg day tomorrow, 7am?')).toBeVisible({ timeout: 5000 });
  await expect(list.locator('.conv-name')).toHaveText(['Ben Okafor', 'Ana Lima']);
  await expect(list.getByText('Hi Ana! Welcome to Spotter 👋')).toBeVisible();
});

test("opens a chat whose header shows the other person's name", async () => {
  const p = pages.trainer;
  await convList(p).getByRole('link', { name: /Ben Okafor/ }).click();
  await p.waitForURL(`**/messages/${ids.benConv}`);
  await expect(p.locator('.chat-header').getByRole('heading', { name: 'Ben Okafor' })).toBeVisible();
  await expect(log(p).getByText('Leg day tomorrow, 7am?')).toBeVisible();
  await expectAccessible(p, 'messages list and chat');
});

test('has a labelled message input and a disabled send button', async () => {
  const p = pages.trainer;
  await expect(input(p)).toBeVisible();
  expect(await input(p).evaluate((el) => el.tagName)).toBe('TEXTAREA');
  await expect(sendButton(p)).toBeDisabled();
  await input(p).fill('   ');
  await expect(sendButton(p), 'whitespace only').toBeDisabled();
});

test('enables send after typing', async () => {
  const p = pages.trainer;
  await input(p).fill('');
  await input(p).pressSequentially('Hello');
  await expect(sendButton(p)).toBeEnabled();
  await input(p).fill('');
  await expect(sendButton(p)).toBeDisabled();
});

test('trainer and trainee chat live: messages, typing, receipts, unread badge', async ({ session }) => {
  const sam = pages.trainer;
  const ana = (pages.ana = await session.open(USERS.ana));
  // Ana has the welcome message unread.
  await expect(badge(ana)).toHaveText('1');

  // Sam opens Ana's chat and writes: Ana's list and badge follow within a second.
  await convList(sam).getByRole('link', { name: /Ana Lima/ }).click();
  await sam.waitForURL(`**/messages/${ids.anaConv}`);
  await input(sam).fill('Ready for today? 5 x 5 squats.');
  await expect(input(sam)).toHaveValue('Ready for today? 5 x 5 squats.');
  const t0 = Date.now();
  await input(sam).press('Enter');
  await expect(convList(ana).getByText('Ready for today? 5 x 5 squats.')).toBeVisible({ timeout: 1000 });
  const latency = Date.now() - t0;
  expect(latency, `arrived after ${latency} ms`).toBeLessThanOrEqual(1000);
  await expect(badge(ana), 'badge to count up to 2').toHaveText('2', { timeout: 1000 });

  // Delivered (✓✓) once Ana's socket got it, not yet read.
  const samLast = sam.locator('li.msg.mine').last();
  await expect(samLast).toHaveAttribute('data-receipt', 'delivered', { timeout: 3000 });

  // Ana opens the chat: it is marked read, Sam's ticks turn "read", Ana's badge clears.
  await convList(ana).getByRole('link', { name: /Sam Rivera/ }).click();
  await expect(log(ana).getByText('Ready for today? 5 x 5 squats.')).toBeVisible();
  await expect(samLast).toHaveAttribute('data-receipt', 'read', { timeout: 3000 });
  await expect(samLast.locator('.receipt')).toHaveAttribute('title', /^Read /);
  await expect(badge(ana), "Ana's badge to clear").toHaveCount(0, { timeout: 3000 });

  // Ana types: Sam sees it; she clears the box: it goes away.
  await input(ana).pressSequentially('Sure', { delay: 30 });
  await expect(sam.getByText('Ana is typing…')).toBeVisible({ timeout: 2000 });
  await input(ana).fill('');
  await expect(sam.getByText('Ana is typing…')).toBeHidden({ timeout: 3000 });

  // Ana answers: Sam gets it within a second; the unread count of the open chat stays 0.
  await input(ana).fill('Yes! See you at 6 💪');
  await expect(input(ana)).toHaveValue('Yes! See you at 6 💪');
  const t1 = Date.now();
  await input(ana).press('Enter');
  await expect(log(sam).getByText('Yes! See you at 6 💪')).toBeVisible({ timeout: 1000 });
  expect(Date.now() - t1).toBeLessThanOrEqual(1000);
  // Reading the chat leaves no unread badge: the read goes out, nothing counts up meanwhile.
  await expect(badge(sam), 'reading the chat leaves no unread badge').toHaveCount(0);
  await expect.poll(async () => (await serverUnread(sam)) ?? -1, { message: "Sam's unread count on the server" }).toBe(0);
  await expect(badge(sam)).toHaveCount(0);
  await expect(shownIn(sam, 'Yes! See you at 6 💪')).toHaveCount(1);
  await expect(shownIn(ana, 'Yes! See you at 6 💪')).toHaveCount(1);
});

/** The unread count the server has for the page's user (its own token). */
async function serverUnread(page: Page): Promise<number | null> {
  return page.evaluate(async () => {
    const res = await fetch('/api/messaging/unread-count/', { headers: { Authorization: `Bearer ${localStorage.getItem('spotter.access')}` } });
    return res.ok ? ((await res.json()) as { unread_count: number }).unread_count : null;
  });
}

test("trainee page's Message button opens the existing conversation", async () => {
  const p = pages.trainer;
  await p.goto(`/trainees/${ids.ana}`);
  await p.getByRole('button', { name: 'Message' }).click();
  await p.waitForURL(`**/messages/${ids.anaConv}`);
  await expect(log(p).getByText('Yes! See you at 6 💪')).toBeVisible();
});

test('archived conversations are read-only, in the Archived list', async ({ api }) => {
  const p = pages.trainer;
  const started = await api.start(trainerToken, ids.cy, 'Cy, your new plan is ready.');
  ids.cyConv = started.conversation_id;
  const list = convList(p);
  await expect(list.getByRole('link', { name: /Cy Young/ })).toBeVisible();
  await api.removeTrainee(trainerToken, ids.cy);
  // Leaves the active list (live, or at the latest on the next refetch).
  await expect(list.getByRole('link', { name: /Cy Young/ }), 'Cy to leave the active list').toHaveCount(0, { timeout: 5000 });
  await list.getByRole('link', { name: 'Archived' }).click();
  await list.getByRole('link', { name: /Cy Young/ }).click();
  await p.waitForURL((u) => u.pathname === `/messages/${ids.cyConv}`);
  await expect(log(p).getByText('Cy, your new plan is ready.')).toBeVisible();
  await expect(p.getByText(/This conversation is archived/)).toBeVisible();
  await expect(input(p)).toBeDisabled();
  await expect(sendButton(p)).toBeDisabled();
  await expectAccessible(p, 'an archived conversation');
  await list.getByRole('link', { name: 'Active' }).click();
  await p.waitForURL((u) => u.pathname === '/messages' && u.search === '');
});

test('impersonation shows a banner and a read-only chat', async ({ api, session }) => {
  const imp = await api.impersonate(trainerToken, ids.ben);
  const context = await session.newContext();
  const p = await context.newPage();
  await p.goto('/login');
  await p.evaluate(
    ([a, r]) => {
      localStorage.setItem('spotter.access', a);
      localStorage.setItem('spotter.refresh', r);
    },
    [imp.access, imp.refresh],
  );
  await p.goto('/messages');
  const banner = p.getByTestId('impersonation-banner');
  await expect(banner).toContainText(/Viewing as Ben Okafor/);
  await convList(p).getByRole('link', { name: /Sam Rivera/ }).click();
  await expect(log(p).getByText('Leg day tomorrow, 7am?')).toBeVisible();
  await expect(p.getByText(/impersonation\). Messaging is read-only/)).toBeVisible();
  await expect(input(p)).toBeDisabled();
  await expect(sendButton(p)).toBeDisabled();
  await expectAccessible(p, 'impersonation');
  // Viewing as Ben did not mark his messages read.
  const conv = (await api.conversations(await api.token(USERS.ben))).results.find((c: { id: number }) => c.id === ids.benConv);
  expect(conv.unread_count).toBe(1);
  // Ending it returns to the trainer, on Ben's page.
  await p.getByRole('button', { name: 'End impersonation' }).click();
  await p.waitForURL(`**/trainees/${ids.ben}`);
  await expect(p.getByRole('heading', { name: 'Ben Okafor' })).toBeVisible();
  await expect(p.getByTestId('impersonation-banner')).toHaveCount(0);
  expect((await api.me(await p.evaluate(() => localStorage.getItem('spotter.access') ?? ''))).email).toBe(USERS.trainer);
  await context.close();
});

test('loads older messages at the top without jumping; a pill announces new ones while scrolled up', async ({ api }) => {
  const p = pages.trainer;
  const benToken = await api.token(USERS.ben);
  // 35 more messages (each side stays under the 30-a-minute send limit).
  for (let i = 1; i <= 35; i++) {
    const fromBen = i % 3 !== 0;
    await api.send(fromBen ? benToken : trainerToken, ids.benConv, `Set ${i}: ${fromBen ? 'done' : 'next one heavier'}`);
  }
  await p.goto(`/messages/${ids.benConv}`);
  await expect(log(p).getByText('Set 35: done')).toBeVisible();
  const first = log(p).getByText('Leg day tomorrow, 7am?');
  await expect(first, 'the oldest message is not loaded yet').toHaveCount(0);
  const scroll = p.locator('.message-scroll');
  const fromBottom = () => scroll.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
  // The reader starts at the bottom.
  expect(await fromBottom()).toBeLessThan(5);
  // Scroll to the top: older messages come in and the message in view stays in place.
  const anchor = log(p).getByText('Set 6: next one heavier', { exact: true });
  // Scroll to the top and measure in one go, before the scroll event loads anything.
  const before = await scroll.evaluate((el) => {
    el.scrollTop = 0;
    const a = [...el.querySelectorAll('.content')].find((c) => c.textContent === 'Set 6: next one heavier');
    return a!.getBoundingClientRect().y;
  });
  await expect(first).toBeVisible();
  await expect(p.getByText('Beginning of the conversation')).toBeVisible();
  // The anchor settles where it was (the list keeps its place once the older page is in).
  await expect.poll(async () => Math.abs((await anchor.boundingBox())!.y - before), { message: 'the view did not jump' }).toBeLessThan(4);
  // Scrolled up: a new message does not pull the view down, it shows a pill.
  const top = await scroll.evaluate((el) => el.scrollTop);
  await api.send(benToken, ids.benConv, 'Done with the whole workout!');
  const pill = p.getByRole('button', { name: /1 new message/ });
  await expect(pill).toBeVisible({ timeout: 2000 });
  const [topNow, below] = await scroll.evaluate((el) => [el.scrollTop, el.scrollHeight - el.scrollTop - el.clientHeight]);
  expect(Math.abs(topNow - top) < 4 && below > 200, `the view stayed up (${top} -> ${topNow})`).toBe(true);
  await pill.click();
  await expect.poll(fromBottom, { message: 'scrolled to the bottom' }).toBeLessThan(5);
  await expect(pill).toHaveCount(0);
  const shown = await log(p).locator('li[data-message-id]').evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.messageId)));
  expect(new Set(shown).size, 'no duplicate message').toBe(shown.length);
  expect(shown, 'ordered by id').toEqual([...shown].sort((a, b) => a - b));
  expect(shown).toHaveLength(37);
});

test('survives a server restart mid-chat: nothing lost, nothing doubled', async ({ api, server }) => {
  const sam = pages.trainer;
  const ana = pages.ana;
  await sam.goto(`/messages/${ids.anaConv}`);
  await expect(log(sam).getByText('Yes! See you at 6 💪')).toBeVisible();
  await expect(log(ana).getByText('Yes! See you at 6 💪')).toBeVisible();

  await server.kill();
  await expect(sam.getByText('Reconnecting…')).toBeVisible({ timeout: 15_000 });
  // Ana writes while the server is down: it waits in the outbox (no answer = offline), kept.
  await input(ana).fill('Did you get this? (sent while offline)');
  await expect(input(ana)).toHaveValue('Did you get this? (sent while offline)');
  await input(ana).press('Enter');
  await expect(ana.locator('li.msg.mine[data-receipt="waiting"]')).toBeVisible();

  await server.start(); // same data folder, same port
  // Sent before the pages are back on their sockets: they catch up over REST.
  await api.send(trainerToken, ids.anaConv, 'Back online? (1)');
  await api.send(trainerToken, ids.anaConv, 'Back online? (2)');

  for (const text of ['Back online? (1)', 'Back online? (2)']) {
    await expect(log(ana).getByText(text)).toBeVisible({ timeout: 20_000 });
  }
  await expect(log(sam).getByText('Did you get this? (sent while offline)')).toBeVisible({ timeout: 20_000 });
  await expect(
    ana.locator('li.msg.mine:is([data-receipt="waiting"], [data-receipt="failed"])'),
    'the waiting send to go out',
  ).toHaveCount(0);
  // Live again after the restart.
  await input(sam).fill('All good, connection restored.');
  await expect(input(sam)).toHaveValue('All good, connection restored.');
  await input(sam).press('Enter');
  await expect(log(ana).getByText('All good, connection restored.')).toBeVisible({ timeout: 2000 });
  // Each shown once, also once the last send's echo and answer are both in on Sam's side.
  await expect(sam.locator('li.msg.mine').filter({ hasText: 'All good, connection restored.' })).not.toHaveAttribute('data-receipt', 'sending');
  for (const [p, text] of [
    [ana, 'Back online? (1)'],
    [ana, 'Back online? (2)'],
    [sam, 'Back online? (1)'],
    [sam, 'Did you get this? (sent while offline)'],
    [ana, 'Did you get this? (sent while offline)'],
    [ana, 'All good, connection restored.'],
    [sam, 'All good, connection restored.'],
  ] as const) {
    await expect(shownIn(p, text), `"${text}" shown once`).toHaveCount(1);
  }
  const stored = (await api.messages(trainerToken, ids.anaConv)).results.filter((m: { content: string }) => m.content.includes('sent while offline'));
  expect(stored, 'stored once on the server').toHaveLength(1);
});

test('desktop screenshot of a real conversation', async () => {
  const sam = pages.trainer;
  await input(sam).fill('Great session today. Tomorrow: mobility + 20 min easy run.');
  await expect(input(sam)).toHaveValue('Great session today. Tomorrow: mobility + 20 min easy run.');
  await input(sam).press('Enter');
  await expect(log(pages.ana).getByText('Great session today.', { exact: false })).toBeVisible({ timeout: 2000 });
  await input(pages.ana).pressSequentially('Perfect, thanks', { delay: 20 });
  await expect(sam.getByText('Ana is typing…')).toBeVisible({ timeout: 2000 });
  await sam.screenshot({ path: join(SHOTS, 'messages-desktop.png'), animations: 'disabled' });
  await input(pages.ana).fill('');
});

test('phone layout (390x844): list, then chat with a back button', async ({ session }) => {
  const p = await session.open(USERS.ana, { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
  const list = convList(p);
  await expect(list.getByRole('link', { name: /Sam Rivera/ })).toBeVisible();
  const listBox = await list.boundingBox();
  expect(listBox && listBox.width >= 380, `list spans the screen (${listBox?.width})`).toBe(true);
  await expect(p.locator('.chat-pane'), 'no chat beside the list').toBeHidden();
  await expectAccessible(p, 'messages list on a phone');
  await list.getByRole('link', { name: /Sam Rivera/ }).click();
  await expect(log(p).getByText('All good, connection restored.')).toBeVisible();
  await expect(list, 'the list hides behind the chat').toBeHidden();
  const back = p.getByRole('link', { name: 'Back to conversations' });
  await expect(back).toBeVisible();
  const scroll = p.locator('.message-scroll');
  const noOverflow = await p.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  expect(noOverflow, 'no horizontal overflow').toBe(true);
  expect((await scroll.boundingBox())!.width).toBeLessThanOrEqual(390);
  await expectAccessible(p, 'chat on a phone');
  await p.screenshot({ path: join(SHOTS, 'messages-phone.png'), animations: 'disabled' });
  await back.click();
  await expect(list).toBeVisible();
  // Installable: a manifest with icons.
  const manifest = await p.evaluate(async () => {
    const href = document.querySelector('link[rel="manifest"]')?.getAttribute('href');
    return href ? (await fetch(href)).json() : null;
  });
  expect(manifest?.display).toBe('standalone');
  expect(manifest.icons.some((i: { sizes: string; type: string }) => i.sizes === '512x512' && i.type === 'image/png')).toBe(true);
});

// End-to-end: the coaching tools against a real `spotter serve --demo` (this file's own server
// and data folder) in Debian's Chromium: saved replies (the `/` picker and the manager), the
// "needs reply" inbox kept live from the socket, the trainer's figures, broadcasts with live
// progress, and scheduled messages (pending, edited, cancelled, sent).
// The cases run in order and build on each other. The server runs on the system clock: a
// message scheduled a few seconds ahead is waited for (its frame, the DOM), never slept for.
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Page } from '@playwright/test';
import { expect, expectAccessible, test } from './fixtures';
import { SHOTS, USERS } from './helpers';

test.use({ suite: 'coaching' });
test.describe.configure({ mode: 'serial' });

const M = '/api/messaging';
const tokens: Record<string, string> = {};
const ids: Record<string, number> = {};
const conv: Record<string, number> = {};
let sam: Page; // the trainer's page

const log = (page: Page) => page.getByRole('log');
const input = (page: Page) => page.getByLabel('message input');
const list = (page: Page) => page.getByRole('navigation', { name: 'Conversations' });
const picker = (page: Page) => page.getByTestId('saved-reply-picker');
const option = (page: Page, name: string | RegExp) => picker(page).getByRole('option', { name });
const tab = (page: Page, name: string | RegExp) => page.getByRole('group', { name: 'Which conversations' }).getByRole('link', { name });
const inboxRows = (page: Page) =>
  list(page).getByRole('list', { name: 'Waiting for your reply, longest first' }).locator('.conv-name');
const openChat = async (page: Page, name: string) => {
  await list(page).getByRole('link', { name: new RegExp(name) }).click();
  await expect(page.locator('.chat-header').getByRole('heading', { name })).toBeVisible();
};

test.beforeAll(async ({ api }) => {
  for (const who of ['trainer', 'ana', 'ben', 'cy'] as const) tokens[who] = await api.token(USERS[who]);
  for (const t of (await api.trainees(tokens.trainer)).results) ids[t.first_name.toLowerCase()] = t.id;
  for (const who of ['cy', 'ben', 'ana']) {
    conv[who] = (await api.start(tokens.trainer, ids[who], `Welcome aboard, ${who}!`)).conversation_id;
  }
});

test('saved replies: created in the manager from the picker, a duplicate title refused in the server’s words', async ({ api, session }) => {
  sam = await session.open(USERS.trainer, { path: `/messages/${conv.ana}` });
  await expect(log(sam).getByText('Welcome aboard, ana!')).toBeVisible();
  await input(sam).fill('/');
  await expect(picker(sam).getByText('No saved replies yet.')).toBeVisible();
  await option(sam, 'Create a saved reply…').click();
  const dialog = sam.getByRole('dialog', { name: 'Saved replies' });
  await expect(dialog).toBeVisible();
  await expectAccessible(sam, 'saved replies manager');
  const add = async (title: string, content: string) => {
    await dialog.getByLabel('Title').fill(title);
    await dialog.getByLabel('Reply', { exact: true }).fill(content);
    await dialog.getByRole('button', { name: 'Add saved reply' }).click();
  };
  await add('Check-in', 'Hi {first_name}, how did today’s session feel?');
  await expect(dialog.getByRole('list', { name: 'Your saved replies' }).getByText('Check-in')).toBeVisible();
  await add('Weekly plan', 'Here is your plan for the week: 3 strength sessions, 2 easy runs, 1 rest day.');
  await add('Form check', 'Send me a short video of your squat from the side, please.');
  await expect(dialog.getByRole('list', { name: 'Your saved replies' }).getByText('Weekly plan')).toBeVisible();
  // The server's refusal, in its words, under the field.
  await add('CHECK-IN', 'again');
  await expect(dialog.getByText('You already have a saved reply with this title.')).toBeVisible();
  await expectAccessible(sam, 'saved replies manager with a refusal');
  // Edit one in place.
  await dialog.getByRole('button', { name: 'Edit “Form check”' }).click();
  await dialog.getByLabel('Title').fill('Form check (squat)');
  await dialog.getByRole('button', { name: 'Save changes' }).click();
  await expect(dialog.getByRole('list', { name: 'Your saved replies' }).getByText('Form check (squat)')).toBeVisible();
  const stored = await api.call(`${M}/templates/`, { token: tokens.trainer });
  expect(stored.map((t: { title: string }) => t.title)).toEqual(['Check-in', 'Form check (squat)', 'Weekly plan']);
  // Escape closes it; the message box has the focus again.
  await sam.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  await expect(input(sam)).toBeFocused();
});

test('saved replies: "/" opens the picker, typing filters by title, arrows and Enter insert, Escape closes', async () => {
  await input(sam).fill('');
  await input(sam).pressSequentially('/');
  await expect(option(sam, /Check-in/)).toBeVisible();
  await expect(picker(sam).getByRole('option'), 'three replies and "Manage saved replies…"').toHaveCount(4);
  await expectAccessible(sam, 'saved replies picker');
  await input(sam).pressSequentially('PLAN');
  await expect(picker(sam).getByRole('option'), 'the filter').toHaveCount(2);
  await expect(option(sam, /Weekly plan/)).toBeVisible();
  // Escape closes it and keeps the text.
  await input(sam).press('Escape');
  await expect(picker(sam)).toHaveCount(0);
  await expect(input(sam)).toHaveValue('/PLAN');

  // In the middle of a sentence: after a space, the keyboard picks the second match.
  await input(sam).fill('Great work today. /');
  await expect(option(sam, /Check-in/)).toBeVisible();
  await input(sam).pressSequentially('c');
  await expect(picker(sam).getByRole('option'), 'two matches').toHaveCount(3);
  await sam.screenshot({ path: join(SHOTS, 'saved-replies-picker.png'), animations: 'disabled' });
  await input(sam).press('ArrowDown');
  await expect(option(sam, /Form check/)).toHaveAttribute('aria-selected', 'true');
  await input(sam).press('ArrowUp');
  await input(sam).press('Enter');
  await expect(picker(sam)).toHaveCount(0);
  // {first_name} became Ana's name; the `/c` went.
  await expect(input(sam)).toHaveValue('Great work today. Hi Ana, how did today’s session feel?');
  await input(sam).press('Enter');
  await expect(log(sam).getByText('Great work today. Hi Ana, how did today’s session feel?')).toBeVisible();

  // Tab inserts too, and a click.
  await input(sam).pressSequentially('/week');
  await expect(option(sam, /Weekly plan/)).toBeVisible();
  await input(sam).press('Tab');
  await expect(input(sam)).toHaveValue(/^Here is your plan for the week/);
  await input(sam).fill('/form');
  await option(sam, /Form check/).click();
  await expect(input(sam)).toHaveValue('Send me a short video of your squat from the side, please.');
  await input(sam).fill('');
});

test('needs reply: trainees waiting, longest first, live from the socket, with a count on the tab', async ({ api }) => {
  await api.send(tokens.ana, conv.ana, 'Session felt hard, my knee hurts a bit');
  await delay(30); // two distinct times: Ana waits longer than Ben
  await api.send(tokens.ben, conv.ben, 'Can we move Thursday to Friday?');
  await tab(sam, /Needs reply/).click();
  await sam.waitForURL((u) => u.search === '?view=needs-reply');
  await expect(inboxRows(sam), 'Ana, then Ben').toHaveText(['Ana Lima', 'Ben Okafor']);
  await expect(sam.getByTestId('needs-reply-count').getByText('2')).toBeVisible();
  await expect(list(sam).locator('.waiting').first()).toHaveText(/^waiting/);
  await expectAccessible(sam, 'needs reply inbox');
  // Cy writes: on the list at once, last (the newest wait).
  await api.send(tokens.cy, conv.cy, 'Quick question about protein');
  await expect(inboxRows(sam), 'Cy added live').toHaveText(['Ana Lima', 'Ben Okafor', 'Cy Young']);
  await expect(sam.getByTestId('needs-reply-count').getByText('3')).toBeVisible();
  // Ana again: she stays first (waiting since her first unanswered message).
  await api.send(tokens.ana, conv.ana, 'Should I skip tomorrow?');
  await expect(list(sam).getByText('Should I skip tomorrow?')).toBeVisible();
  await expect(inboxRows(sam).first()).toHaveText('Ana Lima');
  await sam.screenshot({ path: join(SHOTS, 'needs-reply.png'), animations: 'disabled' });
  // The trainer answers Ana: off the list at once.
  await openChat(sam, 'Ana Lima');
  await input(sam).fill('Rest tomorrow, ice the knee, and we will adapt the plan.');
  await expect(input(sam)).toHaveValue('Rest tomorrow, ice the knee, and we will adapt the plan.');
  await input(sam).press('Enter');
  await expect(inboxRows(sam), 'Ana off the list').toHaveText(['Ben Okafor', 'Cy Young']);
  await expect(sam.getByTestId('needs-reply-count').getByText('2')).toBeVisible();
  // Answered elsewhere (the API, as from the phone app): off the list too.
  await api.send(tokens.trainer, conv.ben, 'Friday works.');
  await expect(inboxRows(sam), 'Ben off the list').toHaveText(['Cy Young']);
  // The server agrees.
  const waiting = await api.call(`${M}/conversations/?needs_reply=true`, { token: tokens.trainer });
  expect(waiting.results.map((c: { id: number }) => c.id)).toEqual([conv.cy]);
});

test('figures on the trainees page: 7 and 30 days, human durations', async () => {
  await sam.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Trainees' }).click();
  const card = sam.getByRole('region', { name: 'Your messaging' });
  const value = (id: string) => card.getByTestId(id).locator('.figure-value');
  await expect(value('stat-conversations'), 'conversations: 3').toHaveText('3');
  await expect(value('stat-received')).toHaveText('4');
  await expect(value('stat-waiting')).toHaveText('1');
  await expect(value('stat-median')).toHaveText(/^\d+ s$|^\d+ min$/);
  await expect(value('stat-p90')).toHaveText(/^\d+ s$|^\d+ min$/);
  await expect(card.getByRole('button', { name: '7 days' })).toHaveAttribute('aria-pressed', 'true');
  await expectAccessible(sam, 'trainees with the figures');
  await card.getByRole('button', { name: '30 days' }).click();
  await expect(card.getByRole('button', { name: '30 days' })).toHaveAttribute('aria-pressed', 'true');
  await expect(value('stat-received'), '30-day figures').toHaveText('4');
  await card.screenshot({ path: join(SHOTS, 'messaging-figures.png'), animations: 'disabled' });
  // "Waiting now" opens the inbox.
  await card.getByTestId('stat-waiting').getByRole('link').click();
  await sam.waitForURL((u) => u.pathname === '/messages' && u.search === '?view=needs-reply');
  await expect(inboxRows(sam), 'the inbox').toHaveText(['Cy Young']);
});

test('broadcast to all trainees: preview with a real name, progress live to done, the message in each conversation', async ({ api, session }) => {
  await sam.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Broadcasts' }).click();
  await expect(sam.getByText('No broadcasts yet.')).toBeVisible();
  await expectAccessible(sam, 'broadcasts, none yet');
  await sam.getByRole('link', { name: 'New broadcast' }).click();
  const form = sam.getByRole('form', { name: 'New broadcast' });
  await expect(form.getByText('Cy Young')).toBeVisible();
  await form.getByRole('checkbox', { name: 'All trainees' }).check();
  await expect(form.getByText('3 of 3 selected')).toBeVisible();
  const box = form.getByLabel('Message', { exact: true });
  await box.fill('Hi ');
  await form.getByRole('button', { name: 'Insert {first_name}' }).click();
  await box.press('End');
  await box.pressSequentially(', the gym is closed on Monday: a home workout is in your plan.');
  const preview = sam.getByTestId('broadcast-preview');
  await expect(preview.getByText('Hi Ana, the gym is closed on Monday: a home workout is in your plan.')).toBeVisible();
  await form.getByRole('combobox').selectOption({ label: 'Cy Young' });
  await expect(preview.getByText('Hi Cy, the gym is closed on Monday', { exact: false })).toBeVisible();
  await expectAccessible(sam, 'broadcast composer');
  await sam.screenshot({ path: join(SHOTS, 'broadcast-composer.png'), animations: 'disabled' });

  await form.getByRole('button', { name: 'Send to 3 trainees' }).click();
  await sam.waitForURL((u) => /^\/broadcasts\/\d+$/.test(u.pathname));
  ids.broadcast = Number(new URL(sam.url()).pathname.split('/').pop());
  await expect(sam.getByTestId('broadcast-counts'), 'the progress to reach 3 of 3').toHaveText('3 of 3 sent', { timeout: 15_000 });
  await expect(sam.locator('.bc-detail-head').getByText('Sent', { exact: true })).toBeVisible();
  const bar = sam.getByRole('progressbar', { name: 'Broadcast progress' });
  await expect(bar).toHaveAttribute('aria-valuenow', '3');
  await expectAccessible(sam, 'broadcast progress');
  await sam.screenshot({ path: join(SHOTS, 'broadcast-progress.png'), animations: 'disabled' });
  const stored = await api.call(`${M}/broadcasts/${ids.broadcast}/`, { token: tokens.trainer });
  expect(stored.state).toBe('done');
  expect(stored.sent).toBe(3);
  expect(stored.failures ?? []).toEqual([]);

  // Each trainee has it, with their own name, in their conversation.
  const ben = await session.open(USERS.ben, { path: `/messages/${conv.ben}` });
  await expect(log(ben).getByText('Hi Ben, the gym is closed on Monday: a home workout is in your plan.')).toBeVisible();
  const anaMsgs = (await api.messages(tokens.ana, conv.ana)).results.map((m: { content: string }) => m.content);
  expect(anaMsgs).toContain('Hi Ana, the gym is closed on Monday: a home workout is in your plan.');
  // The trainer answered everyone: nobody waits any more.
  const waiting = await api.call(`${M}/conversations/?needs_reply=true`, { token: tokens.trainer });
  expect(waiting.results).toHaveLength(0);
});

test('a scheduled broadcast is listed with its time and can be cancelled', async ({ api }) => {
  await sam.getByRole('link', { name: 'Broadcasts' }).first().click();
  await sam.getByRole('link', { name: 'New broadcast' }).click();
  const form = sam.getByRole('form', { name: 'New broadcast' });
  await form.getByRole('checkbox', { name: /Ana Lima/ }).check();
  await form.getByRole('checkbox', { name: /Ben Okafor/ }).check();
  await form.getByLabel('Message', { exact: true }).fill('Reminder: weigh-in tomorrow morning, {first_name}.');
  await form.getByRole('radio', { name: 'Schedule' }).check();
  await expectAccessible(sam, 'broadcast composer, scheduling');
  await form.getByRole('button', { name: 'Schedule for 2 trainees' }).click();
  await sam.waitForURL((u) => /^\/broadcasts\/\d+$/.test(u.pathname));
  const id = Number(new URL(sam.url()).pathname.split('/').pop());
  await expect(sam.locator('.bc-detail-head').getByText('Scheduled', { exact: true })).toBeVisible();
  await sam.getByRole('main').getByRole('link', { name: 'Broadcasts' }).click();
  const bcList = sam.getByRole('list', { name: 'Your broadcasts' });
  const row = bcList.locator(`li[data-broadcast-id="${id}"]`);
  await expect(row.getByText('Scheduled')).toBeVisible();
  await expect(row.getByText(/^for Tomorrow/)).toBeVisible();
  // Newest first: above the one sent.
  expect(await bcList.locator('li').evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.broadcastId)))).toEqual([id, ids.broadcast]);
  await expectAccessible(sam, 'broadcasts list');
  await row.getByRole('button', { name: 'Cancel' }).click();
  await row.getByRole('button', { name: 'Cancel broadcast' }).click();
  await expect(row.getByText('Cancelled')).toBeVisible();
  expect((await api.call(`${M}/broadcasts/${id}/`, { token: tokens.trainer })).state).toBe('cancelled');
});

test('scheduled messages: scheduled beside Send, pending in the chat, edited, another cancelled, then sent', async ({ api, session }) => {
  const ana = await session.open(USERS.ana, { path: `/messages/${conv.ana}` });
  await sam.goto(`/messages/${conv.ana}`);
  await expect(log(sam).getByText('Rest tomorrow, ice the knee', { exact: false })).toBeVisible();
  const pending = sam.getByRole('region', { name: 'Scheduled messages' });
  const item = (text: string) => pending.locator('li.scheduled-item').filter({ hasText: text });

  // From a quick pick.
  await input(sam).fill('How is the knee this morning?');
  await sam.getByRole('button', { name: 'Schedule message' }).click();
  const pop = sam.getByRole('dialog', { name: 'Schedule message' });
  await expect(pop).toBeVisible();
  await expectAccessible(sam, 'schedule message popover');
  await pop.getByRole('button', { name: /^Tomorrow 6:00/ }).click();
  await expect(item('How is the knee this morning?').getByText(/^Scheduled for Tomorrow 06:00$/)).toBeVisible();
  await expect(input(sam)).toHaveValue('');
  // From a date and time (in two hours).
  await input(sam).fill('Reminder: 10 minutes of mobility before bed');
  await sam.getByRole('button', { name: 'Schedule message' }).click();
  const inTwoHours = await sam.evaluate(() => {
    const d = new Date(Date.now() + 2 * 3_600_000);
    const p = (n: number) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
  });
  await pop.getByLabel('Date and time').fill(inTwoHours);
  await pop.getByRole('button', { name: 'Schedule', exact: true }).click();
  await expect(item('Reminder: 10 minutes of mobility before bed')).toBeVisible();
  // Soonest first; the server lists the same.
  await expect(pending.locator('.content')).toHaveText(['Reminder: 10 minutes of mobility before bed', 'How is the knee this morning?']);
  const stored = await api.call(`${M}/conversations/${conv.ana}/scheduled/`, { token: tokens.trainer });
  expect(stored.map((s: { content: string }) => s.content)).toEqual(['Reminder: 10 minutes of mobility before bed', 'How is the knee this morning?']);
  // Ana sees none of it.
  await expect(ana.getByRole('region', { name: 'Scheduled messages' })).toHaveCount(0);
  await expectAccessible(sam, 'chat with scheduled messages');
  await sam.screenshot({ path: join(SHOTS, 'scheduled-messages.png'), animations: 'disabled' });

  // Cancel one.
  await item('Reminder: 10 minutes of mobility before bed').getByRole('button', { name: 'Cancel' }).click();
  await item('Reminder: 10 minutes of mobility before bed').getByRole('button', { name: 'Cancel message' }).click();
  await expect(item('Reminder: 10 minutes of mobility before bed')).toHaveCount(0);

  // Edit the other: new text, and a time 3 seconds ahead (by the browser's clock).
  await item('How is the knee').getByRole('button', { name: 'Edit' }).click();
  const editor = pending.getByRole('group', { name: 'Edit scheduled message' });
  await editor.getByLabel('Scheduled message text').fill('How is the knee today? Ice helped?');
  const soon = await sam.evaluate(() => {
    const d = new Date(Date.now() + 3_000);
    const p = (n: number) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  });
  await editor.getByLabel('Send at').fill(soon);
  await editor.getByRole('button', { name: 'Save' }).click();
  await expect(item('How is the knee today? Ice helped?').getByText(/^Scheduled for Today/)).toBeVisible();

  // It goes out: gone from pending (scheduled_message frame), a message on both sides (new_message).
  await expect(log(sam).getByText('How is the knee today? Ice helped?', { exact: true })).toBeVisible({ timeout: 20_000 });
  await expect(pending).toHaveCount(0);
  await expect(log(ana).getByText('How is the knee today? Ice helped?', { exact: true })).toBeVisible();
  const left = await api.call(`${M}/conversations/${conv.ana}/scheduled/`, { token: tokens.trainer });
  expect(left).toEqual([]);
  const sent = (await api.messages(tokens.ana, conv.ana)).results.filter((m: { content: string }) => m.content === 'How is the knee today? Ice helped?');
  expect(sent, 'sent once').toHaveLength(1);
  expect((await api.messages(tokens.ana, conv.ana)).results.some((m: { content: string }) => m.content === 'Reminder: 10 minutes of mobility before bed')).toBe(false);
});

test('trainees schedule too: pending in their conversation', async ({ session }) => {
  const cy = await session.open(USERS.cy, { path: `/messages/${conv.cy}` });
  await expect(log(cy).getByText('Welcome aboard, cy!')).toBeVisible();
  await input(cy).fill('Note to self: ask about creatine');
  await cy.getByRole('button', { name: 'Schedule message' }).click();
  await cy.getByRole('dialog', { name: 'Schedule message' }).getByRole('button', { name: /^In 1 hour/ }).click();
  await expect(cy.getByRole('region', { name: 'Scheduled messages' }).getByText('Note to self: ask about creatine')).toBeVisible();
  // The saved replies picker is the trainer's only (it would open on the same render as the `/`).
  await input(cy).fill('/');
  await expect(input(cy)).toHaveValue('/');
  await expect(picker(cy)).toHaveCount(0);
});

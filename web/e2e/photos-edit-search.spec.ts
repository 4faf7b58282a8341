// End-to-end: photos, edit and delete, search, and the "Message notifications" switch, against a
// real `spotter serve --demo` (this file's own server and data folder) in Debian's Chromium.
// The cases run in order and build on each other.
//
// Send, start, edit, delete and search share one budget of 30 a minute per user (a burst of 30,
// then one every 2 s): the scene is set with both users' tokens and stays well under it.
import { join } from 'node:path';
import type { Locator, Page, Request } from '@playwright/test';
import { expect, expectAccessible, test } from './fixtures';
import { type Api, makePng, SHOTS, USERS } from './helpers';

test.use({ suite: 'photos-edit-search' });
test.describe.configure({ mode: 'serial' });

const M = '/api/messaging';
const log = (page: Page) => page.getByRole('log');
const input = (page: Page) => page.getByLabel('message input');
const list = (page: Page) => page.getByRole('navigation', { name: 'Conversations' });
/** The bubble (li) of a message by its id. */
const bubble = (page: Page, id: number) => log(page).locator(`li[data-message-id="${id}"]`);
/** Whether an <img> finished loading with real pixels. */
const loaded = (img: Locator) => img.evaluate((el) => (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth > 0);

let samToken: string;
let anaToken: string;
const ids: Record<string, number> = {};
let sam: Page; // the trainer's page
let sam2: Page; // the trainer in a second window
let ana: Page; // the trainee's page

/** The id of the newest message on the server whose content is `text`. */
async function idOf(api: Api, text: string): Promise<number> {
  const page = await api.call(`${M}/conversations/${ids.conv}/messages/?limit=100`, { token: samToken });
  const m = page.results.find((x: { content: string }) => x.content === text);
  expect(m, `"${text}" stored`).toBeTruthy();
  return m.id;
}

test.beforeAll(async ({ api }) => {
  samToken = await api.token(USERS.trainer);
  anaToken = await api.token(USERS.ana);
  for (const t of (await api.trainees(samToken)).results) ids[t.first_name.toLowerCase()] = t.id;
  const started = await api.start(samToken, ids.ana, 'Welcome to Spotter, Ana!');
  ids.conv = started.conversation_id;
});

test('sends a photo from the dashboard (preview, caption, progress) and the other side sees it', async ({ session }) => {
  sam = await session.open(USERS.trainer, { path: `/messages/${ids.conv}` });
  ana = await session.open(USERS.ana, { path: `/messages/${ids.conv}` });
  await expect(log(sam).getByText('Welcome to Spotter, Ana!')).toBeVisible();
  await expect(log(ana).getByText('Welcome to Spotter, Ana!')).toBeVisible();

  // A 64 x 48 PNG made here; picked through the (hidden) file input behind "Attach a photo".
  const png = makePng(64, 48);
  await sam.getByTestId('photo-file').setInputFiles({ name: 'form-check.png', mimeType: 'image/png', buffer: png });
  const preview = sam.getByRole('group', { name: 'Photo to send' });
  await expect(preview.getByText('form-check.png')).toBeVisible();
  await expectAccessible(sam, 'chat with a photo to send');
  await input(sam).fill('Check my squat form');
  await expect(input(sam)).toHaveValue('Check my squat form');
  const sent = sam.waitForResponse(
    (r) => new URL(r.url()).pathname === `${M}/conversations/${ids.conv}/send/` && r.request().method() === 'POST',
  );
  await input(sam).press('Enter');
  const res = await sent;
  expect(res.status()).toBe(201);
  expect((await res.request().allHeaders())['content-type'] ?? '').toMatch(/^multipart\/form-data; boundary=/);
  const stored = await res.json();
  expect(stored.content).toBe('Check my squat form');
  expect(stored.image_width).toBe(64);
  expect(stored.image_height).toBe(48);
  expect(stored.image).toMatch(/^https?:\/\//);
  expect(stored.thumbnail).toMatch(/^https?:\/\//);
  expect(stored.is_deleted).toBe(false);
  expect(stored.edited_at).toBeNull();
  ids.photo = stored.id;
  await expect(preview).toHaveCount(0);

  // Sam's bubble: the server's thumbnail, sized by image_width/height, loaded, no progress left.
  const mine = bubble(sam, ids.photo);
  const mineImg = mine.locator('.msg-photo img');
  await expect(mineImg, 'the thumbnail on the sent bubble').toHaveAttribute('src', stored.thumbnail);
  await expect.poll(() => loaded(mineImg), { message: "Sam's thumbnail to load" }).toBe(true);
  await expect(mine.getByRole('progressbar')).toHaveCount(0);

  // Ana sees it live, with its caption, in a box of the final size (no jump when it loads).
  const theirs = bubble(ana, ids.photo);
  const openPhoto = theirs.getByRole('button', { name: 'Open photo from Sam Rivera' });
  await expect(openPhoto).toBeVisible();
  await expect(theirs.getByText('Check my squat form')).toBeVisible();
  const img = openPhoto.locator('img');
  await expect(img).toHaveAttribute('width', '64');
  await expect(img).toHaveAttribute('height', '48');
  const boxBefore = (await openPhoto.boundingBox())!;
  await expect.poll(() => loaded(img), { message: "Ana's thumbnail to load (plain <img>, no auth header)" }).toBe(true);
  const boxAfter = (await openPhoto.boundingBox())!;
  expect(Math.abs(boxAfter.height - boxBefore.height), 'no layout jump when the thumbnail loads').toBeLessThan(1);

  // The viewer: the full image in a modal dialog; Escape closes it and focus goes back.
  await openPhoto.click();
  const dialog = ana.getByRole('dialog', { name: 'Photo from Sam Rivera' });
  await expect(dialog).toBeVisible();
  const full = dialog.locator('img.viewer-image');
  await expect(full).toHaveAttribute('src', stored.image);
  await expect.poll(() => loaded(full), { message: 'the full image to load' }).toBe(true);
  await expectAccessible(ana, 'photo viewer');
  await ana.screenshot({ path: join(SHOTS, 'messages-photo-viewer.png'), animations: 'disabled' });
  await ana.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  await expect(openPhoto, 'focus back on the photo').toBeFocused();

  // A photo alone: no empty text line; the list preview reads "Sent a photo".
  await sam.getByTestId('photo-file').setInputFiles({ name: 'second.png', mimeType: 'image/png', buffer: makePng(20, 30, [200, 40, 40]) });
  await sam.getByRole('button', { name: 'Send message' }).click();
  await expect(list(ana).getByText('Sent a photo')).toBeVisible();
  const only = log(ana).locator('li.msg').last();
  await expect(only.locator('.msg-photo img')).toBeVisible();
  await expect(only.locator('.content'), 'image-only: no text paragraph').toHaveCount(0);
  // Sam's composer is free for the next message (the photo left it, the attach button works).
  await expect(sam.getByRole('group', { name: 'Photo to send' })).toHaveCount(0);
  await expect(sam.getByRole('button', { name: 'Attach a photo' })).toBeEnabled();
});

test("refuses a file that is not a photo before uploading, in the server's words", async () => {
  await sam.getByTestId('photo-file').setInputFiles({ name: 'notes.gif', mimeType: 'image/gif', buffer: Buffer.from('GIF89a') });
  await expect(sam.getByRole('alert').filter({ hasText: 'Only JPEG, PNG, and WebP images are supported.' })).toBeVisible();
  await expect(sam.getByRole('group', { name: 'Photo to send' })).toHaveCount(0);
  await expectAccessible(sam, 'chat with a refused file');
  await sam.getByRole('button', { name: 'Dismiss' }).click();
  await expect(sam.getByRole('alert').filter({ hasText: 'Only JPEG' })).toHaveCount(0);
});

test('edits a message in place; "edited" shows live in the other windows', async ({ api, session }) => {
  sam2 = await session.open(USERS.trainer, { path: `/messages/${ids.conv}` }); // Sam's second window
  await expect(log(sam2).getByText('Welcome to Spotter, Ana!')).toBeVisible();
  await input(sam).fill('See you at 7');
  await expect(input(sam)).toHaveValue('See you at 7');
  await expect(sam.getByRole('button', { name: 'Send message' })).toBeEnabled();
  await input(sam).press('Enter');
  // Sam's own window shows it first (the send went out), then Ana's.
  await expect(log(sam).getByText('See you at 7', { exact: true })).toBeVisible();
  await expect(input(sam), 'the composer empties once sent').toHaveValue('');
  await expect(log(ana).getByText('See you at 7', { exact: true })).toBeVisible();
  await expect(log(sam2).getByText('See you at 7', { exact: true })).toBeVisible();
  ids.edit = await idOf(api, 'See you at 7');

  const mine = bubble(sam, ids.edit);
  await mine.hover();
  await mine.getByRole('button', { name: 'Message actions' }).click();
  await mine.getByRole('menuitem', { name: 'Edit' }).click();
  const box = mine.getByRole('textbox', { name: 'Edit message' });
  await expect(box).toHaveValue('See you at 7');
  await expectAccessible(sam, 'chat with the inline editor');
  await box.fill('See you at 8 instead');
  const patched = sam.waitForResponse(
    (r) => r.request().method() === 'PATCH' && new URL(r.url()).pathname === `${M}/conversations/${ids.conv}/messages/${ids.edit}/`,
  );
  await box.press('Enter');
  await expect(mine.getByText('See you at 8 instead')).toBeVisible(); // at once (optimistic)
  const res = await patched;
  expect(res.status()).toBe(200);
  const saved = await res.json();
  expect(saved.content).toBe('See you at 8 instead');
  expect(saved.edited_at, 'edited_at set').toBeTruthy();

  // Live in Ana's window and in Sam's other window.
  for (const page of [ana, sam2]) {
    const b = bubble(page, ids.edit);
    await expect(b.getByText('See you at 8 instead')).toBeVisible();
    const edited = b.getByText('edited', { exact: true });
    await expect(edited).toHaveAttribute('title', /^Edited /);
  }
  // The latest message: Ana's list preview follows.
  await expect(list(ana).getByText('See you at 8 instead')).toBeVisible();

  // Escape cancels an edit: nothing is sent.
  const patches: Request[] = [];
  const count = (r: Request) => {
    if (r.method() === 'PATCH') patches.push(r);
  };
  sam.on('request', count);
  await mine.hover();
  await mine.getByRole('button', { name: 'Message actions' }).click();
  await mine.getByRole('menuitem', { name: 'Edit' }).click();
  await mine.getByRole('textbox', { name: 'Edit message' }).fill('never mind');
  await mine.getByRole('textbox', { name: 'Edit message' }).press('Escape');
  await expect(mine.getByRole('textbox', { name: 'Edit message' })).toHaveCount(0);
  // A request made by the cancel would go out before the next one: a read of the server shows none.
  await expect.poll(async () => (await api.message(samToken, ids.conv, ids.edit)).content).toBe('See you at 8 instead');
  sam.off('request', count);
  expect(patches).toHaveLength(0);
  await expect(mine.getByText('See you at 8 instead')).toHaveCount(1);
});

test('deletes a message; the tombstone shows live in the other windows', async ({ api }) => {
  const mine = bubble(sam, ids.edit);
  await mine.hover();
  await mine.getByRole('button', { name: 'Message actions' }).click();
  await mine.getByRole('menuitem', { name: 'Delete' }).click();
  await expectAccessible(sam, 'delete confirmation');
  const deleted = sam.waitForResponse(
    (r) => r.request().method() === 'DELETE' && new URL(r.url()).pathname === `${M}/conversations/${ids.conv}/messages/${ids.edit}/`,
  );
  await mine.getByRole('button', { name: 'Delete for everyone' }).click();
  await expect(mine.getByText('This message was deleted')).toBeVisible();
  expect((await deleted).status()).toBe(204);

  for (const page of [ana, sam2]) {
    const b = bubble(page, ids.edit);
    await expect(b.getByText('This message was deleted')).toBeVisible();
    await expect(b.getByText('See you at 8 instead')).toHaveCount(0);
    await expect(b.getByRole('button', { name: 'Message actions' })).toHaveCount(0);
  }
  await expect(list(ana).getByText('This message was deleted')).toBeVisible();
  // The tombstone is muted italics, in place (same id, same position).
  await expect(bubble(ana, ids.edit).locator('.deleted-text')).toHaveCSS('font-style', 'italic');
  const m = await api.message(samToken, ids.conv, ids.edit);
  expect(m.is_deleted).toBe(true);
  expect(m.content).toBe('');
  expect(m.image).toBeNull();
  // Reloaded, it is still a tombstone.
  await ana.reload();
  await expect(bubble(ana, ids.edit).getByText('This message was deleted')).toBeVisible();
});

test('searches for a word and opens the result in place, marked; older and newer load from there', async ({ api }) => {
  // The word, then 36 more messages: it is not in the newest page the chat loads.
  await api.send(anaToken, ids.conv, 'Remember the kettlebell swings on Friday');
  ids.target = await idOf(api, 'Remember the kettlebell swings on Friday');
  for (let i = 1; i <= 36; i++) await api.send(i % 2 ? anaToken : samToken, ids.conv, `Filler ${i}`);
  const p = sam;
  await p.goto('/messages');
  await p.getByRole('searchbox', { name: 'Search messages' }).fill('KETTLEBELL');
  const results = p.getByRole('region', { name: 'Search results' });
  const hit = results.getByRole('link', { name: /kettlebell swings/ });
  await expect(hit).toBeVisible({ timeout: 5000 });
  await expect(results.getByText('1 message found')).toBeVisible();
  await expect(hit.getByText('Ana Lima')).toBeVisible();
  await expect(hit.locator('mark')).toHaveText(['kettlebell']);
  await expect(hit).toHaveAttribute('href', `/messages/${ids.conv}?message=${ids.target}`);
  await expectAccessible(p, 'search results');
  // The server agrees.
  const page1 = await api.search(samToken, 'kettlebell');
  expect(page1.count).toBe(1);
  expect(page1.results[0].highlights).toEqual([{ start: 13, end: 23 }]);

  const around = p.waitForRequest((r) => {
    const u = new URL(r.url());
    return u.pathname === `${M}/conversations/${ids.conv}/messages/` && u.searchParams.get('around') === String(ids.target);
  });
  await hit.click();
  await around;
  await p.waitForURL((u) => u.pathname === `/messages/${ids.conv}` && u.searchParams.get('message') === String(ids.target));
  const target = bubble(p, ids.target);
  await expect(target).toHaveClass(/\bflash\b/);
  // In view, near the middle of the scrolled log.
  const scroll = p.locator('.message-scroll');
  const [sb, tb] = [(await scroll.boundingBox())!, (await target.boundingBox())!];
  expect(tb.y >= sb.y && tb.y + tb.height <= sb.y + sb.height, 'the message is in view').toBe(true);
  await expect(log(p).getByText('Filler 36', { exact: true }), 'the newest is not loaded yet').toHaveCount(0);
  await expect(p.getByRole('button', { name: 'Jump to latest' })).toBeVisible();
  await expect(target, 'the mark to fade').not.toHaveClass(/\bflash\b/, { timeout: 5000 });

  // Scrolling down loads newer messages until the newest.
  await expect(async () => {
    await scroll.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
    await expect(log(p).getByText('Filler 36', { exact: true })).toHaveCount(1, { timeout: 300 });
  }, 'newer messages to load down to the newest').toPass({ timeout: 10_000 });
  await expect(p.getByRole('button', { name: 'Jump to latest' })).toHaveCount(0);
  // Scrolling up loads older ones until the first.
  await expect(async () => {
    await scroll.evaluate((el) => el.scrollTo({ top: 0 }));
    await expect(log(p).getByText('Welcome to Spotter, Ana!')).toHaveCount(1, { timeout: 300 });
  }, 'older messages to load up to the first').toPass({ timeout: 10_000 });
  const shown = await log(p).locator('li[data-message-id]').evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.messageId)));
  expect(new Set(shown).size, 'no duplicate message').toBe(shown.length);
  expect(shown, 'ordered by id').toEqual([...shown].sort((a, b) => a - b));
  const all = await api.call(`${M}/conversations/${ids.conv}/messages/?limit=100`, { token: samToken });
  expect(shown.length, 'every message, once').toBe(all.results.length);

  // Live again at the end: a new message from Ana shows at once.
  await api.send(anaToken, ids.conv, 'Back at the live end');
  await expect(log(p).getByText('Back at the live end')).toBeVisible();
});

test('toggles "Message notifications" (new_message) and it is still off after a reload', async ({ api }) => {
  const p = sam;
  const settings = p.getByRole('button', { name: /Sam Rivera, settings/ });
  const theSwitch = p.getByRole('switch', { name: 'Message notifications' });
  await settings.click();
  await expect(theSwitch, 'preferences to load').not.toHaveAttribute('aria-disabled');
  await expectAccessible(p, 'settings panel');
  const initial = (await api.notificationPreferences(samToken)).new_message;
  await expect(theSwitch).toHaveAttribute('aria-checked', String(initial));
  if (!initial) {
    await theSwitch.click();
    await expect(theSwitch).toHaveAttribute('aria-checked', 'true');
    await expect.poll(async () => (await api.notificationPreferences(samToken)).new_message, { message: 'on to be saved' }).toBe(true);
  }
  const patched = p.waitForResponse(
    (r) => r.request().method() === 'PATCH' && new URL(r.url()).pathname === '/api/users/notification-preferences/',
  );
  await theSwitch.click();
  await expect(theSwitch).toHaveAttribute('aria-checked', 'false', { timeout: 1000 }); // at once
  const res = await patched;
  expect(res.status()).toBe(200);
  expect(JSON.parse(res.request().postData() ?? '')).toEqual({ new_message: false });
  expect((await res.json()).new_message).toBe(false);

  await p.reload();
  await p.getByRole('button', { name: /Sam Rivera, settings/ }).click();
  await expect(theSwitch, 'preferences to load again').not.toHaveAttribute('aria-disabled');
  await expect(theSwitch, 'still off after a reload').toHaveAttribute('aria-checked', 'false');
  const prefs = await api.notificationPreferences(samToken);
  expect(prefs.new_message).toBe(false);
  expect(Object.keys(prefs)).toHaveLength(11);
  await p.screenshot({ path: join(SHOTS, 'settings-message-notifications.png'), animations: 'disabled' });
  // Escape closes the panel and returns focus to its button.
  await p.keyboard.press('Escape');
  await expect(p.getByRole('dialog', { name: 'Settings' })).toHaveCount(0);
  await expect(settings).toBeFocused();
  // Leave it as the demo had it.
  await api.setNotificationPreferences(samToken, { new_message: initial });
});

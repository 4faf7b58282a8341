// End-to-end: photos, edit and delete, search, and the "Message notifications" switch, against a
// real `spotter serve --demo` (its own server and data folder) in Debian's headless Chromium.
// Loaded by messages.e2e.test.mjs (the file scripts/web-test.sh runs); can also run alone:
//   node --test --test-reporter=spec e2e/photos-edit-search.e2e.test.mjs
// The cases run in order and build on each other.
//
// Send, start, edit, delete and search share one budget of 30 a minute per user (a burst of 30,
// then one every 2 s): the scene is set with both users' tokens and stays well under it.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Api, launchBrowser, loggedInPage, makePng, repoRoot, sleep, SpotterServer, USERS, waitUntil } from './harness.mjs';

const SHOTS = join(repoRoot, 'docs/screenshots');
const T = { timeout: 90_000 };
const M = '/api/messaging';

describe('Photos, edit and delete, search, message notifications', { timeout: 600_000 }, () => {
  /** @type {SpotterServer} */ let server;
  /** @type {Api} */ let api;
  let browser;
  let samToken;
  let anaToken;
  const ids = {};
  const contexts = [];
  let sam; // the trainer's page
  let sam2; // the trainer in a second window
  let ana; // the trainee's page

  const open = async (email, opts) => {
    const r = await loggedInPage(browser, server.url, email, opts);
    contexts.push(r.context);
    return r.page;
  };
  const log = (page) => page.getByRole('log');
  const input = (page) => page.getByLabel('message input');
  const list = (page) => page.getByRole('navigation', { name: 'Conversations' });
  /** The bubble (li) of a message by its id. */
  const bubble = (page, id) => log(page).locator(`li[data-message-id="${id}"]`);
  /** The id of the newest message on the server whose content is `text`. */
  const idOf = async (text) => {
    const page = await api.call(`${M}/conversations/${ids.conv}/messages/?limit=100`, { token: samToken });
    const m = page.results.find((x) => x.content === text);
    assert.ok(m, `"${text}" stored`);
    return m.id;
  };
  /** Whether every <img> in `locator` finished loading with real pixels. */
  const loaded = (locator) => locator.evaluate((img) => img.complete && img.naturalWidth > 0);

  before(async () => {
    server = new SpotterServer();
    await server.start();
    api = new Api(server.url);
    samToken = await api.token(USERS.trainer);
    anaToken = await api.token(USERS.ana);
    for (const t of (await api.trainees(samToken)).results) ids[t.first_name.toLowerCase()] = t.id;
    const started = await api.start(samToken, ids.ana, 'Welcome to Spotter, Ana!');
    ids.conv = started.conversation_id;
    browser = await launchBrowser();
    mkdirSync(SHOTS, { recursive: true });
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close().catch(() => {});
    await server?.stop();
    server?.cleanup();
    if (server) console.log(`# photos/edit/search server logs: ${server.logDir}`);
  });

  it('sends a photo from the dashboard (preview, caption, progress) and the other side sees it', T, async () => {
    sam = await open(USERS.trainer, { path: `/messages/${ids.conv}` });
    ana = await open(USERS.ana, { path: `/messages/${ids.conv}` });
    await log(sam).getByText('Welcome to Spotter, Ana!').waitFor();
    await log(ana).getByText('Welcome to Spotter, Ana!').waitFor();

    // A 64 x 48 PNG made here; picked through the (hidden) file input behind "Attach a photo".
    const png = makePng(64, 48);
    await sam.getByTestId('photo-file').setInputFiles({ name: 'form-check.png', mimeType: 'image/png', buffer: png });
    const preview = sam.getByRole('group', { name: 'Photo to send' });
    await preview.getByText('form-check.png').waitFor();
    await input(sam).fill('Check my squat form');
    const sent = sam.waitForResponse(
      (r) => new URL(r.url()).pathname === `${M}/conversations/${ids.conv}/send/` && r.request().method() === 'POST',
    );
    await input(sam).press('Enter');
    const res = await sent;
    assert.equal(res.status(), 201);
    assert.match((await res.request().allHeaders())['content-type'] ?? '', /^multipart\/form-data; boundary=/);
    const stored = await res.json();
    assert.equal(stored.content, 'Check my squat form');
    assert.equal(stored.image_width, 64);
    assert.equal(stored.image_height, 48);
    assert.match(stored.image, /^https?:\/\//);
    assert.match(stored.thumbnail, /^https?:\/\//);
    assert.equal(stored.is_deleted, false);
    assert.equal(stored.edited_at, null);
    ids.photo = stored.id;
    await preview.waitFor({ state: 'detached' });

    // Sam's bubble: the server's thumbnail, sized by image_width/height, loaded, no progress left.
    const mine = bubble(sam, ids.photo);
    const mineImg = mine.locator('.msg-photo img');
    await waitUntil(async () => (await mineImg.getAttribute('src')) === stored.thumbnail, { what: 'the thumbnail on the sent bubble' });
    await waitUntil(() => loaded(mineImg), { what: "Sam's thumbnail to load" });
    assert.equal(await mine.getByRole('progressbar').count(), 0);

    // Ana sees it live, with its caption, in a box of the final size (no jump when it loads).
    const theirs = bubble(ana, ids.photo);
    const openPhoto = theirs.getByRole('button', { name: 'Open photo from Sam Rivera' });
    await openPhoto.waitFor({ timeout: 10000 });
    await theirs.getByText('Check my squat form').waitFor();
    const img = openPhoto.locator('img');
    assert.equal(await img.getAttribute('width'), '64');
    assert.equal(await img.getAttribute('height'), '48');
    const boxBefore = await openPhoto.boundingBox();
    await waitUntil(() => loaded(img), { what: "Ana's thumbnail to load (plain <img>, no auth header)" });
    const boxAfter = await openPhoto.boundingBox();
    assert.ok(Math.abs(boxAfter.height - boxBefore.height) < 1, 'no layout jump when the thumbnail loads');

    // The viewer: the full image in a modal dialog; Escape closes it and focus goes back.
    await openPhoto.click();
    const dialog = ana.getByRole('dialog', { name: 'Photo from Sam Rivera' });
    await dialog.waitFor();
    const full = dialog.locator('img.viewer-image');
    assert.equal(await full.getAttribute('src'), stored.image);
    await waitUntil(() => loaded(full), { what: 'the full image to load' });
    await ana.screenshot({ path: join(SHOTS, 'messages-photo-viewer.png') });
    await ana.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await openPhoto.evaluate((el) => el === document.activeElement), true, 'focus back on the photo');

    // A photo alone: no empty text line; the list preview reads "Sent a photo".
    await sam.getByTestId('photo-file').setInputFiles({ name: 'second.png', mimeType: 'image/png', buffer: makePng(20, 30, [200, 40, 40]) });
    await sam.getByRole('button', { name: 'Send message' }).click();
    await list(ana).getByText('Sent a photo').waitFor({ timeout: 10000 });
    const only = log(ana).locator('li.msg').last();
    await only.locator('.msg-photo img').waitFor();
    assert.equal(await only.locator('.content').count(), 0, 'image-only: no text paragraph');
    // Ana can see it before Sam's upload has had its answer: the composer takes the next
    // message once that answer is in (the attach button is usable again).
    await waitUntil(() => sam.getByRole('button', { name: 'Attach a photo' }).isEnabled(), {
      what: "Sam's composer to be free after the upload",
    });
  });

  it("refuses a file that is not a photo before uploading, in the server's words", T, async () => {
    await sam.getByTestId('photo-file').setInputFiles({ name: 'notes.gif', mimeType: 'image/gif', buffer: Buffer.from('GIF89a') });
    await sam.getByRole('alert').filter({ hasText: 'Only JPEG, PNG, and WebP images are supported.' }).waitFor();
    assert.equal(await sam.getByRole('group', { name: 'Photo to send' }).count(), 0);
    await sam.getByRole('button', { name: 'Dismiss' }).click();
  });

  it('edits a message in place; "edited" shows live in the other windows', T, async () => {
    sam2 = await open(USERS.trainer, { path: `/messages/${ids.conv}` }); // Sam's second window
    await input(sam).fill('See you at 7');
    await input(sam).press('Enter');
    // Sam's own window shows it first (the send went out), then Ana's.
    await log(sam).getByText('See you at 7', { exact: true }).waitFor({ timeout: 10000 });
    await log(ana).getByText('See you at 7', { exact: true }).waitFor({ timeout: 10000 });
    await log(sam2).getByText('See you at 7', { exact: true }).waitFor({ timeout: 10000 });
    ids.edit = await idOf('See you at 7');

    const mine = bubble(sam, ids.edit);
    await mine.hover();
    await mine.getByRole('button', { name: 'Message actions' }).click();
    await mine.getByRole('menuitem', { name: 'Edit' }).click();
    const box = mine.getByRole('textbox', { name: 'Edit message' });
    assert.equal(await box.inputValue(), 'See you at 7');
    await box.fill('See you at 8 instead');
    const patched = sam.waitForResponse((r) => r.request().method() === 'PATCH' && new URL(r.url()).pathname === `${M}/conversations/${ids.conv}/messages/${ids.edit}/`);
    await box.press('Enter');
    await mine.getByText('See you at 8 instead').waitFor(); // at once (optimistic)
    const res = await patched;
    assert.equal(res.status(), 200);
    const saved = await res.json();
    assert.equal(saved.content, 'See you at 8 instead');
    assert.ok(saved.edited_at, 'edited_at set');

    // Live in Ana's window and in Sam's other window.
    for (const page of [ana, sam2]) {
      const b = bubble(page, ids.edit);
      await b.getByText('See you at 8 instead').waitFor({ timeout: 10000 });
      const edited = b.getByText('edited', { exact: true });
      await edited.waitFor();
      assert.match(await edited.getAttribute('title'), /^Edited /);
    }
    // The latest message: Ana's list preview follows.
    await list(ana).getByText('See you at 8 instead').waitFor({ timeout: 10000 });

    // Escape cancels an edit: nothing is sent.
    let patches = 0;
    const count = (r) => r.method() === 'PATCH' && patches++;
    sam.on('request', count);
    await mine.hover();
    await mine.getByRole('button', { name: 'Message actions' }).click();
    await mine.getByRole('menuitem', { name: 'Edit' }).click();
    await mine.getByRole('textbox', { name: 'Edit message' }).fill('never mind');
    await mine.getByRole('textbox', { name: 'Edit message' }).press('Escape');
    await mine.getByRole('textbox', { name: 'Edit message' }).waitFor({ state: 'detached' });
    await sleep(300);
    sam.off('request', count);
    assert.equal(patches, 0);
    assert.equal(await mine.getByText('See you at 8 instead').count(), 1);
  });

  it('deletes a message; the tombstone shows live in the other windows', T, async () => {
    const mine = bubble(sam, ids.edit);
    await mine.hover();
    await mine.getByRole('button', { name: 'Message actions' }).click();
    await mine.getByRole('menuitem', { name: 'Delete' }).click();
    const deleted = sam.waitForResponse((r) => r.request().method() === 'DELETE' && new URL(r.url()).pathname === `${M}/conversations/${ids.conv}/messages/${ids.edit}/`);
    await mine.getByRole('button', { name: 'Delete for everyone' }).click();
    await mine.getByText('This message was deleted').waitFor();
    assert.equal((await deleted).status(), 204);

    for (const page of [ana, sam2]) {
      const b = bubble(page, ids.edit);
      await b.getByText('This message was deleted').waitFor({ timeout: 10000 });
      assert.equal(await b.getByText('See you at 8 instead').count(), 0);
      assert.equal(await b.getByRole('button', { name: 'Message actions' }).count(), 0);
    }
    await list(ana).getByText('This message was deleted').waitFor({ timeout: 10000 });
    // The tombstone is muted italics, in place (same id, same position).
    const style = await bubble(ana, ids.edit).locator('.deleted-text').evaluate((el) => getComputedStyle(el).fontStyle);
    assert.equal(style, 'italic');
    const m = await api.message(samToken, ids.conv, ids.edit);
    assert.equal(m.is_deleted, true);
    assert.equal(m.content, '');
    assert.equal(m.image, null);
    // Reloaded, it is still a tombstone.
    await ana.reload();
    await bubble(ana, ids.edit).getByText('This message was deleted').waitFor();
  });

  it('searches for a word and opens the result in place, marked; older and newer load from there', T, async () => {
    // The word, then 36 more messages: it is not in the newest page the chat loads.
    await api.send(anaToken, ids.conv, 'Remember the kettlebell swings on Friday');
    ids.target = await idOf('Remember the kettlebell swings on Friday');
    for (let i = 1; i <= 36; i++) await api.send(i % 2 ? anaToken : samToken, ids.conv, `Filler ${i}`);
    const p = sam;
    await p.goto('/messages');
    await p.getByRole('searchbox', { name: 'Search messages' }).fill('KETTLEBELL');
    const results = p.getByRole('region', { name: 'Search results' });
    const hit = results.getByRole('link', { name: /kettlebell swings/ });
    await hit.waitFor({ timeout: 5000 });
    await results.getByText('1 message found').waitFor();
    await hit.getByText('Ana Lima').waitFor();
    assert.deepEqual(await hit.locator('mark').allTextContents(), ['kettlebell']);
    assert.equal(await hit.getAttribute('href'), `/messages/${ids.conv}?message=${ids.target}`);
    // The server agrees.
    const page1 = await api.search(samToken, 'kettlebell');
    assert.equal(page1.count, 1);
    assert.deepEqual(page1.results[0].highlights, [{ start: 13, end: 23 }]);

    const around = p.waitForRequest((r) => {
      const u = new URL(r.url());
      return u.pathname === `${M}/conversations/${ids.conv}/messages/` && u.searchParams.get('around') === String(ids.target);
    });
    await hit.click();
    await around;
    await p.waitForURL((u) => u.pathname === `/messages/${ids.conv}` && u.searchParams.get('message') === String(ids.target));
    const target = bubble(p, ids.target);
    await target.waitFor();
    assert.match(await target.getAttribute('class'), /\bflash\b/);
    // In view, near the middle of the scrolled log.
    const scroll = p.locator('.message-scroll');
    const [sb, tb] = [await scroll.boundingBox(), await target.boundingBox()];
    assert.ok(tb.y >= sb.y && tb.y + tb.height <= sb.y + sb.height, 'the message is in view');
    assert.equal(await log(p).getByText('Filler 36', { exact: true }).count(), 0, 'the newest is not loaded yet');
    await p.getByRole('button', { name: 'Jump to latest' }).waitFor();
    await waitUntil(async () => !/\bflash\b/.test(await target.getAttribute('class')), { timeout: 5000, what: 'the mark to fade' });

    // Scrolling down loads newer messages until the newest.
    await waitUntil(
      async () => {
        await scroll.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
        return (await log(p).getByText('Filler 36', { exact: true }).count()) === 1;
      },
      { timeout: 10_000, interval: 300, what: 'newer messages to load down to the newest' },
    );
    await p.getByRole('button', { name: 'Jump to latest' }).waitFor({ state: 'detached' });
    // Scrolling up loads older ones until the first.
    await waitUntil(
      async () => {
        await scroll.evaluate((el) => el.scrollTo({ top: 0 }));
        return (await log(p).getByText('Welcome to Spotter, Ana!').count()) === 1;
      },
      { timeout: 10_000, interval: 300, what: 'older messages to load up to the first' },
    );
    const shown = await log(p).locator('li[data-message-id]').evaluateAll((els) => els.map((e) => Number(e.dataset.messageId)));
    assert.equal(new Set(shown).size, shown.length, 'no duplicate message');
    assert.deepEqual([...shown].sort((a, b) => a - b), shown, 'ordered by id');
    const all = await api.call(`${M}/conversations/${ids.conv}/messages/?limit=100`, { token: samToken });
    assert.equal(shown.length, all.results.length, 'every message, once');

    // Live again at the end: a new message from Ana shows at once.
    await api.send(anaToken, ids.conv, 'Back at the live end');
    await log(p).getByText('Back at the live end').waitFor({ timeout: 10000 });
  });

  it('toggles "Message notifications" (new_message) and it is still off after a reload', T, async () => {
    const p = sam;
    const settings = p.getByRole('button', { name: /Sam Rivera, settings/ });
    const theSwitch = p.getByRole('switch', { name: 'Message notifications' });
    const waitChecked = (v) => waitUntil(async () => (await theSwitch.getAttribute('aria-checked')) === v, { what: `aria-checked=${v}` });
    await settings.click();
    await waitUntil(async () => (await theSwitch.getAttribute('aria-disabled')) === null, { what: 'preferences to load' });
    const initial = (await api.notificationPreferences(samToken)).new_message;
    assert.equal(await theSwitch.getAttribute('aria-checked'), String(initial));
    if (!initial) {
      await theSwitch.click();
      await waitChecked('true');
      await waitUntil(async () => (await api.notificationPreferences(samToken)).new_message === true, { what: 'on to be saved' });
    }
    const patched = p.waitForResponse((r) => r.request().method() === 'PATCH' && new URL(r.url()).pathname === '/api/users/notification-preferences/');
    await theSwitch.click();
    await waitChecked('false'); // at once
    const res = await patched;
    assert.equal(res.status(), 200);
    assert.deepEqual(JSON.parse(res.request().postData()), { new_message: false });
    assert.equal((await res.json()).new_message, false);

    await p.reload();
    await p.getByRole('button', { name: /Sam Rivera, settings/ }).click();
    await waitUntil(async () => (await theSwitch.getAttribute('aria-disabled')) === null, { what: 'preferences to load again' });
    assert.equal(await theSwitch.getAttribute('aria-checked'), 'false', 'still off after a reload');
    const prefs = await api.notificationPreferences(samToken);
    assert.equal(prefs.new_message, false);
    assert.equal(Object.keys(prefs).length, 11);
    await p.screenshot({ path: join(SHOTS, 'settings-message-notifications.png') });
    // Escape closes the panel and returns focus to its button.
    await p.keyboard.press('Escape');
    await p.getByRole('dialog', { name: 'Settings' }).waitFor({ state: 'detached' });
    // Leave it as the demo had it.
    await api.setNotificationPreferences(samToken, { new_message: initial });
  });
});

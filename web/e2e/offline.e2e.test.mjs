// End-to-end: the dashboard as an installable app with an offline outbox, against a real
// `spotter serve --demo` (its own server and data folder) in Debian's headless Chromium.
// - Installable: the manifest and the service worker pass Chromium's own check
//   (`Page.getInstallabilityErrors` is empty) and "Install app" is offered in the settings panel.
// - The shell: with the server stopped, a reload still opens the app (from the worker's cache),
//   offline; once the server is back, so is the app.
// - Offline: with the network cut (`context.setOffline`), three messages wait in the outbox; the
//   page reloaded offline comes from the service worker's shell and still shows them waiting;
//   back online they go out once each, in order, with the client_message_ids the page used
//   (checked through the API), and the other party's open chat gets them live.
// Loaded by messages.e2e.test.mjs (the file scripts/web-test.sh runs); can also run alone:
//   node --test --test-reporter=spec e2e/offline.e2e.test.mjs
// The cases wait for responses, the DOM and IndexedDB, never sleep.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium } from 'playwright-core';
import { Api, CHROMIUM, CHROMIUM_ARGS, launchBrowser, loggedInPage, PASSWORD, SpotterServer, USERS, waitUntil } from './harness.mjs';

const T = { timeout: 120_000 };
const WAITING = 'Waiting for connection…';
const OFFLINE_TEXT = "You're offline — messages will be sent when you're back";

/** The client_message_ids of the sends stored in the page's outbox (src/offline/persist.ts). */
function storedOutbox(page) {
  return page.evaluate(async () => {
    const names = (await indexedDB.databases()).map((d) => d.name);
    // Never create the database here: the app's store must be made by the app.
    if (!names.includes('spotter-offline')) return null;
    return new Promise((resolve, reject) => {
      const req = indexedDB.open('spotter-offline');
      req.onerror = () => reject(req.error);
      req.onsuccess = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains('query-client')) {
          db.close();
          return resolve(null);
        }
        const get = db.transaction('query-client').objectStore('query-client').get('client');
        get.onerror = () => reject(get.error);
        get.onsuccess = () => {
          db.close();
          const mutations = get.result?.clientState?.mutations ?? [];
          resolve(mutations.map((m) => ({ content: m.state.variables?.content, id: m.state.variables?.clientMessageId })));
        };
      };
    });
  });
}

/**
 * The network cut for a browser context: Chromium's offline emulation (`navigator.onLine` false,
 * requests fail), and every request to the server aborted as well. The second is for headless
 * Chromium's emulation, which reaches a page reloaded offline late: its `navigator.onLine` reads
 * true and its first requests can get through, which no real loss of network allows.
 */
async function cutNetwork(context, base) {
  const toServer = (url) => url.origin === new URL(base).origin;
  await context.setOffline(true);
  await context.route(toServer, (route) => route.abort('internetdisconnected'));
  /** Back online. */
  return async () => {
    await context.unroute(toServer);
    await context.setOffline(false);
  };
}

/** Wait until the service worker controls the page (its precache of the shell is complete). */
const controlled = (page) => page.waitForFunction(() => !!navigator.serviceWorker.controller, null, { timeout: 20_000 });

describe('Installable app, offline shell and outbox', { timeout: 600_000 }, () => {
  /** @type {SpotterServer} */ let server;
  /** @type {Api} */ let api;
  let browser;
  const tokens = {};
  const ids = {};
  let convId;
  const contexts = [];
  const dirs = [];
  let installed; // the page of the installable profile

  const log = (page) => page.getByRole('log');
  const input = (page) => page.getByLabel('message input');
  const bubble = (page, text) => log(page).locator('li.msg', { hasText: text });

  before(async () => {
    server = new SpotterServer();
    await server.start();
    api = new Api(server.url);
    for (const who of ['trainer', 'ana']) tokens[who] = await api.token(USERS[who]);
    for (const who of ['trainer', 'ana']) ids[who] = (await api.me(tokens[who])).id;
    convId = (await api.start(tokens.trainer, ids.ana, 'Offline test: hello Ana')).conversation_id;
    browser = await launchBrowser();
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close().catch(() => {});
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await server?.stop();
    server?.cleanup();
    if (server) console.log(`# offline server logs: ${server.logDir}`);
  });

  it('the manifest and the service worker make the dashboard installable; "Install app" is offered', T, async () => {
    // A real profile: Chromium never offers installing from an incognito context (newContext).
    const dir = mkdtempSync(join(tmpdir(), 'spotter-e2e-profile-'));
    dirs.push(dir);
    const context = await chromium.launchPersistentContext(dir, {
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      headless: true,
      baseURL: server.url,
      locale: 'en-GB',
      timezoneId: 'UTC',
    });
    contexts.push(context);
    context.setDefaultTimeout(10_000);
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto('/login');
    await page.getByLabel('Email').fill(USERS.trainer);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((u) => u.pathname === '/messages');
    await controlled(page);

    const cdp = await context.newCDPSession(page);
    const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
    assert.deepEqual(installabilityErrors, []);
    const { url, errors, data } = await cdp.send('Page.getAppManifest');
    assert.equal(new URL(url).pathname, '/manifest.webmanifest');
    assert.deepEqual(errors, []);
    const manifest = JSON.parse(data);
    assert.equal(manifest.id, '/messages');
    assert.equal(manifest.start_url, '/messages');
    assert.equal(manifest.scope, '/');
    assert.equal(manifest.display, 'standalone');
    const icon = (sizes, purpose) => manifest.icons.find((i) => i.sizes === sizes && i.type === 'image/png' && i.purpose === purpose);
    for (const [sizes, purpose] of [['192x192', 'any'], ['512x512', 'any'], ['512x512', 'maskable']]) {
      const i = icon(sizes, purpose);
      assert.ok(i, `a ${sizes} ${purpose} PNG icon`);
      const res = await page.request.get(i.src);
      assert.equal(res.status(), 200);
      assert.equal(res.headers()['content-type'], 'image/png');
    }

    // The browser offered the install (beforeinstallprompt): the settings panel has the button.
    await page.getByRole('button', { name: /settings$/ }).click();
    await page.getByRole('dialog', { name: 'Settings' }).getByRole('button', { name: 'Install app' }).waitFor();
    installed = page;
  });

  it('with the server gone, a reload opens the app from the cache; it is back online when the server is', T, async () => {
    const page = installed;
    await server.kill();
    const shell = await page.reload();
    assert.ok(shell.fromServiceWorker(), 'served by the service worker');
    assert.equal(shell.status(), 200);
    await page.getByText(OFFLINE_TEXT).waitFor({ timeout: 20_000 });
    await page.getByRole('heading', { name: 'Messages', level: 1 }).waitFor();
    // Signed in as before (the account was kept), though nothing could be fetched.
    await page.getByRole('button', { name: 'Sam Rivera, settings' }).waitFor();
    await server.start();
    await page.getByText(OFFLINE_TEXT).waitFor({ state: 'detached', timeout: 30_000 });
  });

  it('messages written offline wait, survive a reload, then go out once each, in order, with their ids', T, async () => {
    const trainer = await loggedInPage(browser, server.url, USERS.trainer, { path: `/messages/${convId}` });
    const ana = await loggedInPage(browser, server.url, USERS.ana, { path: `/messages/${convId}` });
    contexts.push(trainer.context, ana.context);
    const p = trainer.page;
    await log(p).getByText('Offline test: hello Ana').waitFor();
    await log(ana.page).getByText('Offline test: hello Ana').waitFor();
    await controlled(p);

    const backOnline = await cutNetwork(trainer.context, server.url);
    await p.getByText(OFFLINE_TEXT).waitFor();
    const texts = ['Offline one: warm-up done', 'Offline two: 3 x 8 squats', 'Offline three: see you Friday'];
    for (const text of texts) {
      await input(p).fill(text);
      await input(p).press('Enter');
      await bubble(p, text).getByRole('img', { name: WAITING }).waitFor();
    }
    // The ids the page gave them, as the bubbles carry them.
    const cmids = [];
    for (const text of texts) cmids.push(await bubble(p, text).getAttribute('data-client-id'));
    assert.equal(new Set(cmids).size, 3);
    assert.ok(cmids.every((c) => /^[0-9a-f-]{36}$/.test(c)), `client ids: ${cmids}`);
    // Kept in IndexedDB, in order, before the reload.
    const expected = texts.map((content, i) => ({ content, id: cmids[i] }));
    await waitUntil(async () => JSON.stringify(await storedOutbox(p)) === JSON.stringify(expected), {
      timeout: 10_000,
      what: 'the three sends in the stored outbox',
    });

    // Reloaded while offline: the shell comes from the service worker, the three still wait.
    const shell = await p.reload();
    assert.ok(shell.fromServiceWorker(), 'the reloaded page came from the service worker');
    await p.getByText(OFFLINE_TEXT).waitFor();
    for (const text of texts) await bubble(p, text).getByRole('img', { name: WAITING }).waitFor();
    assert.deepEqual(await log(p).locator('li.msg.mine').evaluateAll((els) => els.map((e) => e.getAttribute('data-client-id'))), cmids);
    // Nothing went out while offline.
    const before = (await api.messages(tokens.ana, convId)).results;
    assert.equal(before.filter((m) => texts.includes(m.content)).length, 0);
    assert.equal(await log(ana.page).getByText(/^Offline (one|two|three)/).count(), 0);

    // Back online: sent, and Ana's open chat gets them live, in order.
    await backOnline();
    for (const text of texts) await log(ana.page).getByText(text, { exact: true }).waitFor({ timeout: 30_000 });
    const seen = await log(ana.page).locator('li.msg.theirs .content').allTextContents();
    assert.deepEqual(seen.filter((t) => texts.includes(t)), texts);
    for (const text of texts) await bubble(p, text).and(p.locator('[data-message-id]')).waitFor({ timeout: 30_000 });
    await p.getByText(OFFLINE_TEXT).waitFor({ state: 'detached' });

    // Exactly those three on the server, once each, in order, with the page's ids.
    const all = (await api.messages(tokens.trainer, convId)).results;
    const mine = all.filter((m) => texts.includes(m.content)).sort((a, b) => a.id - b.id);
    assert.deepEqual(
      mine.map((m) => [m.content, m.client_message_id, m.sender.id]),
      texts.map((t, i) => [t, cmids[i], ids.trainer]),
    );
    // Nothing left in the outbox.
    await waitUntil(async () => JSON.stringify(await storedOutbox(p)) === '[]', { what: 'an empty stored outbox' });
  });
});

// End-to-end: the dashboard as an installable app with an offline outbox, against a real
// `spotter serve --demo` (this file's own server and data folder) in Debian's headless Chromium.
// - Installable: the manifest and the service worker pass Chromium's own check
//   (`Page.getInstallabilityErrors` is empty) and "Install app" is offered in the settings panel.
// - The shell: with the server stopped, a reload still opens the app (from the worker's cache),
//   offline; once the server is back, so is the app.
// - Offline: with the network cut (`context.setOffline`), three messages wait in the outbox; the
//   page reloaded offline comes from the service worker's shell and still shows them waiting;
//   back online they go out once each, in order, with the client_message_ids the page used
//   (checked through the API), and the other party's open chat gets them live.
// The cases wait for responses, the DOM and IndexedDB, never sleep.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from '@playwright/test';
import { expect, expectAccessible, test } from './fixtures';
import { PASSWORD, USERS } from './helpers';

test.use({ suite: 'offline' });
test.describe.configure({ mode: 'serial' });

const WAITING = 'Waiting for connection…';
const OFFLINE_TEXT = "You're offline — messages will be sent when you're back";
const tokens: Record<string, string> = {};
const ids: Record<string, number> = {};
let convId: number;
/** The installable profile of the first case, reused by the second (the worker's cache in it). */
let installed: { context: BrowserContext; page: Page; dir: string } | null = null;

const log = (page: Page) => page.getByRole('log');
const input = (page: Page) => page.getByLabel('message input');
const bubble = (page: Page, text: string) => log(page).locator('li.msg', { hasText: text });

/** The client_message_ids of the sends stored in the page's outbox (src/offline/persist.ts). */
function storedOutbox(page: Page): Promise<{ content: string; id: string }[] | null> {
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
          // eslint-disable-next-line @typescript-eslint/no-explicit-any
          const mutations: any[] = get.result?.clientState?.mutations ?? [];
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
async function cutNetwork(context: BrowserContext, base: string): Promise<() => Promise<void>> {
  const toServer = (url: URL) => url.origin === new URL(base).origin;
  await context.setOffline(true);
  await context.route(toServer, (route) => route.abort('internetdisconnected'));
  /** Back online. */
  return async () => {
    await context.unroute(toServer);
    await context.setOffline(false);
  };
}

/** Wait until the service worker controls the page (its precache of the shell is complete). */
const controlled = (page: Page) => page.waitForFunction(() => !!navigator.serviceWorker.controller, null, { timeout: 20_000 });

test.beforeAll(async ({ api }) => {
  for (const who of ['trainer', 'ana'] as const) tokens[who] = await api.token(USERS[who]);
  for (const who of ['trainer', 'ana'] as const) ids[who] = (await api.me(tokens[who])).id;
  convId = (await api.start(tokens.trainer, ids.ana, 'Offline test: hello Ana')).conversation_id;
});

test.afterAll(async () => {
  if (!installed) return;
  await installed.context.close().catch(() => {});
  rmSync(installed.dir, { recursive: true, force: true });
});

test('the manifest and the service worker make the dashboard installable; "Install app" is offered', async ({ server, launchOptions }) => {
  // A real profile: Chromium never offers installing from an incognito context (newContext).
  const dir = mkdtempSync(join(tmpdir(), 'spotter-e2e-profile-'));
  const context = await chromium.launchPersistentContext(dir, {
    ...launchOptions,
    headless: true,
    baseURL: server.url!,
    locale: 'en-GB',
    timezoneId: 'UTC',
  });
  const page = context.pages()[0] ?? (await context.newPage());
  installed = { context, page, dir }; // closed after the suite
  context.setDefaultTimeout(10_000);
  await page.goto('/login');
  await page.getByLabel('Email').fill(USERS.trainer);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.pathname === '/messages');
  await controlled(page);

  const cdp = await context.newCDPSession(page);
  const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
  expect(installabilityErrors).toEqual([]);
  const { url, errors, data } = await cdp.send('Page.getAppManifest');
  expect(new URL(url).pathname).toBe('/manifest.webmanifest');
  expect(errors).toEqual([]);
  const manifest = JSON.parse(data ?? '{}');
  expect(manifest.id).toBe('/messages');
  expect(manifest.start_url).toBe('/messages');
  expect(manifest.scope).toBe('/');
  expect(manifest.display).toBe('standalone');
  const icon = (sizes: string, purpose: string) =>
    manifest.icons.find((i: { sizes: string; type: string; purpose: string }) => i.sizes === sizes && i.type === 'image/png' && i.purpose === purpose);
  for (const [sizes, purpose] of [['192x192', 'any'], ['512x512', 'any'], ['512x512', 'maskable']]) {
    const i = icon(sizes, purpose);
    expect(i, `a ${sizes} ${purpose} PNG icon`).toBeTruthy();
    const res = await page.request.get(i.src);
    expect(res.status()).toBe(200);
    expect(res.headers()['content-type']).toBe('image/png');
  }

  // The browser offered the install (beforeinstallprompt): the settings panel has the button.
  await page.getByRole('button', { name: /settings$/ }).click();
  await expect(page.getByRole('dialog', { name: 'Settings' }).getByRole('button', { name: 'Install app' })).toBeVisible();
  await expectAccessible(page, 'settings panel with "Install app"');
});

test('with the server gone, a reload opens the app from the cache; it is back online when the server is', async ({ server }) => {
  expect(installed, 'the installable profile of the case before').not.toBeNull();
  const page = installed!.page;
  await server.kill();
  const shell = await page.reload();
  expect(shell?.fromServiceWorker(), 'served by the service worker').toBe(true);
  expect(shell?.status()).toBe(200);
  await expect(page.getByText(OFFLINE_TEXT)).toBeVisible({ timeout: 20_000 });
  await expect(page.getByRole('heading', { name: 'Messages', level: 1 })).toBeVisible();
  // Signed in as before (the account was kept), though nothing could be fetched.
  await expect(page.getByRole('button', { name: 'Sam Rivera, settings' })).toBeVisible();
  await server.start();
  await expect(page.getByText(OFFLINE_TEXT)).toHaveCount(0, { timeout: 30_000 });
});

test('messages written offline wait, survive a reload, then go out once each, in order, with their ids', async ({ api, server, session }) => {
  const p = await session.open(USERS.trainer, { path: `/messages/${convId}` });
  const ana = await session.open(USERS.ana, { path: `/messages/${convId}` });
  await expect(log(p).getByText('Offline test: hello Ana')).toBeVisible();
  await expect(log(ana).getByText('Offline test: hello Ana')).toBeVisible();
  await controlled(p);

  const backOnline = await cutNetwork(p.context(), server.url!);
  await expect(p.getByText(OFFLINE_TEXT)).toBeVisible();
  const texts = ['Offline one: warm-up done', 'Offline two: 3 x 8 squats', 'Offline three: see you Friday'];
  for (const text of texts) {
    await input(p).fill(text);
    await expect(input(p)).toHaveValue(text);
    await input(p).press('Enter');
    await expect(bubble(p, text).getByRole('img', { name: WAITING })).toBeVisible();
  }
  await expectAccessible(p, 'chat offline, messages waiting');
  // The ids the page gave them, as the bubbles carry them.
  const cmids: string[] = [];
  for (const text of texts) cmids.push((await bubble(p, text).getAttribute('data-client-id')) ?? '');
  expect(new Set(cmids).size).toBe(3);
  expect(cmids.every((c) => /^[0-9a-f-]{36}$/.test(c)), `client ids: ${cmids}`).toBe(true);
  // Kept in IndexedDB, in order, before the reload.
  const expected = texts.map((content, i) => ({ content, id: cmids[i] }));
  await expect.poll(() => storedOutbox(p), { message: 'the three sends in the stored outbox' }).toEqual(expected);

  // Reloaded while offline: the shell comes from the service worker, the three still wait.
  const shell = await p.reload();
  expect(shell?.fromServiceWorker(), 'the reloaded page came from the service worker').toBe(true);
  await expect(p.getByText(OFFLINE_TEXT)).toBeVisible();
  for (const text of texts) await expect(bubble(p, text).getByRole('img', { name: WAITING })).toBeVisible();
  expect(await log(p).locator('li.msg.mine').evaluateAll((els) => els.map((e) => e.getAttribute('data-client-id')))).toEqual(cmids);
  // Nothing went out while offline.
  const before = (await api.messages(tokens.ana, convId)).results;
  expect(before.filter((m: { content: string }) => texts.includes(m.content))).toHaveLength(0);
  await expect(log(ana).getByText(/^Offline (one|two|three)/)).toHaveCount(0);

  // Back online: sent, and Ana's open chat gets them live, in order.
  await backOnline();
  for (const text of texts) await expect(log(ana).getByText(text, { exact: true })).toBeVisible({ timeout: 30_000 });
  const seen = await log(ana).locator('li.msg.theirs .content').allTextContents();
  expect(seen.filter((t) => texts.includes(t))).toEqual(texts);
  for (const text of texts) await expect(bubble(p, text).and(p.locator('[data-message-id]'))).toBeVisible({ timeout: 30_000 });
  await expect(p.getByText(OFFLINE_TEXT)).toHaveCount(0);

  // Exactly those three on the server, once each, in order, with the page's ids.
  const all = (await api.messages(tokens.trainer, convId)).results as { id: number; content: string; client_message_id: string; sender: { id: number } }[];
  const mine = all.filter((m) => texts.includes(m.content)).sort((a, b) => a.id - b.id);
  expect(mine.map((m) => [m.content, m.client_message_id, m.sender.id])).toEqual(texts.map((t, i) => [t, cmids[i], ids.trainer]));
  // Nothing left in the outbox.
  await expect.poll(() => storedOutbox(p), { message: 'an empty stored outbox' }).toEqual([]);
});

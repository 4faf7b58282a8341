// End-to-end: browser push notifications (wire contract Part B 8), browser side, against a real
// `spotter serve --demo` (this file's own server) and Debian's headless Chromium.
//
// Headless Chromium here has no push service (its contexts are incognito-like: subscribe()
// fails with "Registration failed - permission denied"), so:
//  - one case drives the real PushManager and asserts the switch shows that failure clearly;
//  - the chain cases replace only PushManager.subscribe/getSubscription in the page with a
//    subscription whose endpoint is a local stand-in push service (push-service.ts) holding
//    the private keys; the server encrypts to it for real, the stand-in decrypts, and the real
//    service worker gets the decrypted payload through the DevTools protocol
//    (ServiceWorker.deliverPushMessage) and shows the notification.
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { BrowserContext, Page } from '@playwright/test';
import { expect, expectAccessible, test } from './fixtures';
import { PASSWORD, SHOTS, USERS } from './helpers';
import { checkVapid, decryptWebPush, PushService, subscriptionKeys, type SubscriptionKeys } from './push-service';

const DEVICE_TOKEN = '/api/users/device-token/';
// The server's default coalescing window, plus room for its 250 ms planner tick and delivery.
const COALESCE_MS = 2000;
/** How long "nothing arrives" is watched for: a push that was going to come would be there. */
const QUIET_MS = COALESCE_MS + 2500;

// The stand-in push service lives for this file; the server may send to it on loopback.
const service = new PushService();
test.use({
  suite: 'push',
  serverEnv: { SPOTTER_PUSH_ALLOW_PRIVATE_ENDPOINTS: 'on', SPOTTER_VAPID_SUBJECT: 'mailto:push-e2e@example.com' },
});
test.describe.configure({ mode: 'serial' });

/** Page script: a PushManager whose subscription points at the stand-in push service. */
function stubPushManager({ endpoint, p256dh, auth }: { endpoint: string; p256dh: string; auth: string }) {
  const KEY = 'e2e.push.subscription';
  const make = (state: { endpoint: string; key: number[] }) => ({
    endpoint: state.endpoint,
    expirationTime: null,
    options: { userVisibleOnly: true, applicationServerKey: new Uint8Array(state.key).buffer },
    getKey: () => null,
    toJSON: () => ({ endpoint: state.endpoint, expirationTime: null, keys: { p256dh, auth } }),
    unsubscribe: async () => {
      localStorage.removeItem(KEY);
      return true;
    },
  });
  PushManager.prototype.getSubscription = async function getSubscription() {
    const s = localStorage.getItem(KEY);
    return (s ? make(JSON.parse(s)) : null) as unknown as PushSubscription | null;
  };
  PushManager.prototype.subscribe = async function subscribe(opts?: PushSubscriptionOptionsInit) {
    if (!opts?.userVisibleOnly) throw new DOMException('userVisibleOnly is required', 'NotAllowedError');
    const k = opts.applicationServerKey as ArrayBuffer | ArrayBufferView;
    const state = { endpoint, key: [...new Uint8Array(ArrayBuffer.isView(k) ? (k.buffer as ArrayBuffer) : k)] };
    localStorage.setItem(KEY, JSON.stringify(state));
    return make(state) as unknown as PushSubscription;
  };
}

let vapidKey: string | null = null; // null: the server has no /api/push/vapid-public-key/ (404)
let trainerToken: string;
let trainer: { id: number; first_name: string; last_name: string };
const ids: Record<string, number> = {};
// Ana's browser in the chain cases, and its subscription's private keys (only here in Node).
let anaPage: Page;
let anaKeys: SubscriptionKeys;
const pageErrors: string[] = [];

const theSwitch = (page: Page) => page.getByRole('switch', { name: 'Enable notifications' });
const alert = (page: Page) => page.getByTestId('push-message');
/** The page's next device-token call; `status` exact, or any 2xx when omitted (the contract). */
const deviceCall = (page: Page, method: string, status?: number) =>
  page.waitForResponse(
    (r) => new URL(r.url()).pathname === DEVICE_TOKEN && r.request().method() === method && (status ? r.status() === status : r.ok()),
    { timeout: 15_000 },
  );

test.beforeAll(async ({ api, server }) => {
  await service.start();
  trainerToken = await api.token(USERS.trainer);
  trainer = await api.me(trainerToken);
  for (const t of (await api.trainees(trainerToken)).results) ids[t.first_name.toLowerCase()] = t.id;
  const res = await fetch(`${server.url}/api/push/vapid-public-key/`, { headers: { Authorization: `Bearer ${trainerToken}` } });
  if (res.ok) vapidKey = (await res.json()).public_key;
  else console.log(`# GET /api/push/vapid-public-key/ -> ${res.status}: the chain cases are skipped`);
});

test.afterAll(async () => {
  await service.stop();
});

/** Log in through the form in `context` (its init scripts apply). */
async function login(context: BrowserContext, email: string): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(`${email}: ${e.message}`));
  await page.goto('/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.pathname === '/messages');
  return page;
}

/** Deliver `data` to the page's service worker as a push (DevTools protocol). */
async function deliverPush(page: Page, origin: string, data: string) {
  const cdp = await page.context().newCDPSession(page);
  const regs: { registrationId: string; scopeURL: string; isDeleted: boolean }[] = [];
  cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => regs.push(...e.registrations));
  await cdp.send('ServiceWorker.enable');
  const live = () => regs.find((r) => r.scopeURL === `${origin}/` && !r.isDeleted);
  await expect.poll(() => !!live(), { message: 'the worker registration' }).toBe(true);
  await cdp.send('ServiceWorker.deliverPushMessage', { origin, registrationId: live()!.registrationId, data });
  await cdp.detach();
}

const notifications = (page: Page) =>
  page.evaluate(async () =>
    (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data })),
  );

test('serves /sw.js, which registers with scope / and controls the page', async ({ server, session }) => {
  const res = await fetch(`${server.url}/sw.js`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type') ?? '').toMatch(/javascript/);
  expect(await res.text()).toMatch(/addEventListener\(['"`]push['"`]/); // bundled: any quotes
  const page = await login(await session.newContext(), USERS.trainer);
  const reg = await page.evaluate(async () => {
    const r = await navigator.serviceWorker.ready;
    return { scope: r.scope, script: r.active?.scriptURL };
  });
  expect(reg).toEqual({ scope: `${server.url}/`, script: `${server.url}/sw.js` });
  await expect
    .poll(() => page.evaluate(() => navigator.serviceWorker.controller?.scriptURL ?? null), { message: 'the page to be controlled' })
    .toBe(`${server.url}/sw.js`);
});

test('has an "Enable notifications" switch, off, usable from the keyboard; a denied permission shows "blocked"', async ({ session }) => {
  // No permission granted: headless Chromium answers requestPermission() with "denied".
  const page = await login(await session.newContext(), USERS.trainer);
  const sw = theSwitch(page);
  await expect(sw, 'the switch to settle').not.toHaveAttribute('aria-busy');
  await expect(sw).toHaveAttribute('aria-checked', 'false');
  await sw.focus();
  await page.keyboard.press('Space');
  await expect(alert(page)).toContainText("Notifications are blocked in this browser's settings.");
  await expect(sw).toHaveAttribute('aria-checked', 'false');
  await expect(sw).toHaveAttribute('aria-disabled', 'true');
  expect(await page.evaluate(() => Notification.permission)).toBe('denied');
  await expectAccessible(page, 'notifications blocked');
  // Escape dismisses the message; pressing the switch again explains again.
  await page.keyboard.press('Escape');
  await expect(alert(page)).toHaveCount(0);
  await page.keyboard.press('Enter');
  await expect(alert(page)).toBeVisible();
});

test('permission granted, the real PushManager: on, or a clear error where the browser cannot subscribe', async ({ server, session }) => {
  const context = await session.newContext();
  await context.grantPermissions(['notifications'], { origin: server.url! });
  const page = await login(context, USERS.trainer);
  const sw = theSwitch(page);
  await expect(sw, 'the switch to settle').not.toHaveAttribute('aria-busy');
  await sw.click();
  let outcome: 'on' | 'error' | null = null;
  await expect
    .poll(
      async () => (outcome = (await sw.getAttribute('aria-checked')) === 'true' ? 'on' : (await alert(page).count()) ? 'error' : null),
      { message: 'the switch to turn on or show an error', timeout: 30_000 },
    )
    .not.toBeNull();
  if (outcome === 'on') {
    // A browser with a working push service: registered; turn it off again.
    expect(vapidKey, 'on without a server key?').toBeTruthy();
    const deleted = deviceCall(page, 'DELETE', 204);
    await sw.click();
    await deleted;
  } else {
    if (vapidKey) await expect(alert(page)).toHaveText(/^Could not enable notifications\. This browser could not create a push subscription/);
    else await expect(alert(page)).toHaveText(/^Could not enable notifications\. Push notifications are not available on this server\./);
    await expect(sw).toHaveAttribute('aria-checked', 'false');
    await expect(sw, 'can be tried again').not.toHaveAttribute('aria-disabled');
    await page.mouse.move(640, 600);
    await page.screenshot({ path: join(SHOTS, 'notifications-error.png'), clip: { x: 0, y: 0, width: 1280, height: 160 }, animations: 'disabled' });
  }
  // The app still works.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Trainees' }).click();
  await page.waitForURL('**/trainees');
  expect(pageErrors).toEqual([]);
});

test('on: registered with the server; a message arrives encrypted per the contract; the worker shows it', async ({ api, server, session }) => {
  expect(vapidKey, 'the server publishes its VAPID key').toBeTruthy();
  const origin = server.url!;
  const keys = (anaKeys = subscriptionKeys());
  const context = await session.newContext();
  await context.grantPermissions(['notifications'], { origin });
  await context.addInitScript(stubPushManager, { endpoint: service.endpoint('ana'), p256dh: keys.p256dh, auth: keys.auth });
  const ana = (anaPage = await login(context, USERS.ana));
  const sw = theSwitch(ana);
  await expect(sw, 'the switch to settle').not.toHaveAttribute('aria-busy');
  const registered = deviceCall(ana, 'POST', 201);
  await sw.click();
  const body = (await registered).request().postDataJSON();
  expect(body).toEqual({
    platform: 'webpush',
    subscription: { endpoint: service.endpoint('ana'), expirationTime: null, keys: { p256dh: keys.p256dh, auth: keys.auth } },
  });
  await expect(sw, 'the switch to show on').toHaveAttribute('aria-checked', 'true');
  await expect(alert(ana)).toHaveCount(0);
  await ana.mouse.move(640, 600);
  await ana.screenshot({ path: join(SHOTS, 'notifications-on.png'), clip: { x: 0, y: 0, width: 1280, height: 120 }, animations: 'disabled' });

  // A reload keeps it on (and registers it again: the server upserts).
  const again = deviceCall(ana, 'POST');
  await ana.reload();
  await again;
  await expect(theSwitch(ana), 'on after a reload').toHaveAttribute('aria-checked', 'true');

  // Ana is on the list, not in the chat: the trainer's message is pushed to her browser.
  const content = 'Push check: 5 x 5 squats at 6 💪';
  const started = await api.start(trainerToken, ids.ana, content);
  ids.anaConv = started.conversation_id;
  const req = await service.nth('ana', 1);
  expect(req.method).toBe('POST');
  expect(req.headers['content-encoding']).toBe('aes128gcm');
  expect(Number(req.headers.ttl), 'TTL header').toBeGreaterThan(0);
  const vapid = checkVapid(req.headers.authorization as string);
  expect(vapid.key).toBe(vapidKey);
  expect(vapid.claims.aud).toBe(service.origin);
  expect(vapid.claims.sub).toBe('mailto:push-e2e@example.com');
  expect(vapid.claims.exp * 1000 > Date.now() && vapid.claims.exp * 1000 <= Date.now() + 24 * 3600 * 1000, 'exp within 24 h').toBe(true);
  const text = decryptWebPush(req.body, keys);
  const payload = JSON.parse(text);
  expect(payload).toEqual({
    title: `New message from ${trainer.first_name} ${trainer.last_name}`,
    body: content,
    data: { type: 'direct_message', conversation_id: String(ids.anaConv), sender_id: String(trainer.id) },
    badge: payload.badge,
  });
  expect(Number.isInteger(payload.badge) && payload.badge >= 1, `badge ${payload.badge}`).toBe(true);

  // The real service worker turns that payload into a notification for the conversation.
  // Chromium can drop a push handed over by DevTools right after the reload above (seen once
  // in six CI runs: nothing shown, and the worker fine afterwards): hand it over again then.
  // The same tag means a second delivery replaces the first, so the list below is unchanged.
  let shown: Awaited<ReturnType<typeof notifications>> = [];
  for (let attempt = 1; shown.length === 0; attempt++) {
    await deliverPush(ana, origin, text);
    try {
      await expect.poll(async () => (shown = await notifications(ana)).length, { message: 'a notification', timeout: 5000 }).toBeGreaterThan(0);
    } catch (e) {
      if (attempt >= 3) throw e;
    }
  }
  expect(shown).toEqual([
    {
      title: payload.title,
      body: content,
      tag: `conversation-${ids.anaConv}`,
      data: { type: 'direct_message', conversation_id: String(ids.anaConv), sender_id: String(trainer.id), url: `/messages/${ids.anaConv}` },
    },
  ]);
  // A coalesced one for the same conversation replaces it (same tag).
  await deliverPush(ana, origin, JSON.stringify({ ...payload, title: '2 new messages from Sam Rivera', body: 'Bring water' }));
  await expect.poll(async () => (await notifications(ana))[0]?.title, { message: 'the replacement' }).toBe('2 new messages from Sam Rivera');
  expect(await notifications(ana)).toHaveLength(1);
  // Not JSON: still a notification, not a crash.
  await deliverPush(ana, origin, 'plain text push');
  await expect
    .poll(async () => (await notifications(ana)).some((n) => n.title === 'Spotter' && n.body === 'plain text push'), { message: 'the plain-text notification' })
    .toBe(true);

  // Opening the conversation marks it read and closes its notification.
  await ana.goto(`/messages/${ids.anaConv}`);
  await expect(ana.getByRole('log').getByText(content)).toBeVisible();
  await expect
    .poll(async () => (await notifications(ana)).some((n) => n.tag === `conversation-${ids.anaConv}`), { message: "the conversation's notification to close" })
    .toBe(false);
});

test('while Ana reads the conversation in the dashboard, messages are read at once: no push', async ({ api }) => {
  expect(vapidKey && ids.anaConv, 'set by the previous case').toBeTruthy();
  const before = service.for('ana').length;
  await api.send(trainerToken, ids.anaConv, 'Seen live, no push please');
  await expect(anaPage.getByRole('log').getByText('Seen live, no push please')).toBeVisible();
  await delay(QUIET_MS); // a push would have come by now
  expect(service.for('ana').length, 'no push for a conversation being read').toBe(before);
});

test('a burst while away arrives as one coalesced notification', async ({ api }) => {
  expect(vapidKey && ids.anaConv, 'set by the previous cases').toBeTruthy();
  const page = anaPage;
  await page.goto('/messages'); // away from the chat
  await expect(page.getByRole('navigation', { name: 'Conversations' })).toBeVisible();
  const before = service.for('ana').length;
  for (const m of ['Set 1', 'Set 2', 'Set 3']) await api.send(trainerToken, ids.anaConv, m);
  const req = await service.nth('ana', before + 1);
  await delay(QUIET_MS); // the rest of the burst would have come by now
  const burst = service.for('ana').slice(before);
  expect(burst.length, `${burst.length} pushes for 3 messages`).toBeLessThan(3);
  const first = JSON.parse(decryptWebPush(req.body, anaKeys));
  expect(first.title).toMatch(/new message/i);
});

test('off: deleted on the server, no more pushes; sign-out unregisters too', async ({ api }) => {
  expect(vapidKey && ids.anaConv, 'set by the previous cases').toBeTruthy();
  const page = anaPage;
  const sw = theSwitch(page);
  const deleted = deviceCall(page, 'DELETE', 204);
  await sw.click();
  const body = (await deleted).request().postDataJSON();
  expect(body.platform).toBe('webpush');
  expect(body.subscription.endpoint).toBe(service.endpoint('ana'));
  await expect(sw, 'off').toHaveAttribute('aria-checked', 'false');
  const before = service.for('ana').length;
  await api.send(trainerToken, ids.anaConv, 'After switching off');
  await delay(QUIET_MS); // a push would have come by now
  expect(service.for('ana').length, 'no push after switching off').toBe(before);

  // On again, then sign out: the subscription leaves the server before the tokens go.
  const registered = deviceCall(page, 'POST');
  await sw.click();
  await registered;
  await expect(sw, 'on again').toHaveAttribute('aria-checked', 'true');
  const deletedAtSignOut = deviceCall(page, 'DELETE', 204);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await deletedAtSignOut;
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  const n = service.for('ana').length;
  await api.send(trainerToken, ids.anaConv, 'After signing out');
  await delay(QUIET_MS); // a push would have come by now
  expect(service.for('ana').length, 'no push after signing out').toBe(n);
  expect(pageErrors).toEqual([]);
});

// End-to-end: browser push notifications (wire contract Part B 8), browser side, against a real
// `spotter serve --demo` and Debian's headless Chromium. Loaded by messages.e2e.test.mjs (the
// file scripts/web-test.sh runs); can also run alone:
//   node --test --test-reporter=spec e2e/push.e2e.test.mjs
//
// Headless Chromium here has no push service (its contexts are incognito-like: subscribe()
// fails with "Registration failed - permission denied"), so:
//  - one case drives the real PushManager and asserts the switch shows that failure clearly;
//  - the chain cases replace only PushManager.subscribe/getSubscription in the page with a
//    subscription whose endpoint is a local stand-in push service (push-service.mjs) holding
//    the private keys; the server encrypts to it for real, the stand-in decrypts, and the real
//    service worker gets the decrypted payload through the DevTools protocol
//    (ServiceWorker.deliverPushMessage) and shows the notification.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Api, launchBrowser, repoRoot, sleep, SpotterServer, USERS, waitUntil } from './harness.mjs';
import { checkVapid, decryptWebPush, PushService, subscriptionKeys } from './push-service.mjs';

const SHOTS = join(repoRoot, 'docs/screenshots');
const T = { timeout: 90_000 };
const DEVICE_TOKEN = '/api/users/device-token/';
// The server's default coalescing window, plus room for its 250 ms planner tick and delivery.
const COALESCE_MS = 2000;
const QUIET_MS = COALESCE_MS + 2500;

/** Page script: a PushManager whose subscription points at the stand-in push service. */
function stubPushManager({ endpoint, p256dh, auth }) {
  const KEY = 'e2e.push.subscription';
  const make = (state) => ({
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
    return s ? make(JSON.parse(s)) : null;
  };
  PushManager.prototype.subscribe = async function subscribe(opts) {
    if (!opts?.userVisibleOnly) throw new DOMException('userVisibleOnly is required', 'NotAllowedError');
    const k = opts.applicationServerKey;
    const state = { endpoint, key: [...new Uint8Array(k.buffer ?? k)] };
    localStorage.setItem(KEY, JSON.stringify(state));
    return make(state);
  };
}

describe('Web Push in the dashboard', { timeout: 600_000 }, () => {
  /** @type {SpotterServer} */ let server;
  /** @type {Api} */ let api;
  /** @type {PushService} */ let service;
  let browser;
  let vapidKey = null; // null: the server has no /api/push/vapid-public-key/ (404)
  let trainerToken;
  let trainer;
  const ids = {};
  const contexts = [];
  // Ana's browser in the chain cases, and its subscription's private keys (only here in Node).
  let anaPage;
  let anaKeys;
  const pageErrors = [];

  const theSwitch = (page) => page.getByRole('switch', { name: 'Enable notifications' });
  const alert = (page) => page.getByTestId('push-message');
  /** The page's next device-token call; `status` exact, or any 2xx when omitted (the contract). */
  const deviceCall = (page, method, status) =>
    page.waitForResponse(
      (r) => new URL(r.url()).pathname === DEVICE_TOKEN && r.request().method() === method && (status ? r.status() === status : r.ok()),
      { timeout: 15_000 },
    );

  async function newContext({ grant = false } = {}) {
    const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 800 }, locale: 'en-GB', timezoneId: 'UTC' });
    if (grant) await context.grantPermissions(['notifications'], { origin: server.url });
    contexts.push(context);
    return context;
  }

  /** Log in through the form in `context` (its init scripts apply). */
  async function login(context, email) {
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (e) => pageErrors.push(`${email}: ${e.message}`));
    await page.goto('/login');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('spotter-demo');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((u) => u.pathname === '/messages');
    return page;
  }

  /** Deliver `data` to the page's service worker as a push (DevTools protocol). */
  async function deliverPush(page, data) {
    const cdp = await page.context().newCDPSession(page);
    const regs = [];
    cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => regs.push(...e.registrations));
    await cdp.send('ServiceWorker.enable');
    const reg = await waitUntil(() => regs.find((r) => r.scopeURL === `${server.url}/` && !r.isDeleted), { what: 'the worker registration' });
    await cdp.send('ServiceWorker.deliverPushMessage', { origin: server.url, registrationId: reg.registrationId, data });
    await cdp.detach();
  }

  const notifications = (page) =>
    page.evaluate(async () =>
      (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data })),
    );

  before(async () => {
    service = await new PushService().start();
    // Loopback endpoints allowed (the stand-in push service is on 127.0.0.1).
    server = new SpotterServer({ env: { SPOTTER_PUSH_ALLOW_PRIVATE_ENDPOINTS: 'on', SPOTTER_VAPID_SUBJECT: 'mailto:push-e2e@example.com' } });
    await server.start();
    api = new Api(server.url);
    trainerToken = await api.token(USERS.trainer);
    trainer = await api.me(trainerToken);
    for (const t of (await api.trainees(trainerToken)).results) ids[t.first_name.toLowerCase()] = t.id;
    const res = await fetch(`${server.url}/api/push/vapid-public-key/`, { headers: { Authorization: `Bearer ${trainerToken}` } });
    if (res.ok) vapidKey = (await res.json()).public_key;
    else console.log(`# GET /api/push/vapid-public-key/ -> ${res.status}: the chain cases are skipped`);
    browser = await launchBrowser();
    mkdirSync(SHOTS, { recursive: true });
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close().catch(() => {});
    await server?.stop();
    server?.cleanup();
    await service?.stop();
    if (server) console.log(`# push server logs: ${server.logDir}`);
  });

  it('serves /sw.js, which registers with scope / and controls the page', T, async () => {
    const res = await fetch(`${server.url}/sw.js`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /javascript/);
    assert.match(await res.text(), /addEventListener\(['"`]push['"`]/); // bundled: any quotes
    const page = await login(await newContext(), USERS.trainer);
    const reg = await page.evaluate(async () => {
      const r = await navigator.serviceWorker.ready;
      return { scope: r.scope, script: r.active?.scriptURL };
    });
    assert.deepEqual(reg, { scope: `${server.url}/`, script: `${server.url}/sw.js` });
    await waitUntil(() => page.evaluate(() => navigator.serviceWorker.controller?.scriptURL), { what: 'the page to be controlled' });
  });

  it('has an "Enable notifications" switch, off, usable from the keyboard; a denied permission shows "blocked"', T, async () => {
    // No permission granted: headless Chromium answers requestPermission() with "denied".
    const page = await login(await newContext(), USERS.trainer);
    const sw = theSwitch(page);
    await waitUntil(async () => (await sw.getAttribute('aria-busy')) === null, { what: 'the switch to settle' });
    assert.equal(await sw.getAttribute('aria-checked'), 'false');
    await sw.focus();
    await page.keyboard.press('Space');
    await alert(page).waitFor();
    assert.match(await alert(page).textContent(), /Notifications are blocked in this browser's settings\./);
    assert.equal(await sw.getAttribute('aria-checked'), 'false');
    assert.equal(await sw.getAttribute('aria-disabled'), 'true');
    assert.equal(await page.evaluate(() => Notification.permission), 'denied');
    // Escape dismisses the message; pressing the switch again explains again.
    await page.keyboard.press('Escape');
    await alert(page).waitFor({ state: 'detached' });
    await page.keyboard.press('Enter');
    await alert(page).waitFor();
  });

  it('permission granted, the real PushManager: on, or a clear error where the browser cannot subscribe', T, async () => {
    const page = await login(await newContext({ grant: true }), USERS.trainer);
    const sw = theSwitch(page);
    await waitUntil(async () => (await sw.getAttribute('aria-busy')) === null, { what: 'the switch to settle' });
    await sw.click();
    const outcome = await waitUntil(
      async () => ((await sw.getAttribute('aria-checked')) === 'true' ? 'on' : (await alert(page).count()) ? 'error' : null),
      { timeout: 30_000, what: 'the switch to turn on or show an error' },
    );
    if (outcome === 'on') {
      // A browser with a working push service: registered; turn it off again.
      assert.ok(vapidKey, 'on without a server key?');
      const deleted = deviceCall(page, 'DELETE', 204);
      await sw.click();
      await deleted;
    } else {
      const text = await alert(page).textContent();
      if (vapidKey) assert.match(text, /^Could not enable notifications\. This browser could not create a push subscription/);
      else assert.match(text, /^Could not enable notifications\. Push notifications are not available on this server\./);
      assert.equal(await sw.getAttribute('aria-checked'), 'false');
      assert.equal(await sw.getAttribute('aria-disabled'), null, 'can be tried again');
      await page.mouse.move(640, 600);
      await sleep(200);
      await page.screenshot({ path: join(SHOTS, 'notifications-error.png'), clip: { x: 0, y: 0, width: 1280, height: 160 } });
    }
    // The app still works.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Trainees' }).click();
    await page.waitForURL('**/trainees');
    assert.deepEqual(pageErrors, []);
  });

  it('on: registered with the server; a message arrives encrypted per the contract; the worker shows it', T, async (t) => {
    if (!vapidKey) return t.skip('the server has no VAPID key endpoint yet');
    const keys = (anaKeys = subscriptionKeys());
    const context = await newContext({ grant: true });
    await context.addInitScript(stubPushManager, { endpoint: service.endpoint('ana'), p256dh: keys.p256dh, auth: keys.auth });
    const ana = (anaPage = await login(context, USERS.ana));
    const sw = theSwitch(ana);
    await waitUntil(async () => (await sw.getAttribute('aria-busy')) === null, { what: 'the switch to settle' });
    const registered = deviceCall(ana, 'POST', 201);
    await sw.click();
    const body = (await registered).request().postDataJSON();
    assert.deepEqual(body, {
      platform: 'webpush',
      subscription: { endpoint: service.endpoint('ana'), expirationTime: null, keys: { p256dh: keys.p256dh, auth: keys.auth } },
    });
    await waitUntil(async () => (await sw.getAttribute('aria-checked')) === 'true', { what: 'the switch to show on' });
    assert.equal(await alert(ana).count(), 0);
    await ana.mouse.move(640, 600);
    await sleep(200);
    await ana.screenshot({ path: join(SHOTS, 'notifications-on.png'), clip: { x: 0, y: 0, width: 1280, height: 120 } });

    // A reload keeps it on (and registers it again: the server upserts).
    const again = deviceCall(ana, 'POST');
    await ana.reload();
    await again;
    await waitUntil(async () => (await theSwitch(ana).getAttribute('aria-checked')) === 'true', { what: 'on after a reload' });

    // Ana is on the list, not in the chat: the trainer's message is pushed to her browser.
    const content = 'Push check: 5 x 5 squats at 6 💪';
    const started = await api.start(trainerToken, ids.ana, content);
    ids.anaConv = started.conversation_id;
    const req = await service.nth('ana', 1);
    assert.equal(req.method, 'POST');
    assert.equal(req.headers['content-encoding'], 'aes128gcm');
    assert.ok(Number(req.headers.ttl) > 0, 'TTL header');
    const vapid = checkVapid(req.headers.authorization);
    assert.equal(vapid.key, vapidKey);
    assert.equal(vapid.claims.aud, service.origin);
    assert.equal(vapid.claims.sub, 'mailto:push-e2e@example.com');
    assert.ok(vapid.claims.exp * 1000 > Date.now() && vapid.claims.exp * 1000 <= Date.now() + 24 * 3600 * 1000, 'exp within 24 h');
    const text = decryptWebPush(req.body, keys);
    const payload = JSON.parse(text);
    assert.deepEqual(payload, {
      title: `New message from ${trainer.first_name} ${trainer.last_name}`,
      body: content,
      data: { type: 'direct_message', conversation_id: String(ids.anaConv), sender_id: String(trainer.id) },
      badge: payload.badge,
    });
    assert.ok(Number.isInteger(payload.badge) && payload.badge >= 1, `badge ${payload.badge}`);

    // The real service worker turns that payload into a notification for the conversation.
    // Chromium can drop a push handed over by DevTools right after the reload above (seen once
    // in six CI runs: nothing shown, and the worker fine afterwards): hand it over again then.
    // The same tag means a second delivery replaces the first, so the list below is unchanged.
    let shown = null;
    for (let attempt = 1; !shown; attempt++) {
      await deliverPush(ana, text);
      try {
        shown = await waitUntil(async () => {
          const list = await notifications(ana);
          return list.length ? list : null;
        }, { what: 'a notification' });
      } catch (e) {
        if (attempt >= 3) throw e;
      }
    }
    assert.deepEqual(shown, [
      {
        title: payload.title,
        body: content,
        tag: `conversation-${ids.anaConv}`,
        data: { type: 'direct_message', conversation_id: String(ids.anaConv), sender_id: String(trainer.id), url: `/messages/${ids.anaConv}` },
      },
    ]);
    // A coalesced one for the same conversation replaces it (same tag).
    await deliverPush(ana, JSON.stringify({ ...payload, title: '2 new messages from Sam Rivera', body: 'Bring water' }));
    await waitUntil(async () => (await notifications(ana))[0]?.title === '2 new messages from Sam Rivera', { what: 'the replacement' });
    assert.equal((await notifications(ana)).length, 1);
    // Not JSON: still a notification, not a crash.
    await deliverPush(ana, 'plain text push');
    await waitUntil(async () => (await notifications(ana)).some((n) => n.title === 'Spotter' && n.body === 'plain text push'), {
      what: 'the plain-text notification',
    });

    // Opening the conversation marks it read and closes its notification.
    await ana.goto(`/messages/${ids.anaConv}`);
    await ana.getByRole('log').getByText(content).waitFor();
    await waitUntil(async () => !(await notifications(ana)).some((n) => n.tag === `conversation-${ids.anaConv}`), {
      what: "the conversation's notification to close",
    });
  });

  it('while Ana reads the conversation in the dashboard, messages are read at once: no push', T, async (t) => {
    if (!vapidKey || !ids.anaConv) return t.skip('needs the previous case');
    const before_ = service.for('ana').length;
    await api.send(trainerToken, ids.anaConv, 'Seen live, no push please');
    await sleep(QUIET_MS);
    assert.equal(service.for('ana').length, before_, 'no push for a conversation being read');
  });

  it('a burst while away arrives as one coalesced notification', T, async (t) => {
    if (!vapidKey || !ids.anaConv) return t.skip('needs the previous cases');
    const page = anaPage;
    await page.goto('/messages'); // away from the chat
    await page.getByRole('navigation', { name: 'Conversations' }).waitFor();
    const before_ = service.for('ana').length;
    for (const m of ['Set 1', 'Set 2', 'Set 3']) await api.send(trainerToken, ids.anaConv, m);
    const req = await service.nth('ana', before_ + 1);
    await sleep(QUIET_MS);
    const burst = service.for('ana').slice(before_);
    assert.ok(burst.length < 3, `${burst.length} pushes for 3 messages`);
    const first = JSON.parse(decryptWebPush(req.body, anaKeys));
    assert.match(first.title, /new message/i);
  });

  it('off: deleted on the server, no more pushes; sign-out unregisters too', T, async (t) => {
    if (!vapidKey || !ids.anaConv) return t.skip('needs the previous cases');
    const page = anaPage;
    const sw = theSwitch(page);
    const deleted = deviceCall(page, 'DELETE', 204);
    await sw.click();
    const body = (await deleted).request().postDataJSON();
    assert.equal(body.platform, 'webpush');
    assert.equal(body.subscription.endpoint, service.endpoint('ana'));
    await waitUntil(async () => (await sw.getAttribute('aria-checked')) === 'false', { what: 'off' });
    const before_ = service.for('ana').length;
    await api.send(trainerToken, ids.anaConv, 'After switching off');
    await sleep(QUIET_MS);
    assert.equal(service.for('ana').length, before_, 'no push after switching off');

    // On again, then sign out: the subscription leaves the server before the tokens go.
    const registered = deviceCall(page, 'POST');
    await sw.click();
    await registered;
    await waitUntil(async () => (await sw.getAttribute('aria-checked')) === 'true', { what: 'on again' });
    const deletedAtSignOut = deviceCall(page, 'DELETE', 204);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await deletedAtSignOut;
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    const n = service.for('ana').length;
    await api.send(trainerToken, ids.anaConv, 'After signing out');
    await sleep(QUIET_MS);
    assert.equal(service.for('ana').length, n, 'no push after signing out');
    assert.deepEqual(pageErrors, []);
  });
});

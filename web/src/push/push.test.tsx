// The "Enable notifications" switch and the push module, with the browser's push APIs faked
// (service worker container, PushManager, Notification) and the server at the fetch boundary.
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App, makeQueryClient } from '../App';
import type { Me } from '../api/types';
import { meAna, meTrainer } from '../test/fixtures';
import { NotificationSwitch } from './NotificationSwitch';
import { base64UrlToBytes, signOutPush, startServiceWorker, TEXT } from './push';

// An uncompressed P-256 point (65 bytes, 0x04 first), base64url without padding.
const VAPID = 'BEl62iUYgUivxIkv69yViEuiBIa-Ib9-SkvMeAtA3LFgDzkrxZJjSgSnfckjBJuBkr3qBUYIHBQFLXYp5Nksh8U';
const OTHER_KEY = 'BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM';
const SUB_JSON = {
  endpoint: 'https://push.example.net/send/abc',
  expirationTime: null,
  keys: { p256dh: 'BPkey', auth: 'authsecret' },
};

class FakeSubscription {
  endpoint = SUB_JSON.endpoint;
  options: { userVisibleOnly: boolean; applicationServerKey: ArrayBuffer };
  unsubscribe = vi.fn(async () => {
    if (pm.sub === this) pm.sub = null;
    return true;
  });
  constructor(key: Uint8Array) {
    this.options = { userVisibleOnly: true, applicationServerKey: key.slice().buffer };
  }
  toJSON() {
    return SUB_JSON;
  }
}

class FakePushManager {
  sub: FakeSubscription | null = null;
  subscribeError: Error | null = null;
  getSubscription = vi.fn(async () => this.sub);
  subscribe = vi.fn(async (opts: { userVisibleOnly: boolean; applicationServerKey: Uint8Array }) => {
    if (this.subscribeError) throw this.subscribeError;
    this.sub = new FakeSubscription(opts.applicationServerKey);
    return this.sub;
  });
}

let pm: FakePushManager;
let registration: { active: object | null; pushManager: FakePushManager; getNotifications: ReturnType<typeof vi.fn> };
let registered: boolean;
let swListeners: ((e: MessageEvent) => void)[];
let container: Record<string, unknown>;
let permission: NotificationPermission;
let answer: NotificationPermission;
let calls: { method: string; path: string; body: unknown }[];
let vapidStatus: number;
let registerStatus: number;

function json(body: unknown, status = 200) {
  return Promise.resolve(
    new Response(body === null ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } }),
  );
}

function fakeFetch(input: RequestInfo | URL, init?: RequestInit) {
  const url = new URL((input instanceof Request ? input.url : input.toString()), 'http://localhost');
  const method = init?.method ?? 'GET';
  const body = init?.body ? JSON.parse(init.body as string) : undefined;
  calls.push({ method, path: url.pathname, body });
  const p = url.pathname;
  if (p === '/api/push/vapid-public-key/')
    return vapidStatus === 200 ? json({ public_key: VAPID }) : json({ detail: 'Not found.' }, vapidStatus);
  if (p === '/api/users/device-token/') {
    if (method === 'POST') return registerStatus === 201 ? json({ id: 1 }, 201) : json({ detail: 'boom' }, registerStatus);
    if (method === 'DELETE') return json(null, 204);
  }
  if (p === '/api/auth/users/me/') return json(meTrainer);
  if (p === '/api/messaging/unread-count/') return json({ unread_count: 0 });
  if (p === '/api/messaging/conversations/') return json({ count: 0, next: null, previous: null, results: [] });
  return json({ detail: 'Not found.' }, 404);
}

const pushCalls = () => calls.filter((c) => c.path.startsWith('/api/push/') || c.path === '/api/users/device-token/');

function installPushApis({ push = true } = {}) {
  pm = new FakePushManager();
  registered = false;
  swListeners = [];
  registration = { active: {}, pushManager: pm, getNotifications: vi.fn(async () => []) };
  container = {
    register: vi.fn(async () => {
      registered = true;
      return registration;
    }),
    getRegistration: vi.fn(async () => (registered ? registration : undefined)),
    ready: Promise.resolve(registration),
    addEventListener: vi.fn((type: string, fn: (e: MessageEvent) => void) => type === 'message' && swListeners.push(fn)),
    startMessages: vi.fn(),
  };
  Object.defineProperty(navigator, 'serviceWorker', { value: container, configurable: true });
  if (push) vi.stubGlobal('PushManager', FakePushManager);
  vi.stubGlobal('Notification', {
    get permission() {
      return permission;
    },
    requestPermission: vi.fn(async () => {
      if (permission === 'default') permission = answer;
      return permission;
    }),
  });
}

const theSwitch = () => screen.getByRole('switch', { name: 'Enable notifications' });
const checked = () => theSwitch().getAttribute('aria-checked');
const settled = () => waitFor(() => expect(theSwitch().getAttribute('aria-busy')).toBeNull());

function renderSwitch(me: Me = meTrainer) {
  return render(<NotificationSwitch me={me} />);
}

beforeEach(() => {
  permission = 'default';
  answer = 'granted';
  calls = [];
  vapidStatus = 200;
  registerStatus = 201;
  vi.stubGlobal('fetch', vi.fn(fakeFetch));
  localStorage.setItem('spotter.access', 'A');
  localStorage.setItem('spotter.refresh', 'R');
});

afterEach(() => {
  vi.unstubAllGlobals();
  delete (navigator as unknown as Record<string, unknown>).serviceWorker;
});

describe('Enable notifications switch', () => {
  it('unsupported browser: a disabled-looking switch that says why, and no requests', async () => {
    renderSwitch();
    const sw = theSwitch();
    expect(sw.getAttribute('aria-checked')).toBe('false');
    expect(sw.getAttribute('aria-disabled')).toBe('true');
    expect(sw.getAttribute('title')).toBe(TEXT.unsupported);
    fireEvent.click(sw);
    expect((await screen.findByRole('alert')).textContent).toContain(TEXT.unsupported);
    expect(pushCalls()).toEqual([]);
  });

  it('service worker but no PushManager: unsupported too', async () => {
    installPushApis({ push: false });
    renderSwitch();
    expect(theSwitch().getAttribute('aria-disabled')).toBe('true');
    expect(theSwitch().getAttribute('title')).toBe(TEXT.unsupported);
  });

  it('off without a subscription; turning it on asks, subscribes with the VAPID key and registers', async () => {
    installPushApis();
    renderSwitch();
    await settled();
    expect(checked()).toBe('false');
    expect(pushCalls()).toEqual([]); // nothing to sync
    fireEvent.click(theSwitch());
    await waitFor(() => expect(checked()).toBe('true'));
    expect(Notification.requestPermission).toHaveBeenCalledTimes(1);
    expect(container.register).toHaveBeenCalledWith('/sw.js', { scope: '/', updateViaCache: 'none' });
    expect(pm.subscribe).toHaveBeenCalledTimes(1);
    const opts = pm.subscribe.mock.calls[0][0];
    expect(opts.userVisibleOnly).toBe(true);
    expect([...opts.applicationServerKey]).toEqual([...base64UrlToBytes(VAPID)]);
    expect(opts.applicationServerKey).toHaveLength(65);
    expect(pushCalls()).toEqual([
      { method: 'GET', path: '/api/push/vapid-public-key/', body: undefined },
      { method: 'POST', path: '/api/users/device-token/', body: { platform: 'webpush', subscription: SUB_JSON } },
    ]);
    expect(localStorage.getItem('spotter.push.owner')).toBe(String(meTrainer.id));
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('turning it off deletes the subscription on the server and unsubscribes', async () => {
    installPushApis();
    renderSwitch();
    await settled();
    fireEvent.click(theSwitch());
    await waitFor(() => expect(checked()).toBe('true'));
    const sub = pm.sub!;
    calls = [];
    fireEvent.click(theSwitch());
    await waitFor(() => expect(checked()).toBe('false'));
    expect(pushCalls()).toEqual([
      { method: 'DELETE', path: '/api/users/device-token/', body: { platform: 'webpush', subscription: SUB_JSON } },
    ]);
    expect(sub.unsubscribe).toHaveBeenCalled();
    expect(pm.sub).toBeNull();
    expect(localStorage.getItem('spotter.push.owner')).toBeNull();
  });

  it('permission denied: "blocked in this browser\'s settings", no subscription', async () => {
    installPushApis();
    answer = 'denied';
    renderSwitch();
    await settled();
    fireEvent.click(theSwitch());
    expect((await screen.findByRole('alert')).textContent).toContain("Notifications are blocked in this browser's settings");
    expect(checked()).toBe('false');
    expect(theSwitch().getAttribute('aria-disabled')).toBe('true');
    expect(pm.subscribe).not.toHaveBeenCalled();
    expect(pushCalls()).toEqual([]);
  });

  it('already blocked on load: shown as blocked at once; pressing it explains; Escape dismisses', async () => {
    installPushApis();
    permission = 'denied';
    renderSwitch();
    await settled();
    expect(theSwitch().getAttribute('aria-disabled')).toBe('true');
    expect(theSwitch().getAttribute('title')).toBe(TEXT.denied);
    expect(screen.getByText(TEXT.denied).className).toBe('visually-hidden'); // the description
    fireEvent.click(theSwitch());
    expect((await screen.findByRole('alert')).textContent).toContain(TEXT.denied);
    expect(Notification.requestPermission).not.toHaveBeenCalled();
    fireEvent.keyDown(theSwitch(), { key: 'Escape' });
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('the prompt dismissed: stays off, says so, can ask again', async () => {
    installPushApis();
    answer = 'default';
    renderSwitch();
    await settled();
    fireEvent.click(theSwitch());
    expect((await screen.findByRole('alert')).textContent).toContain(TEXT.dismissed);
    expect(checked()).toBe('false');
    expect(theSwitch().getAttribute('aria-disabled')).toBeNull();
  });

  it('no VAPID key on the server (404): a clear error, off, nothing subscribed', async () => {
    installPushApis();
    vapidStatus = 404;
    renderSwitch();
    await settled();
    fireEvent.click(theSwitch());
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Could not enable notifications. Push notifications are not available on this server.');
    expect(checked()).toBe('false');
    expect(pm.subscribe).not.toHaveBeenCalled();
    // Dismissable.
    fireEvent.click(screen.getByRole('button', { name: 'Dismiss' }));
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it("the browser's subscribe() fails: a clear error, off, nothing registered", async () => {
    installPushApis();
    pm.subscribeError = new DOMException('Registration failed - push service error', 'AbortError');
    renderSwitch();
    await settled();
    fireEvent.click(theSwitch());
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain(
      'Could not enable notifications. This browser could not create a push subscription (Registration failed - push service error).',
    );
    expect(checked()).toBe('false');
    expect(pushCalls().map((c) => c.method)).toEqual(['GET']);
    // It can be tried again, and then work.
    pm.subscribeError = null;
    fireEvent.click(theSwitch());
    await waitFor(() => expect(checked()).toBe('true'));
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('the server refuses the registration: error, off, and the browser subscription is undone', async () => {
    installPushApis();
    registerStatus = 500;
    renderSwitch();
    await settled();
    fireEvent.click(theSwitch());
    expect((await screen.findByRole('alert')).textContent).toContain('Could not enable notifications. boom');
    expect(checked()).toBe('false');
    expect(pm.subscribe).toHaveBeenCalled();
    expect(pm.sub).toBeNull();
    expect(localStorage.getItem('spotter.push.owner')).toBeNull();
  });

  it('the server unreachable: "The server could not be reached."', async () => {
    installPushApis();
    renderSwitch();
    await settled();
    vi.stubGlobal('fetch', vi.fn(() => Promise.reject(new TypeError('Failed to fetch'))));
    fireEvent.click(theSwitch());
    expect((await screen.findByRole('alert')).textContent).toBe(
      'Could not enable notifications. The server could not be reached.×',
    );
  });

  it('an existing subscription of this account shows on, and is registered again (upsert)', async () => {
    installPushApis();
    permission = 'granted';
    registered = true;
    pm.sub = new FakeSubscription(base64UrlToBytes(VAPID));
    localStorage.setItem('spotter.push.owner', String(meTrainer.id));
    renderSwitch();
    await waitFor(() => expect(checked()).toBe('true'));
    await waitFor(() =>
      expect(pushCalls()).toEqual([
        { method: 'POST', path: '/api/users/device-token/', body: { platform: 'webpush', subscription: SUB_JSON } },
      ]),
    );
  });

  it("another account's subscription (left by an earlier session) is dropped locally: off", async () => {
    installPushApis();
    permission = 'granted';
    registered = true;
    const sub = (pm.sub = new FakeSubscription(base64UrlToBytes(VAPID)));
    localStorage.setItem('spotter.push.owner', String(meAna.id));
    renderSwitch(meTrainer);
    await settled();
    await waitFor(() => expect(sub.unsubscribe).toHaveBeenCalled());
    expect(checked()).toBe('false');
    expect(pushCalls()).toEqual([]); // not ours to delete on the server
  });

  it('a subscription made with an older server key is replaced when turning on', async () => {
    installPushApis();
    permission = 'granted';
    registered = true;
    const old = (pm.sub = new FakeSubscription(base64UrlToBytes(OTHER_KEY)));
    renderSwitch();
    await waitFor(() => expect(checked()).toBe('true')); // adopted (no owner stored yet)
    fireEvent.click(theSwitch()); // off
    await waitFor(() => expect(checked()).toBe('false'));
    pm.sub = old; // as if another tab had left it behind
    old.unsubscribe.mockClear();
    fireEvent.click(theSwitch()); // on again: the old-key subscription goes, a new one comes
    await waitFor(() => expect(checked()).toBe('true'));
    expect(old.unsubscribe).toHaveBeenCalled();
    expect(pm.subscribe).toHaveBeenCalledTimes(1);
    expect(pm.sub).not.toBe(old);
  });

  it('is a labelled switch reachable from the keyboard', async () => {
    installPushApis();
    renderSwitch();
    await settled();
    const sw = theSwitch();
    expect(sw.tagName).toBe('BUTTON');
    expect(sw.getAttribute('type')).toBe('button');
    sw.focus();
    expect(document.activeElement).toBe(sw);
    expect(sw.getAttribute('aria-describedby')).toBeTruthy();
    expect(document.getElementById(sw.getAttribute('aria-describedby')!)?.textContent).toMatch(/^Off/);
  });
});

describe('push module', () => {
  it('base64url decoding handles padding and the URL alphabet', () => {
    expect([...base64UrlToBytes('-_8')]).toEqual([0xfb, 0xff]);
    expect([...base64UrlToBytes('AQID')]).toEqual([1, 2, 3]);
    expect([...base64UrlToBytes('AQ==')]).toEqual([1]);
  });

  it('startServiceWorker registers /sw.js and follows its navigate messages (same-origin paths only)', async () => {
    installPushApis();
    const go = vi.fn();
    startServiceWorker(go);
    await waitFor(() => expect(container.register).toHaveBeenCalledWith('/sw.js', { scope: '/', updateViaCache: 'none' }));
    expect(container.startMessages).toHaveBeenCalled();
    const send = (data: unknown) => swListeners.forEach((l) => l(new MessageEvent('message', { data })));
    send({ type: 'spotter:navigate', url: '/messages/42' });
    send({ type: 'spotter:navigate', url: '//evil.example/x' });
    send({ type: 'spotter:navigate', url: 'https://evil.example/' });
    send({ type: 'other', url: '/trainees' });
    send(null);
    expect(go.mock.calls).toEqual([['/messages/42']]);
  });

  it('signOutPush deletes and unsubscribes; while impersonating it only unsubscribes', async () => {
    installPushApis();
    permission = 'granted';
    registered = true;
    pm.sub = new FakeSubscription(base64UrlToBytes(VAPID));
    await signOutPush(meTrainer);
    expect(pushCalls().map((c) => c.method)).toEqual(['DELETE']);
    expect(pm.sub).toBeNull();
    calls = [];
    pm.sub = new FakeSubscription(base64UrlToBytes(VAPID));
    await signOutPush({ ...meAna, is_impersonating: true, original_user_id: meTrainer.id });
    expect(pushCalls()).toEqual([]);
    expect(pm.sub).toBeNull();
  });

  it('signOutPush does not hold up signing out when the server hangs', async () => {
    installPushApis();
    permission = 'granted';
    registered = true;
    pm.sub = new FakeSubscription(base64UrlToBytes(VAPID));
    vi.stubGlobal('fetch', vi.fn(() => new Promise(() => {})));
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const t0 = Date.now();
    await signOutPush(meTrainer, 100);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(pm.sub).toBeNull();
    expect(warn).toHaveBeenCalled();
  });
});

describe('signing out from the app', () => {
  class QuietSocket {
    readyState = 0;
    onopen = null;
    onmessage = null;
    onclose = null;
    onerror = null;
    send() {}
    close() {}
  }

  it('unregisters the subscription from the server before the tokens go', async () => {
    installPushApis();
    permission = 'granted';
    registered = true;
    pm.sub = new FakeSubscription(base64UrlToBytes(VAPID));
    localStorage.setItem('spotter.push.owner', String(meTrainer.id));
    vi.stubGlobal('WebSocket', QuietSocket);
    let tokenAtDelete: string | null = 'unset';
    vi.stubGlobal(
      'fetch',
      vi.fn((input: RequestInfo | URL, init?: RequestInit) => {
        if (init?.method === 'DELETE') tokenAtDelete = new Headers(init.headers).get('Authorization');
        return fakeFetch(input, init);
      }),
    );
    window.history.pushState(null, '', '/messages');
    render(<App client={makeQueryClient()} />);
    await waitFor(() => expect(checked()).toBe('true'));
    fireEvent.click(screen.getByRole('button', { name: 'Sign out' }));
    expect(await screen.findByRole('heading', { name: 'Sign in' })).toBeTruthy();
    expect(tokenAtDelete).toBe('Bearer A');
    expect(calls.filter((c) => c.method === 'DELETE')).toEqual([
      { method: 'DELETE', path: '/api/users/device-token/', body: { platform: 'webpush', subscription: SUB_JSON } },
    ]);
    expect(pm.sub).toBeNull();
    expect(localStorage.getItem('spotter.access')).toBeNull();
  });

  it('no switch while impersonating (the subscription is the real user\'s)', async () => {
    installPushApis();
    vi.stubGlobal('WebSocket', QuietSocket);
    vi.stubGlobal(
      'fetch',
      vi.fn((input: RequestInfo | URL, init?: RequestInit) =>
        (input instanceof Request ? input.url : input.toString()).includes('/api/auth/users/me/')
          ? json({ ...meAna, is_impersonating: true, original_user_id: meTrainer.id })
          : fakeFetch(input, init),
      ),
    );
    window.history.pushState(null, '', '/messages');
    render(<App client={makeQueryClient()} />);
    await screen.findByTestId('impersonation-banner');
    expect(screen.queryByRole('switch', { name: 'Enable notifications' })).toBeNull();
  });
});

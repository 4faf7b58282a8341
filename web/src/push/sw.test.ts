// The service worker (src/sw/push.js) run against a fake ServiceWorkerGlobalScope.
import { describe, expect, it, vi } from 'vitest';
import swSource from '../sw/push.js?raw';

type Listener = (event: unknown) => void;

interface FakeWindow {
  id: string;
  url: string;
  focused: boolean;
  visibilityState: 'visible' | 'hidden';
  focus: ReturnType<typeof vi.fn>;
  navigate: ReturnType<typeof vi.fn>;
  postMessage: ReturnType<typeof vi.fn>;
}

const ORIGIN = 'https://spotter.example';

function fakeWindow(path: string, over: Partial<FakeWindow> = {}): FakeWindow {
  const w: FakeWindow = {
    id: Math.random().toString(36).slice(2),
    url: path.startsWith('http') ? path : ORIGIN + path,
    focused: false,
    visibilityState: 'hidden',
    focus: vi.fn(async () => w),
    navigate: vi.fn(async () => w),
    postMessage: vi.fn(),
    ...over,
  };
  return w;
}

/** Load sw.js into a fresh fake scope; returns the scope and a way to dispatch events. */
function loadWorker({ windows = [] as FakeWindow[], badging = true } = {}) {
  const listeners: Record<string, Listener[]> = {};
  const shown: { title: string; options: NotificationOptions & { renotify?: boolean } }[] = [];
  const navigatorFake: Record<string, unknown> = {};
  if (badging) {
    navigatorFake.setAppBadge = vi.fn(async () => {});
    navigatorFake.clearAppBadge = vi.fn(async () => {});
  }
  const self = {
    location: new URL(`${ORIGIN}/sw.js`),
    navigator: navigatorFake,
    skipWaiting: vi.fn(async () => {}),
    addEventListener: (type: string, fn: Listener) => (listeners[type] ??= []).push(fn),
    registration: {
      showNotification: vi.fn(async (title: string, options: NotificationOptions) => {
        shown.push({ title, options });
      }),
    },
    clients: {
      claim: vi.fn(async () => {}),
      matchAll: vi.fn(async () => windows),
      openWindow: vi.fn(async (url: string) => fakeWindow(url)),
    },
  };
  new Function('self', swSource)(self);

  async function dispatch(type: string, init: Record<string, unknown>) {
    const pending: Promise<unknown>[] = [];
    const event = { ...init, waitUntil: (p: Promise<unknown>) => void pending.push(p) };
    for (const fn of listeners[type] ?? []) fn(event);
    await Promise.all(pending);
  }
  /** A PushEvent-like event: `data` as PushMessageData (text() / json()). */
  const push = (payload: unknown) =>
    dispatch('push', {
      data:
        payload === undefined
          ? null
          : {
              text: () => (typeof payload === 'string' ? payload : JSON.stringify(payload)),
              json: () => (typeof payload === 'string' ? JSON.parse(payload) : payload),
            },
    });
  const click = (data: unknown) => {
    const notification = { data, close: vi.fn() };
    return dispatch('notificationclick', { notification, action: '' }).then(() => notification);
  };
  return { self, listeners, shown, navigator: navigatorFake, push, click, dispatch };
}

const payload = (over: Record<string, unknown> = {}) => ({
  title: 'Ana Lima',
  body: 'See you at 6',
  data: { type: 'direct_message', conversation_id: '42', sender_id: '3' },
  badge: 5,
  ...over,
});

describe('service worker: push', () => {
  it('listens for install, activate, push and notificationclick', () => {
    const w = loadWorker();
    expect(Object.keys(w.listeners).sort()).toEqual(['activate', 'install', 'notificationclick', 'push']);
  });

  it("shows the payload's title and body, tagged by conversation, with the ids and the target URL", async () => {
    const w = loadWorker();
    await w.push(payload());
    expect(w.shown).toHaveLength(1);
    const { title, options } = w.shown[0];
    expect(title).toBe('Ana Lima');
    expect(options.body).toBe('See you at 6');
    expect(options.tag).toBe('conversation-42');
    expect(options.renotify).toBe(true);
    expect(options.icon).toBe('/icon-192.png');
    expect(options.data).toEqual({ type: 'direct_message', conversation_id: '42', sender_id: '3', url: '/messages/42' });
  });

  it('a coalesced burst and a newer push of the same conversation share the tag (the newer replaces)', async () => {
    const w = loadWorker();
    await w.push(payload({ title: '3 new messages from Ana', body: 'Last one' }));
    await w.push(payload({ title: '4 new messages from Ana', body: 'And another' }));
    await w.push(payload({ data: { type: 'direct_message', conversation_id: '7', sender_id: '4' } }));
    expect(w.shown.map((n) => [n.title, n.options.tag])).toEqual([
      ['3 new messages from Ana', 'conversation-42'],
      ['4 new messages from Ana', 'conversation-42'],
      ['Ana Lima', 'conversation-7'],
    ]);
  });

  it('shows the privacy body as is ("New message")', async () => {
    const w = loadWorker();
    await w.push(payload({ body: 'New message' }));
    expect(w.shown[0].options.body).toBe('New message');
  });

  it('sets the app badge to the unread count, clears it at 0, skips it when absent', async () => {
    const w = loadWorker();
    await w.push(payload({ badge: 5 }));
    expect(w.navigator.setAppBadge).toHaveBeenCalledWith(5);
    await w.push(payload({ badge: 0 }));
    expect(w.navigator.clearAppBadge).toHaveBeenCalledTimes(1);
    await w.push(payload({ badge: 'lots' }));
    await w.push(payload({ badge: undefined }));
    expect(w.navigator.setAppBadge).toHaveBeenCalledTimes(1);
    expect(w.shown).toHaveLength(4);
  });

  it('works without the Badging API, and when it refuses', async () => {
    const w = loadWorker({ badging: false });
    await w.push(payload());
    expect(w.shown).toHaveLength(1);
    const v = loadWorker();
    (v.navigator.setAppBadge as ReturnType<typeof vi.fn>).mockRejectedValue(new DOMException('nope', 'NotAllowedError'));
    await v.push(payload());
    expect(v.shown).toHaveLength(1);
  });

  it('a payload that is not JSON still shows a notification (its text, under "Spotter")', async () => {
    const w = loadWorker();
    await w.push('You have a new message');
    expect(w.shown[0].title).toBe('Spotter');
    expect(w.shown[0].options.body).toBe('You have a new message');
    expect(w.shown[0].options.tag).toBe('spotter');
    expect(w.shown[0].options.data).toEqual({ url: '/messages' });
  });

  it('no payload, an empty one, JSON that is not an object, or a data.text() that throws: a generic notification', async () => {
    const w = loadWorker();
    await w.push(undefined);
    await w.push('');
    await w.push('[1,2]');
    await w.dispatch('push', {
      data: {
        text: () => {
          throw new TypeError('bad');
        },
      },
    });
    expect(w.shown.map((n) => [n.title, n.options.body])).toEqual([
      ['Spotter', 'New message'],
      ['Spotter', 'New message'],
      ['Spotter', '[1,2]'],
      ['Spotter', 'New message'],
    ]);
  });

  it('missing fields: the app name for a title, numeric ids as strings', async () => {
    const w = loadWorker();
    await w.push({ data: { conversation_id: 9, sender_id: 2 } });
    const { title, options } = w.shown[0];
    expect(title).toBe('Spotter');
    expect(options.body).toBe('New message');
    expect(options.tag).toBe('conversation-9');
    expect(options.data).toMatchObject({ conversation_id: '9', sender_id: '2', url: '/messages/9' });
  });

  it('a push without a body says "New message" in the browser’s language', async () => {
    const w = loadWorker();
    w.navigator.languages = ['de-AT', 'pt-PT', 'en'];
    await w.push({ data: { conversation_id: 9 } });
    w.navigator.languages = ['es-MX'];
    await w.push('');
    w.navigator.languages = ['fr'];
    await w.push({ title: 'Ana' });
    expect(w.shown.map((n) => n.options.body)).toEqual(['Nova mensagem', 'Mensaje nuevo', 'New message']);
  });
});

describe('service worker: notificationclick', () => {
  it('with no dashboard window open: opens /messages/<id>', async () => {
    const w = loadWorker({ windows: [] });
    await w.push(payload());
    const n = await w.click(w.shown[0].options.data);
    expect(n.close).toHaveBeenCalled();
    expect(w.self.clients.matchAll).toHaveBeenCalledWith({ type: 'window', includeUncontrolled: true });
    expect(w.self.clients.openWindow).toHaveBeenCalledWith('/messages/42');
  });

  it('focuses an open dashboard window and sends it to the conversation', async () => {
    const win = fakeWindow('/trainees/3');
    const w = loadWorker({ windows: [win] });
    await w.click({ url: '/messages/42', conversation_id: '42' });
    expect(win.focus).toHaveBeenCalled();
    expect(win.postMessage).toHaveBeenCalledWith({ type: 'spotter:navigate', url: '/messages/42' });
    expect(w.self.clients.openWindow).not.toHaveBeenCalled();
  });

  it('prefers a window already on that conversation (just focuses it)', async () => {
    const other = fakeWindow('/messages', { focused: true });
    const there = fakeWindow('/messages/42');
    const w = loadWorker({ windows: [other, there] });
    await w.click({ url: '/messages/42' });
    expect(there.focus).toHaveBeenCalled();
    expect(there.postMessage).not.toHaveBeenCalled();
    expect(other.focus).not.toHaveBeenCalled();
  });

  it('else the focused, then a visible window', async () => {
    const hidden = fakeWindow('/messages/1');
    const visible = fakeWindow('/messages/2', { visibilityState: 'visible' });
    const w = loadWorker({ windows: [hidden, visible] });
    await w.click({ url: '/messages/42' });
    expect(visible.postMessage).toHaveBeenCalledWith({ type: 'spotter:navigate', url: '/messages/42' });
    expect(hidden.focus).not.toHaveBeenCalled();
  });

  it('ignores windows of other origins and non-dashboard pages', async () => {
    const foreign = fakeWindow('https://elsewhere.example/messages/42');
    const api = fakeWindow('/api/openapi.json');
    const w = loadWorker({ windows: [foreign, api] });
    await w.click({ url: '/messages/42' });
    expect(foreign.focus).not.toHaveBeenCalled();
    expect(api.focus).not.toHaveBeenCalled();
    expect(w.self.clients.openWindow).toHaveBeenCalledWith('/messages/42');
  });

  it('navigates the window when posting fails, and still goes on when focus is refused', async () => {
    const win = fakeWindow('/messages');
    win.focus.mockRejectedValue(new DOMException('not allowed', 'InvalidAccessError'));
    win.postMessage.mockImplementation(() => {
      throw new Error('gone');
    });
    const w = loadWorker({ windows: [win] });
    await w.click({ url: '/messages/42' });
    expect(win.navigate).toHaveBeenCalledWith('/messages/42');
  });

  it('only ever opens same-origin paths: a foreign or missing URL goes to /messages', async () => {
    const w = loadWorker();
    await w.click({ url: 'https://evil.example/' });
    await w.click({ url: '//evil.example/' });
    await w.click(null);
    expect(w.self.clients.openWindow.mock.calls).toEqual([['/messages'], ['/messages'], ['/messages']]);
  });
});

describe('service worker: lifecycle', () => {
  it('activates at once and claims the open pages', async () => {
    const w = loadWorker();
    await w.dispatch('install', {});
    expect(w.self.skipWaiting).toHaveBeenCalled();
    await w.dispatch('activate', {});
    expect(w.self.clients.claim).toHaveBeenCalled();
  });
});

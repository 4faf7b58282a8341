/* Spotter service worker, part 1 of 2 (bundled with shell.js from sw.js into /sw.js, scope /):
 * Web Push notifications (wire contract, Part B 8). A plain script on the global `self`, no
 * imports, so src/push/sw.test.ts runs it as is against a fake ServiceWorkerGlobalScope.
 *
 * Payload (decrypted by the browser): {"title", "body", "data": {"type": "direct_message",
 * "conversation_id", "sender_id"}, "badge": <unread count>}. Anything else (not JSON, missing
 * fields) still shows a generic notification: a push with userVisibleOnly must show one.
 */
'use strict';

const APP_NAME = 'Spotter';
/**
 * The body of a push without one, in the browser's language (a worker reaches neither the
 * page's i18next nor the language picked in the page; these are the catalogs'
 * `push.fallbackBody`, which a test keeps equal).
 */
const FALLBACK_BODIES = { en: 'New message', es: 'Mensaje nuevo', 'pt-BR': 'Nova mensagem' };

function fallbackBody() {
  const nav = self.navigator || {};
  const tags = Array.isArray(nav.languages) ? nav.languages : [nav.language];
  for (const tag of tags) {
    if (typeof tag !== 'string') continue;
    const l = tag.toLowerCase();
    if (l === 'es' || l.startsWith('es-')) return FALLBACK_BODIES.es;
    if (l === 'pt' || l.startsWith('pt-')) return FALLBACK_BODIES['pt-BR'];
    if (l === 'en' || l.startsWith('en-')) return FALLBACK_BODIES.en;
  }
  return FALLBACK_BODIES.en;
}
const ICON = '/icon-192.png';

self.addEventListener('install', () => {
  // Take over at once: a fresh registration can receive pushes, and a new deploy's shell (the
  // precache fills in shell.js's own install handler, which this does not cut short) serves the
  // next navigation. An open page keeps running the code it loaded.
  self.skipWaiting();
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

/** Text of a PushMessageData-like object, or '' when there is none. */
function payloadText(data) {
  if (!data) return '';
  try {
    return typeof data.text === 'function' ? String(data.text()) : '';
  } catch {
    return '';
  }
}

function str(v) {
  return typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : '';
}

/**
 * The notification to show for a push: {title, options, badge}. Never throws.
 * `badge` is the unread count (a non-negative integer) or null when the payload has none.
 */
function notificationFor(data) {
  const text = payloadText(data);
  let msg = null;
  if (text) {
    try {
      const parsed = JSON.parse(text);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) msg = parsed;
    } catch {
      msg = null;
    }
  }
  if (!msg) {
    // Not JSON (or nothing at all): show the text itself, bounded, under the app's name.
    const body = text.trim() ? text.trim().slice(0, 200) : fallbackBody();
    return { title: APP_NAME, options: { body, tag: 'spotter', icon: ICON, data: { url: '/messages' } }, badge: null };
  }
  const d = msg.data && typeof msg.data === 'object' ? msg.data : {};
  const conversationId = str(d.conversation_id);
  const url = conversationId ? `/messages/${encodeURIComponent(conversationId)}` : '/messages';
  const title = str(msg.title).trim() || APP_NAME;
  const body = typeof msg.body === 'string' ? msg.body : fallbackBody();
  const badge = Number.isInteger(msg.badge) && msg.badge >= 0 ? msg.badge : null;
  return {
    title,
    options: {
      body,
      // One notification per conversation: a newer push replaces the older one (and alerts again).
      tag: conversationId ? `conversation-${conversationId}` : 'spotter',
      renotify: true,
      icon: ICON,
      timestamp: Date.now(),
      data: {
        type: str(d.type) || 'direct_message',
        conversation_id: conversationId || null,
        sender_id: str(d.sender_id) || null,
        url,
      },
    },
    badge,
  };
}

/** The home-screen / dock badge, where the Badging API exists. Failures do not matter. */
async function setBadge(count) {
  const nav = self.navigator;
  if (count == null || !nav) return;
  try {
    if (count > 0 && typeof nav.setAppBadge === 'function') await nav.setAppBadge(count);
    else if (count === 0 && typeof nav.clearAppBadge === 'function') await nav.clearAppBadge();
  } catch {
    /* not allowed here (no installed app, no permission): ignore */
  }
}

self.addEventListener('push', (event) => {
  const n = notificationFor(event.data);
  event.waitUntil(Promise.all([self.registration.showNotification(n.title, n.options), setBadge(n.badge)]));
});

/** A same-origin path from a notification's data (never another site). */
function targetPath(data) {
  const url = data && typeof data.url === 'string' ? data.url : '/messages';
  return url.startsWith('/') && !url.startsWith('//') ? url : '/messages';
}

const NOT_DASHBOARD = ['/api/', '/ws/', '/healthz', '/readyz', '/metrics'];

/** Windows of this origin that show the dashboard (not a JSON or metrics page). */
function dashboardWindows(all) {
  const origin = self.location.origin;
  return all.filter((c) => {
    try {
      const u = new URL(c.url);
      return u.origin === origin && !NOT_DASHBOARD.some((p) => u.pathname.startsWith(p));
    } catch {
      return false;
    }
  });
}

/**
 * Focus a dashboard window and show `path` in it, or open a new window. The app navigates on
 * a `spotter:navigate` message without a reload (its socket and caches stay); should posting
 * fail, the window is navigated the ordinary way.
 */
async function openConversation(path) {
  const all = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const ours = dashboardWindows(all);
  const exact = ours.find((c) => new URL(c.url).pathname === path);
  const client = exact || ours.find((c) => c.focused) || ours.find((c) => c.visibilityState === 'visible') || ours[0];
  if (!client) return self.clients.openWindow ? self.clients.openWindow(path) : null;
  let win = client;
  try {
    win = (await client.focus()) || client;
  } catch {
    /* focusing is only allowed right after the click: navigate anyway */
  }
  if (exact) return win;
  try {
    win.postMessage({ type: 'spotter:navigate', url: path });
  } catch {
    try {
      return (await win.navigate(path)) || win;
    } catch {
      return self.clients.openWindow ? self.clients.openWindow(path) : null;
    }
  }
  return win;
}

self.addEventListener('notificationclick', (event) => {
  const notification = event.notification;
  notification.close();
  event.waitUntil(openConversation(targetPath(notification.data)));
});

import { api, download, pathOf, upload } from './client';
import type {
  AccessEntry,
  AdminConversation,
  AuditEntry,
  AuditFilters,
  User,
  AroundPage,
  Broadcast,
  BroadcastDetail,
  Conversation,
  CursorPage,
  Me,
  Message,
  MessagingStats,
  NewBroadcast,
  NotificationPreferences,
  Page,
  ReadResult,
  ScheduledMessage,
  SearchPage,
  StartResult,
  TokenPair,
  Template,
  Trainee,
} from './types';

const M = '/api/messaging';

export const login = (email: string, password: string) =>
  api<TokenPair>('/api/auth/jwt/create/', { method: 'POST', body: { email, password }, anonymous: true });

export const fetchMe = () => api<Me>('/api/auth/users/me/');

/** All conversations (follows `next`, at most `maxPages` pages of 50). */
export function fetchConversations(archived = false, maxPages = 10): Promise<Conversation[]> {
  return fetchConversationPages(`${M}/conversations/${archived ? '?archived=true' : ''}`, maxPages);
}

/** The trainer's conversations waiting for an answer, longest waiting first, with `waiting_since`. */
export function fetchNeedsReply(maxPages = 10): Promise<Conversation[]> {
  return fetchConversationPages(`${M}/conversations/?needs_reply=true`, maxPages);
}

async function fetchConversationPages(first: string, maxPages: number): Promise<Conversation[]> {
  let path: string | null = first;
  const out: Conversation[] = [];
  for (let i = 0; path && i < maxPages; i++) {
    const page: Page<Conversation> | Conversation[] = await api<Page<Conversation> | Conversation[]>(path);
    if (Array.isArray(page)) return page;
    out.push(...page.results);
    path = page.next ? pathOf(page.next) : null;
  }
  return out;
}

/** Newest messages: `{messages oldest first, hasMore}`. */
export async function fetchLatestMessages(conversationId: number, limit = 30) {
  const page = await api<Page<Message> | CursorPage<Message>>(
    `${M}/conversations/${conversationId}/messages/?limit=${limit}`,
  );
  const hasMore = 'has_more' in page ? page.has_more : page.next != null;
  return { messages: [...page.results].reverse(), hasMore };
}

/** Messages older than `before` (cursor paging): oldest first. */
export async function fetchMessagesBefore(conversationId: number, before: number, limit = 30) {
  const page = await api<CursorPage<Message> | Page<Message>>(
    `${M}/conversations/${conversationId}/messages/?before=${before}&limit=${limit}`,
  );
  const hasMore = 'has_more' in page ? page.has_more : page.next != null;
  return { messages: [...page.results].reverse(), hasMore };
}

/** Every message after `after`, oldest first (follows `has_more`, bounded). */
export async function fetchMessagesAfter(conversationId: number, after: number, limit = 100, maxPages = 20) {
  const out: Message[] = [];
  let cursor = after;
  for (let i = 0; i < maxPages; i++) {
    const page = await api<CursorPage<Message>>(
      `${M}/conversations/${conversationId}/messages/?after=${cursor}&limit=${limit}`,
    );
    const batch = page.results ?? [];
    out.push(...batch);
    if (!page.has_more || batch.length === 0) break;
    cursor = Math.max(...batch.map((m) => m.id));
  }
  return out;
}

/** Messages around one (it included): `{messages oldest first, hasOlder, hasNewer}`. */
export async function fetchMessagesAround(conversationId: number, messageId: number, limit = 30) {
  const page = await api<AroundPage<Message>>(
    `${M}/conversations/${conversationId}/messages/?around=${messageId}&limit=${limit}`,
  );
  return { messages: [...page.results].reverse(), hasOlder: page.has_older, hasNewer: page.has_newer };
}

/** One page of messages newer than `after`, oldest first. */
export async function fetchMessagesNewer(conversationId: number, after: number, limit = 30) {
  const page = await api<CursorPage<Message>>(
    `${M}/conversations/${conversationId}/messages/?after=${after}&limit=${limit}`,
  );
  return { messages: page.results ?? [], hasMore: page.has_more };
}

/** A photo to send, with an upload progress callback (0 to 1). */
export interface ImagePart {
  file: File;
  onProgress?: (fraction: number) => void;
}

function messageForm(fields: Record<string, string>, image: File): FormData {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) if (v !== '') form.append(k, v);
  form.append('image', image, image.name || 'photo');
  return form;
}

/** Text as JSON; with a photo as multipart/form-data (through XHR, for upload progress). */
export const sendMessage = (conversationId: number, content: string, clientMessageId: string, image?: ImagePart) =>
  image
    ? upload<Message>(
        `${M}/conversations/${conversationId}/send/`,
        messageForm({ content, client_message_id: clientMessageId }, image.file),
        { onProgress: image.onProgress },
      )
    : api<Message>(`${M}/conversations/${conversationId}/send/`, {
        method: 'POST',
        body: { content, client_message_id: clientMessageId },
      });

export const startConversation = (traineeId: number, content: string, clientMessageId: string, image?: ImagePart) =>
  image
    ? upload<StartResult>(
        `${M}/conversations/start/`,
        messageForm({ trainee_id: String(traineeId), content, client_message_id: clientMessageId }, image.file),
        { onProgress: image.onProgress },
      )
    : api<StartResult>(`${M}/conversations/start/`, {
        method: 'POST',
        body: { trainee_id: traineeId, content, client_message_id: clientMessageId },
      });

/** Edit the text of one's own message (within 15 minutes): the whole Message back. */
export const editMessage = (conversationId: number, messageId: number, content: string) =>
  api<Message>(`${M}/conversations/${conversationId}/messages/${messageId}/`, { method: 'PATCH', body: { content } });

/** Delete one's own message: it stays in place as "deleted" for both sides. 204. */
export const deleteMessage = (conversationId: number, messageId: number) =>
  api<null>(`${M}/conversations/${conversationId}/messages/${messageId}/`, { method: 'DELETE' });

/** Search message text across the caller's conversations (or one): 20 a page, newest first. */
export const searchMessages = (q: string, page = 1, conversationId?: number) => {
  const params = new URLSearchParams({ q, page: String(page) });
  if (conversationId != null) params.set('conversation_id', String(conversationId));
  return api<SearchPage>(`${M}/search/?${params}`);
};

export const markRead = (conversationId: number) =>
  api<ReadResult>(`${M}/conversations/${conversationId}/read/`, { method: 'POST' });

export const fetchUnreadCount = () => api<{ unread_count: number }>(`${M}/unread-count/`);

export const fetchTrainees = (search: string, pagePath?: string) =>
  api<Page<Trainee>>(
    pagePath ? pathOf(pagePath) : `/api/trainer/trainees/${search ? `?search=${encodeURIComponent(search)}` : ''}`,
  );

export const fetchTrainee = (id: number) => api<Trainee>(`/api/trainer/trainees/${id}/`);

export const startImpersonation = (traineeId: number) =>
  api<TokenPair & { user?: Me }>(`/api/trainer/impersonate/${traineeId}/start/`, { method: 'POST' });

export const endImpersonation = () =>
  api<TokenPair & { user?: Me }>('/api/trainer/impersonate/end/', { method: 'POST' });

/** The server's VAPID public key (base64url, uncompressed P-256 point) for Web Push. */
export const fetchVapidPublicKey = () => api<{ public_key: string }>('/api/push/vapid-public-key/');

/** The browser's `PushSubscription.toJSON()`, as the device-token endpoint takes it. */
export interface WebPushSubscriptionJSON {
  endpoint?: string;
  expirationTime?: number | null;
  keys?: Record<string, string>;
}

export const registerWebPush = (subscription: WebPushSubscriptionJSON) =>
  api<unknown>('/api/users/device-token/', { method: 'POST', body: { platform: 'webpush', subscription } });

export const unregisterWebPush = (subscription: WebPushSubscriptionJSON) =>
  api<unknown>('/api/users/device-token/', { method: 'DELETE', body: { platform: 'webpush', subscription } });

export const fetchNotificationPreferences = () => api<NotificationPreferences>('/api/users/notification-preferences/');

export const updateNotificationPreferences = (changes: Partial<NotificationPreferences>) =>
  api<NotificationPreferences>('/api/users/notification-preferences/', { method: 'PATCH', body: changes });

// ---------- coaching tools ----------

/** The trainer's saved replies, by title (not paged). */
export const fetchTemplates = () => api<Template[]>(`${M}/templates/`);

export const createTemplate = (title: string, content: string) =>
  api<Template>(`${M}/templates/`, { method: 'POST', body: { title, content } });

export const updateTemplate = (id: number, changes: Partial<Pick<Template, 'title' | 'content'>>) =>
  api<Template>(`${M}/templates/${id}/`, { method: 'PATCH', body: changes });

export const deleteTemplate = (id: number) => api<null>(`${M}/templates/${id}/`, { method: 'DELETE' });

/** The trainer's response-time figures over the last 7 or 30 days. */
export const fetchMessagingStats = (days: 7 | 30) =>
  api<MessagingStats>(`/api/trainer/messaging-stats/?days=${days}`);

/** Every trainee of the trainer (follows `next`; 20 a page). */
export async function fetchAllTrainees(maxPages = 50): Promise<Trainee[]> {
  let path: string | null = '/api/trainer/trainees/';
  const out: Trainee[] = [];
  for (let i = 0; path && i < maxPages; i++) {
    const page: Page<Trainee> = await api<Page<Trainee>>(path);
    out.push(...page.results);
    path = page.next ? pathOf(page.next) : null;
  }
  return out;
}

/** 202 with the new broadcast; 200 with the first one when `client_broadcast_id` was used already. */
export const createBroadcast = (body: NewBroadcast) =>
  api<Broadcast>(`${M}/broadcasts/`, { method: 'POST', body });

export const fetchBroadcasts = (pagePath?: string) =>
  api<Page<Broadcast>>(pagePath ? pathOf(pagePath) : `${M}/broadcasts/`);

export const fetchBroadcast = (id: number) => api<BroadcastDetail>(`${M}/broadcasts/${id}/`);

/** Only while it is scheduled. */
export const cancelBroadcast = (id: number) => api<null>(`${M}/broadcasts/${id}/`, { method: 'DELETE' });

/** The caller's pending scheduled messages in a conversation, soonest first. */
export const fetchScheduled = (conversationId: number) =>
  api<ScheduledMessage[]>(`${M}/conversations/${conversationId}/scheduled/`);

export const scheduleMessage = (conversationId: number, content: string, sendAt: string) =>
  api<ScheduledMessage>(`${M}/conversations/${conversationId}/scheduled/`, {
    method: 'POST',
    body: { content, send_at: sendAt },
  });

export const updateScheduled = (
  conversationId: number,
  id: number,
  changes: Partial<Pick<ScheduledMessage, 'content' | 'send_at'>>,
) => api<ScheduledMessage>(`${M}/conversations/${conversationId}/scheduled/${id}/`, { method: 'PATCH', body: changes });

export const cancelScheduled = (conversationId: number, id: number) =>
  api<null>(`${M}/conversations/${conversationId}/scheduled/${id}/`, { method: 'DELETE' });

// ---- Admin console and audit log (docs/api.md 5a). Every read of messages is logged there. ----

const A = '/api/admin';

/** The user finder (not logged): 50 a page. `page` is a `next` URL or null for the first. */
export const fetchAdminUsers = (q: string, next: string | null = null) =>
  api<Page<User>>(next ? pathOf(next) : `${A}/users/?q=${encodeURIComponent(q)}`);

/** A user's conversations, archived ones included (logged: `admin.read_conversations`). */
export const fetchAdminConversations = (userId: number, next: string | null = null) =>
  api<Page<AdminConversation>>(next ? pathOf(next) : `${A}/conversations/?user=${userId}`);

/** A conversation's history, read-only (logged: `admin.read_messages`): oldest first. */
export async function fetchAdminMessages(conversationId: number, before: number | null, limit = 30) {
  const page = await api<CursorPage<Message>>(
    `${A}/conversations/${conversationId}/messages/?limit=${limit}${before ? `&before=${before}` : ''}`,
  );
  return { messages: [...page.results].reverse(), hasMore: page.has_more };
}

/** A user's messages searched from their side (logged: `admin.search_messages`). */
export const adminSearch = (userId: number, q: string, page = 1) =>
  api<SearchPage>(`${A}/search/?user=${userId}&q=${encodeURIComponent(q)}&page=${page}`);

/** The whole audit log, newest first, 50 a page; filters combine. */
export function fetchAuditLog(filters: AuditFilters, next: string | null = null) {
  if (next) return api<Page<AuditEntry>>(pathOf(next));
  const params = new URLSearchParams();
  for (const k of ['actor', 'subject', 'since', 'until'] as const) {
    const v = filters[k];
    if (v) params.set(k, v);
  }
  const qs = params.toString();
  return api<Page<AuditEntry>>(`${A}/audit-log/${qs ? `?${qs}` : ''}`);
}

/** Who accessed the caller's data (403 with an impersonation token). */
export const fetchAccessLog = (next: string | null = null) =>
  api<Page<AccessEntry>>(next ? pathOf(next) : '/api/users/access-log/');

export type ExportFormat = 'json' | 'csv';

/** The caller's own messages, as a file (recorded in the audit log; 10 an hour). */
export const exportMyMessages = (format: ExportFormat) => download(`${M}/export/?format=${format}`);

/** A user's messages for an admin, as a file (recorded in the audit log). */
export const exportUserMessages = (userId: number, format: ExportFormat) => download(`${A}/users/${userId}/export/?format=${format}`);

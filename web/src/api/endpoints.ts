// The API calls the app makes, over the typed client (`rest`, openapi-fetch): each path, its
// parameters, body and answer are checked against the server's OpenAPI document.
import { download, ok, pageOf, rest, restAnonymous, upload } from './client';
import type {
  AccessEntry,
  AuditFilters,
  Broadcast,
  BroadcastDetail,
  Conversation,
  Me,
  Message,
  NewBroadcast,
  NotificationPreferences,
  Page,
  ScheduledMessage,
  StartResult,
  Template,
  Trainee,
  User,
} from './types';

// Where the document types a closed set of values as a plain string (roles, states, audit
// actions), the answer is taken as the narrower type of ./types.ts here, at the boundary.

export const login = (email: string, password: string) =>
  ok(restAnonymous.POST('/api/auth/jwt/create/', { body: { email, password } }));

export const fetchMe = async () => (await ok(rest.GET('/api/auth/users/me/'))) as Me;

/** All conversations (follows `next`, at most `maxPages` pages of 50). */
export function fetchConversations(archived = false, maxPages = 10): Promise<Conversation[]> {
  return fetchConversationPages(archived ? { archived: true } : {}, maxPages);
}

/** The trainer's conversations waiting for an answer, longest waiting first, with `waiting_since`. */
export function fetchNeedsReply(maxPages = 10): Promise<Conversation[]> {
  return fetchConversationPages({ needs_reply: true }, maxPages);
}

async function fetchConversationPages(
  filter: { archived?: boolean; needs_reply?: boolean },
  maxPages: number,
): Promise<Conversation[]> {
  const out: Conversation[] = [];
  let page: number | undefined;
  for (let i = 0; i < maxPages; i++) {
    const answer = await ok(rest.GET('/api/messaging/conversations/', { params: { query: { ...filter, page } } }));
    out.push(...answer.results);
    page = pageOf(answer.next);
    if (!page) break;
  }
  return out;
}

type MessagesQuery = { before?: number; after?: number; around?: number; limit?: number };

/** `GET conversations/<id>/messages/`: one answer shape per kind of query (cursor, around). */
const messagesOf = (conversationId: number, query: MessagesQuery) =>
  ok(rest.GET('/api/messaging/conversations/{id}/messages/', { params: { path: { id: conversationId }, query } }));

/** Whether a messages answer has more beyond it: `has_more` (cursor) or a `next` page. */
const hasMoreOf = (page: object) => ('has_more' in page ? !!page.has_more : 'next' in page && page.next != null);

/** Newest messages: `{messages oldest first, hasMore}`. */
export async function fetchLatestMessages(conversationId: number, limit = 30) {
  const page = await messagesOf(conversationId, { limit });
  return { messages: [...page.results].reverse(), hasMore: hasMoreOf(page) };
}

/** Messages older than `before` (cursor paging): oldest first. */
export async function fetchMessagesBefore(conversationId: number, before: number, limit = 30) {
  const page = await messagesOf(conversationId, { before, limit });
  return { messages: [...page.results].reverse(), hasMore: hasMoreOf(page) };
}

/** Every message after `after`, oldest first (follows `has_more`, bounded). */
export async function fetchMessagesAfter(conversationId: number, after: number, limit = 100, maxPages = 20) {
  const out: Message[] = [];
  let cursor = after;
  for (let i = 0; i < maxPages; i++) {
    const page = await messagesOf(conversationId, { after: cursor, limit });
    const batch = page.results ?? [];
    out.push(...batch);
    if (!hasMoreOf(page) || batch.length === 0) break;
    cursor = Math.max(...batch.map((m) => m.id));
  }
  return out;
}

/** Messages around one (it included): `{messages oldest first, hasOlder, hasNewer}`. */
export async function fetchMessagesAround(conversationId: number, messageId: number, limit = 30) {
  const page = await messagesOf(conversationId, { around: messageId, limit });
  const around = 'has_older' in page ? page : { has_older: false, has_newer: false };
  return { messages: [...page.results].reverse(), hasOlder: around.has_older, hasNewer: around.has_newer };
}

/** One page of messages newer than `after`, oldest first. */
export async function fetchMessagesNewer(conversationId: number, after: number, limit = 30) {
  const page = await messagesOf(conversationId, { after, limit });
  return { messages: page.results ?? [], hasMore: hasMoreOf(page) };
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
        `/api/messaging/conversations/${conversationId}/send/`,
        messageForm({ content, client_message_id: clientMessageId }, image.file),
        { onProgress: image.onProgress },
      )
    : ok(
        rest.POST('/api/messaging/conversations/{id}/send/', {
          params: { path: { id: conversationId } },
          body: { content, client_message_id: clientMessageId },
        }),
      );

export const startConversation = (traineeId: number, content: string, clientMessageId: string, image?: ImagePart) =>
  image
    ? upload<StartResult>(
        '/api/messaging/conversations/start/',
        messageForm({ trainee_id: String(traineeId), content, client_message_id: clientMessageId }, image.file),
        { onProgress: image.onProgress },
      )
    : ok(
        rest.POST('/api/messaging/conversations/start/', {
          body: { trainee_id: traineeId, content, client_message_id: clientMessageId },
        }),
      );

const messagePath = (conversationId: number, messageId: number) => ({
  params: { path: { id: conversationId, message_id: messageId } },
});

/** Edit the text of one's own message (within 15 minutes): the whole Message back. */
export const editMessage = (conversationId: number, messageId: number, content: string) =>
  ok(rest.PATCH('/api/messaging/conversations/{id}/messages/{message_id}/', { ...messagePath(conversationId, messageId), body: { content } }));

/** Delete one's own message: it stays in place as "deleted" for both sides. 204. */
export const deleteMessage = (conversationId: number, messageId: number) =>
  ok(rest.DELETE('/api/messaging/conversations/{id}/messages/{message_id}/', messagePath(conversationId, messageId)));

/** Search message text across the caller's conversations (or one): 20 a page, newest first. */
export const searchMessages = (q: string, page = 1, conversationId?: number) =>
  ok(rest.GET('/api/messaging/search/', { params: { query: { q, page, conversation_id: conversationId } } }));

export const markRead = (conversationId: number) =>
  ok(rest.POST('/api/messaging/conversations/{id}/read/', { params: { path: { id: conversationId } } }));

export const fetchUnreadCount = () => ok(rest.GET('/api/messaging/unread-count/'));

/** A page of the trainer's trainees; `next` is the previous page's `next` (null: the first). */
export const fetchTrainees = (search: string, next?: string | null): Promise<Page<Trainee>> =>
  ok(rest.GET('/api/trainer/trainees/', { params: { query: { search: search || undefined, page: pageOf(next) } } }));

export const fetchTrainee = (id: number) => ok(rest.GET('/api/trainer/trainees/{id}/', { params: { path: { id } } }));

export const startImpersonation = (traineeId: number) =>
  ok(rest.POST('/api/trainer/impersonate/{id}/start/', { params: { path: { id: traineeId } } }));

export const endImpersonation = () => ok(rest.POST('/api/trainer/impersonate/end/'));

/** The server's VAPID public key (base64url, uncompressed P-256 point) for Web Push. */
export const fetchVapidPublicKey = () => ok(rest.GET('/api/push/vapid-public-key/'));

/** The browser's `PushSubscription.toJSON()`, as the device-token endpoint takes it. */
export interface WebPushSubscriptionJSON {
  endpoint?: string;
  expirationTime?: number | null;
  keys?: Record<string, string>;
}

/** The document's Web Push subscription (what the server reads of `toJSON()`). */
type WebPushSubscription = { endpoint: string; keys: { p256dh: string; auth: string } };

// The browser's `toJSON()` types every field as optional; the server checks them (400 if absent).
const asSubscription = (s: WebPushSubscriptionJSON) => s as WebPushSubscription;

export const registerWebPush = (subscription: WebPushSubscriptionJSON) =>
  ok(rest.POST('/api/users/device-token/', { body: { platform: 'webpush', subscription: asSubscription(subscription) } }));

export const unregisterWebPush = (subscription: WebPushSubscriptionJSON) =>
  ok(rest.DELETE('/api/users/device-token/', { body: { platform: 'webpush', subscription: asSubscription(subscription) } }));

export const fetchNotificationPreferences = () => ok(rest.GET('/api/users/notification-preferences/'));

/** Any subset of the switches (the document asks for all of them: the server takes a subset). */
export const updateNotificationPreferences = (changes: Partial<NotificationPreferences>) =>
  ok(rest.PATCH('/api/users/notification-preferences/', { body: changes as NotificationPreferences }));

// ---------- coaching tools ----------

/** The trainer's saved replies, by title (not paged). */
export const fetchTemplates = () => ok(rest.GET('/api/messaging/templates/'));

export const createTemplate = (title: string, content: string) =>
  ok(rest.POST('/api/messaging/templates/', { body: { title, content } }));

export const updateTemplate = (id: number, changes: Partial<Pick<Template, 'title' | 'content'>>) =>
  ok(rest.PATCH('/api/messaging/templates/{id}/', { params: { path: { id } }, body: changes }));

export const deleteTemplate = (id: number) => ok(rest.DELETE('/api/messaging/templates/{id}/', { params: { path: { id } } }));

/** The trainer's response-time figures over the last 7 or 30 days. */
export const fetchMessagingStats = (days: 7 | 30) =>
  ok(rest.GET('/api/trainer/messaging-stats/', { params: { query: { days } } }));

/** Every trainee of the trainer (follows `next`; 20 a page). */
export async function fetchAllTrainees(maxPages = 50): Promise<Trainee[]> {
  const out: Trainee[] = [];
  let next: string | null | undefined = null;
  for (let i = 0; i < maxPages; i++) {
    const answer: Page<Trainee> = await fetchTrainees('', next);
    out.push(...answer.results);
    next = answer.next;
    if (!next) break;
  }
  return out;
}

/** 202 with the new broadcast; 200 with the first one when `client_broadcast_id` was used already. */
export const createBroadcast = async (body: NewBroadcast) =>
  (await ok(rest.POST('/api/messaging/broadcasts/', { body }))) as Broadcast;

export const fetchBroadcasts = async (next?: string | null) =>
  (await ok(rest.GET('/api/messaging/broadcasts/', { params: { query: { page: pageOf(next) } } }))) as Page<Broadcast>;

export const fetchBroadcast = async (id: number) =>
  (await ok(rest.GET('/api/messaging/broadcasts/{id}/', { params: { path: { id } } }))) as BroadcastDetail;

/** Only while it is scheduled. */
export const cancelBroadcast = (id: number) => ok(rest.DELETE('/api/messaging/broadcasts/{id}/', { params: { path: { id } } }));

const scheduledPath = (conversationId: number, id: number) => ({
  params: { path: { id: conversationId, scheduled_id: id } },
});

/** The caller's pending scheduled messages in a conversation, soonest first. */
export const fetchScheduled = async (conversationId: number) =>
  (await ok(rest.GET('/api/messaging/conversations/{id}/scheduled/', { params: { path: { id: conversationId } } }))) as ScheduledMessage[];

export const scheduleMessage = async (conversationId: number, content: string, sendAt: string) =>
  (await ok(
    rest.POST('/api/messaging/conversations/{id}/scheduled/', {
      params: { path: { id: conversationId } },
      body: { content, send_at: sendAt },
    }),
  )) as ScheduledMessage;

export const updateScheduled = async (
  conversationId: number,
  id: number,
  changes: Partial<Pick<ScheduledMessage, 'content' | 'send_at'>>,
) =>
  (await ok(
    rest.PATCH('/api/messaging/conversations/{id}/scheduled/{scheduled_id}/', { ...scheduledPath(conversationId, id), body: changes }),
  )) as ScheduledMessage;

export const cancelScheduled = (conversationId: number, id: number) =>
  ok(rest.DELETE('/api/messaging/conversations/{id}/scheduled/{scheduled_id}/', scheduledPath(conversationId, id)));

// ---- Admin console and audit log (docs/api.md 5a). Every read of messages is logged there. ----

/** The user finder (not logged): 50 a page. `next`: the previous page's, or null for the first. */
export const fetchAdminUsers = async (q: string, next: string | null = null) =>
  (await ok(rest.GET('/api/admin/users/', { params: { query: { q, page: pageOf(next) } } }))) as Page<User>;

/** A user's conversations, archived ones included (logged: `admin.read_conversations`). */
export const fetchAdminConversations = (userId: number, next: string | null = null) =>
  ok(rest.GET('/api/admin/conversations/', { params: { query: { user: userId, page: pageOf(next) } } }));

/** A conversation's history, read-only (logged: `admin.read_messages`): oldest first. */
export async function fetchAdminMessages(conversationId: number, before: number | null, limit = 30) {
  const page = await ok(
    rest.GET('/api/admin/conversations/{id}/messages/', {
      params: { path: { id: conversationId }, query: { limit, before: before || undefined } },
    }),
  );
  return { messages: [...page.results].reverse(), hasMore: hasMoreOf(page) };
}

/** A user's messages searched from their side (logged: `admin.search_messages`). */
export const adminSearch = (userId: number, q: string, page = 1) =>
  ok(rest.GET('/api/admin/search/', { params: { query: { user: userId, q, page } } }));

/** The whole audit log, newest first, 50 a page; filters combine (as typed: the server checks them). */
export async function fetchAuditLog(filters: AuditFilters, next: string | null = null) {
  const query: Record<string, string | number> = {};
  for (const k of ['actor', 'subject', 'since', 'until'] as const) {
    const v = filters[k];
    if (v) query[k] = v;
  }
  const page = pageOf(next);
  if (page) query.page = page;
  // Ids as typed go to the server unchecked, so that its field errors show under the field.
  return ok(rest.GET('/api/admin/audit-log/', { params: { query } }));
}

/** Who accessed the caller's data (403 with an impersonation token). */
export const fetchAccessLog = async (next: string | null = null) =>
  (await ok(rest.GET('/api/users/access-log/', { params: { query: { page: pageOf(next) } } }))) as Page<AccessEntry>;

export type ExportFormat = 'json' | 'csv';

/** The caller's own messages, as a file (recorded in the audit log; 10 an hour). */
export const exportMyMessages = (format: ExportFormat) =>
  download(rest.GET('/api/messaging/export/', { params: { query: { format } }, parseAs: 'blob' }));

/** A user's messages for an admin, as a file (recorded in the audit log). */
export const exportUserMessages = (userId: number, format: ExportFormat) =>
  download(rest.GET('/api/admin/users/{id}/export/', { params: { path: { id: userId }, query: { format } }, parseAs: 'blob' }));

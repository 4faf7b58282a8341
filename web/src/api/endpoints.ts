import { api, pathOf } from './client';
import type {
  Conversation,
  CursorPage,
  Me,
  Message,
  Page,
  ReadResult,
  StartResult,
  TokenPair,
  Trainee,
} from './types';

const M = '/api/messaging';

export const login = (email: string, password: string) =>
  api<TokenPair>('/api/auth/jwt/create/', { method: 'POST', body: { email, password }, anonymous: true });

export const fetchMe = () => api<Me>('/api/auth/users/me/');

/** All conversations (follows `next`, at most `maxPages` pages of 50). */
export async function fetchConversations(archived = false, maxPages = 10): Promise<Conversation[]> {
  let path: string | null = `${M}/conversations/${archived ? '?archived=true' : ''}`;
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

export const sendMessage = (conversationId: number, content: string, clientMessageId: string) =>
  api<Message>(`${M}/conversations/${conversationId}/send/`, {
    method: 'POST',
    body: { content, client_message_id: clientMessageId },
  });

export const startConversation = (traineeId: number, content: string, clientMessageId: string) =>
  api<StartResult>(`${M}/conversations/start/`, {
    method: 'POST',
    body: { trainee_id: traineeId, content, client_message_id: clientMessageId },
  });

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

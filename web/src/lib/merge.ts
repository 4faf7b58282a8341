import type { ChatMessage, Conversation, Message } from '../api/types';

/**
 * Where a page of a conversation's history starts: the newest messages, older or newer than a
 * message, or around one (a search result opened in place).
 */
export type MessagesCursor = { latest: true } | { before: number } | { after: number } | { around: number };

/** One page of history, oldest first; the last page of the newest ones also holds local messages. */
export interface MessagesPage {
  messages: ChatMessage[];
  /** Older messages exist on the server (read on the first page). */
  hasOlder: boolean;
  /**
   * Newer messages exist on the server that are not loaded (read on the last page): the pages
   * are a window opened around an older message. Live messages then wait until the reader
   * scrolls down (or jumps to the latest).
   */
  hasNewer: boolean;
}

/** A conversation's history in the query cache: TanStack's InfiniteData of pages. */
export interface MessagesData {
  pages: MessagesPage[];
  pageParams: MessagesCursor[];
}

const laterOf = (a: string | null | undefined, b: string | null | undefined) =>
  a && b ? (a > b ? a : b) : (a ?? b ?? null);

const time = (iso: string | null | undefined) => (iso ? Date.parse(iso) : Number.NEGATIVE_INFINITY);

/** The text and photo of a deleted message: gone, the message stays in place. */
export function tombstone<M extends Message>(m: M): M {
  return { ...m, is_deleted: true, content: '', image: null, thumbnail: null, image_width: null, image_height: null };
}

/**
 * Combine two copies of the same server message: receipts only move forward, an edit never
 * goes back to older text (a copy fetched before the edit), a deletion is final.
 */
function combine(old: ChatMessage, next: Message): ChatMessage {
  const merged: ChatMessage = {
    ...old,
    ...next,
    local: undefined,
    is_read: old.is_read || next.is_read,
    read_at: laterOf(old.read_at, next.read_at),
    delivered_at: laterOf(old.delivered_at, next.delivered_at),
  };
  if (old.edited_at && time(next.edited_at) < time(old.edited_at)) {
    merged.content = old.content;
    merged.edited_at = old.edited_at;
  }
  return old.is_deleted || next.is_deleted ? tombstone(merged) : merged;
}

/** Whether two copies of a message look the same on screen. */
function sameShown(a: ChatMessage, b: ChatMessage): boolean {
  const receipts = a.is_read === b.is_read && a.read_at === b.read_at && a.delivered_at === b.delivered_at;
  if (a.is_deleted && b.is_deleted) return receipts; // a tombstone shows nothing else
  return (
    receipts &&
    a.content === b.content &&
    (a.edited_at ?? null) === (b.edited_at ?? null) &&
    !!a.is_deleted === !!b.is_deleted &&
    (a.image ?? null) === (b.image ?? null) &&
    (a.thumbnail ?? null) === (b.thumbnail ?? null) &&
    (a.image_width ?? null) === (b.image_width ?? null) &&
    (a.image_height ?? null) === (b.image_height ?? null)
  );
}

/**
 * Merge server messages into a list: de-duplicated by `id`, an optimistic message replaced by
 * its server copy (same `client_message_id`), server messages ordered by id, local ones last.
 * Returns the same array when nothing changed (so React skips a render).
 */
export function mergeMessages(existing: ChatMessage[], incoming: Message[]): ChatMessage[] {
  if (incoming.length === 0) return existing;
  const byId = new Map<number, ChatMessage>();
  const locals: ChatMessage[] = [];
  for (const m of existing) {
    if (m.local) locals.push(m);
    else byId.set(m.id, m);
  }
  let changed = false;
  const confirmed = new Set<string>();
  for (const m of incoming) {
    const old = byId.get(m.id);
    if (m.client_message_id) confirmed.add(m.client_message_id);
    if (old) {
      const merged = combine(old, m);
      if (!sameShown(merged, old)) {
        byId.set(m.id, merged);
        changed = true;
      }
    } else {
      byId.set(m.id, { ...m, local: undefined });
      changed = true;
    }
  }
  const remainingLocals = locals.filter((l) => !(l.client_message_id && confirmed.has(l.client_message_id)));
  if (remainingLocals.length !== locals.length) changed = true;
  if (!changed) return existing;
  const server = [...byId.values()].sort((a, b) => a.id - b.id);
  return [...server, ...remainingLocals];
}

/** Add an optimistic (local) message. */
export function addLocal(existing: ChatMessage[], local: ChatMessage): ChatMessage[] {
  return [...existing.filter((m) => m.client_message_id !== local.client_message_id || !m.local), local];
}

// ---------- pages of history (a TanStack infinite query) ----------

/** All messages of the pages: server ones by id (each once), then local ones in send order. */
export function flattenPages(data: MessagesData): ChatMessage[] {
  const byId = new Map<number, ChatMessage>();
  const locals: ChatMessage[] = [];
  for (const p of data.pages) for (const m of p.messages) if (m.local) locals.push(m);
  else byId.set(m.id, m);
  return [...[...byId.values()].sort((a, b) => a.id - b.id), ...locals];
}

/** Whether the pages reach the newest message (live messages join them). */
export const atLiveEnd = (data: MessagesData): boolean => !data.pages[data.pages.length - 1]?.hasNewer;

/** Change the messages of every page; the same object when nothing changed. */
export function mapPages(data: MessagesData, change: (messages: ChatMessage[]) => ChatMessage[]): MessagesData {
  let changed = false;
  const pages = data.pages.map((p) => {
    const messages = change(p.messages);
    if (messages === p.messages) return p;
    changed = true;
    return { ...p, messages };
  });
  return changed ? { ...data, pages } : data;
}

/**
 * Server messages into the pages: a copy of a loaded message joins it where it is (and a
 * local message is replaced by its server copy); a new one joins the newest page. While the
 * pages are a window that does not reach the newest (`hasNewer`), messages past its end are
 * left out: they would sit after a gap.
 */
export function mergeIntoPages(data: MessagesData, incoming: Message[]): MessagesData {
  if (incoming.length === 0 || data.pages.length === 0) return data;
  const home = new Map<number, number>();
  const localHome = new Map<string, number>();
  data.pages.forEach((p, i) =>
    p.messages.forEach((m) => {
      if (!m.local) home.set(m.id, i);
      else if (m.client_message_id) localHome.set(m.client_message_id, i);
    }),
  );
  const last = data.pages.length - 1;
  const newest = lastServerId(flattenPages(data));
  const live = atLiveEnd(data);
  const perPage = new Map<number, Message[]>();
  for (const m of incoming) {
    let i = home.get(m.id) ?? (m.client_message_id ? localHome.get(m.client_message_id) : undefined);
    if (i === undefined) {
      if (!live && (newest === null || m.id > newest)) continue;
      i = last;
    }
    perPage.set(i, [...(perPage.get(i) ?? []), m]);
  }
  if (perPage.size === 0) return data;
  let changed = false;
  const pages = data.pages.map((p, i) => {
    const msgs = perPage.get(i);
    if (!msgs) return p;
    const messages = mergeMessages(p.messages, msgs);
    if (messages === p.messages) return p;
    changed = true;
    return { ...p, messages };
  });
  return changed ? { ...data, pages } : data;
}

/**
 * Add a local (optimistic) message to the newest page. Idempotent: when a local message with
 * the same client_message_id is there already, only its `local` state changes (its blob: URL
 * and place stay).
 */
export function addLocalToPages(data: MessagesData, local: ChatMessage): MessagesData {
  const cmid = local.client_message_id;
  const exists = data.pages.some((p) => p.messages.some((m) => m.local && m.client_message_id === cmid));
  if (exists && cmid) return mapPages(data, (list) => updateLocal(list, cmid, local.local));
  const last = data.pages.length - 1;
  return { ...data, pages: data.pages.map((p, i) => (i === last ? { ...p, messages: addLocal(p.messages, local) } : p)) };
}

/**
 * A page fetched from the server, joined to what the cache knows: a message already cached
 * keeps what only moves forward (receipts, edits, deletion), and the page at the newest end
 * keeps the local messages not confirmed yet (a refetch must not drop a message being sent).
 */
export function reconcilePage(cached: ChatMessage[], fetched: Message[], newest: boolean): ChatMessage[] {
  const ids = new Set(fetched.map((m) => m.id));
  const known = cached.filter((m) => (m.local ? newest : ids.has(m.id)));
  return mergeMessages(known, fetched);
}

/** Replace one server message by id (an answer of the server that is the truth). */
export function replaceMessage(existing: ChatMessage[], message: Message): ChatMessage[] {
  const i = existing.findIndex((m) => !m.local && m.id === message.id);
  if (i < 0) return existing;
  const next = [...existing];
  next[i] = { ...existing[i], ...message, local: undefined };
  return next;
}

/** Change one server message by id; the same array when it is not there or nothing changed. */
export function patchMessage(
  existing: ChatMessage[],
  id: number,
  change: (m: ChatMessage) => ChatMessage,
): ChatMessage[] {
  const i = existing.findIndex((m) => !m.local && m.id === id);
  if (i < 0) return existing;
  const updated = change(existing[i]);
  if (updated === existing[i] || sameShown(updated, existing[i])) return existing;
  const next = [...existing];
  next[i] = updated;
  return next;
}

/** A `message_edited` event: new text and time (a deleted message stays deleted). */
export function applyEdit(existing: ChatMessage[], id: number, content: string, editedAt: string): ChatMessage[] {
  return patchMessage(existing, id, (m) => (m.is_deleted ? m : { ...m, content, edited_at: editedAt }));
}

/** A `message_deleted` event: the message becomes a tombstone in place. */
export function applyDeletion(existing: ChatMessage[], id: number): ChatMessage[] {
  return patchMessage(existing, id, (m) => (m.is_deleted ? m : tombstone(m)));
}

/** Drop a local (unsent) message. */
export function removeLocal(existing: ChatMessage[], clientMessageId: string): ChatMessage[] {
  const next = existing.filter((m) => !(m.local && m.client_message_id === clientMessageId));
  return next.length === existing.length ? existing : next;
}

export const PREVIEW_TEXT = { photo: 'Sent a photo', deleted: 'This message was deleted' } as const;

/** The conversation list's preview of a message, as the server computes it. */
export function previewOf(m: Pick<Message, 'content' | 'image' | 'is_deleted'>): string {
  if (m.is_deleted) return PREVIEW_TEXT.deleted;
  if (m.content) return Array.from(m.content).slice(0, 100).join('');
  if (m.image) return PREVIEW_TEXT.photo;
  return '';
}

/** Change the preview of one conversation in the list (same array when nothing changed). */
export function setListPreview(list: Conversation[], conversationId: number, preview: string): Conversation[] {
  let changed = false;
  const next = list.map((c) => {
    if (c.id !== conversationId || c.last_message_preview === preview) return c;
    changed = true;
    return { ...c, last_message_preview: preview };
  });
  return changed ? next : list;
}

/** Change the state of a local message (failed, sending again). */
export function updateLocal(
  existing: ChatMessage[],
  clientMessageId: string,
  local: ChatMessage['local'],
): ChatMessage[] {
  return existing.map((m) => (m.local && m.client_message_id === clientMessageId ? { ...m, local } : m));
}

/** The newest server message id in the list (for `?after=` catch-up), or null. */
export function lastServerId(messages: ChatMessage[]): number | null {
  let max: number | null = null;
  for (const m of messages) if (!m.local && (max === null || m.id > max)) max = m.id;
  return max;
}

/** The oldest server message id in the list (for `?before=` paging), or null. */
export function firstServerId(messages: ChatMessage[]): number | null {
  let min: number | null = null;
  for (const m of messages) if (!m.local && (min === null || m.id < min)) min = m.id;
  return min;
}

/** The other party read everything up to now: my messages become read. */
export function applyReadReceipt(
  messages: ChatMessage[],
  readerId: number,
  readAt: string,
): ChatMessage[] {
  let changed = false;
  const out = messages.map((m) => {
    if (m.local || m.sender.id === readerId || m.is_read || Date.parse(m.created_at) > Date.parse(readAt)) return m;
    changed = true;
    return { ...m, is_read: true, read_at: readAt, delivered_at: m.delivered_at ?? readAt };
  });
  return changed ? out : messages;
}

/** The recipient's socket got everything up to `upTo`: mark my messages delivered. */
export function applyDeliveryReceipt(
  messages: ChatMessage[],
  meId: number,
  upTo: number,
  deliveredAt: string,
): ChatMessage[] {
  let changed = false;
  const out = messages.map((m) => {
    if (m.local || m.sender.id !== meId || m.id > upTo || m.delivered_at) return m;
    changed = true;
    return { ...m, delivered_at: deliveredAt };
  });
  return changed ? out : messages;
}

/** Mark the other party's messages as read by me (after POST read/). */
export function markOthersRead(messages: ChatMessage[], meId: number, readAt: string): ChatMessage[] {
  let changed = false;
  const out = messages.map((m) => {
    if (m.local || m.sender.id === meId || m.is_read) return m;
    if (Date.parse(m.created_at) > Date.parse(readAt)) return m; // arrived after the read
    changed = true;
    return { ...m, is_read: true, read_at: readAt };
  });
  return changed ? out : messages;
}

export type Receipt = 'waiting' | 'sending' | 'failed' | 'sent' | 'delivered' | 'read';

export function receiptOf(m: ChatMessage): Receipt {
  if (m.local) return m.local.status;
  if (m.is_read || m.read_at) return 'read';
  if (m.delivered_at) return 'delivered';
  return 'sent';
}

const activity = (c: Conversation) => c.last_message_at ?? c.created_at;

/** Most recent activity first. */
export function sortConversations(list: Conversation[]): Conversation[] {
  return [...list].sort((a, b) => (activity(a) < activity(b) ? 1 : activity(a) > activity(b) ? -1 : b.id - a.id));
}

/** A new message moves its conversation to the top with a fresh preview and unread count. */
export function applyNewMessageToList(
  list: Conversation[],
  conversationId: number,
  message: Message,
  meId: number,
  viewing: boolean,
): Conversation[] | null {
  const idx = list.findIndex((c) => c.id === conversationId);
  if (idx < 0) return null; // unknown conversation: the caller refetches
  const c = list[idx];
  if (c.last_message_at && Date.parse(c.last_message_at) >= Date.parse(message.created_at)) return list;
  const fromOther = message.sender.id !== meId;
  const updated: Conversation = {
    ...c,
    last_message_at: message.created_at,
    last_message_preview: previewOf(message),
    unread_count: fromOther && !viewing ? c.unread_count + 1 : c.unread_count,
  };
  const next = [...list];
  next[idx] = updated;
  return sortConversations(next);
}

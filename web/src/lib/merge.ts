import type { ChatMessage, Conversation, Message } from '../api/types';

/** What the chat keeps per conversation in the query cache. */
export interface MessagesState {
  /** Server messages by id ascending, then local (optimistic) ones in send order. */
  messages: ChatMessage[];
  /** Older messages exist on the server. */
  hasMore: boolean;
}

const laterOf = (a: string | null | undefined, b: string | null | undefined) =>
  a && b ? (a > b ? a : b) : (a ?? b ?? null);

/** Combine two copies of the same server message: receipts only move forward. */
function combine(old: ChatMessage, next: Message): ChatMessage {
  return {
    ...old,
    ...next,
    local: undefined,
    is_read: old.is_read || next.is_read,
    read_at: laterOf(old.read_at, next.read_at),
    delivered_at: laterOf(old.delivered_at, next.delivered_at),
  };
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
      if (
        merged.is_read !== old.is_read ||
        merged.read_at !== old.read_at ||
        merged.delivered_at !== old.delivered_at ||
        merged.content !== old.content
      ) {
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

export type Receipt = 'sending' | 'failed' | 'sent' | 'delivered' | 'read';

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
    last_message_preview: message.content.slice(0, 100),
    unread_count: fromOther && !viewing ? c.unread_count + 1 : c.unread_count,
  };
  const next = [...list];
  next[idx] = updated;
  return sortConversations(next);
}

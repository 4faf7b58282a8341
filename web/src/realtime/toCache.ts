// The socket's frames into the query cache: the one place that writes socket data there, a
// function per frame type (RealtimeProvider calls `frameToCache` for each frame, and
// `catchUp` after every (re)connect).
import type { QueryClient } from '@tanstack/react-query';
import type { Conversation, Me, ServerFrame } from '../api/types';
import { applyBroadcast, applyScheduled, removeFromNeedsReply } from '../data/coaching';
import { keys } from '../data/keys';
import { applyMessageDeleted, applyMessageEdited, catchUpMessages, ingestMessages, patchMessages } from '../data/messages';
import { resendFailed } from '../data/mutations';
import { applyDeliveryReceipt, applyReadReceipt, markOthersRead, sortConversations } from '../lib/merge';

type Frame<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;

/** Who receives the frames, and which conversation they have in view (it counts no unread). */
export interface CacheTarget {
  qc: QueryClient;
  me: Pick<Me, 'id'>;
  isViewing: (conversationId: number) => boolean;
}

export function newMessage({ qc, me, isViewing }: CacheTarget, f: Frame<'new_message'>): void {
  const cid = f.conversation_id ?? f.message.conversation_id;
  ingestMessages(qc, me, cid, [f.message], isViewing(cid));
}

export function readReceipt({ qc, me }: CacheTarget, f: Frame<'read_receipt'>): void {
  if (f.reader_id !== me.id) {
    patchMessages(qc, f.conversation_id, (list) => applyReadReceipt(list, f.reader_id, f.read_at));
    return;
  }
  // I read it elsewhere (another tab).
  patchMessages(qc, f.conversation_id, (list) => markOthersRead(list, me.id, f.read_at));
  qc.setQueryData<Conversation[]>(keys.conversations(false), (list) =>
    list?.map((c) => (c.id === f.conversation_id ? { ...c, unread_count: 0 } : c)),
  );
}

export function deliveryReceipt({ qc, me }: CacheTarget, f: Frame<'delivery_receipt'>): void {
  patchMessages(qc, f.conversation_id, (list) => applyDeliveryReceipt(list, me.id, f.up_to_message_id, f.delivered_at));
}

export function unreadCount({ qc }: CacheTarget, f: Frame<'unread_count'>): void {
  qc.setQueryData(keys.unread, { unread_count: f.unread_count });
}

/** The conversation moves from the active list to the archived one (where the chat finds it read-only). */
export function conversationArchived({ qc }: CacheTarget, f: Frame<'conversation_archived'>): void {
  const conv = qc.getQueryData<Conversation[]>(keys.conversations(false))?.find((c) => c.id === f.conversation_id);
  if (conv) {
    const archived = { ...conv, is_archived: true };
    qc.setQueryData<Conversation[]>(keys.conversations(true), (list) =>
      sortConversations([archived, ...(list ?? []).filter((c) => c.id !== f.conversation_id)]),
    );
  }
  qc.setQueryData<Conversation[]>(keys.conversations(false), (list) => list?.filter((c) => c.id !== f.conversation_id));
  removeFromNeedsReply(qc, f.conversation_id);
  void qc.invalidateQueries({ queryKey: keys.allConversations });
  void qc.invalidateQueries({ queryKey: keys.unread });
}

export function messageEdited({ qc }: CacheTarget, f: Frame<'message_edited'>): void {
  applyMessageEdited(qc, f.conversation_id, f.message_id, f.content, f.edited_at);
}

export function messageDeleted({ qc }: CacheTarget, f: Frame<'message_deleted'>): void {
  applyMessageDeleted(qc, f.conversation_id, f.message_id);
}

export function broadcastProgress({ qc }: CacheTarget, f: Frame<'broadcast_progress'>): void {
  if (!f.broadcast) return;
  applyBroadcast(qc, f.broadcast);
  // The trainer's own sockets get no echo of each copy (a broadcast may reach thousands):
  // as it moves on, the lists and the open chat are read again instead.
  if (f.broadcast.sent > 0 && (f.broadcast.state === 'sending' || f.broadcast.state === 'done')) {
    void qc.invalidateQueries({ queryKey: keys.allConversations });
    void qc.invalidateQueries({ queryKey: keys.allMessages });
  }
}

export function scheduledMessage({ qc }: CacheTarget, f: Frame<'scheduled_message'>): void {
  if (f.scheduled) applyScheduled(qc, f.scheduled);
}

/** One frame into the cache. */
export function frameToCache(t: CacheTarget, f: ServerFrame): void {
  switch (f.type) {
    case 'new_message':
      return newMessage(t, f);
    case 'read_receipt':
      return readReceipt(t, f);
    case 'delivery_receipt':
      return deliveryReceipt(t, f);
    case 'unread_count':
      return unreadCount(t, f);
    case 'conversation_archived':
      return conversationArchived(t, f);
    case 'message_edited':
      return messageEdited(t, f);
    case 'message_deleted':
      return messageDeleted(t, f);
    case 'broadcast_progress':
      return broadcastProgress(t, f);
    case 'scheduled_message':
      return scheduledMessage(t, f);
    default:
      return; // typing goes to the typing store; pong, ack, error: nothing (sends go over REST)
  }
}

/**
 * After a (re)connect, or each poll while no socket connects: what was missed. The lists and
 * coaching data are fetched again, each loaded conversation's new messages, and failed sends
 * go again (same client_message_id, so the server de-duplicates).
 */
export async function catchUp({ qc, me }: CacheTarget): Promise<void> {
  void qc.invalidateQueries({ queryKey: keys.allConversations });
  void qc.invalidateQueries({ queryKey: keys.unread });
  // Frames missed meanwhile: scheduled messages sent, broadcast progress.
  void qc.invalidateQueries({ queryKey: keys.allScheduled });
  void qc.invalidateQueries({ queryKey: keys.broadcasts });
  void qc.invalidateQueries({ queryKey: keys.allBroadcastDetails });
  await catchUpMessages(qc, me);
  resendFailed(qc);
}

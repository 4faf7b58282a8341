import type { QueryClient } from '@tanstack/react-query';
import { ApiError, NetworkError } from '../api/client';
import { fetchMessagesAfter, markRead, sendMessage } from '../api/endpoints';
import { closeConversationNotifications } from '../push/push';
import type { ChatMessage, Conversation, Me, Message } from '../api/types';
import { newClientMessageId } from '../lib/ids';
import {
  addLocal,
  applyNewMessageToList,
  lastServerId,
  markOthersRead,
  mergeMessages,
  updateLocal,
  type MessagesState,
} from '../lib/merge';
import { keys } from './keys';
import { isViewing } from './viewing';

let localSeq = 0;

/** Put server messages into a conversation's cache (if loaded) and refresh the list entry. */
export function ingestMessages(qc: QueryClient, me: Pick<Me, 'id'>, conversationId: number, msgs: Message[]): void {
  if (msgs.length === 0) return;
  qc.setQueryData<MessagesState>(keys.messages(conversationId), (s) =>
    s ? { ...s, messages: mergeMessages(s.messages, msgs) } : s,
  );
  const list = qc.getQueryData<Conversation[]>(keys.conversations(false));
  if (!list) return;
  let next: Conversation[] | null = list;
  for (const m of msgs) {
    next = applyNewMessageToList(next, conversationId, m, me.id, isViewing(conversationId));
    if (next === null) break;
  }
  if (next === null) void qc.invalidateQueries({ queryKey: keys.conversations(false) });
  else if (next !== list) qc.setQueryData(keys.conversations(false), next);
}

function errorText(e: unknown): { error: string; retryable: boolean } {
  if (e instanceof NetworkError) return { error: 'Not sent: no connection. Retrying when back online.', retryable: true };
  if (e instanceof ApiError)
    return { error: e.message, retryable: e.status >= 500 || e.status === 429 || e.status === 408 };
  return { error: 'Not sent.', retryable: true };
}

async function post(qc: QueryClient, me: Me, conversationId: number, content: string, cmid: string) {
  try {
    const msg = await sendMessage(conversationId, content, cmid);
    ingestMessages(qc, me, conversationId, [{ ...msg, client_message_id: msg.client_message_id ?? cmid }]);
  } catch (e) {
    const { error, retryable } = errorText(e);
    qc.setQueryData<MessagesState>(keys.messages(conversationId), (s) =>
      s ? { ...s, messages: updateLocal(s.messages, cmid, { status: 'failed', error, retryable }) } : s,
    );
  }
}

/** Optimistic send: shows at once, keyed by client_message_id; marked failed (with retry) on error. */
export function sendChatMessage(qc: QueryClient, me: Me, conversationId: number, content: string): string {
  const cmid = newClientMessageId();
  const local: ChatMessage = {
    id: -++localSeq,
    conversation_id: conversationId,
    sender: { id: me.id, first_name: me.first_name, last_name: me.last_name, profile_image: me.profile_image },
    content,
    is_read: false,
    read_at: null,
    created_at: new Date().toISOString(),
    client_message_id: cmid,
    delivered_at: null,
    local: { status: 'sending' },
  };
  qc.setQueryData<MessagesState>(keys.messages(conversationId), (s) =>
    s ? { ...s, messages: addLocal(s.messages, local) } : { messages: [local], hasMore: false },
  );
  void post(qc, me, conversationId, content, cmid);
  return cmid;
}

/** Send a failed message again with the same client_message_id (the server de-duplicates). */
export function retrySend(qc: QueryClient, me: Me, conversationId: number, cmid: string): void {
  const s = qc.getQueryData<MessagesState>(keys.messages(conversationId));
  const m = s?.messages.find((x) => x.local && x.client_message_id === cmid);
  if (!m || m.local?.status === 'sending') return;
  qc.setQueryData<MessagesState>(keys.messages(conversationId), (st) =>
    st ? { ...st, messages: updateLocal(st.messages, cmid, { status: 'sending' }) } : st,
  );
  void post(qc, me, conversationId, m.content, cmid);
}

/** After a reconnect: fetch what was missed in every loaded conversation, resend failed messages. */
export async function catchUp(qc: QueryClient, me: Me): Promise<void> {
  void qc.invalidateQueries({ queryKey: keys.allConversations });
  void qc.invalidateQueries({ queryKey: keys.unread });
  const entries = qc.getQueriesData<MessagesState>({ queryKey: keys.allMessages });
  await Promise.all(
    entries.map(async ([key, state]) => {
      const id = key[1] as number;
      if (!state) return;
      const after = lastServerId(state.messages);
      if (after !== null) {
        try {
          ingestMessages(qc, me, id, await fetchMessagesAfter(id, after));
        } catch {
          /* next reconnect tries again */
        }
      } else {
        void qc.invalidateQueries({ queryKey: key, exact: true });
      }
      for (const m of state.messages) {
        if (m.local?.status === 'failed' && m.local.retryable && m.client_message_id) {
          retrySend(qc, me, id, m.client_message_id);
        }
      }
    }),
  );
}

const reading = new Set<number>();

/** Mark the other party's messages read (POST read/), then clear the local unread counts. */
export async function markConversationRead(qc: QueryClient, me: Me, conversationId: number): Promise<void> {
  if (reading.has(conversationId)) return;
  reading.add(conversationId);
  try {
    const res = await markRead(conversationId);
    void closeConversationNotifications(conversationId);
    const readAt = res?.read_at ?? new Date().toISOString();
    qc.setQueryData<MessagesState>(keys.messages(conversationId), (s) =>
      s ? { ...s, messages: markOthersRead(s.messages, me.id, readAt) } : s,
    );
    let cleared = 0;
    qc.setQueryData<Conversation[]>(keys.conversations(false), (list) =>
      list?.map((c) => {
        if (c.id !== conversationId || c.unread_count === 0) return c;
        cleared = c.unread_count;
        return { ...c, unread_count: 0 };
      }),
    );
    if (cleared) {
      qc.setQueryData<{ unread_count: number }>(keys.unread, (u) =>
        u ? { unread_count: Math.max(0, u.unread_count - cleared) } : u,
      );
    }
    void qc.invalidateQueries({ queryKey: keys.unread });
  } catch {
    /* tried again on the next change */
  } finally {
    reading.delete(conversationId);
  }
}

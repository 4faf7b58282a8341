import type { InfiniteData, QueryClient } from '@tanstack/react-query';
import { ApiError, NetworkError } from '../api/client';
import {
  deleteMessage,
  editMessage,
  fetchMessagesAfter,
  fetchMessagesAround,
  fetchMessagesNewer,
  markRead,
  sendMessage,
} from '../api/endpoints';
import { closeConversationNotifications } from '../push/push';
import type { ChatMessage, Conversation, Me, Message, PendingImage, SearchPage } from '../api/types';
import { newClientMessageId } from '../lib/ids';
import { objectUrl, revokeUrl } from '../lib/images';
import {
  addLocal,
  applyDeletion,
  applyEdit,
  applyNewMessageToList,
  lastServerId,
  markOthersRead,
  mergeIntoState,
  mergeMessages,
  openWindow,
  patchMessage,
  previewOf,
  removeLocal,
  replaceMessage,
  setListPreview,
  tombstone,
  updateLocal,
  type MessagesState,
} from '../lib/merge';
import { applyMessagesToNeedsReply } from './coaching';
import { keys } from './keys';
import { isViewing } from './viewing';

let localSeq = 0;

/** Put server messages into a conversation's cache (if loaded) and refresh the list entry. */
export function ingestMessages(qc: QueryClient, me: Pick<Me, 'id'>, conversationId: number, msgs: Message[]): void {
  if (msgs.length === 0) return;
  qc.setQueryData<MessagesState>(keys.messages(conversationId), (s) => (s ? mergeIntoState(s, msgs) : s));
  // Before the active list moves: its last_message_at tells an old copy from a new message.
  applyMessagesToNeedsReply(qc, me, conversationId, msgs);
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

function setLocal(qc: QueryClient, conversationId: number, cmid: string, local: ChatMessage['local']) {
  qc.setQueryData<MessagesState>(keys.messages(conversationId), (s) =>
    s ? { ...s, messages: updateLocal(s.messages, cmid, local) } : s,
  );
}

async function post(qc: QueryClient, me: Me, conversationId: number, content: string, cmid: string, upload?: PendingImage) {
  let shown = -1;
  const onProgress = (fraction: number) => {
    // One cache update per whole percent at most.
    const pct = Math.floor(fraction * 100);
    if (pct === shown) return;
    shown = pct;
    setLocal(qc, conversationId, cmid, { status: 'sending', progress: fraction, upload });
  };
  // The pending bubble's blob: URL, freed once the server's copy replaces it.
  const blob = localOf(qc, conversationId, cmid)?.image;
  try {
    const msg = await sendMessage(conversationId, content, cmid, upload ? { file: upload.file, onProgress } : undefined);
    ingestMessages(qc, me, conversationId, [{ ...msg, client_message_id: msg.client_message_id ?? cmid }]);
    revokeUrl(blob);
  } catch (e) {
    const { error, retryable } = errorText(e);
    setLocal(qc, conversationId, cmid, { status: 'failed', error, retryable, upload });
  }
}

function localOf(qc: QueryClient, conversationId: number, cmid: string): ChatMessage | undefined {
  return qc
    .getQueryData<MessagesState>(keys.messages(conversationId))
    ?.messages.find((m) => m.local && m.client_message_id === cmid);
}

/**
 * Show the newest messages again (leave a window opened around an older message): keep only
 * local messages and fetch the newest page.
 */
export function resetToLatest(qc: QueryClient, conversationId: number): void {
  qc.setQueryData<MessagesState>(keys.messages(conversationId), (s) =>
    s ? { messages: s.messages.filter((m) => m.local), hasMore: false, hasNewer: false } : s,
  );
  void qc.invalidateQueries({ queryKey: keys.messages(conversationId), exact: true });
}

/**
 * Optimistic send: shows at once, keyed by client_message_id; marked failed (with retry) on
 * error. With a photo, the pending bubble shows it (from a blob: URL) and the upload progress.
 */
export function sendChatMessage(
  qc: QueryClient,
  me: Me,
  conversationId: number,
  content: string,
  image?: PendingImage,
): string {
  const cmid = newClientMessageId();
  const blob = image ? objectUrl(image.file) : null;
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
    image: blob,
    thumbnail: blob,
    image_width: image?.width ?? null,
    image_height: image?.height ?? null,
    edited_at: null,
    is_deleted: false,
    local: { status: 'sending', progress: image ? 0 : undefined, upload: image },
  };
  // Writing from a window around an older message: back to the newest first.
  if (qc.getQueryData<MessagesState>(keys.messages(conversationId))?.hasNewer) resetToLatest(qc, conversationId);
  qc.setQueryData<MessagesState>(keys.messages(conversationId), (s) =>
    s ? { ...s, messages: addLocal(s.messages, local) } : { messages: [local], hasMore: false },
  );
  void post(qc, me, conversationId, content, cmid, image);
  return cmid;
}

/** Send a failed message again with the same client_message_id (the server de-duplicates). */
export function retrySend(qc: QueryClient, me: Me, conversationId: number, cmid: string): void {
  const m = localOf(qc, conversationId, cmid);
  if (!m || m.local?.status === 'sending') return;
  const upload = m.local?.upload;
  setLocal(qc, conversationId, cmid, { status: 'sending', progress: upload ? 0 : undefined, upload });
  void post(qc, me, conversationId, m.content, cmid, upload);
}

/** Give up on a message that was not sent. */
export function discardLocal(qc: QueryClient, conversationId: number, cmid: string): void {
  revokeUrl(localOf(qc, conversationId, cmid)?.image);
  qc.setQueryData<MessagesState>(keys.messages(conversationId), (s) =>
    s ? { ...s, messages: removeLocal(s.messages, cmid) } : s,
  );
}

/** Open the conversation's messages around one (a search result), joined to what is loaded when they meet. */
export async function loadAround(qc: QueryClient, conversationId: number, messageId: number): Promise<void> {
  const page = await fetchMessagesAround(conversationId, messageId);
  qc.setQueryData<MessagesState>(keys.messages(conversationId), (s) => openWindow(s, page));
}

/** In a window around an older message: the next page of newer messages. */
export async function loadNewer(qc: QueryClient, me: Pick<Me, 'id'>, conversationId: number): Promise<void> {
  const s = qc.getQueryData<MessagesState>(keys.messages(conversationId));
  const after = s ? lastServerId(s.messages) : null;
  if (!s?.hasNewer || after === null) return;
  const page = await fetchMessagesNewer(conversationId, after);
  qc.setQueryData<MessagesState>(keys.messages(conversationId), (cur) =>
    cur ? { ...cur, messages: mergeMessages(cur.messages, page.messages), hasNewer: page.hasMore } : cur,
  );
  if (!page.hasMore) {
    // At the live end again: anything that came in while the page was on its way.
    const cur = qc.getQueryData<MessagesState>(keys.messages(conversationId));
    const last = cur ? lastServerId(cur.messages) : null;
    if (last !== null) ingestMessages(qc, me, conversationId, await fetchMessagesAfter(conversationId, last));
  }
}

// ---------- edit and delete ----------

function findMessage(qc: QueryClient, conversationId: number, messageId: number): ChatMessage | undefined {
  return qc
    .getQueryData<MessagesState>(keys.messages(conversationId))
    ?.messages.find((m) => !m.local && m.id === messageId);
}

function patchCached(qc: QueryClient, conversationId: number, change: (list: ChatMessage[]) => ChatMessage[]) {
  qc.setQueryData<MessagesState>(keys.messages(conversationId), (s) => {
    if (!s) return s;
    const messages = change(s.messages);
    return messages === s.messages ? s : { ...s, messages };
  });
}

/**
 * Whether `messageId` is the newest message of the conversation, as far as the cache knows:
 * null when it cannot tell (not loaded, or a window that does not reach the end).
 */
function isLatest(qc: QueryClient, conversationId: number, messageId: number): boolean | null {
  const s = qc.getQueryData<MessagesState>(keys.messages(conversationId));
  if (!s || s.hasNewer) return null;
  const last = lastServerId(s.messages);
  if (last === null || messageId > last) return null;
  return messageId === last;
}

/** A changed message: the list previews follow when it is the latest (asked of the server when unsure). */
function refreshPreview(qc: QueryClient, conversationId: number, messageId: number) {
  const latest = isLatest(qc, conversationId, messageId);
  const m = findMessage(qc, conversationId, messageId);
  if (latest === null || !m) {
    void qc.invalidateQueries({ queryKey: keys.allConversations });
  } else if (latest) {
    const preview = previewOf(m);
    for (const archived of [false, true]) {
      qc.setQueryData<Conversation[]>(keys.conversations(archived), (list) =>
        list ? setListPreview(list, conversationId, preview) : list,
      );
    }
  }
}

type SearchData = InfiniteData<SearchPage, number>;

/** Search results show message text: a deleted message leaves them, an edit makes them stale. */
function refreshSearch(qc: QueryClient, messageId: number, deleted: boolean) {
  if (deleted) {
    qc.setQueriesData<SearchData>({ queryKey: keys.allSearches }, (d) =>
      d
        ? {
            ...d,
            pages: d.pages.map((p) => {
              const results = p.results.filter((r) => r.message_id !== messageId);
              return results.length === p.results.length ? p : { ...p, results, count: Math.max(0, p.count - 1) };
            }),
          }
        : d,
    );
  } else {
    void qc.invalidateQueries({ queryKey: keys.allSearches, refetchType: 'none' });
  }
}

/** A `message_edited` event (or the server's answer to our edit). */
export function applyMessageEdited(qc: QueryClient, conversationId: number, messageId: number, content: string, editedAt: string) {
  patchCached(qc, conversationId, (list) => applyEdit(list, messageId, content, editedAt));
  refreshPreview(qc, conversationId, messageId);
  refreshSearch(qc, messageId, false);
}

/** A `message_deleted` event (or the server's answer to our delete). */
export function applyMessageDeleted(qc: QueryClient, conversationId: number, messageId: number) {
  patchCached(qc, conversationId, (list) => applyDeletion(list, messageId));
  refreshPreview(qc, conversationId, messageId);
  refreshSearch(qc, messageId, true);
}

/** An error of an edit or delete as the reader should see it. */
export function actionErrorText(e: unknown, what: 'edit' | 'delete'): string {
  if (e instanceof ApiError || e instanceof NetworkError) return e.message;
  return what === 'edit' ? 'Could not edit the message.' : 'Could not delete the message.';
}

/**
 * Edit my message: the new text shows at once ("edited"); on refusal the old text comes back
 * and the promise rejects with the server's reason.
 */
export async function editChatMessage(qc: QueryClient, conversationId: number, messageId: number, content: string): Promise<void> {
  const before = findMessage(qc, conversationId, messageId);
  if (!before || before.is_deleted) return;
  const optimistic = { content, edited_at: new Date().toISOString() };
  patchCached(qc, conversationId, (list) => patchMessage(list, messageId, (m) => ({ ...m, ...optimistic })));
  try {
    const saved = await editMessage(conversationId, messageId, content);
    patchCached(qc, conversationId, (list) => replaceMessage(list, saved));
    refreshPreview(qc, conversationId, messageId);
    refreshSearch(qc, messageId, false);
  } catch (e) {
    // Back to the text before, unless something newer (another edit, a deletion) came meanwhile.
    patchCached(qc, conversationId, (list) =>
      patchMessage(list, messageId, (m) =>
        m.is_deleted || m.content !== optimistic.content || m.edited_at !== optimistic.edited_at
          ? m
          : { ...m, content: before.content, edited_at: before.edited_at ?? null },
      ),
    );
    throw new Error(actionErrorText(e, 'edit'), { cause: e });
  }
}

/** Delete my message: the tombstone shows at once; on refusal the message comes back. */
export async function deleteChatMessage(qc: QueryClient, conversationId: number, messageId: number): Promise<void> {
  const before = findMessage(qc, conversationId, messageId);
  if (!before || before.is_deleted) return;
  patchCached(qc, conversationId, (list) => patchMessage(list, messageId, tombstone));
  try {
    await deleteMessage(conversationId, messageId);
    applyMessageDeleted(qc, conversationId, messageId);
  } catch (e) {
    // 404: it is gone already (deleted from another tab).
    if (e instanceof ApiError && e.status === 404) return applyMessageDeleted(qc, conversationId, messageId);
    patchCached(qc, conversationId, (list) => patchMessage(list, messageId, () => before));
    throw new Error(actionErrorText(e, 'delete'), { cause: e });
  }
}

/** After a reconnect: fetch what was missed in every loaded conversation, resend failed messages. */
export async function catchUp(qc: QueryClient, me: Me): Promise<void> {
  void qc.invalidateQueries({ queryKey: keys.allConversations });
  void qc.invalidateQueries({ queryKey: keys.unread });
  // Frames missed meanwhile: scheduled messages sent, broadcast progress.
  void qc.invalidateQueries({ queryKey: keys.allScheduled });
  void qc.invalidateQueries({ queryKey: keys.broadcasts });
  void qc.invalidateQueries({ queryKey: keys.allBroadcastDetails });
  const entries = qc.getQueriesData<MessagesState>({ queryKey: keys.allMessages });
  await Promise.all(
    entries.map(async ([key, state]) => {
      const id = key[1] as number;
      if (!state) return;
      const after = lastServerId(state.messages);
      // (A window around an older message loads newer ones as the reader scrolls down.)
      if (state.hasNewer) {
        /* nothing to catch up */
      } else if (after !== null) {
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

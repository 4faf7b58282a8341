// The chat's writes as TanStack mutations: send, edit, delete, mark read, start a conversation.
// Each shows its effect at once (onMutate: cancel the conversation's fetches, snapshot, apply),
// puts the server's answer in place (onSuccess) and, where that is the right thing to show,
// goes back on a refusal (onError).
//
// Send is registered as mutation defaults on the QueryClient (registerMessageMutations), so a
// send restored from storage after a reload finds its mutationFn and cache updates; its
// variables are plain data (and an optional File), its client_message_id made before `mutate`
// so a retry or a resumed send reuses it, and one conversation's sends run one at a time, in
// order (scope `send:<conversation id>`). Offline, TanStack pauses it (networkMode 'online')
// and sends it when the connection returns.
import {
  MutationObserver,
  onlineManager,
  useMutation,
  useMutationState,
  useQueryClient,
  type QueryClient,
} from '@tanstack/react-query';
import { useCallback, useMemo, useSyncExternalStore } from 'react';
import { ApiError, NetworkError } from '../api/client';
import { deleteMessage, editMessage, markRead, sendMessage, startConversation } from '../api/endpoints';
import type { ChatMessage, Conversation, Me, Message } from '../api/types';
import { newClientMessageId } from '../lib/ids';
import { objectUrl, revokeUrl } from '../lib/images';
import { addLocalToPages, markOthersRead, mergeIntoPages, patchMessage, removeLocal, replaceMessage, tombstone, updateLocal } from '../lib/merge';
import { closeConversationNotifications } from '../push/push';
import { keys, mutationKeys } from './keys';
import {
  applyMessageDeleted,
  applyMessageEdited,
  findMessage,
  ingestMessages,
  patchMessages,
  updateMessages,
  type MessagesData,
} from './messages';

// ---------- send ----------

/** What a send needs: plain data (it may be stored while offline) and the photo's File. */
export interface SendVariables {
  conversationId: number;
  content: string;
  clientMessageId: string;
  createdAt: string;
  image?: { file: File; width?: number; height?: number };
}

/** A new send's variables: the client_message_id is made here, once, before `mutate`. */
export function newSend(conversationId: number, content: string, image?: SendVariables['image']): SendVariables {
  return { conversationId, content, clientMessageId: newClientMessageId(), createdAt: new Date().toISOString(), image };
}

/** The id a local message shows under until the server's copy replaces it: from its client_message_id. */
export function localMessageId(clientMessageId: string): number {
  let h = 0;
  for (let i = 0; i < clientMessageId.length; i++) h = (Math.imul(h, 31) + clientMessageId.charCodeAt(i)) | 0;
  return -1 - (h >>> 0);
}

function sendErrorText(e: unknown): { error: string; retryable: boolean } {
  if (e instanceof NetworkError) return { error: 'Not sent: no connection. Retrying when back online.', retryable: true };
  if (e instanceof ApiError)
    return { error: e.message, retryable: e.status >= 500 || e.status === 429 || e.status === 408 };
  return { error: 'Not sent.', retryable: true };
}

const me = (qc: QueryClient) => qc.getQueryData<Me>(keys.me);

function localOf(qc: QueryClient, conversationId: number, cmid: string): ChatMessage | undefined {
  for (const [, d] of qc.getQueriesData<MessagesData>({ queryKey: keys.conversationMessages(conversationId) })) {
    const m = d?.pages.flatMap((p) => p.messages).find((x) => x.local && x.client_message_id === cmid);
    if (m) return m;
  }
  return undefined;
}

function setLocal(qc: QueryClient, conversationId: number, cmid: string, local: ChatMessage['local']) {
  patchMessages(qc, conversationId, (list) => updateLocal(list, cmid, local));
}

interface SendContext {
  /** The pending bubble's blob: URL of the photo, freed once the server's copy replaces it. */
  blob: string | null;
}

/**
 * The pending bubble: on the newest messages of the conversation (fetched when they are not
 * loaded). Idempotent: a retry or a resumed send finds its bubble and only marks it sending.
 */
export async function showPendingSend(qc: QueryClient, v: SendVariables): Promise<SendContext> {
  await qc.cancelQueries({ queryKey: keys.conversationMessages(v.conversationId) });
  const existing = localOf(qc, v.conversationId, v.clientMessageId);
  const blob = existing ? (existing.image ?? null) : v.image ? objectUrl(v.image.file) : null;
  const user = me(qc);
  const pending: ChatMessage = {
    id: localMessageId(v.clientMessageId),
    conversation_id: v.conversationId,
    sender: { id: user?.id ?? 0, first_name: user?.first_name ?? '', last_name: user?.last_name ?? '', profile_image: user?.profile_image ?? null },
    content: v.content,
    is_read: false,
    read_at: null,
    created_at: v.createdAt,
    client_message_id: v.clientMessageId,
    delivered_at: null,
    image: blob,
    thumbnail: blob,
    image_width: v.image?.width ?? null,
    image_height: v.image?.height ?? null,
    edited_at: null,
    is_deleted: false,
    local: { status: 'sending', progress: v.image ? 0 : undefined, upload: v.image },
  };
  const latest = keys.messages(v.conversationId);
  if (qc.getQueryData<MessagesData>(latest)) {
    qc.setQueryData<MessagesData>(latest, (d) => (d ? addLocalToPages(d, pending) : d));
  } else {
    // Not loaded (or only a window around an older message): the newest page comes, and keeps it.
    qc.setQueryData<MessagesData>(latest, {
      pages: [{ messages: [pending], hasOlder: true, hasNewer: false }],
      pageParams: [{ latest: true }],
    });
    void qc.invalidateQueries({ queryKey: latest, exact: true });
  }
  return { blob };
}

/** Register the send mutation's function and cache updates (where the QueryClient is made). */
export function registerMessageMutations(qc: QueryClient): void {
  qc.setMutationDefaults<Message, unknown, SendVariables, SendContext>(mutationKeys.send, {
    networkMode: 'online',
    mutationFn: (v) => {
      let shown = -1;
      const onProgress = (fraction: number) => {
        // One cache update per whole percent at most.
        const pct = Math.floor(fraction * 100);
        if (pct === shown) return;
        shown = pct;
        setLocal(qc, v.conversationId, v.clientMessageId, { status: 'sending', progress: fraction, upload: v.image });
      };
      return sendMessage(v.conversationId, v.content, v.clientMessageId, v.image ? { file: v.image.file, onProgress } : undefined);
    },
    onMutate: (v) => showPendingSend(qc, v),
    onSuccess: (msg, v, ctx) => {
      const user = me(qc);
      const confirmed = { ...msg, client_message_id: msg.client_message_id ?? v.clientMessageId };
      if (user) ingestMessages(qc, user, v.conversationId, [confirmed]);
      else updateMessages(qc, v.conversationId, (d) => mergeIntoPages(d, [confirmed]));
      revokeUrl(ctx?.blob ?? null);
    },
    onError: (e, v) => {
      // The bubble stays, marked failed: Retry (same client_message_id) or Discard.
      const { error, retryable } = sendErrorText(e);
      setLocal(qc, v.conversationId, v.clientMessageId, { status: 'failed', error, retryable, upload: v.image });
    },
  });
}

/** The send variables of a local message (for Retry, and for resending after a reconnect). */
export function sendOf(m: ChatMessage): SendVariables | null {
  if (!m.local || !m.client_message_id) return null;
  return {
    conversationId: m.conversation_id,
    content: m.content,
    clientMessageId: m.client_message_id,
    createdAt: m.created_at,
    image: m.local.upload,
  };
}

const sendScope = (conversationId: number) => ({ id: `send:${conversationId}` });

/** Send in a conversation; `retry` sends a failed message again, `discard` gives up on it. */
export function useSendMessage(conversationId: number) {
  const qc = useQueryClient();
  const m = useMutation<Message, unknown, SendVariables, SendContext>({
    mutationKey: mutationKeys.send,
    scope: sendScope(conversationId),
  });
  const { mutate } = m;
  // Stable functions: the message bubbles are memoised.
  return useMemo(
    () => ({
      send: (content: string, image?: SendVariables['image']) => mutate(newSend(conversationId, content, image)),
      retry: (cmid: string) => {
        const local = localOf(qc, conversationId, cmid);
        const v = local?.local?.status === 'failed' ? sendOf(local) : null;
        if (v) mutate(v);
      },
      discard: (cmid: string) => {
        revokeUrl(localOf(qc, conversationId, cmid)?.image ?? null);
        patchMessages(qc, conversationId, (list) => removeLocal(list, cmid));
      },
    }),
    [qc, conversationId, mutate],
  );
}

/**
 * The client_message_ids of the sends TanStack holds back until the browser is online again
 * (their bubbles read "Waiting for connection…" rather than "Sending…").
 */
export function useWaitingSends(): ReadonlySet<string> {
  const online = useSyncExternalStore((changed) => onlineManager.subscribe(changed), () => onlineManager.isOnline());
  const paused = useMutationState({
    filters: { mutationKey: mutationKeys.send, status: 'pending', predicate: (m) => m.state.isPaused },
    select: (m) => (m.state.variables as SendVariables | undefined)?.clientMessageId ?? '',
  });
  return online ? NONE : new Set(paused);
}
const NONE: ReadonlySet<string> = new Set();

/** After a reconnect: send again the failed messages that may go through now (same client_message_id). */
export function resendFailed(qc: QueryClient): void {
  for (const [, d] of qc.getQueriesData<MessagesData>({ queryKey: keys.allMessages })) {
    for (const m of d?.pages.flatMap((p) => p.messages) ?? []) {
      const v = m.local?.status === 'failed' && m.local.retryable ? sendOf(m) : null;
      if (!v) continue;
      const send = new MutationObserver<Message, unknown, SendVariables, SendContext>(qc, {
        mutationKey: mutationKeys.send,
        scope: sendScope(v.conversationId),
      });
      send.mutate(v).catch(() => {
        /* shown on the bubble */
      });
    }
  }
}

// ---------- edit and delete ----------

/** An error of an edit or delete as the reader should see it. */
function actionError(e: unknown, what: 'edit' | 'delete'): Error {
  const text =
    e instanceof ApiError || e instanceof NetworkError
      ? e.message
      : what === 'edit'
        ? 'Could not edit the message.'
        : 'Could not delete the message.';
  return new Error(text, { cause: e });
}

interface EditVariables {
  conversationId: number;
  messageId: number;
  content: string;
}

/**
 * Edit my message: the new text shows at once ("edited"); on refusal the old text comes back
 * and `edit` rejects with the server's reason.
 */
export function useEditMessage() {
  const qc = useQueryClient();
  const m = useMutation({
    mutationKey: mutationKeys.edit,
    mutationFn: (v: EditVariables) => editMessage(v.conversationId, v.messageId, v.content),
    onMutate: async (v) => {
      await qc.cancelQueries({ queryKey: keys.conversationMessages(v.conversationId) });
      const before = findMessage(qc, v.conversationId, v.messageId);
      const optimistic = { content: v.content, edited_at: new Date().toISOString() };
      patchMessages(qc, v.conversationId, (list) => patchMessage(list, v.messageId, (x) => ({ ...x, ...optimistic })));
      return { before, optimistic };
    },
    onError: (_e, v, ctx) => {
      const before = ctx?.before;
      if (!before) return;
      // Back to the text before, unless something newer (another edit, a deletion) came meanwhile.
      patchMessages(qc, v.conversationId, (list) =>
        patchMessage(list, v.messageId, (x) =>
          x.is_deleted || x.content !== ctx.optimistic.content || x.edited_at !== ctx.optimistic.edited_at
            ? x
            : { ...x, content: before.content, edited_at: before.edited_at ?? null },
        ),
      );
    },
    onSuccess: (saved, v) => {
      patchMessages(qc, v.conversationId, (list) => replaceMessage(list, saved));
      applyMessageEdited(qc, v.conversationId, v.messageId, saved.content, saved.edited_at ?? new Date().toISOString());
    },
  });
  const { mutateAsync } = m;
  return useCallback(
    async (conversationId: number, message: ChatMessage, content: string): Promise<void> => {
      if (message.is_deleted) return;
      await mutateAsync({ conversationId, messageId: message.id, content }).catch((e: unknown) => {
        throw actionError(e, 'edit');
      });
    },
    [mutateAsync],
  );
}

interface DeleteVariables {
  conversationId: number;
  messageId: number;
}

/** Delete my message: the tombstone shows at once; on refusal the message comes back. */
export function useDeleteMessage() {
  const qc = useQueryClient();
  const m = useMutation({
    mutationKey: mutationKeys.delete,
    mutationFn: async (v: DeleteVariables) => {
      try {
        await deleteMessage(v.conversationId, v.messageId);
      } catch (e) {
        // 404: it is gone already (deleted from another tab).
        if (!(e instanceof ApiError && e.status === 404)) throw e;
      }
    },
    onMutate: async (v) => {
      await qc.cancelQueries({ queryKey: keys.conversationMessages(v.conversationId) });
      const before = findMessage(qc, v.conversationId, v.messageId);
      patchMessages(qc, v.conversationId, (list) => patchMessage(list, v.messageId, tombstone));
      return { before };
    },
    onError: (_e, v, ctx) => {
      const before = ctx?.before;
      if (before) patchMessages(qc, v.conversationId, (list) => patchMessage(list, v.messageId, () => before));
    },
    onSuccess: (_r, v) => applyMessageDeleted(qc, v.conversationId, v.messageId),
  });
  const { mutateAsync } = m;
  return useCallback(
    async (conversationId: number, message: ChatMessage): Promise<void> => {
      if (message.is_deleted) return;
      await mutateAsync({ conversationId, messageId: message.id }).catch((e: unknown) => {
        throw actionError(e, 'delete');
      });
    },
    [mutateAsync],
  );
}

// ---------- mark read ----------

/**
 * Mark the other party's messages read (POST read/): the unread counts clear at once; the
 * messages take the server's read time. A refusal fetches the counts again. While one is on
 * its way for a conversation, `markRead` does not send another.
 */
export function useMarkRead(conversationId: number) {
  const qc = useQueryClient();
  const mutationKey = mutationKeys.read(conversationId);
  const m = useMutation({
    mutationKey,
    mutationFn: () => markRead(conversationId),
    onMutate: async () => {
      await qc.cancelQueries({ queryKey: keys.unread });
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
    },
    onSuccess: (res) => {
      void closeConversationNotifications(conversationId);
      const user = me(qc);
      const readAt = res?.read_at ?? new Date().toISOString();
      if (user) patchMessages(qc, conversationId, (list) => markOthersRead(list, user.id, readAt));
    },
    onError: () => {
      // The counts as the server has them.
      void qc.invalidateQueries({ queryKey: keys.conversations(false) });
    },
    onSettled: () => qc.invalidateQueries({ queryKey: keys.unread }),
  });
  return () => {
    if (qc.isMutating({ mutationKey }) === 0) m.mutate();
  };
}

// ---------- start a conversation ----------

interface StartVariables {
  traineeId: number;
  content: string;
  clientMessageId: string;
  image?: { file: File; width?: number; height?: number };
  onProgress?: (fraction: number) => void;
}

/** The trainer's first message to a trainee: it makes the conversation. */
export function useStartConversation() {
  const qc = useQueryClient();
  return useMutation({
    mutationKey: mutationKeys.startConversation,
    mutationFn: (v: StartVariables) =>
      startConversation(v.traineeId, v.content, v.clientMessageId, v.image ? { file: v.image.file, onProgress: v.onProgress } : undefined),
    onSuccess: async (res) => {
      if (res.is_new_conversation) {
        qc.setQueryData<MessagesData>(keys.messages(res.conversation_id), {
          pages: [{ messages: [res.message], hasOlder: false, hasNewer: false }],
          pageParams: [{ latest: true }],
        });
      }
      await qc.invalidateQueries({ queryKey: keys.allConversations });
    },
  });
}


// A conversation's history as a TanStack infinite query, paged both ways, and the cache
// updates that put server messages (answers, socket frames, catch-up) into it.
//
// One query per conversation and anchor: `['messages', id, 'latest']` opens on the newest
// messages, `['messages', id, { around }]` on a search result. Pages are oldest first:
// fetchPreviousPage loads older messages (`?before=`), fetchNextPage newer ones (`?after=`).
import {
  useInfiniteQuery,
  useQueryClient,
  type InfiniteData,
  type QueryClient,
  type QueryKey,
} from '@tanstack/react-query';
import { ApiError } from '../api/client';
import {
  fetchLatestMessages,
  fetchMessagesAfter,
  fetchMessagesAround,
  fetchMessagesBefore,
  fetchMessagesNewer,
} from '../api/endpoints';
import type { ChatMessage, Conversation, Me, Message, SearchPage } from '../api/types';
import {
  applyDeletion,
  applyEdit,
  applyNewMessageToList,
  atLiveEnd,
  firstServerId,
  flattenPages,
  lastServerId,
  mapPages,
  mergeIntoPages,
  previewOf,
  reconcilePage,
  setListPreview,
  type MessagesCursor,
  type MessagesData,
  type MessagesPage,
} from '../lib/merge';
import { applyMessagesToNeedsReply } from './coaching';
import { keys } from './keys';

export type { MessagesData };

/** The chat's messages query: the newest page first, or around `anchor` (a message id). */
export function messagesQueryOptions(qc: QueryClient, conversationId: number, anchor: number | null) {
  const queryKey = keys.messages(conversationId, anchor);
  const initialPageParam: MessagesCursor = anchor == null ? { latest: true } : { around: anchor };
  return {
    queryKey,
    initialPageParam,
    queryFn: ({ pageParam }: { pageParam: MessagesCursor }) => fetchPage(qc, conversationId, queryKey, pageParam),
    getPreviousPageParam: (first: MessagesPage, all: MessagesPage[]): MessagesCursor | undefined => {
      const before = first.hasOlder ? firstServerId(all.flatMap((p) => p.messages)) : null;
      return before === null ? undefined : { before };
    },
    getNextPageParam: (last: MessagesPage, all: MessagesPage[]): MessagesCursor | undefined => {
      const after = last.hasNewer ? lastServerId(all.flatMap((p) => p.messages)) : null;
      return after === null ? undefined : { after };
    },
    // Live updates come from the socket; a reconnect catches up (catchUp).
    staleTime: Infinity,
    retry: (n: number, e: Error) => n < 2 && !(e instanceof ApiError && e.status < 500),
  };
}

async function fetchPage(qc: QueryClient, id: number, queryKey: QueryKey, cursor: MessagesCursor): Promise<MessagesPage> {
  let page: { messages: Message[]; hasOlder: boolean; hasNewer: boolean };
  if ('latest' in cursor) {
    const p = await fetchLatestMessages(id);
    page = { messages: p.messages, hasOlder: p.hasMore, hasNewer: false };
  } else if ('around' in cursor) {
    page = await fetchMessagesAround(id, cursor.around);
  } else if ('before' in cursor) {
    const p = await fetchMessagesBefore(id, cursor.before);
    page = { messages: p.messages, hasOlder: p.hasMore, hasNewer: true };
  } else {
    const p = await fetchMessagesNewer(id, cursor.after);
    page = { messages: p.messages, hasOlder: true, hasNewer: p.hasMore };
    if (!p.hasMore) {
      // At the live end again: anything that came in (and was left out) while the page was on its way.
      const last = lastServerId(p.messages) ?? cursor.after;
      page.messages = [...p.messages, ...(await fetchMessagesAfter(id, last))];
    }
  }
  const cached = qc.getQueryData<MessagesData>(queryKey);
  return { ...page, messages: reconcilePage(cached ? flattenPages(cached) : [], page.messages, !page.hasNewer) };
}

/** The messages of one conversation, opened on the newest or around `anchor`; flattened for the list. */
export function useMessages(conversationId: number, anchor: number | null, enabled = true) {
  const qc = useQueryClient();
  return useInfiniteQuery({
    ...messagesQueryOptions(qc, conversationId, anchor),
    enabled,
    select: selectMessages,
  });
}

/** What the chat shows of the pages. */
export interface ChatHistory {
  /** Server messages by id, then local ones in send order. */
  messages: ChatMessage[];
  hasOlder: boolean;
  /** The pages are a window that does not reach the newest message. */
  hasNewer: boolean;
}

function selectMessages(data: InfiniteData<MessagesPage, MessagesCursor>): ChatHistory {
  return {
    messages: flattenPages(data),
    hasOlder: data.pages[0]?.hasOlder ?? false,
    hasNewer: !atLiveEnd(data),
  };
}

/** Whether the loaded messages of `conversationId` (newest or around `anchor`) hold message `id`. */
export function hasLoaded(qc: QueryClient, conversationId: number, anchor: number | null, id: number): boolean {
  const d = qc.getQueryData<MessagesData>(keys.messages(conversationId, anchor));
  return !!d?.pages.some((p) => p.messages.some((m) => !m.local && m.id === id));
}

// ---------- writing into the cache ----------

/** Change the cached messages of a conversation (every anchor). */
export function updateMessages(qc: QueryClient, conversationId: number, change: (data: MessagesData) => MessagesData): void {
  qc.setQueriesData<MessagesData>({ queryKey: keys.conversationMessages(conversationId) }, (d) => (d ? change(d) : d));
}

/** Change each cached message list of a conversation (receipts, edits, local states). */
export function patchMessages(qc: QueryClient, conversationId: number, change: (list: ChatMessage[]) => ChatMessage[]): void {
  updateMessages(qc, conversationId, (d) => mapPages(d, change));
}

/** A cached message of the conversation, by id. */
export function findMessage(qc: QueryClient, conversationId: number, messageId: number): ChatMessage | undefined {
  for (const [, d] of qc.getQueriesData<MessagesData>({ queryKey: keys.conversationMessages(conversationId) })) {
    const m = d?.pages.flatMap((p) => p.messages).find((x) => !x.local && x.id === messageId);
    if (m) return m;
  }
  return undefined;
}

/**
 * Put server messages into a conversation's cache (if loaded) and refresh the list entry;
 * `viewing`: the reader has the conversation in view (the other party's messages count no unread).
 */
export function ingestMessages(
  qc: QueryClient,
  me: Pick<Me, 'id'>,
  conversationId: number,
  msgs: Message[],
  viewing = false,
): void {
  if (msgs.length === 0) return;
  updateMessages(qc, conversationId, (d) => mergeIntoPages(d, msgs));
  // Before the active list moves: its last_message_at tells an old copy from a new message.
  applyMessagesToNeedsReply(qc, me, conversationId, msgs);
  const list = qc.getQueryData<Conversation[]>(keys.conversations(false));
  if (!list) return;
  let next: Conversation[] | null = list;
  for (const m of msgs) {
    next = applyNewMessageToList(next, conversationId, m, me.id, viewing);
    if (next === null) break;
  }
  if (next === null) void qc.invalidateQueries({ queryKey: keys.conversations(false) });
  else if (next !== list) qc.setQueryData(keys.conversations(false), next);
}

/**
 * Whether `messageId` is the newest message of the conversation, as far as the cache knows:
 * null when it cannot tell (nothing loaded that reaches the end).
 */
function isLatest(qc: QueryClient, conversationId: number, messageId: number): boolean | null {
  const d = qc.getQueryData<MessagesData>(keys.messages(conversationId, null));
  if (!d || !atLiveEnd(d)) return null;
  const last = lastServerId(flattenPages(d));
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

/** A message edited (a `message_edited` frame, or the server's answer to our edit). */
export function applyMessageEdited(qc: QueryClient, conversationId: number, messageId: number, content: string, editedAt: string) {
  patchMessages(qc, conversationId, (list) => applyEdit(list, messageId, content, editedAt));
  refreshPreview(qc, conversationId, messageId);
  refreshSearch(qc, messageId, false);
}

/** A message deleted (a `message_deleted` frame, or the server's answer to our delete). */
export function applyMessageDeleted(qc: QueryClient, conversationId: number, messageId: number) {
  patchMessages(qc, conversationId, (list) => applyDeletion(list, messageId));
  refreshPreview(qc, conversationId, messageId);
  refreshSearch(qc, messageId, true);
}

/**
 * After a reconnect: the lists fetched again, and each loaded conversation's messages since
 * the newest one cached (a window around an older message loads newer ones as the reader
 * scrolls down instead).
 */
export async function catchUpMessages(qc: QueryClient, me: Pick<Me, 'id'>): Promise<void> {
  const entries = qc.getQueriesData<MessagesData>({ queryKey: keys.allMessages });
  const done = new Set<number>();
  await Promise.all(
    entries.map(async ([key, data]) => {
      const id = key[1] as number;
      if (!data || !atLiveEnd(data) || done.has(id)) return;
      done.add(id);
      const after = lastServerId(flattenPages(data));
      if (after === null) return void qc.invalidateQueries({ queryKey: key, exact: true });
      try {
        ingestMessages(qc, me, id, await fetchMessagesAfter(id, after));
      } catch {
        /* the next reconnect tries again */
      }
    }),
  );
}

// The coaching tools' data: saved replies, the "needs reply" inbox, figures, broadcasts and
// scheduled messages, in the query cache and kept live from the user socket's frames.
import { useInfiniteQuery, useQuery, useQueryClient, type InfiniteData, type QueryClient } from '@tanstack/react-query';
import { ApiError } from '../api/client';
import {
  cancelBroadcast,
  cancelScheduled,
  createTemplate,
  deleteTemplate,
  fetchAllTrainees,
  fetchBroadcast,
  fetchBroadcasts,
  fetchMessagingStats,
  fetchNeedsReply,
  fetchScheduled,
  fetchTemplates,
  scheduleMessage,
  updateScheduled,
  updateTemplate,
} from '../api/endpoints';
import type {
  Broadcast,
  BroadcastDetail,
  Conversation,
  Me,
  Message,
  Page,
  ScheduledMessage,
  Template,
} from '../api/types';
import { applyMessageToNeedsReply, newerBroadcast, sortNeedsReply, upsertScheduled } from '../lib/coaching';
import { keys } from './keys';

const noRetryOn4xx = (n: number, e: unknown) => n < 2 && !(e instanceof ApiError && e.status < 500);

// ---------- saved replies ----------

export function useTemplates(enabled = true) {
  return useQuery({ queryKey: keys.templates, queryFn: fetchTemplates, enabled, staleTime: 60_000, retry: noRetryOn4xx });
}

/** By title, case-insensitive, then as written, then id (the server's order). */
function sortTemplates(list: Template[]): Template[] {
  return [...list].sort((a, b) => {
    const x = a.title.toLocaleLowerCase();
    const y = b.title.toLocaleLowerCase();
    return x < y ? -1 : x > y ? 1 : a.title < b.title ? -1 : a.title > b.title ? 1 : a.id - b.id;
  });
}

export async function saveTemplate(qc: QueryClient, id: number | null, title: string, content: string): Promise<Template> {
  const saved = id == null ? await createTemplate(title, content) : await updateTemplate(id, { title, content });
  qc.setQueryData<Template[]>(keys.templates, (list) => sortTemplates([...(list ?? []).filter((t) => t.id !== saved.id), saved]));
  return saved;
}

export async function removeTemplate(qc: QueryClient, id: number): Promise<void> {
  try {
    await deleteTemplate(id);
  } catch (e) {
    // Gone already (another tab): the list follows all the same.
    if (!(e instanceof ApiError && e.status === 404)) throw e;
  }
  qc.setQueryData<Template[]>(keys.templates, (list) => list?.filter((t) => t.id !== id));
}

// ---------- needs reply ----------

export function useNeedsReply(enabled = true) {
  return useQuery({
    queryKey: keys.needsReply,
    queryFn: async () => sortNeedsReply(await fetchNeedsReply()),
    enabled,
    staleTime: 30_000,
    retry: noRetryOn4xx,
  });
}

/**
 * New messages of a conversation into the trainer's "needs reply" list (when it is loaded):
 * called before the active list takes them, whose `last_message_at` tells an old copy apart.
 */
export function applyMessagesToNeedsReply(qc: QueryClient, me: Pick<Me, 'id'>, conversationId: number, msgs: Message[]): void {
  const needs = qc.getQueryData<Conversation[]>(keys.needsReply);
  if (!needs) return;
  const conv = qc.getQueryData<Conversation[]>(keys.conversations(false))?.find((c) => c.id === conversationId);
  let next: Conversation[] | null = needs;
  for (const m of msgs) {
    if (conv?.last_message_at && Date.parse(conv.last_message_at) > Date.parse(m.created_at)) continue;
    next = applyMessageToNeedsReply(next, { ...m, conversation_id: conversationId }, me.id, conv);
    if (next === null) break;
  }
  if (next === null) void qc.invalidateQueries({ queryKey: keys.needsReply, exact: true });
  else if (next !== needs) qc.setQueryData(keys.needsReply, next);
}

export function removeFromNeedsReply(qc: QueryClient, conversationId: number): void {
  qc.setQueryData<Conversation[]>(keys.needsReply, (list) =>
    list && list.some((c) => c.id === conversationId) ? list.filter((c) => c.id !== conversationId) : list,
  );
}

// ---------- figures, trainees ----------

export function useMessagingStats(days: 7 | 30) {
  return useQuery({
    queryKey: keys.stats(days),
    queryFn: () => fetchMessagingStats(days),
    staleTime: 30_000,
    retry: noRetryOn4xx,
    placeholderData: (prev) => prev,
  });
}

export function useAllTrainees(enabled = true) {
  return useQuery({ queryKey: keys.allTrainees, queryFn: () => fetchAllTrainees(), enabled, staleTime: 60_000 });
}

// ---------- broadcasts ----------

type BroadcastPages = InfiniteData<Page<Broadcast>, string | null>;

/**
 * A fetched broadcast, joined to the newest state the cache has seen of it (a frame): an
 * answer that left the server before that frame (a fetch racing a fast broadcast) must not
 * take the page back to "sending". The failures are the fetched ones.
 */
function withSeen<B extends Broadcast>(qc: QueryClient, b: B): B {
  const seen = qc.getQueryData<BroadcastDetail>(keys.broadcast(b.id));
  if (!seen) return b;
  const { failures: _omit, ...summary } = seen;
  return newerBroadcast(b, summary);
}

export function useBroadcasts(enabled = true) {
  const qc = useQueryClient();
  return useInfiniteQuery({
    queryKey: keys.broadcasts,
    queryFn: async ({ pageParam }) => {
      const page = await fetchBroadcasts(pageParam ?? undefined);
      return { ...page, results: page.results.map((b) => withSeen(qc, b)) };
    },
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next,
    enabled,
    staleTime: 30_000,
  });
}

export function useBroadcast(id: number) {
  const qc = useQueryClient();
  return useQuery({
    queryKey: keys.broadcast(id),
    queryFn: async () => withSeen(qc, await fetchBroadcast(id)),
    staleTime: 10_000,
    retry: noRetryOn4xx,
  });
}

/** A broadcast as the server now has it (a frame, an answer): into its detail and the list. */
export function applyBroadcast(qc: QueryClient, b: Broadcast): void {
  const before = qc.getQueryData<BroadcastDetail>(keys.broadcast(b.id));
  const detail = newerBroadcast(before, b);
  if (before) qc.setQueryData<BroadcastDetail>(keys.broadcast(b.id), detail);
  else {
    // Not loaded (or on its way): kept, marked stale, so a fetch brings the failures and
    // cannot take it back (withSeen).
    const { failures: _omit, ...summary } = b as BroadcastDetail;
    qc.setQueryData<BroadcastDetail>(keys.broadcast(b.id), summary, { updatedAt: 0 });
  }
  qc.setQueryData<BroadcastPages>(keys.broadcasts, (d) => {
    if (!d) return d;
    let found = false;
    const pages = d.pages.map((p) => {
      if (!p.results.some((x) => x.id === b.id)) return p;
      found = true;
      return { ...p, results: p.results.map((x) => (x.id === b.id ? newerBroadcast(x, b) : x)) };
    });
    if (!found && pages.length > 0) {
      // A new one (sent from here or another tab): newest first.
      pages[0] = { ...pages[0], count: pages[0].count + 1, results: [b, ...pages[0].results] };
    }
    return { ...d, pages };
  });
  // The failures are only in the detail: fetch it again once the broadcast is over.
  if (before && detail.state === 'done' && detail.failed > 0 && (before.failures?.length ?? 0) < detail.failed) {
    void qc.invalidateQueries({ queryKey: keys.broadcast(b.id), exact: true });
  }
}

export async function cancelScheduledBroadcast(qc: QueryClient, b: Broadcast): Promise<void> {
  try {
    await cancelBroadcast(b.id);
    applyBroadcast(qc, { ...b, state: 'cancelled' });
  } catch (e) {
    // No longer scheduled: show what it is now.
    void qc.invalidateQueries({ queryKey: keys.broadcast(b.id), exact: true });
    void qc.invalidateQueries({ queryKey: keys.broadcasts });
    throw e;
  }
}

// ---------- scheduled messages ----------

export function useScheduled(conversationId: number, enabled = true) {
  return useQuery({
    queryKey: keys.scheduled(conversationId),
    queryFn: () => fetchScheduled(conversationId),
    enabled,
    staleTime: 30_000,
    retry: noRetryOn4xx,
  });
}

/** A scheduled message's new state (a frame or an answer) into its conversation's list, if loaded. */
export function applyScheduled(qc: QueryClient, s: ScheduledMessage): void {
  qc.setQueryData<ScheduledMessage[]>(keys.scheduled(s.conversation_id), (list) => (list ? upsertScheduled(list, s) : list));
}

export async function scheduleChatMessage(qc: QueryClient, conversationId: number, content: string, sendAt: Date) {
  const s = await scheduleMessage(conversationId, content, sendAt.toISOString());
  qc.setQueryData<ScheduledMessage[]>(keys.scheduled(conversationId), (list) => upsertScheduled(list ?? [], s));
  return s;
}

export async function editScheduledMessage(
  qc: QueryClient,
  s: ScheduledMessage,
  changes: { content?: string; send_at?: string },
): Promise<void> {
  try {
    applyScheduled(qc, await updateScheduled(s.conversation_id, s.id, changes));
  } catch (e) {
    settleGone(qc, s, e);
    throw e;
  }
}

/** Cancel: gone from the list once the server agrees; refused, it stays (with the reason). */
export async function cancelScheduledMessage(qc: QueryClient, s: ScheduledMessage): Promise<void> {
  const drop = () =>
    qc.setQueryData<ScheduledMessage[]>(keys.scheduled(s.conversation_id), (list) => list?.filter((x) => x.id !== s.id));
  try {
    await cancelScheduled(s.conversation_id, s.id);
    drop();
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      drop();
      return;
    }
    settleGone(qc, s, e);
    throw e;
  }
}

/** "No longer pending" (sent meanwhile, or cancelled elsewhere): the list is asked again. */
function settleGone(qc: QueryClient, s: ScheduledMessage, e: unknown) {
  if (!(e instanceof ApiError) || (e.status !== 400 && e.status !== 404)) return;
  const body = e.body;
  const fieldError = !!body && typeof body === 'object' && ('send_at' in body || 'content' in body);
  if (!fieldError) void qc.invalidateQueries({ queryKey: keys.scheduled(s.conversation_id), exact: true });
}

/** Forget a failed scheduled message (only shown here; the server lists pending ones). */
export function dismissScheduled(qc: QueryClient, s: ScheduledMessage): void {
  qc.setQueryData<ScheduledMessage[]>(keys.scheduled(s.conversation_id), (list) => list?.filter((x) => x.id !== s.id));
}

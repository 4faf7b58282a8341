import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState } from 'react';
import {
  fetchConversations,
  fetchNotificationPreferences,
  fetchUnreadCount,
  searchMessages,
  updateNotificationPreferences,
} from '../api/endpoints';
import type { Conversation, Me, NotificationPreferences } from '../api/types';
import { sortConversations } from '../lib/merge';
import type { RealtimeClient } from '../realtime/socket';
import { keys } from './keys';

export function useConversations(archived: boolean, enabled = true) {
  return useQuery({
    queryKey: keys.conversations(archived),
    queryFn: async () => sortConversations(await fetchConversations(archived)),
    enabled,
    staleTime: 30_000,
  });
}

export function useUnreadCount() {
  return useQuery({ queryKey: keys.unread, queryFn: fetchUnreadCount, staleTime: 60_000 });
}

/** Find a conversation in the cached lists (active first, then archived for trainers). */
export function useConversation(id: number | null, me: Me) {
  const active = useConversations(false, id != null);
  const inActive = active.data?.find((c) => c.id === id);
  const lookArchived = id != null && me.role === 'trainer' && !!active.data && !inActive;
  // Only trainers fetch the archived list; for a trainee it holds what the socket moved there
  // (conversation_archived).
  const archived = useConversations(true, lookArchived);
  const inArchived = archived.data?.find((c) => c.id === id);
  const conversation: Conversation | undefined = inActive ?? inArchived;
  return {
    conversation,
    isArchived: !!conversation?.is_archived || !!inArchived,
    isLoading: active.isLoading || (lookArchived && archived.isLoading),
  };
}

/**
 * Typing signals over the socket: `typing:true` on input (refreshed every 3 s while typing),
 * `typing:false` when the box empties, is sent, loses focus, or after 5 s without a key.
 */
export function useTypingSender(client: RealtimeClient | null, conversationId: number | null, enabled: boolean) {
  const state = useRef({ active: false, last: 0, idle: null as ReturnType<typeof setTimeout> | null });

  const stop = useCallback(() => {
    const s = state.current;
    if (s.idle) clearTimeout(s.idle);
    s.idle = null;
    if (s.active && client && conversationId != null) {
      client.send({ type: 'typing', conversation_id: conversationId, is_typing: false });
    }
    s.active = false;
  }, [client, conversationId]);

  const onInput = useCallback(
    (text: string) => {
      if (!enabled || !client || conversationId == null) return;
      if (!text.trim()) return stop();
      const s = state.current;
      const now = Date.now();
      if (!s.active || now - s.last > 3000) {
        if (client.send({ type: 'typing', conversation_id: conversationId, is_typing: true })) {
          s.active = true;
          s.last = now;
        }
      }
      if (s.idle) clearTimeout(s.idle);
      s.idle = setTimeout(stop, 5000);
    },
    [client, conversationId, enabled, stop],
  );

  useEffect(() => stop, [stop]);
  return onInput;
}

/** Re-render every `ms` (relative times). */
export function useNow(ms = 60_000): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const t = setInterval(() => setNow(new Date()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

/** True while the page is visible and focused. */
export function usePageActive(): boolean {
  const get = () => document.visibilityState === 'visible' && document.hasFocus();
  const [active, setActive] = useState(get);
  useEffect(() => {
    const update = () => setActive(get());
    window.addEventListener('focus', update);
    window.addEventListener('blur', update);
    document.addEventListener('visibilitychange', update);
    return () => {
      window.removeEventListener('focus', update);
      window.removeEventListener('blur', update);
      document.removeEventListener('visibilitychange', update);
    };
  }, []);
  return active;
}

/** `value`, once it stopped changing for `ms`. */
export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

/** At least this many characters (code points, trimmed) before a search is sent. */
export const SEARCH_MIN = 2;

/** Message search across conversations, 20 results a page ("more" loads the next one). */
export function useMessageSearch(q: string) {
  const query = q.trim();
  return useInfiniteQuery({
    queryKey: keys.search(query),
    enabled: Array.from(query).length >= SEARCH_MIN,
    initialPageParam: 1,
    queryFn: ({ pageParam }) => searchMessages(query, pageParam),
    getNextPageParam: (last) => (last.has_next ? last.page + 1 : undefined),
    staleTime: 30_000,
    // Search shares the send rate limit: no retries, no refetch on focus.
    retry: false,
    refetchOnWindowFocus: false,
  });
}

/** The user's push preferences (`new_message` is the "Message notifications" switch). */
export function useNotificationPreferences(enabled = true) {
  return useQuery({
    queryKey: keys.notificationPrefs,
    queryFn: fetchNotificationPreferences,
    enabled,
    staleTime: 60_000,
  });
}

/** Change preferences: shown at once, back to what it was (with the server's reason) on refusal. */
export function useUpdateNotificationPreferences() {
  const qc = useQueryClient();
  // Quick toggles: one request at a time, in order; only the last one settles what is shown.
  const only = () => qc.isMutating({ mutationKey: keys.notificationPrefs }) <= 1;
  return useMutation({
    mutationKey: keys.notificationPrefs,
    scope: { id: 'notification-preferences' },
    mutationFn: (changes: Partial<NotificationPreferences>) => updateNotificationPreferences(changes),
    onMutate: async (changes) => {
      await qc.cancelQueries({ queryKey: keys.notificationPrefs });
      const before = qc.getQueryData<NotificationPreferences>(keys.notificationPrefs);
      if (before) qc.setQueryData<NotificationPreferences>(keys.notificationPrefs, { ...before, ...changes });
      return { before };
    },
    onError: (_e, _changes, ctx) => {
      if (ctx?.before && only()) qc.setQueryData(keys.notificationPrefs, ctx.before);
    },
    onSuccess: (saved) => {
      if (saved && typeof saved === 'object' && only()) qc.setQueryData(keys.notificationPrefs, saved);
    },
  });
}

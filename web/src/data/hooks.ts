import { skipToken, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from '../api/client';
import {
  fetchConversations,
  fetchLatestMessages,
  fetchMessagesBefore,
  fetchUnreadCount,
} from '../api/endpoints';
import type { Conversation, Me } from '../api/types';
import { firstServerId, mergeMessages, type MessagesState } from '../lib/merge';
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

/** Messages of one conversation: newest page first, merged with anything already cached. */
export function useMessages(conversationId: number | null) {
  const qc = useQueryClient();
  const query = useQuery<MessagesState>({
    queryKey: keys.messages(conversationId ?? -1),
    enabled: conversationId != null,
    staleTime: Infinity,
    retry: (n, e) => n < 2 && !(e instanceof ApiError && e.status < 500),
    queryFn: async () => {
      const id = conversationId!;
      const page = await fetchLatestMessages(id);
      const cached = qc.getQueryData<MessagesState>(keys.messages(id));
      if (!cached) return page;
      return { messages: mergeMessages(cached.messages, page.messages), hasMore: cached.hasMore || page.hasMore };
    },
  });
  const loadOlder = useCallback(async () => {
    if (conversationId == null) return;
    const s = qc.getQueryData<MessagesState>(keys.messages(conversationId));
    const before = s ? firstServerId(s.messages) : null;
    if (!s || before === null || !s.hasMore) return;
    const page = await fetchMessagesBefore(conversationId, before);
    qc.setQueryData<MessagesState>(keys.messages(conversationId), (cur) =>
      cur ? { messages: mergeMessages(cur.messages, page.messages), hasMore: page.hasMore } : cur,
    );
  }, [qc, conversationId]);
  return { ...query, loadOlder };
}

/** Find a conversation in the cached lists (active first, then archived for trainers). */
export function useConversation(id: number | null, me: Me) {
  const active = useConversations(false, id != null);
  const inActive = active.data?.find((c) => c.id === id);
  const lookArchived = id != null && me.role === 'trainer' && !!active.data && !inActive;
  const archived = useConversations(true, lookArchived);
  const inArchived = archived.data?.find((c) => c.id === id);
  // Set by the socket (conversation.archived), never fetched: skipToken says so.
  const archivedFlag = useQuery<boolean>({
    queryKey: keys.archivedFlag(id ?? -1),
    queryFn: skipToken,
    initialData: false,
  });
  const conversation: Conversation | undefined = inActive ?? inArchived;
  return {
    conversation,
    isArchived: !!conversation?.is_archived || !!inArchived || archivedFlag.data === true,
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

// The admin console's and the access logs' queries. A read of messages (a history page, a
// search, a user's conversation list) is written to the server's audit log, so these never
// prefetch, never refetch on focus or on a timer, and never retry: the log shows only what the
// admin really opened.
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import {
  adminSearch,
  fetchAccessLog,
  fetchAdminConversations,
  fetchAdminMessages,
  fetchAdminUsers,
  fetchAuditLog,
  fetchConversations,
} from '../api/endpoints';
import type { AuditFilters, User } from '../api/types';
import { fullName } from '../lib/users';
import { keys } from './keys';

const LOGGED_READ = { staleTime: Infinity, gcTime: 10 * 60_000, retry: false, refetchOnWindowFocus: false, refetchOnReconnect: false } as const;

/** The user finder (`q` empty lists everyone), "Load more" for the next 50. Not logged. */
export function useAdminUsers(q: string) {
  return useInfiniteQuery({
    queryKey: keys.adminUsers(q),
    queryFn: ({ pageParam }) => fetchAdminUsers(q, pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next,
    staleTime: 30_000,
  });
}

/** Every account (up to 500) by id, to name the audit log's actors and subjects. Not logged. */
export function useUserDirectory(enabled = true) {
  return useQuery({
    queryKey: keys.adminDirectory,
    enabled,
    staleTime: 60_000,
    queryFn: async () => {
      const byId = new Map<number, User>();
      let next: string | null = null;
      for (let i = 0; i < 10; i++) {
        const page = await fetchAdminUsers('', next);
        for (const u of page.results) byId.set(u.id, u);
        next = page.next ?? null;
        if (!next) break;
      }
      return byId;
    },
  });
}

export function useAdminUser(id: number) {
  const dir = useUserDirectory();
  return { user: dir.data?.get(id) ?? null, isLoading: dir.isLoading, error: dir.error };
}

/** A user's conversations (logged once per load). */
export function useAdminConversations(userId: number) {
  return useInfiniteQuery({
    queryKey: keys.adminConversations(userId),
    queryFn: ({ pageParam }) => fetchAdminConversations(userId, pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next,
    ...LOGGED_READ,
  });
}

/** A conversation's history, newest page first; older pages by `before` (each one logged). */
export function useAdminMessages(conversationId: number) {
  return useInfiniteQuery({
    queryKey: keys.adminMessages(conversationId),
    queryFn: ({ pageParam }) => fetchAdminMessages(conversationId, pageParam),
    initialPageParam: null as number | null,
    getNextPageParam: (last) => (last.hasMore && last.messages.length ? last.messages[0].id : undefined),
    ...LOGGED_READ,
  });
}

/** A user's messages searched from their side (logged), from 2 characters. */
export function useAdminSearch(userId: number, q: string) {
  const query = q.trim();
  return useInfiniteQuery({
    queryKey: keys.adminSearch(userId, query),
    enabled: Array.from(query).length >= 2,
    queryFn: ({ pageParam }) => adminSearch(userId, query, pageParam),
    initialPageParam: 1,
    getNextPageParam: (last) => (last.has_next ? last.page + 1 : undefined),
    ...LOGGED_READ,
  });
}

export function useAuditLog(filters: AuditFilters) {
  return useInfiniteQuery({
    queryKey: keys.auditLog(filters),
    queryFn: ({ pageParam }) => fetchAuditLog(filters, pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next,
    retry: false,
  });
}

export function useAccessLog() {
  return useInfiniteQuery({
    queryKey: keys.accessLog,
    queryFn: ({ pageParam }) => fetchAccessLog(pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next,
    retry: false,
  });
}

/** The reader's own conversations (active and archived) by id → the other person's name. */
export function useMyConversationNames(meId: number, enabled: boolean) {
  return useQuery({
    queryKey: ['access-log', 'conversation-names', meId],
    enabled,
    staleTime: 60_000,
    queryFn: async () => {
      const [active, archived] = await Promise.all([fetchConversations(false), fetchConversations(true)]);
      const names = new Map<number, string>();
      for (const c of [...active, ...archived]) {
        const other = c.trainer.id === meId ? c.trainee : c.trainer;
        names.set(c.id, other ? fullName(other) : 'a deleted account');
      }
      return names;
    },
  });
}

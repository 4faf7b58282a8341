export const keys = {
  me: ['me'] as const,
  conversations: (archived: boolean) => ['conversations', archived ? 'archived' : 'active'] as const,
  allConversations: ['conversations'] as const,
  unread: ['unread'] as const,
  /** A conversation's history, opened on the newest messages or around one (a search result). */
  messages: (id: number, around: number | null = null) => ['messages', id, around == null ? 'latest' : { around }] as const,
  conversationMessages: (id: number) => ['messages', id] as const,
  allMessages: ['messages'] as const,
  trainees: (search: string) => ['trainees', search] as const,
  trainee: (id: number) => ['trainee', id] as const,
  search: (q: string) => ['search', q] as const,
  allSearches: ['search'] as const,
  notificationPrefs: ['notification-preferences'] as const,
  /** Under `conversations`: refetched with the lists after a reconnect. */
  needsReply: ['conversations', 'needs-reply'] as const,
  templates: ['templates'] as const,
  stats: (days: number) => ['messaging-stats', days] as const,
  allStats: ['messaging-stats'] as const,
  allTrainees: ['trainees-all'] as const,
  broadcasts: ['broadcasts'] as const,
  broadcast: (id: number) => ['broadcast', id] as const,
  scheduled: (conversationId: number) => ['scheduled', conversationId] as const,
  allScheduled: ['scheduled'] as const,
  allBroadcastDetails: ['broadcast'] as const,
  adminUsers: (q: string) => ['admin', 'users', q] as const,
  adminDirectory: ['admin', 'directory'] as const,
  adminConversations: (userId: number) => ['admin', 'conversations', userId] as const,
  adminMessages: (conversationId: number) => ['admin', 'messages', conversationId] as const,
  adminSearch: (userId: number, q: string) => ['admin', 'search', userId, q] as const,
  auditLog: (filters: object) => ['admin', 'audit-log', filters] as const,
  accessLog: ['access-log'] as const,
};

/** Mutation keys (the send one is also what a restored, paused send is found by). */
export const mutationKeys = {
  send: ['messages', 'send'] as const,
  edit: ['messages', 'edit'] as const,
  delete: ['messages', 'delete'] as const,
  read: (conversationId: number) => ['messages', 'read', conversationId] as const,
  startConversation: ['conversations', 'start'] as const,
};

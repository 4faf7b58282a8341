export const keys = {
  me: ['me'] as const,
  conversations: (archived: boolean) => ['conversations', archived ? 'archived' : 'active'] as const,
  allConversations: ['conversations'] as const,
  unread: ['unread'] as const,
  messages: (id: number) => ['messages', id] as const,
  allMessages: ['messages'] as const,
  trainees: (search: string) => ['trainees', search] as const,
  trainee: (id: number) => ['trainee', id] as const,
  archivedFlag: (id: number) => ['archived-flag', id] as const,
  search: (q: string) => ['search', q] as const,
  allSearches: ['search'] as const,
  notificationPrefs: ['notification-preferences'] as const,
};

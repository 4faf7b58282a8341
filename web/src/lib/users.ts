import type { Conversation, Me, UserSummary } from '../api/types';
import { i18n } from '../i18n';

export function fullName(u: Pick<UserSummary, 'first_name' | 'last_name'> & { email?: string } | null | undefined): string {
  if (!u) return i18n.t('users.deleted');
  const n = `${u.first_name ?? ''} ${u.last_name ?? ''}`.trim();
  return n || u.email || i18n.t('users.unnamed');
}

export function initials(u: Pick<UserSummary, 'first_name' | 'last_name'> & { email?: string } | null | undefined): string {
  if (!u) return '?';
  const a = (u.first_name ?? '').trim()[0] ?? '';
  const b = (u.last_name ?? '').trim()[0] ?? '';
  return (a + b).toUpperCase() || (u.email?.[0] ?? '?').toUpperCase();
}

/** The other participant of a conversation, seen by `me`. */
export function otherParty(c: Conversation, me: Pick<Me, 'id'>): UserSummary | null {
  return c.trainer.id === me.id ? (c.trainee ?? null) : c.trainer;
}

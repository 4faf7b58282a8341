import type { AccessEntry, AuditAction } from '../api/types';
import { i18n, intlLocale } from '../i18n';
import { clockTime } from './dates';

/** The audit log's actions in words, for the admins' table (English; `actionLabel` translates). */
export const ACTION_LABELS: Record<string, string> = {
  'admin.read_conversations': 'listed conversations',
  'admin.read_messages': 'read messages',
  'admin.search_messages': 'searched messages',
  'impersonation.start': 'impersonation started',
  'impersonation.end': 'impersonation ended',
  export: 'exported messages',
  erase: 'erased an account',
};

const actionText = (action: AuditAction): string | undefined => {
  switch (action) {
    case 'admin.read_conversations':
      return i18n.t('audit.action.readConversations');
    case 'admin.read_messages':
      return i18n.t('audit.action.readMessages');
    case 'admin.search_messages':
      return i18n.t('audit.action.searchMessages');
    case 'impersonation.start':
      return i18n.t('audit.action.impersonationStart');
    case 'impersonation.end':
      return i18n.t('audit.action.impersonationEnd');
    case 'export':
      return i18n.t('audit.action.export');
    case 'erase':
      return i18n.t('audit.action.erase');
    default:
      return undefined;
  }
};

export function actionLabel(action: AuditAction): string {
  return actionText(action) ?? action.replace(/[._]/g, ' ');
}

/** Actor 0 is what an operator did on the command line. */
export const OPERATOR_ID = 0;
export const OPERATOR_NAME = 'Spotter operator';
export const REMOVED_NAME = '[removed]';

/** "3 Dec 18:02" in the reader's locale. */
export function shortDateTime(iso: string): string {
  const day = new Date(iso).toLocaleDateString(intlLocale(), { day: 'numeric', month: 'short' });
  return `${day} ${clockTime(iso)}`;
}

/** "Ada Admin (admin)", "Spotter operator", "A removed account". */
export function accessActor(e: Pick<AccessEntry, 'actor_id' | 'actor_name' | 'actor_role'>): string {
  if (e.actor_id === OPERATOR_ID) return i18n.t('audit.operator');
  if (e.actor_name === REMOVED_NAME) return i18n.t('access.removedAccount');
  return e.actor_role ? i18n.t('access.actorWithRole', { name: e.actor_name, role: roleName(e.actor_role) }) : e.actor_name;
}

/** A role in words ("trainer" → "entrenador"); an unknown one as it is. */
export function roleName(role: string): string {
  switch (role) {
    case 'admin':
      return i18n.t('roles.admin');
    case 'trainer':
      return i18n.t('roles.trainer');
    case 'trainee':
      return i18n.t('roles.trainee');
    default:
      return role;
  }
}

/**
 * What the entry says was done, from the reader's side: "read your messages in your conversation
 * with Sam". `withWhom` names the other person of a conversation of the reader's, when known.
 */
export function accessWhat(e: Pick<AccessEntry, 'action' | 'conversation_id'>, withWhom: (id: number) => string | null): string {
  const where = () => {
    if (e.conversation_id == null) return '';
    const who = withWhom(e.conversation_id);
    return who ? i18n.t('access.inConversationWith', { name: who }) : i18n.t('access.inOneOfYourConversations');
  };
  switch (e.action) {
    case 'admin.read_messages':
      return i18n.t('access.readMessages', { where: where() });
    case 'admin.read_conversations':
      return i18n.t('access.readConversations');
    case 'admin.search_messages':
      return i18n.t('access.searchMessages', { where: where() });
    case 'impersonation.start':
      return i18n.t('access.impersonationStart');
    case 'impersonation.end':
      return i18n.t('access.impersonationEnd');
    case 'export':
      return i18n.t('access.export');
    case 'erase':
      return i18n.t('access.erase');
    default:
      return actionLabel(e.action);
  }
}

/** The whole line: "Ada Admin (admin) read your messages in your conversation with Sam". */
export function accessSentence(e: AccessEntry, withWhom: (id: number) => string | null): string {
  return i18n.t('access.sentence', { who: accessActor(e), what: accessWhat(e, withWhom) });
}

/** `<input type="datetime-local">` value to an ISO time with `Z` (the server wants an offset). */
export function localInputToIso(v: string): string | undefined {
  if (!v) return undefined;
  const t = new Date(v);
  return Number.isNaN(t.getTime()) ? undefined : t.toISOString();
}

/** The first 12 hex digits of a hash, for display (the whole is copied). */
export const shortHash = (h: string) => h.slice(0, 12);

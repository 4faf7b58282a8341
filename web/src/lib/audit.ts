import type { AccessEntry, AuditAction } from '../api/types';
import { clockTime } from './dates';

/** The audit log's actions in words, for the admins' table. */
export const ACTION_LABELS: Record<string, string> = {
  'admin.read_conversations': 'listed conversations',
  'admin.read_messages': 'read messages',
  'admin.search_messages': 'searched messages',
  'impersonation.start': 'impersonation started',
  'impersonation.end': 'impersonation ended',
  export: 'exported messages',
  erase: 'erased an account',
};

export function actionLabel(action: AuditAction): string {
  return ACTION_LABELS[action] ?? action.replace(/[._]/g, ' ');
}

/** Actor 0 is what an operator did on the command line. */
export const OPERATOR_ID = 0;
export const OPERATOR_NAME = 'Spotter operator';
export const REMOVED_NAME = '[removed]';

/** "3 Dec 18:02" in the reader's locale. */
export function shortDateTime(iso: string): string {
  const day = new Date(iso).toLocaleDateString(undefined, { day: 'numeric', month: 'short' });
  return `${day} ${clockTime(iso)}`;
}

/** "Ada Admin (admin)", "Spotter operator", "A removed account". */
export function accessActor(e: Pick<AccessEntry, 'actor_id' | 'actor_name' | 'actor_role'>): string {
  if (e.actor_id === OPERATOR_ID) return OPERATOR_NAME;
  if (e.actor_name === REMOVED_NAME) return 'A removed account';
  return e.actor_role ? `${e.actor_name} (${e.actor_role})` : e.actor_name;
}

/**
 * What the entry says was done, from the reader's side: "read your messages in your conversation
 * with Sam". `withWhom` names the other person of a conversation of the reader's, when known.
 */
export function accessWhat(e: Pick<AccessEntry, 'action' | 'conversation_id'>, withWhom: (id: number) => string | null): string {
  const where = () => {
    if (e.conversation_id == null) return '';
    const who = withWhom(e.conversation_id);
    return who ? ` in your conversation with ${who}` : ' in one of your conversations';
  };
  switch (e.action) {
    case 'admin.read_messages':
      return `read your messages${where()}`;
    case 'admin.read_conversations':
      return 'looked at the list of your conversations';
    case 'admin.search_messages':
      return `searched your messages${where()}`;
    case 'impersonation.start':
      return 'started viewing Spotter as you';
    case 'impersonation.end':
      return 'stopped viewing Spotter as you';
    case 'export':
      return 'exported your messages';
    case 'erase':
      return 'erased your data';
    default:
      return actionLabel(e.action);
  }
}

/** The whole line: "Ada Admin (admin) read your messages in your conversation with Sam". */
export function accessSentence(e: AccessEntry, withWhom: (id: number) => string | null): string {
  return `${accessActor(e)} ${accessWhat(e, withWhom)}`;
}

/** `<input type="datetime-local">` value to an ISO time with `Z` (the server wants an offset). */
export function localInputToIso(v: string): string | undefined {
  if (!v) return undefined;
  const t = new Date(v);
  return Number.isNaN(t.getTime()) ? undefined : t.toISOString();
}

/** The first 12 hex digits of a hash, for display (the whole is copied). */
export const shortHash = (h: string) => h.slice(0, 12);

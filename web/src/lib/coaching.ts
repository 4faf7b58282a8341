import type { Broadcast, Conversation, Message, ScheduledMessage, Template } from '../api/types';
import { formatNumber, i18n, intlLocale } from '../i18n';

// ---------- saved replies ----------

/** The `/query` being typed at the caret: `/` at the start or after whitespace, no line break after it. */
export function slashQuery(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret);
  const slash = before.lastIndexOf('/');
  if (slash < 0) return null;
  if (slash > 0 && !/\s/.test(before[slash - 1])) return null;
  const query = before.slice(slash + 1);
  if (/[\n\r/]/.test(query)) return null;
  return { start: slash, query };
}

/** Saved replies whose title contains `query` (case-insensitive): titles starting with it first. */
export function filterTemplates(list: Template[], query: string): Template[] {
  const q = query.trim().toLocaleLowerCase();
  if (!q) return list;
  const starts: Template[] = [];
  const contains: Template[] = [];
  for (const t of list) {
    const title = t.title.toLocaleLowerCase();
    if (title.startsWith(q)) starts.push(t);
    else if (title.includes(q)) contains.push(t);
  }
  return [...starts, ...contains];
}

/** `{first_name}` replaced by a name (a broadcast's preview, a saved reply inserted in a chat). */
export function fillFirstName(content: string, firstName: string | null | undefined): string {
  return firstName ? content.replaceAll('{first_name}', firstName) : content;
}

// ---------- needs reply ----------

const at = (iso: string | null | undefined) => (iso ? Date.parse(iso) : Number.POSITIVE_INFINITY);

/** Longest waiting first (then by id), as the server orders the list. */
export function sortNeedsReply(list: Conversation[]): Conversation[] {
  return [...list].sort((a, b) => at(a.waiting_since) - at(b.waiting_since) || a.id - b.id);
}

/**
 * A new message in a conversation, for the "needs reply" list of the trainer `meId`: theirs takes
 * the conversation off; the trainee's puts it on (waiting since that message) or keeps it
 * (waiting since unchanged). `conversation` is the conversation as the active list has it (needed
 * to add one). Returns the same list when nothing changes, null when a conversation to add is
 * unknown (the caller fetches the list again).
 */
export function applyMessageToNeedsReply(
  list: Conversation[],
  message: Message,
  meId: number,
  conversation: Conversation | undefined,
): Conversation[] | null {
  const cid = message.conversation_id;
  const i = list.findIndex((c) => c.id === cid);
  const entry = i >= 0 ? list[i] : undefined;
  // An older copy (a late answer, a replay): what it says is settled already.
  if (entry?.last_message_at && Date.parse(entry.last_message_at) > Date.parse(message.created_at)) return list;
  if (message.sender?.id === meId) return entry ? list.filter((c) => c.id !== cid) : list;
  if (entry) {
    if (entry.last_message_at === message.created_at) return list;
    const next = [...list];
    next[i] = { ...entry, last_message_at: message.created_at };
    return next;
  }
  if (!conversation || conversation.is_archived) return null;
  return sortNeedsReply([...list, { ...conversation, last_message_at: message.created_at, waiting_since: message.created_at }]);
}

/** "waiting 3 h" (from `waiting_since` to now). */
export function waitingLabel(since: string | null | undefined, now: Date): string {
  if (!since) return i18n.t('waiting.plain');
  const s = Math.max(0, (now.getTime() - Date.parse(since)) / 1000);
  if (s < 60) return i18n.t('waiting.underMinute');
  return i18n.t('waiting.for', { duration: shortDuration(s) });
}

/** How urgent a wait looks: from 4 hours "late", from a day "overdue". */
export function waitingLevel(since: string | null | undefined, now: Date): 'fresh' | 'late' | 'overdue' {
  if (!since) return 'fresh';
  const h = (now.getTime() - Date.parse(since)) / 3_600_000;
  return h >= 24 ? 'overdue' : h >= 4 ? 'late' : 'fresh';
}

/** One unit, rounded down: "12 min", "3 h", "2 d". */
export function shortDuration(seconds: number): string {
  if (seconds < 3600) return i18n.t('duration.min', { n: formatNumber(Math.floor(seconds / 60)) });
  if (seconds < 86_400) return i18n.t('duration.h', { n: formatNumber(Math.floor(seconds / 3600)) });
  return i18n.t('duration.d', { n: formatNumber(Math.floor(seconds / 86_400)) });
}

// ---------- figures ----------

/** A human duration of seconds: "42 s", "12 min", "3 h 20 min", "2 d 4 h"; "—" when there is none. */
export function humanDuration(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds)) return i18n.t('duration.none');
  const n = formatNumber;
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return i18n.t('duration.s', { n: n(s) });
  const min = Math.round(s / 60);
  if (min < 60) return i18n.t('duration.min', { n: n(min) });
  const h = Math.floor(min / 60);
  if (h < 24) return min % 60 ? i18n.t('duration.hMin', { h: n(h), min: n(min % 60) }) : i18n.t('duration.h', { n: n(h) });
  const d = Math.floor(h / 24);
  return h % 24 ? i18n.t('duration.dH', { d: n(d), h: n(h % 24) }) : i18n.t('duration.d', { n: n(d) });
}

// ---------- times for scheduling ----------

const pad = (n: number) => String(n).padStart(2, '0');

/** A `<input type="datetime-local">` value for a moment, in local time: "2026-02-19T06:00". */
export function toLocalInput(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The moment a `datetime-local` value means (local time), or null. */
export function fromLocalInput(v: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(v);
  if (!m) return null;
  const d = new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], m[6] ? +m[6] : 0);
  return Number.isNaN(d.getTime()) ? null : d;
}

function dayAt(base: Date, addDays: number, hour: number, minute = 0): Date {
  return new Date(base.getFullYear(), base.getMonth(), base.getDate() + addDays, hour, minute);
}

export interface QuickPick {
  /** Which pick, whatever the language. */
  id: 'in-1-hour' | 'this-evening' | 'tomorrow-6' | 'tomorrow-9' | 'monday-6';
  label: string;
  at: Date;
}

/** Quick picks for scheduling: in 1 hour, this evening (before 17:00), tomorrow 6:00 and 9:00, Monday 6:00. */
export function quickPicks(now: Date): QuickPick[] {
  const inHour = new Date(now.getTime() + 3_600_000);
  inHour.setSeconds(0, 0);
  const picks: QuickPick[] = [{ id: 'in-1-hour', label: i18n.t('schedule.pick.inHour'), at: inHour }];
  if (now.getHours() < 17) picks.push({ id: 'this-evening', label: i18n.t('schedule.pick.thisEvening'), at: dayAt(now, 0, 18) });
  picks.push(
    { id: 'tomorrow-6', label: i18n.t('schedule.pick.tomorrow6'), at: dayAt(now, 1, 6) },
    { id: 'tomorrow-9', label: i18n.t('schedule.pick.tomorrow9'), at: dayAt(now, 1, 9) },
  );
  // The next Monday (a week on when today is Monday); skipped when it is tomorrow.
  const toMonday = ((8 - now.getDay()) % 7) || 7;
  if (toMonday > 1) picks.push({ id: 'monday-6', label: i18n.t('schedule.pick.monday6'), at: dayAt(now, toMonday, 6) });
  return picks;
}

const DAY = 86_400_000;
const startOfDay = (d: Date) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();

/** "Today 18:00", "Tomorrow 06:00", "Mon 06:00" (within a week), "12 Mar 06:00", with the year when not this one. */
export function whenLabel(iso: string, now: Date = new Date()): string {
  const d = new Date(iso);
  const time = d.toLocaleTimeString(intlLocale(), { hour: '2-digit', minute: '2-digit' });
  const days = Math.round((startOfDay(d) - startOfDay(now)) / DAY);
  if (days === 0) return i18n.t('dates.todayAt', { time });
  if (days === 1) return i18n.t('dates.tomorrowAt', { time });
  if (days === -1) return i18n.t('dates.yesterdayAt', { time });
  if (days > 1 && days < 7) return i18n.t('dates.dayAt', { day: d.toLocaleDateString(intlLocale(), { weekday: 'short' }), time });
  const date = d.toLocaleDateString(intlLocale(), {
    day: 'numeric',
    month: 'short',
    ...(d.getFullYear() === now.getFullYear() ? {} : { year: 'numeric' }),
  });
  return i18n.t('dates.dayAt', { day: date, time });
}

/** The server's limit: in the future, at most 366 days ahead. Null when fine, else why not. */
export function sendAtProblem(d: Date | null, now: Date = new Date()): string | null {
  if (!d) return i18n.t('schedule.problem.none');
  if (d.getTime() <= now.getTime()) return i18n.t('schedule.problem.past');
  if (d.getTime() > now.getTime() + 366 * DAY) return i18n.t('schedule.problem.tooFar');
  return null;
}

// ---------- scheduled messages, broadcasts ----------

/** Soonest first (then by id), as the server lists them. */
function sortScheduled(list: ScheduledMessage[]): ScheduledMessage[] {
  return [...list].sort((a, b) => Date.parse(a.send_at) - Date.parse(b.send_at) || a.id - b.id);
}

/**
 * A scheduled message's new state into the conversation's list: pending ones are listed
 * (soonest first), failed ones stay to be seen (with their reason), sent and cancelled ones go.
 */
export function upsertScheduled(list: ScheduledMessage[], s: ScheduledMessage): ScheduledMessage[] {
  const rest = list.filter((x) => x.id !== s.id);
  if (s.state === 'pending' || s.state === 'failed') return sortScheduled([...rest, s]);
  return rest.length === list.length ? list : rest;
}

const RANK: Record<Broadcast['state'], number> = { scheduled: 0, sending: 1, cancelled: 2, done: 2 };

/** A newer view of a broadcast over an older one: states and counters only move forward. */
export function newerBroadcast<B extends Broadcast>(old: B | undefined, next: Broadcast): B {
  if (!old) return next as B;
  if (RANK[next.state] < RANK[old.state] || (old.state === next.state && next.sent + next.failed < old.sent + old.failed)) {
    return old;
  }
  return { ...old, ...next };
}

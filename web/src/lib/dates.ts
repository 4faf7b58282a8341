import type { ChatMessage } from '../api/types';
import { formatNumber, i18n, intlLocale } from '../i18n';

const DAY = 86_400_000;

function startOfDay(d: Date): number {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

/** Calendar-day key in local time, e.g. "2026-02-19". */
export function dayKey(iso: string): string {
  const d = new Date(iso);
  const m = String(d.getMonth() + 1).padStart(2, '0');
  const day = String(d.getDate()).padStart(2, '0');
  return `${d.getFullYear()}-${m}-${day}`;
}

/** "Today", "Yesterday", "Monday" (within a week), else "19 February 2026" / "19 February". */
export function dayLabel(iso: string, now: Date = new Date()): string {
  const d = new Date(iso);
  const diff = Math.round((startOfDay(now) - startOfDay(d)) / DAY);
  if (diff === 0) return i18n.t('dates.today');
  if (diff === 1) return i18n.t('dates.yesterday');
  if (diff > 1 && diff < 7) return d.toLocaleDateString(intlLocale(), { weekday: 'long' });
  const sameYear = d.getFullYear() === now.getFullYear();
  return d.toLocaleDateString(intlLocale(), {
    day: 'numeric',
    month: 'long',
    ...(sameYear ? {} : { year: 'numeric' }),
  });
}

export type ChatItem =
  | { kind: 'day'; key: string; label: string }
  | { kind: 'message'; key: string; message: ChatMessage; firstOfGroup: boolean };

/**
 * Interleave date separators with messages (messages oldest first). `firstOfGroup` is true when
 * the sender changes, a day starts, or more than 5 minutes passed since the previous message.
 */
export function withDateSeparators(messages: ChatMessage[], now: Date = new Date()): ChatItem[] {
  const items: ChatItem[] = [];
  let lastDay = '';
  let prev: ChatMessage | null = null;
  for (const m of messages) {
    const k = dayKey(m.created_at);
    let first = false;
    if (k !== lastDay) {
      items.push({ kind: 'day', key: `day-${k}`, label: dayLabel(m.created_at, now) });
      lastDay = k;
      first = true;
    }
    if (
      !prev ||
      prev.sender?.id !== m.sender?.id ||
      Date.parse(m.created_at) - Date.parse(prev.created_at) > 5 * 60_000
    ) {
      first = true;
    }
    items.push({ kind: 'message', key: m.client_message_id ?? `id-${m.id}`, message: m, firstOfGroup: first });
    prev = m;
  }
  return items;
}

/** Short relative time for the conversation list: "now", "5m", "3h", "Yesterday", "Mon", "19 Feb". */
export function relativeTime(iso: string | null, now: Date = new Date()): string {
  if (!iso) return '';
  const d = new Date(iso);
  const ms = now.getTime() - d.getTime();
  if (ms < 60_000) return i18n.t('dates.now');
  if (ms < 3_600_000) return i18n.t('dates.minutesShort', { n: formatNumber(Math.floor(ms / 60_000)) });
  const days = Math.round((startOfDay(now) - startOfDay(d)) / DAY);
  if (days === 0) return i18n.t('dates.hoursShort', { n: formatNumber(Math.floor(ms / 3_600_000)) });
  if (days === 1) return i18n.t('dates.yesterday');
  if (days < 7) return d.toLocaleDateString(intlLocale(), { weekday: 'short' });
  return d.toLocaleDateString(intlLocale(), {
    day: 'numeric',
    month: 'short',
    ...(d.getFullYear() === now.getFullYear() ? {} : { year: 'numeric' }),
  });
}

/** "14:05" in the reader's locale. */
export function clockTime(iso: string): string {
  return new Date(iso).toLocaleTimeString(intlLocale(), { hour: '2-digit', minute: '2-digit' });
}

/** "19 Feb 2026, 14:05:09" for tooltips. */
export function fullTime(iso: string): string {
  return new Date(iso).toLocaleString(intlLocale(), {
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

import { describe, expect, it } from 'vitest';
import { ana, msg } from '../test/fixtures';
import { dayLabel, relativeTime, withDateSeparators } from './dates';

const at = (y: number, mo: number, d: number, h = 12, mi = 0) => new Date(y, mo - 1, d, h, mi).toISOString();

describe('date separators', () => {
  const now = new Date(2026, 1, 19, 15, 0);

  it('labels today, yesterday, this week and older days', () => {
    expect(dayLabel(at(2026, 2, 19, 9), now)).toBe('Today');
    expect(dayLabel(at(2026, 2, 18, 23, 59), now)).toBe('Yesterday');
    expect(dayLabel(at(2026, 2, 16), now)).toBe(new Date(2026, 1, 16).toLocaleDateString(undefined, { weekday: 'long' }));
    expect(dayLabel(at(2026, 1, 2), now)).toContain('2');
    expect(dayLabel(at(2025, 1, 2), now)).toContain('2025');
  });

  it('puts one separator before the first message of each day', () => {
    const items = withDateSeparators(
      [
        msg(1, { created_at: at(2026, 2, 18, 10) }),
        msg(2, { created_at: at(2026, 2, 18, 10, 1) }),
        msg(3, { created_at: at(2026, 2, 19, 8) }),
        msg(4, { created_at: at(2026, 2, 19, 8, 1), sender: ana }),
      ],
      now,
    );
    expect(items.map((i) => (i.kind === 'day' ? i.label : i.message.id))).toEqual(['Yesterday', 1, 2, 'Today', 3, 4]);
  });

  it('starts a new group when the sender changes or after a pause', () => {
    const items = withDateSeparators(
      [
        msg(1, { created_at: at(2026, 2, 19, 10, 0) }),
        msg(2, { created_at: at(2026, 2, 19, 10, 1) }),
        msg(3, { created_at: at(2026, 2, 19, 10, 2), sender: ana }),
        msg(4, { created_at: at(2026, 2, 19, 10, 30), sender: ana }),
      ],
      now,
    ).filter((i) => i.kind === 'message');
    expect(items.map((i) => i.kind === 'message' && i.firstOfGroup)).toEqual([true, false, true, true]);
  });

  it('renders nothing for no messages', () => {
    expect(withDateSeparators([], now)).toEqual([]);
  });
});

describe('relativeTime', () => {
  const now = new Date(2026, 1, 19, 15, 0);
  it('is short', () => {
    expect(relativeTime(null, now)).toBe('');
    expect(relativeTime(new Date(now.getTime() - 20_000).toISOString(), now)).toBe('now');
    expect(relativeTime(new Date(now.getTime() - 5 * 60_000).toISOString(), now)).toBe('5m');
    expect(relativeTime(at(2026, 2, 19, 11), now)).toBe('4h');
    expect(relativeTime(at(2026, 2, 18, 11), now)).toBe('Yesterday');
  });
});

import { describe, expect, it } from 'vitest';
import { highlightSegments, snippet } from './highlight';

const marked = (content: string, ranges: { start: number; end: number }[]) =>
  highlightSegments(content, ranges)
    .map((s) => (s.mark ? `[${s.text}]` : s.text))
    .join('');

describe('highlightSegments', () => {
  it('marks half-open ranges', () => {
    expect(marked('Squat depth', [{ start: 0, end: 5 }])).toBe('[Squat] depth');
    expect(marked('deep squat', [{ start: 5, end: 10 }])).toBe('deep [squat]');
    expect(marked('no match', [])).toBe('no match');
  });

  it('counts code points, so an emoji is one position (as the server does)', () => {
    expect(marked('💪💪 squats', [{ start: 3, end: 8 }])).toBe('💪💪 [squat]s');
    expect(marked('🏋️ lift', [{ start: 3, end: 7 }])).toBe('🏋️ [lift]'); // emoji + variation selector: 2 code points
  });

  it('sorts, merges overlapping or touching ranges, clamps past the end, drops empty ones', () => {
    expect(
      marked('abcdefghij', [
        { start: 6, end: 8 },
        { start: 1, end: 3 },
        { start: 2, end: 4 },
        { start: 4, end: 5 },
        { start: 9, end: 40 },
        { start: 5, end: 5 },
      ]),
    ).toBe('a[bcde]f[gh]i[j]');
  });
});

describe('snippet', () => {
  it('keeps short texts and early matches as they are', () => {
    expect(snippet('squat now', [{ start: 0, end: 5 }])).toEqual({ text: 'squat now', highlights: [{ start: 0, end: 5 }] });
  });

  it('starts near a late match, at a word, with the ranges shifted', () => {
    const content = `${'word '.repeat(30)}squat here`;
    const start = Array.from(content).indexOf('s', 140);
    const s = snippet(content, [{ start, end: start + 5 }]);
    expect(s.text.startsWith('…')).toBe(true);
    expect(s.text.length).toBeLessThan(content.length);
    expect(marked(s.text, s.highlights)).toMatch(/^…word .*\[squat\] here$/);
  });
});

import type { Highlight } from '../api/types';

export interface Segment {
  text: string;
  mark: boolean;
}

/**
 * Split `content` into plain and highlighted runs. Ranges are half-open and count Unicode code
 * points (as the server does), so an emoji is one position; they may come unsorted, overlap
 * or reach past the end (clamped).
 */
export function highlightSegments(content: string, ranges: readonly Highlight[]): Segment[] {
  const chars = Array.from(content);
  const n = chars.length;
  const spans = ranges
    .map((r) => ({ start: Math.max(0, Math.min(n, Math.floor(r.start))), end: Math.max(0, Math.min(n, Math.floor(r.end))) }))
    .filter((r) => r.end > r.start)
    .sort((a, b) => a.start - b.start);
  const out: Segment[] = [];
  let pos = 0;
  for (const r of spans) {
    const start = Math.max(r.start, pos);
    if (r.end <= start) continue; // inside the previous range
    if (start > pos) out.push({ text: chars.slice(pos, start).join(''), mark: false });
    const text = chars.slice(start, r.end).join('');
    const last = out[out.length - 1];
    if (start === pos && last?.mark) last.text += text; // overlapping or touching: one mark
    else out.push({ text, mark: true });
    pos = r.end;
  }
  if (pos < n) out.push({ text: chars.slice(pos).join(''), mark: false });
  return out;
}

/**
 * A shorter text for a result line: when the first match lies far in, start a little before it
 * (with "…"), shifting the ranges to match.
 */
export function snippet(
  content: string,
  ranges: readonly Highlight[],
  lead = 30,
): { text: string; highlights: Highlight[] } {
  const first = ranges.length ? Math.min(...ranges.map((r) => r.start)) : 0;
  if (first <= lead + 10) return { text: content, highlights: [...ranges] };
  const chars = Array.from(content);
  let from = first - lead;
  // Start at a word boundary when one is near.
  const space = chars.slice(from, first).findIndex((c) => /\s/.test(c));
  if (space >= 0 && space < lead - 5) from += space + 1;
  const shift = from - 1; // one position for the "…"
  return {
    text: `…${chars.slice(from).join('')}`,
    highlights: ranges.map((r) => ({ start: r.start - shift, end: r.end - shift })),
  };
}

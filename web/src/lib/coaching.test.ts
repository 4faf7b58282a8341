import { describe, expect, it } from 'vitest';
import type { Broadcast, Conversation, Message, ScheduledMessage, Template } from '../api/types';
import { ana, ben, conv, trainer } from '../test/fixtures';
import {
  applyMessageToNeedsReply,
  fillFirstName,
  filterTemplates,
  fromLocalInput,
  humanDuration,
  newerBroadcast,
  quickPicks,
  sendAtProblem,
  slashQuery,
  toLocalInput,
  upsertScheduled,
  waitingLabel,
  whenLabel,
} from './coaching';

const tpl = (id: number, title: string): Template => ({ id, title, content: `${title} text`, created_at: '', updated_at: '' });

describe('slashQuery', () => {
  it('finds a / at the start or after whitespace, up to the caret', () => {
    expect(slashQuery('/', 1)).toEqual({ start: 0, query: '' });
    expect(slashQuery('/che', 4)).toEqual({ start: 0, query: 'che' });
    expect(slashQuery('Great work. /we', 15)).toEqual({ start: 12, query: 'we' });
    expect(slashQuery('line\n/we', 8)).toEqual({ start: 5, query: 'we' });
    // Titles may have spaces.
    expect(slashQuery('/weekly pl', 10)).toEqual({ start: 0, query: 'weekly pl' });
  });

  it('ignores a / inside a word, before the caret only, or with a line break after it', () => {
    expect(slashQuery('and/or', 6)).toBeNull();
    expect(slashQuery('5 km/h', 6)).toBeNull();
    expect(slashQuery('hello', 5)).toBeNull();
    expect(slashQuery('/we\nmore', 8)).toBeNull();
    expect(slashQuery('/we later', 0)).toBeNull();
    expect(slashQuery('http://x', 8)).toBeNull();
  });
});

describe('filterTemplates', () => {
  const list = [tpl(1, 'Check-in'), tpl(2, 'Form check'), tpl(3, 'Weekly plan')];
  it('matches titles case-insensitively, those starting with the text first', () => {
    expect(filterTemplates(list, '').map((t) => t.id)).toEqual([1, 2, 3]);
    expect(filterTemplates(list, 'CHECK').map((t) => t.id)).toEqual([1, 2]);
    expect(filterTemplates(list, 'check').map((t) => t.id)).toEqual([1, 2]);
    expect(filterTemplates(list, 'y p').map((t) => t.id)).toEqual([3]);
    expect(filterTemplates(list, 'plan').map((t) => t.id)).toEqual([3]);
    expect(filterTemplates(list, 'xyz')).toEqual([]);
  });
  it('fills {first_name}', () => {
    expect(fillFirstName('Hi {first_name}! {first_name}?', 'Ana')).toBe('Hi Ana! Ana?');
    expect(fillFirstName('Hi {first_name}', undefined)).toBe('Hi {first_name}');
  });
});

describe('applyMessageToNeedsReply', () => {
  const at = (min: number) => new Date(Date.parse('2026-03-02T10:00:00Z') + min * 60_000).toISOString();
  const m = (conversation_id: number, sender: typeof ana, min: number): Message => ({
    id: min,
    conversation_id,
    sender,
    content: 'x',
    is_read: false,
    read_at: null,
    created_at: at(min),
    is_deleted: false,
    seq: min,
  });
  const waiting = (id: number, who: typeof ana, since: number): Conversation =>
    conv(id, who, { waiting_since: at(since), last_message_at: at(since) });

  it('a trainee message adds the conversation, waiting since it, in order of waiting', () => {
    const list = [waiting(2, ben, 5)];
    const next = applyMessageToNeedsReply(list, m(1, ana, 1), trainer.id, conv(1, ana));
    expect(next?.map((c) => [c.id, c.waiting_since])).toEqual([
      [1, at(1)],
      [2, at(5)],
    ]);
  });

  it('another trainee message keeps waiting_since; the trainer’s removes it; archived or unknown is refetched', () => {
    const list = [waiting(1, ana, 1), waiting(2, ben, 5)];
    const kept = applyMessageToNeedsReply(list, m(1, ana, 9), trainer.id, conv(1, ana))!;
    expect(kept[0].waiting_since).toBe(at(1));
    expect(kept[0].last_message_at).toBe(at(9));
    expect(applyMessageToNeedsReply(kept, m(1, trainer, 10), trainer.id, conv(1, ana))?.map((c) => c.id)).toEqual([2]);
    // Not there and the trainer writes: nothing changes.
    expect(applyMessageToNeedsReply(list, m(3, trainer, 10), trainer.id, undefined)).toBe(list);
    // Unknown conversation: null (the caller asks the server).
    expect(applyMessageToNeedsReply(list, m(3, ana, 10), trainer.id, undefined)).toBeNull();
  });

  it('an older copy of a message changes nothing', () => {
    const list = [waiting(1, ana, 20)];
    expect(applyMessageToNeedsReply(list, m(1, trainer, 10), trainer.id, conv(1, ana))).toBe(list);
  });
});

describe('durations and times', () => {
  it('humanDuration', () => {
    expect(humanDuration(null)).toBe('—');
    expect(humanDuration(undefined)).toBe('—');
    expect(humanDuration(42.4)).toBe('42 s');
    expect(humanDuration(125)).toBe('2 min');
    expect(humanDuration(3 * 3600)).toBe('3 h');
    expect(humanDuration(3 * 3600 + 20 * 60)).toBe('3 h 20 min');
    expect(humanDuration(2 * 86_400 + 4 * 3600)).toBe('2 d 4 h');
  });

  it('waitingLabel moves with the clock', () => {
    const since = '2026-03-02T10:00:00Z';
    const now = (min: number) => new Date(Date.parse(since) + min * 60_000);
    expect(waitingLabel(since, now(0.5))).toBe('waiting <1 min');
    expect(waitingLabel(since, now(12))).toBe('waiting 12 min');
    expect(waitingLabel(since, now(185))).toBe('waiting 3 h');
    expect(waitingLabel(since, now(60 * 50))).toBe('waiting 2 d');
  });

  it('whenLabel: today, tomorrow, weekday within a week, else the date', () => {
    const now = new Date(2026, 2, 2, 15, 0); // Monday 2 March 2026, 15:00 local
    const at = (d: number, h: number) => new Date(2026, 2, d, h, 0).toISOString();
    const time = (h: number) => new Date(2026, 2, 2, h, 0).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
    expect(whenLabel(at(2, 18), now)).toBe(`Today ${time(18)}`);
    expect(whenLabel(at(3, 6), now)).toBe(`Tomorrow ${time(6)}`);
    expect(whenLabel(at(6, 6), now)).toMatch(new RegExp(`^\\S+ ${time(6)}$`));
    expect(whenLabel(at(20, 6), now)).toContain('20');
  });

  it('quick picks and the datetime-local round trip', () => {
    const now = new Date(2026, 2, 4, 15, 20); // Wednesday
    const picks = quickPicks(now);
    expect(picks.map((p) => p.label)).toEqual(['In 1 hour', 'This evening 18:00', 'Tomorrow 6:00', 'Tomorrow 9:00', 'Monday 6:00']);
    expect(picks[2].at).toEqual(new Date(2026, 2, 5, 6, 0));
    expect(picks[4].at).toEqual(new Date(2026, 2, 9, 6, 0));
    expect(quickPicks(new Date(2026, 2, 8, 20, 0)).map((p) => p.label)).toEqual(['In 1 hour', 'Tomorrow 6:00', 'Tomorrow 9:00']);
    const d = new Date(2026, 2, 5, 6, 30);
    expect(toLocalInput(d)).toBe('2026-03-05T06:30');
    expect(fromLocalInput('2026-03-05T06:30')).toEqual(d);
    expect(fromLocalInput('')).toBeNull();
    expect(sendAtProblem(new Date(now.getTime() - 1000), now)).toBe('Pick a time in the future.');
    expect(sendAtProblem(new Date(now.getTime() + 400 * 86_400_000), now)).toBe('Pick a time within a year.');
    expect(sendAtProblem(d, now)).toBeNull();
  });
});

describe('scheduled messages and broadcasts', () => {
  const s = (id: number, send_at: string, state: ScheduledMessage['state'] = 'pending'): ScheduledMessage => ({
    id,
    conversation_id: 1,
    content: `s${id}`,
    send_at,
    state,
    failure_reason: null,
    created_at: '',
    message_id: null,
  });
  it('upsertScheduled keeps pending and failed ones, soonest first', () => {
    let list = upsertScheduled([], s(1, '2026-03-03T06:00:00Z'));
    list = upsertScheduled(list, s(2, '2026-03-02T06:00:00Z'));
    expect(list.map((x) => x.id)).toEqual([2, 1]);
    list = upsertScheduled(list, s(2, '2026-03-04T06:00:00Z'));
    expect(list.map((x) => x.id)).toEqual([1, 2]);
    expect(upsertScheduled(list, s(1, '', 'sent')).map((x) => x.id)).toEqual([2]);
    expect(upsertScheduled(list, s(1, '2026-03-03T06:00:00Z', 'failed')).map((x) => x.state)).toEqual(['failed', 'pending']);
    const same = upsertScheduled(list, s(9, '', 'cancelled'));
    expect(same).toBe(list);
  });

  it('newerBroadcast: states and counters only move forward', () => {
    const b = (state: Broadcast['state'], sent: number): Broadcast => ({
      id: 1,
      state,
      total: 3,
      sent,
      failed: 0,
      created_at: '',
      send_at: null,
      content: 'x',
      client_broadcast_id: null,
      finished_at: null,
    });
    expect(newerBroadcast(b('sending', 2), b('sending', 1)).sent).toBe(2);
    expect(newerBroadcast(b('sending', 2), b('done', 3)).state).toBe('done');
    expect(newerBroadcast(b('done', 3), b('sending', 2)).state).toBe('done');
    expect(newerBroadcast(undefined, b('scheduled', 0)).state).toBe('scheduled');
  });
});

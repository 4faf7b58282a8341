import { describe, expect, it } from 'vitest';
import type { AccessEntry } from '../api/types';
import { accessSentence, actionLabel, localInputToIso, shortHash } from './audit';

const entry = (over: Partial<AccessEntry>): AccessEntry => ({
  id: 1,
  actor_id: 1,
  actor_name: 'Ada Admin',
  actor_role: 'admin',
  action: 'admin.read_messages',
  subject_user_id: 3,
  conversation_id: 7,
  created_at: '2026-12-03T18:02:00Z',
  ...over,
});

describe('audit wording', () => {
  const withWhom = (id: number) => (id === 7 ? 'Sam Rivera' : null);
  it('names the actor, the action and the conversation', () => {
    expect(accessSentence(entry({}), withWhom)).toBe('Ada Admin (admin) read your messages in your conversation with Sam Rivera');
    expect(accessSentence(entry({ conversation_id: 9 }), withWhom)).toBe('Ada Admin (admin) read your messages in one of your conversations');
    expect(accessSentence(entry({ actor_id: 0, actor_name: 'Spotter operator', actor_role: null, action: 'erase', conversation_id: null }), withWhom)).toBe(
      'Spotter operator erased your data',
    );
    expect(accessSentence(entry({ actor_name: '[removed]', actor_role: null, action: 'export', conversation_id: null }), withWhom)).toBe(
      'A removed account exported your messages',
    );
    expect(accessSentence(entry({ actor_name: 'Sam Rivera', actor_role: 'trainer', action: 'impersonation.start' }), withWhom)).toBe(
      'Sam Rivera (trainer) started viewing Spotter as you',
    );
  });
  it('labels actions, unknown ones readable too', () => {
    expect(actionLabel('admin.read_messages')).toBe('read messages');
    expect(actionLabel('impersonation.start')).toBe('impersonation started');
    expect(actionLabel('something.new_here')).toBe('something new here');
  });
  it('turns a local date-time into an ISO time with Z, and shortens hashes', () => {
    expect(localInputToIso('')).toBeUndefined();
    expect(localInputToIso('2026-12-03T18:02')).toBe(new Date('2026-12-03T18:02').toISOString());
    expect(shortHash('a'.repeat(64))).toBe('aaaaaaaaaaaa');
  });
});

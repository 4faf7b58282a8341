import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../api/types';
import { ana, conv, msg } from '../test/fixtures';
import {
  addLocal,
  applyDeletion,
  applyDeliveryReceipt,
  applyEdit,
  applyNewMessageToList,
  applyReadReceipt,
  firstServerId,
  lastServerId,
  addLocalToPages,
  atLiveEnd,
  flattenPages,
  mapPages,
  mergeIntoPages,
  mergeMessages,
  reconcilePage,
  type MessagesData,
  type MessagesPage,
  previewOf,
  receiptOf,
  removeLocal,
  setListPreview,
  sortConversations,
  updateLocal,
} from './merge';

const local = (cmid: string, content = 'hi'): ChatMessage => ({
  ...msg(-1, { content, client_message_id: cmid }),
  local: { status: 'sending' },
});

describe('mergeMessages', () => {
  it('de-duplicates by id and orders by id', () => {
    const a = msg(1);
    const b = msg(2);
    const c = msg(3);
    const merged = mergeMessages([a, c], [b, c, a]);
    expect(merged.map((m) => m.id)).toEqual([1, 2, 3]);
  });

  it('returns the same array when nothing changes', () => {
    const list = [msg(1), msg(2)];
    expect(mergeMessages(list, [list[0]])).toBe(list);
    expect(mergeMessages(list, [])).toBe(list);
  });

  it('replaces an optimistic message with its server copy (same client_message_id)', () => {
    const pending = local('abc', 'hello');
    const list = addLocal([msg(1)], pending);
    expect(list).toHaveLength(2);
    const server = msg(5, { content: 'hello', client_message_id: 'abc' });
    const merged = mergeMessages(list, [server]);
    expect(merged.map((m) => m.id)).toEqual([1, 5]);
    expect(merged[1].local).toBeUndefined();
    // The socket echo of the same message changes nothing.
    expect(mergeMessages(merged, [server])).toBe(merged);
  });

  it('keeps local messages after server ones', () => {
    const list = addLocal([msg(1)], local('x'));
    const merged = mergeMessages(list, [msg(9)]);
    expect(merged.map((m) => (m.local ? 'local' : m.id))).toEqual([1, 9, 'local']);
  });

  it('never moves receipts backwards', () => {
    const read = msg(1, { is_read: true, read_at: '2026-02-19T11:00:00.000000Z', delivered_at: '2026-02-19T10:30:00.000000Z' });
    const stale = { ...read, is_read: false, read_at: null, delivered_at: null };
    const merged = mergeMessages([read], [stale]);
    expect(merged[0].is_read).toBe(true);
    expect(merged[0].read_at).toBe(read.read_at);
    expect(merged[0].delivered_at).toBe(read.delivered_at);
  });

  it('marks failed and retries a local message', () => {
    const list = addLocal([], local('k'));
    const failed = updateLocal(list, 'k', { status: 'failed', error: 'offline', retryable: true });
    expect(receiptOf(failed[0])).toBe('failed');
    expect(receiptOf(updateLocal(failed, 'k', { status: 'sending' })[0])).toBe('sending');
  });

  it('finds the cursors, ignoring local messages', () => {
    const list = addLocal([msg(4), msg(7)], local('z'));
    expect(firstServerId(list)).toBe(4);
    expect(lastServerId(list)).toBe(7);
    expect(lastServerId([])).toBeNull();
  });
});

describe('receipts', () => {
  it('sent, delivered, read', () => {
    const m = msg(1);
    expect(receiptOf(m)).toBe('sent');
    const [d] = applyDeliveryReceipt([m], m.sender.id, 1, '2026-02-19T12:00:00Z');
    expect(receiptOf(d)).toBe('delivered');
    const [r] = applyReadReceipt([d], ana.id, '2099-01-01T00:00:00Z');
    expect(receiptOf(r)).toBe('read');
    expect(r.read_at).toBe('2099-01-01T00:00:00Z');
  });

  it('delivery receipts stop at up_to_message_id and only touch my messages', () => {
    const mine1 = msg(1);
    const mine2 = msg(3);
    const theirs = msg(2, { sender: ana });
    const out = applyDeliveryReceipt([mine1, theirs, mine2], mine1.sender.id, 2, '2026-02-19T12:00:00Z');
    expect(out.map((m) => !!m.delivered_at)).toEqual([true, false, false]);
  });

  it('a read receipt does not mark the reader’s own messages, nor later ones', () => {
    const mine = msg(1);
    const theirs = msg(2, { sender: ana });
    const later = msg(3, { created_at: '2100-01-01T00:00:00Z' });
    const out = applyReadReceipt([mine, theirs, later], ana.id, '2099-01-01T00:00:00Z');
    expect(out.map((m) => m.is_read)).toEqual([true, false, false]);
  });
});

describe('conversation list', () => {
  it('sorts by latest activity', () => {
    const a = conv(1, ana, { last_message_at: '2026-02-19T09:00:00Z' });
    const b = conv(2, ana, { last_message_at: '2026-02-19T11:00:00Z' });
    const c = conv(3, ana, { last_message_at: null, created_at: '2026-02-19T10:00:00Z' });
    expect(sortConversations([a, b, c]).map((x) => x.id)).toEqual([2, 3, 1]);
  });

  it('a new message moves its conversation up, updates the preview, counts unread once', () => {
    const list = [conv(1, ana, { last_message_at: '2026-02-19T11:00:00Z' }), conv(2, ana, { last_message_at: '2026-02-19T09:00:00Z' })];
    const m = msg(50, { conversation_id: 2, sender: ana, content: 'x'.repeat(150), created_at: '2026-02-19T12:00:00Z' });
    const next = applyNewMessageToList(list, 2, m, 2, false)!;
    expect(next.map((c) => c.id)).toEqual([2, 1]);
    expect(next[0].last_message_preview).toHaveLength(100);
    expect(next[0].unread_count).toBe(1);
    // The same message again (socket + REST) counts nothing more.
    expect(applyNewMessageToList(next, 2, m, 2, false)).toBe(next);
  });

  it('does not count my own messages or the conversation I am reading', () => {
    const list = [conv(1)];
    const mine = msg(51, { created_at: '2026-02-19T12:00:00Z' });
    expect(applyNewMessageToList(list, 1, mine, mine.sender.id, false)![0].unread_count).toBe(0);
    const theirs = msg(52, { sender: ana, created_at: '2026-02-19T12:01:00Z' });
    expect(applyNewMessageToList(list, 1, theirs, 2, true)![0].unread_count).toBe(0);
  });

  it('answers null for an unknown conversation (caller refetches)', () => {
    expect(applyNewMessageToList([conv(1)], 9, msg(1), 2, false)).toBeNull();
  });
});

describe('edits and deletions', () => {
  it('applies an edit (text and time) and leaves a deleted message deleted', () => {
    const list = [msg(1, { content: 'helo' }), msg(2)];
    const edited = applyEdit(list, 1, 'hello', '2026-02-19T10:05:00.000000Z');
    expect(edited[0]).toMatchObject({ content: 'hello', edited_at: '2026-02-19T10:05:00.000000Z' });
    expect(edited[1]).toBe(list[1]);
    expect(applyEdit(edited, 1, 'hello', '2026-02-19T10:05:00.000000Z')).toBe(edited); // nothing new
    expect(applyEdit(list, 99, 'x', '2026-02-19T10:05:00.000000Z')).toBe(list); // not loaded
    const gone = applyDeletion(edited, 1);
    expect(gone[0]).toMatchObject({ is_deleted: true, content: '', image: null, thumbnail: null });
    expect(applyEdit(gone, 1, 'back?', '2026-02-19T10:06:00.000000Z')).toBe(gone);
    expect(applyDeletion(gone, 1)).toBe(gone);
  });

  it('a copy fetched before an edit does not bring the old text back; a deletion is final', () => {
    const edited = msg(1, { content: 'new', edited_at: '2026-02-19T10:05:00.000000Z' });
    const stale = { ...edited, content: 'old', edited_at: null };
    expect(mergeMessages([edited], [stale])).toEqual([edited]);
    const newer = { ...edited, content: 'newer', edited_at: '2026-02-19T10:06:00.000000Z' };
    expect(mergeMessages([edited], [newer])[0].content).toBe('newer');
    const deleted = applyDeletion([edited], 1);
    expect(mergeMessages(deleted, [newer])).toBe(deleted);
    // And a server copy that says deleted replaces a shown message.
    const server = { ...edited, content: '', is_deleted: true };
    expect(mergeMessages([edited], [server])[0].is_deleted).toBe(true);
  });

  it('notices a changed photo or edit time (a render is needed)', () => {
    const m = msg(1, { thumbnail: null });
    expect(mergeMessages([m], [{ ...m, thumbnail: 'http://x/t.jpg' }])[0].thumbnail).toBe('http://x/t.jpg');
  });

  it('previews as the server does: text (100 code points), "Sent a photo", "This message was deleted"', () => {
    expect(previewOf({ content: '💪'.repeat(120), image: null, is_deleted: false })).toBe('💪'.repeat(100));
    expect(previewOf({ content: '', image: 'http://x/p.png', is_deleted: false })).toBe('Sent a photo');
    expect(previewOf({ content: 'caption', image: 'http://x/p.png', is_deleted: false })).toBe('caption');
    expect(previewOf({ content: '', image: null, is_deleted: true })).toBe('This message was deleted');
    const photo = msg(60, { content: '', image: 'http://x/p.png', created_at: '2026-02-19T12:00:00Z' });
    expect(applyNewMessageToList([conv(1)], 1, photo, 2, false)![0].last_message_preview).toBe('Sent a photo');
  });

  it('sets one preview in the list (same array when unchanged)', () => {
    const list = [conv(1), conv(2)];
    const next = setListPreview(list, 2, 'This message was deleted');
    expect(next[1].last_message_preview).toBe('This message was deleted');
    expect(next[0]).toBe(list[0]);
    expect(setListPreview(next, 2, 'This message was deleted')).toBe(next);
  });

  it('drops a local message', () => {
    const list = addLocal([msg(1)], local('gone'));
    expect(removeLocal(list, 'gone').map((m) => m.id)).toEqual([1]);
    expect(removeLocal(list, 'other')).toBe(list);
  });
});

describe('pages of history', () => {
  const page = (ids: number[], hasOlder = false, hasNewer = false): MessagesPage => ({
    messages: ids.map((id) => msg(id)),
    hasOlder,
    hasNewer,
  });
  const data = (...pages: MessagesPage[]): MessagesData => ({ pages, pageParams: pages.map(() => ({ latest: true as const })) });
  const ids = (d: MessagesData) => flattenPages(d).map((m) => (m.local ? `local:${m.client_message_id}` : m.id));

  it('flattens pages (older pages first) into one list, each message once, local ones last', () => {
    const d = data(page([1, 2]), { ...page([3, 4]), messages: addLocal([msg(3), msg(4)], local('l')) });
    expect(ids(d)).toEqual([1, 2, 3, 4, 'local:l']);
    expect(atLiveEnd(d)).toBe(true);
    expect(atLiveEnd(data(page([1]), page([2], false, true)))).toBe(false);
  });

  it('merges a copy where the message is, a new message into the newest page, a confirmed local in place', () => {
    const d = data(page([1, 2], true), { ...page([3]), messages: addLocal([msg(3)], local('c')) });
    const next = mergeIntoPages(d, [
      { ...msg(1), content: 'edited', edited_at: '2026-02-19T11:00:00Z' },
      msg(9, { client_message_id: 'c' }),
    ]);
    expect(next.pages[0].messages[0].content).toBe('edited');
    expect(next.pages[1].messages.map((m) => m.id)).toEqual([3, 9]);
    expect(ids(next)).toEqual([1, 2, 3, 9]);
    expect(mergeIntoPages(next, [msg(9, { client_message_id: 'c' })])).toBe(next); // nothing new
  });

  it('keeps live messages out of a window until it reaches the newest', () => {
    const w = data(page([10, 11], true, true));
    const next = mergeIntoPages(w, [msg(99), { ...msg(11), content: 'edited copy', edited_at: '2026-02-19T11:00:00Z' }]);
    expect(ids(next)).toEqual([10, 11]);
    expect(flattenPages(next)[1].content).toBe('edited copy');
    expect(ids(mergeIntoPages(data(page([10])), [msg(99)]))).toEqual([10, 99]);
  });

  it('adds a pending message once: adding it again only changes its state', () => {
    const d = data(page([1]));
    const once = addLocalToPages(d, local('p'));
    const failed = mapPages(once, (list) => updateLocal(list, 'p', { status: 'failed', error: 'x' }));
    const twice = addLocalToPages(failed, local('p'));
    expect(ids(twice)).toEqual([1, 'local:p']);
    expect(flattenPages(twice)[1].local?.status).toBe('sending');
  });

  it('a fetched page keeps what only moves forward, and the newest page keeps unconfirmed local messages', () => {
    const cached = [{ ...msg(5), content: 'edited', edited_at: '2026-02-19T11:00:00Z' }, msg(6), local('a'), local('b')];
    const fetched = [msg(5), msg(6), msg(7, { client_message_id: 'a' })];
    const newest = reconcilePage(cached, fetched, true);
    expect(newest.map((m) => (m.local ? `local:${m.client_message_id}` : m.id))).toEqual([5, 6, 7, 'local:b']);
    expect(newest[0].content).toBe('edited');
    expect(reconcilePage(cached, [msg(1), msg(2)], false).map((m) => m.id)).toEqual([1, 2]);
  });
});

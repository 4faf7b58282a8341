// Edit and delete from a message's menu: own messages only, "Edit" within 15 minutes, inline
// editor (Enter saves, Escape cancels), optimistic with rollback and the server's reason, and
// the socket's message_edited / message_deleted applied live (list preview included).
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fullTime } from '../lib/dates';
import { ana, ben, conv, msg } from '../test/fixtures';
import { boot, FakeServer, FakeSocket } from '../test/server';

let server: FakeServer;
const ago = (min: number) => new Date(Date.now() - min * 60_000).toISOString();
const row = (text: string) => screen.getByText(text, { selector: '.content' }).closest('li') as HTMLElement;
const log = () => screen.getByRole('log');
const list = () => screen.getByRole('navigation', { name: 'Conversations' });
const menuOf = (li: HTMLElement) => within(li).queryByRole('button', { name: 'Message actions' });

function openMenu(li: HTMLElement) {
  fireEvent.click(menuOf(li)!);
  return within(li).getByRole('menu', { name: 'Message actions' });
}

async function openChat() {
  boot('/messages/1');
  await screen.findByText('latest mine', { selector: '.content' });
}

describe('edit and delete (fetch and WebSocket mocked)', () => {
  beforeEach(() => {
    server = new FakeServer().install();
    server.conversations = [
      conv(1, ana, { last_message_preview: 'latest mine', last_message_at: ago(1) }),
      conv(2, ben, { last_message_preview: 'hello Ben', last_message_at: ago(30) }),
    ];
    server.messages = [
      msg(1, { sender: ana, content: 'from ana', created_at: ago(40) }),
      msg(2, { content: 'old mine', created_at: ago(20) }),
      msg(3, { content: 'latest mine', created_at: ago(1) }),
    ];
  });
  afterEach(() => vi.unstubAllGlobals());

  it('offers the menu on my messages only, and "Edit" only within 15 minutes of sending', async () => {
    await openChat();
    expect(menuOf(row('from ana'))).toBeNull();
    const old = openMenu(row('old mine'));
    expect(within(old).getAllByRole('menuitem').map((i) => i.textContent)).toEqual(['Delete']);
    fireEvent.keyDown(old, { key: 'Escape' });
    expect(within(row('old mine')).queryByRole('menu')).toBeNull();
    expect(document.activeElement).toBe(menuOf(row('old mine')));

    const button = menuOf(row('latest mine'))!;
    expect(button.getAttribute('aria-haspopup')).toBe('menu');
    const recent = openMenu(row('latest mine'));
    expect(button.getAttribute('aria-expanded')).toBe('true');
    const items = within(recent).getAllByRole('menuitem');
    expect(items.map((i) => i.textContent)).toEqual(['Edit', 'Delete']);
    expect(document.activeElement).toBe(items[0]);
    fireEvent.keyDown(recent, { key: 'ArrowDown' });
    expect(document.activeElement).toBe(items[1]);
    fireEvent.keyDown(recent, { key: 'ArrowDown' });
    expect(document.activeElement).toBe(items[0]);
    fireEvent.keyDown(recent, { key: 'Escape' });

    // 15 minutes later (by the clock now), the same message offers only Delete.
    const later = Date.now() + 15 * 60_000;
    vi.spyOn(Date, 'now').mockReturnValue(later);
    const menu = openMenu(row('latest mine'));
    expect(within(menu).getAllByRole('menuitem').map((i) => i.textContent)).toEqual(['Delete']);
  });

  it('edits in place: Enter saves (optimistic, "edited" with the time as tooltip), Escape cancels', async () => {
    await openChat();
    fireEvent.click(within(openMenu(row('latest mine'))).getByRole('menuitem', { name: 'Edit' }));
    let box = within(log()).getByRole<HTMLTextAreaElement>('textbox', { name: 'Edit message' });
    expect(box.value).toBe('latest mine');
    expect(document.activeElement).toBe(box);
    // Escape: nothing changes, nothing is sent.
    fireEvent.change(box, { target: { value: 'never mind' } });
    fireEvent.keyDown(box, { key: 'Escape' });
    expect(within(log()).queryByRole('textbox', { name: 'Edit message' })).toBeNull();
    expect(row('latest mine')).toBeTruthy();
    expect(server.log().some((c) => c.startsWith('PATCH'))).toBe(false);

    fireEvent.click(within(openMenu(row('latest mine'))).getByRole('menuitem', { name: 'Edit' }));
    box = within(log()).getByRole<HTMLTextAreaElement>('textbox', { name: 'Edit message' });
    fireEvent.change(box, { target: { value: '  latest mine, fixed typo ' } });
    fireEvent.keyDown(box, { key: 'Enter', shiftKey: true }); // a new line, not a save
    expect(within(log()).getByRole('textbox', { name: 'Edit message' })).toBeTruthy();
    fireEvent.keyDown(box, { key: 'Enter' });
    const li = await waitFor(() => row('latest mine, fixed typo'));
    expect(within(li).getByText('edited')).toBeTruthy();
    await waitFor(() => expect(server.calls.some((c) => c.method === 'PATCH')).toBe(true));
    const patch = server.calls.find((c) => c.method === 'PATCH')!;
    expect(patch.path).toBe('/api/messaging/conversations/1/messages/3/');
    expect(patch.body).toEqual({ content: 'latest mine, fixed typo' });
    const saved = server.messages.find((m) => m.id === 3)!;
    await waitFor(() => expect(within(row('latest mine, fixed typo')).getByText('edited').getAttribute('title')).toBe(`Edited ${fullTime(saved.edited_at!)}`));
    // The latest message: the list preview follows.
    await within(list()).findByText('latest mine, fixed typo');
  });

  it("an edit the server refuses goes back, with the server's reason", async () => {
    await openChat();
    server.on((r) => (r.method === 'PATCH' ? { status: 400, body: { error: 'Edit window has expired.' } } : undefined));
    fireEvent.click(within(openMenu(row('latest mine'))).getByRole('menuitem', { name: 'Edit' }));
    const box = within(log()).getByRole('textbox', { name: 'Edit message' });
    fireEvent.change(box, { target: { value: 'too late' } });
    fireEvent.keyDown(box, { key: 'Enter' });
    const alert = await within(row('latest mine')).findByRole('alert');
    expect(alert.textContent).toContain('Edit window has expired.');
    expect(within(row('latest mine')).queryByText('edited')).toBeNull();
    expect(screen.queryByText('too late', { selector: '.content' })).toBeNull();
    fireEvent.click(within(alert).getByRole('button', { name: 'Dismiss' }));
    expect(within(row('latest mine')).queryByRole('alert')).toBeNull();
  });

  it('an empty edit of a text message is refused in place', async () => {
    await openChat();
    fireEvent.click(within(openMenu(row('latest mine'))).getByRole('menuitem', { name: 'Edit' }));
    const box = within(log()).getByRole('textbox', { name: 'Edit message' });
    fireEvent.change(box, { target: { value: '   ' } });
    fireEvent.keyDown(box, { key: 'Enter' });
    expect(within(log()).getByRole('alert').textContent).toBe('Message must contain text or an image.');
    expect(server.calls.some((c) => c.method === 'PATCH')).toBe(false);
  });

  it('deletes after a confirmation: the tombstone shows in place at once, the preview follows', async () => {
    await openChat();
    fireEvent.click(within(openMenu(row('latest mine'))).getByRole('menuitem', { name: 'Delete' }));
    const confirm = within(log()).getByRole('group', { name: 'Delete this message for everyone?' });
    const yes = within(confirm).getByRole('button', { name: 'Delete for everyone' });
    expect(document.activeElement).toBe(yes);
    // Escape keeps it.
    fireEvent.keyDown(yes, { key: 'Escape' });
    expect(within(log()).queryByRole('group', { name: /Delete this message/ })).toBeNull();
    fireEvent.click(within(openMenu(row('latest mine'))).getByRole('menuitem', { name: 'Delete' }));
    fireEvent.click(within(log()).getByRole('button', { name: 'Delete for everyone' }));
    const tomb = await within(log()).findByText('This message was deleted');
    const li = tomb.closest('li')!;
    expect(li.className).toContain('deleted');
    expect(li.getAttribute('data-message-id')).toBe('3');
    expect(menuOf(li)).toBeNull();
    expect(within(log()).queryByText('latest mine')).toBeNull();
    await waitFor(() => expect(server.log()).toContain('DELETE /api/messaging/conversations/1/messages/3/'));
    await within(list()).findByText('This message was deleted');
  });

  it("a delete the server refuses brings the message back, with the server's reason", async () => {
    await openChat();
    server.on((r) =>
      r.method === 'DELETE' ? { status: 429, body: { detail: 'Request was throttled. Expected available in 12 seconds.' } } : undefined,
    );
    fireEvent.click(within(openMenu(row('old mine'))).getByRole('menuitem', { name: 'Delete' }));
    fireEvent.click(within(log()).getByRole('button', { name: 'Delete for everyone' }));
    const alert = await within(row('old mine')).findByRole('alert');
    expect(alert.textContent).toContain('Request was throttled. Expected available in 12 seconds.');
    expect(within(log()).queryByText('This message was deleted')).toBeNull();
  });

  it('applies message_edited and message_deleted from the socket, and the preview when it is the latest', async () => {
    await openChat();
    await waitFor(() => expect(FakeSocket.all.length).toBeGreaterThan(0));
    const sock = FakeSocket.last();
    const editedAt = new Date().toISOString();
    // Not the latest message: the preview stays.
    sock.push({ type: 'message_edited', conversation_id: 1, message_id: 1, content: 'from ana (edited)', edited_at: editedAt });
    const edited = await waitFor(() => row('from ana (edited)'));
    expect(within(edited).getByText('edited').getAttribute('title')).toBe(`Edited ${fullTime(editedAt)}`);
    expect(within(list()).getByText('latest mine')).toBeTruthy();
    // The latest: the preview says so.
    sock.push({ type: 'message_deleted', conversation_id: 1, message_id: 3 });
    await within(log()).findByText('This message was deleted');
    await within(list()).findByText('This message was deleted');
    // An edit after the deletion does not bring text back.
    sock.push({ type: 'message_edited', conversation_id: 1, message_id: 3, content: 'ghost', edited_at: editedAt });
    expect(within(log()).queryByText('ghost')).toBeNull();
    // A conversation not loaded here: the list is asked again (the server computes the preview).
    const before = server.log().filter((c) => c === 'GET /api/messaging/conversations/').length;
    sock.push({ type: 'message_deleted', conversation_id: 2, message_id: 77 });
    await waitFor(() =>
      expect(server.log().filter((c) => c === 'GET /api/messaging/conversations/').length).toBeGreaterThan(before),
    );
  });
});

// Scheduled messages: the clock beside Send opens "Schedule message" (quick picks, a date and
// time), POST conversations/<id>/scheduled/; pending ones show under the last message
// ("Scheduled for …") with Edit (text and time, PATCH) and Cancel (DELETE); scheduled_message
// frames keep them live (a sent one goes, its message arrives as a new_message). Trainees too.
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ScheduledMessage } from '../api/types';
import { toLocalInput, whenLabel } from '../lib/coaching';
import { ana, conv, meAna, msg, trainer } from '../test/fixtures';
import { boot, FakeServer, FakeSocket, pngFile } from '../test/server';

let server: FakeServer;
const box = () => screen.getByLabelText<HTMLTextAreaElement>('message input');
const clock = () => screen.getByRole('button', { name: 'Schedule message' });
const popover = () => screen.getByRole('dialog', { name: 'Schedule message' });
const pending = () => screen.queryByRole('region', { name: 'Scheduled messages' });
const item = (text: string) => within(pending()!).getByText(text, { selector: '.content' }).closest('li') as HTMLElement;
const inHours = (h: number) => new Date(Date.now() + h * 3_600_000);
const scheduled = (id: number, content: string, at: Date, over: Partial<ScheduledMessage> = {}): ScheduledMessage => ({
  id,
  conversation_id: 1,
  content,
  send_at: at.toISOString(),
  state: 'pending',
  failure_reason: null,
  created_at: new Date().toISOString(),
  message_id: null,
  ...over,
});

async function openChat() {
  boot('/messages/1');
  await screen.findByText('hello there', { selector: '.content' });
  await waitFor(() => expect(server.log()).toContain('GET /api/messaging/conversations/1/scheduled/'));
  await waitFor(() => expect(FakeSocket.all.length).toBeGreaterThan(0));
  return FakeSocket.last();
}

describe('scheduled messages (fetch and WebSocket mocked)', () => {
  beforeEach(() => {
    server = new FakeServer().install();
    server.conversations = [conv(1, ana)];
    server.messages = [msg(1, { sender: ana, content: 'hello there' })];
  });
  afterEach(() => vi.unstubAllGlobals());

  it('schedules from a quick pick: POST with send_at, the box clears, it shows as pending', async () => {
    await openChat();
    expect(pending()).toBeNull();
    fireEvent.change(box(), { target: { value: '  Time for your check-in!  ' } });
    fireEvent.click(clock());
    expect(clock().getAttribute('aria-expanded')).toBe('true');
    const pick = within(popover()).getByRole('button', { name: /^Tomorrow 6:00/ });
    fireEvent.click(pick);
    await waitFor(() => expect(server.calls.some((c) => c.method === 'POST' && c.path.endsWith('/scheduled/'))).toBe(true));
    const tomorrow = new Date();
    tomorrow.setDate(tomorrow.getDate() + 1);
    tomorrow.setHours(6, 0, 0, 0);
    expect(server.calls.find((c) => c.method === 'POST' && c.path.endsWith('/scheduled/'))!.body).toEqual({
      content: 'Time for your check-in!',
      send_at: tomorrow.toISOString(),
    });
    await waitFor(() => expect(pending()).not.toBeNull());
    expect(box().value).toBe('');
    expect(screen.queryByRole('dialog', { name: 'Schedule message' })).toBeNull();
    const li = item('Time for your check-in!');
    expect(within(li).getByText(`Scheduled for ${whenLabel(tomorrow.toISOString())}`)).toBeTruthy();
    expect(within(li).getByText(/^Scheduled for Tomorrow/).getAttribute('datetime')).toBe(tomorrow.toISOString());
    // Nothing was sent now.
    expect(server.calls.some((c) => c.path.endsWith('/send/'))).toBe(false);
  });

  it('a date and time of one’s own; a time in the past is refused before sending; the server’s reason shows', async () => {
    await openChat();
    fireEvent.change(box(), { target: { value: 'Later' } });
    fireEvent.click(clock());
    const when = within(popover()).getByLabelText('Date and time');
    fireEvent.change(when, { target: { value: '2020-01-01T06:00' } });
    fireEvent.click(within(popover()).getByRole('button', { name: 'Schedule' }));
    expect(within(popover()).getByRole('alert').textContent).toBe('Pick a time in the future.');
    expect(server.calls.some((c) => c.method === 'POST')).toBe(false);
    server.on((r) => (r.method === 'POST' ? { status: 400, body: { send_at: ['At most 366 days ahead.'] } } : undefined));
    const at = inHours(5);
    fireEvent.change(when, { target: { value: toLocalInput(at) } });
    fireEvent.keyDown(when, { key: 'Enter' });
    expect((await within(popover()).findByRole('alert')).textContent).toBe('At most 366 days ahead.');
    expect(box().value).toBe('Later');
    // Escape closes it and gives the focus back to the clock.
    fireEvent.keyDown(popover(), { key: 'Escape' });
    expect(screen.queryByRole('dialog', { name: 'Schedule message' })).toBeNull();
    expect(document.activeElement).toBe(clock());
  });

  it('nothing to schedule without text, nor with a photo', async () => {
    await openChat();
    fireEvent.click(clock());
    expect(within(popover()).getByText('Write the message first, then pick when it goes.')).toBeTruthy();
    expect(within(popover()).getByRole<HTMLButtonElement>('button', { name: /^In 1 hour/ }).disabled).toBe(true);
    fireEvent.click(clock());
    fireEvent.change(screen.getByTestId('photo-file'), { target: { files: [pngFile()] } });
    fireEvent.change(box(), { target: { value: 'caption' } });
    fireEvent.click(clock());
    expect(within(popover()).getByText('A photo cannot be scheduled: remove it, or send it now.')).toBeTruthy();
  });

  it('lists pending ones under the last message, soonest first; Edit changes text and time (PATCH)', async () => {
    server.scheduled = [scheduled(41, 'Second', inHours(30)), scheduled(40, 'First', inHours(2))];
    await openChat();
    await waitFor(() => expect(pending()).not.toBeNull());
    expect(within(pending()!).getAllByRole('listitem').map((li) => li.querySelector('.content')?.textContent)).toEqual(['First', 'Second']);
    // After the last message.
    const log = screen.getByRole('log');
    expect(log.compareDocumentPosition(pending()!) & Node.DOCUMENT_POSITION_FOLLOWING).toBeTruthy();

    fireEvent.click(within(item('First')).getByRole('button', { name: 'Edit' }));
    const editor = within(pending()!).getByRole('group', { name: 'Edit scheduled message' });
    const text = within(editor).getByLabelText<HTMLTextAreaElement>('Scheduled message text');
    expect(document.activeElement).toBe(text);
    fireEvent.change(text, { target: { value: 'First, edited' } });
    const later = inHours(40);
    later.setSeconds(0, 0);
    fireEvent.change(within(editor).getByLabelText('Send at'), { target: { value: toLocalInput(later) } });
    fireEvent.click(within(editor).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(server.calls.some((c) => c.method === 'PATCH')).toBe(true));
    const patch = server.calls.find((c) => c.method === 'PATCH')!;
    expect(patch.path).toBe('/api/messaging/conversations/1/scheduled/40/');
    expect(patch.body).toEqual({ content: 'First, edited', send_at: later.toISOString() });
    // Re-ordered: now after "Second".
    await waitFor(() =>
      expect(within(pending()!).getAllByRole('listitem').map((li) => li.querySelector('.content')?.textContent)).toEqual([
        'Second',
        'First, edited',
      ]),
    );
  });

  it('an edit of only the text sends only the text; Escape discards', async () => {
    server.scheduled = [scheduled(40, 'First', inHours(2))];
    await openChat();
    await waitFor(() => expect(pending()).not.toBeNull());
    fireEvent.click(within(item('First')).getByRole('button', { name: 'Edit' }));
    let text = within(pending()!).getByLabelText('Scheduled message text');
    fireEvent.change(text, { target: { value: 'never mind' } });
    fireEvent.keyDown(text, { key: 'Escape' });
    expect(item('First')).toBeTruthy();
    fireEvent.click(within(item('First')).getByRole('button', { name: 'Edit' }));
    text = within(pending()!).getByLabelText('Scheduled message text');
    fireEvent.change(text, { target: { value: 'Only the text' } });
    fireEvent.keyDown(text, { key: 'Enter' });
    await waitFor(() => expect(server.calls.find((c) => c.method === 'PATCH')?.body).toEqual({ content: 'Only the text' }));
    await waitFor(() => expect(item('Only the text')).toBeTruthy());
  });

  it('Cancel asks first, then DELETE; a refusal ("no longer pending") shows', async () => {
    server.scheduled = [scheduled(40, 'First', inHours(2)), scheduled(41, 'Second', inHours(3))];
    await openChat();
    await waitFor(() => expect(pending()).not.toBeNull());
    fireEvent.click(within(item('First')).getByRole('button', { name: 'Cancel' }));
    const confirm = within(item('First')).getByRole('group', { name: 'Cancel this scheduled message?' });
    expect(document.activeElement).toBe(within(confirm).getByRole('button', { name: 'Cancel message' }));
    fireEvent.click(within(confirm).getByRole('button', { name: 'Cancel message' }));
    await waitFor(() => expect(within(pending()!).queryByText('First')).toBeNull());
    expect(server.log()).toContain('DELETE /api/messaging/conversations/1/scheduled/40/');
    // Sent meanwhile: the server says so.
    server.on((r) => (r.method === 'DELETE' ? { status: 400, body: { error: 'This message is no longer pending.' } } : undefined));
    fireEvent.click(within(item('Second')).getByRole('button', { name: 'Cancel' }));
    fireEvent.click(within(item('Second')).getByRole('button', { name: 'Cancel message' }));
    expect((await within(item('Second')).findByRole('alert')).textContent).toBe('This message is no longer pending.');
  });

  it('frames: created elsewhere shows; sent goes and its message arrives; failed shows why', async () => {
    const sock = await openChat();
    const s = scheduled(50, 'From my phone', inHours(1));
    sock.push({ type: 'scheduled_message', scheduled: s });
    await waitFor(() => expect(item('From my phone')).toBeTruthy());
    // Edited elsewhere.
    sock.push({ type: 'scheduled_message', scheduled: { ...s, content: 'From my phone (edited)' } });
    await waitFor(() => expect(item('From my phone (edited)')).toBeTruthy());
    // Sent: it leaves the pending list, the real message comes as a new_message.
    sock.push({ type: 'scheduled_message', scheduled: { ...s, content: 'From my phone (edited)', state: 'sent', message_id: 900 } });
    sock.push({
      type: 'new_message',
      conversation_id: 1,
      message: msg(900, { sender: trainer, content: 'From my phone (edited)', created_at: new Date().toISOString() }),
    });
    await waitFor(() => expect(pending()).toBeNull());
    expect(within(screen.getByRole('log')).getByText('From my phone (edited)')).toBeTruthy();
    // Another one fails.
    sock.push({
      type: 'scheduled_message',
      scheduled: scheduled(51, 'Too late', inHours(1), { state: 'failed', failure_reason: 'The conversation is archived.' }),
    });
    await waitFor(() => expect(item('Too late')).toBeTruthy());
    expect(within(item('Too late')).getByText('Not sent: The conversation is archived.')).toBeTruthy();
    fireEvent.click(within(item('Too late')).getByRole('button', { name: 'Dismiss' }));
    await waitFor(() => expect(pending()).toBeNull());
    // A frame of another conversation (not loaded here) changes nothing here.
    sock.push({ type: 'scheduled_message', scheduled: { ...scheduled(52, 'Elsewhere', inHours(1)), conversation_id: 7 } });
    expect(pending()).toBeNull();
  });

  it('trainees can schedule too, in their conversation', async () => {
    server.me = meAna;
    await openChat();
    fireEvent.change(box(), { target: { value: 'Reminder to myself: ask about deload' } });
    fireEvent.click(clock());
    fireEvent.click(within(popover()).getByRole('button', { name: /^In 1 hour/ }));
    await waitFor(() => expect(item('Reminder to myself: ask about deload')).toBeTruthy());
  });
});

// Broadcasts (trainers): the composer (recipients with search and "All trainees", `{first_name}`
// with a live preview on a real trainee's name, now or scheduled, a retry-safe
// client_broadcast_id), then progress live from broadcast_progress frames, the failures, the
// list with Cancel for scheduled ones.
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Broadcast, BroadcastDetail } from '../api/types';
import { ana, ben, meAna } from '../test/fixtures';
import { boot, FakeServer, FakeSocket } from '../test/server';

let server: FakeServer;
const cy = { id: 5, first_name: 'Cy', last_name: 'Young', email: 'cy@example.com', profile_image: null };
const composer = () => screen.getByRole('form', { name: 'New broadcast' });
const check = (name: RegExp) => within(composer()).getByRole<HTMLInputElement>('checkbox', { name });
const box = () => within(composer()).getByLabelText<HTMLTextAreaElement>('Message');
const preview = () => screen.getByTestId('broadcast-preview').textContent;
const posts = () => server.calls.filter((c) => c.method === 'POST' && c.path === '/api/messaging/broadcasts/');

async function openComposer() {
  boot('/broadcasts/new');
  await within(await screen.findByRole('form', { name: 'New broadcast' })).findByText('Cy Young');
}

const bc = (over: Partial<BroadcastDetail>): BroadcastDetail => ({
  id: 70,
  state: 'done',
  total: 3,
  sent: 3,
  failed: 0,
  created_at: new Date(Date.now() - 3_600_000).toISOString(),
  send_at: null,
  content: 'Gym closed Monday, {first_name}',
  client_broadcast_id: 'x',
  finished_at: new Date(Date.now() - 3_500_000).toISOString(),
  failures: [],
  ...over,
});

describe('broadcasts (fetch and WebSocket mocked)', () => {
  beforeEach(() => {
    server = new FakeServer().install();
    server.trainees = [ana, ben, cy].map((t) => ({ ...t, is_active: true }));
  });
  afterEach(() => vi.unstubAllGlobals());

  it('composes for picked trainees with a live preview, sends, and shows progress live from frames', async () => {
    await openComposer();
    expect(screen.getByRole('status').textContent).toBe('0 of 3 selected');
    // Search filters the list; picks stay.
    fireEvent.change(within(composer()).getByLabelText('Search trainees'), { target: { value: 'ben' } });
    expect(within(composer()).queryByText('Ana Lima')).toBeNull();
    fireEvent.click(check(/Ben Okafor/));
    fireEvent.change(within(composer()).getByLabelText('Search trainees'), { target: { value: '' } });
    fireEvent.click(check(/Ana Lima/));
    expect(screen.getByRole('status').textContent).toBe('2 of 3 selected');
    expect(within(composer()).getByRole<HTMLInputElement>('checkbox', { name: 'All trainees' }).indeterminate).toBe(true);

    // {first_name} at the caret; the preview fills it with a real trainee's name.
    fireEvent.change(box(), { target: { value: 'Hi , the gym is closed on Monday.' } });
    box().setSelectionRange(3, 3);
    fireEvent.click(within(composer()).getByRole('button', { name: 'Insert {first_name}' }));
    expect(box().value).toBe('Hi {first_name}, the gym is closed on Monday.');
    expect(preview()).toBe('Hi Ana, the gym is closed on Monday.');
    fireEvent.change(within(composer()).getByRole('combobox'), { target: { value: String(ben.id) } });
    expect(preview()).toBe('Hi Ben, the gym is closed on Monday.');

    fireEvent.click(within(composer()).getByRole('button', { name: 'Send to 2 trainees' }));
    await waitFor(() => expect(posts()).toHaveLength(1));
    const body = posts()[0].body as Record<string, unknown>;
    expect(body).toEqual({
      content: 'Hi {first_name}, the gym is closed on Monday.',
      trainee_ids: [ben.id, ana.id],
      client_broadcast_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    // Its page: progress from the frames.
    const created = server.broadcasts[0];
    await waitFor(() => expect(window.location.pathname).toBe(`/broadcasts/${created.id}`));
    const counts = await screen.findByTestId('broadcast-counts');
    expect(counts.textContent).toBe('0 of 2 sent');
    expect(screen.getByText('Sending')).toBeTruthy();
    const sock = FakeSocket.last();
    const frame = (b: Partial<Broadcast>) => sock.push({ type: 'broadcast_progress', broadcast: { ...created, failures: undefined, ...b } });
    frame({ sent: 1 });
    await waitFor(() => expect(screen.getByTestId('broadcast-counts').textContent).toBe('1 of 2 sent'));
    const bar = screen.getByRole('progressbar', { name: 'Broadcast progress' });
    expect(bar.getAttribute('aria-valuenow')).toBe('1');
    expect(bar.getAttribute('aria-valuemax')).toBe('2');
    // An older frame arriving late does not move it back.
    frame({ sent: 0 });
    expect(screen.getByTestId('broadcast-counts').textContent).toBe('1 of 2 sent');
    // Done with one failure: the failures come from the detail, fetched again.
    const i = server.broadcasts.findIndex((x) => x.id === created.id);
    server.broadcasts[i] = {
      ...created,
      state: 'done',
      sent: 1,
      failed: 1,
      failures: [{ trainee_id: ben.id, trainee_name: 'Ben Okafor', reason: 'The conversation is archived.' }],
    };
    frame({ state: 'done', sent: 1, failed: 1 });
    await waitFor(() => expect(screen.getByTestId('broadcast-counts').textContent).toBe('1 of 2 sent · 1 failed'));
    expect(screen.getByText('Sent with failures')).toBeTruthy();
    const failures = await screen.findByRole('region', { name: 'Not delivered' });
    expect(within(failures).getByText('Ben Okafor')).toBeTruthy();
    expect(within(failures).getByText('The conversation is archived.')).toBeTruthy();
  });

  it('"All trainees" sends "all"; Schedule sends send_at; then the list offers Cancel (DELETE)', async () => {
    await openComposer();
    fireEvent.click(within(composer()).getByRole('checkbox', { name: 'All trainees' }));
    expect(check(/Cy Young/).checked).toBe(true);
    expect(screen.getByRole('status').textContent).toBe('3 of 3 selected');
    fireEvent.change(box(), { target: { value: 'Monday: rest day for everyone.' } });
    fireEvent.click(within(composer()).getByRole('radio', { name: 'Schedule' }));
    const when = within(composer()).getByLabelText<HTMLInputElement>('Date and time');
    // Tomorrow 6:00 by default.
    const tomorrow = new Date();
    tomorrow.setDate(tomorrow.getDate() + 1);
    tomorrow.setHours(6, 0, 0, 0);
    expect(when.value.endsWith('T06:00')).toBe(true);
    fireEvent.click(within(composer()).getByRole('button', { name: 'Schedule for 3 trainees' }));
    await waitFor(() => expect(posts()).toHaveLength(1));
    expect(posts()[0].body).toMatchObject({ trainee_ids: 'all', send_at: tomorrow.toISOString() });
    await screen.findByText('Scheduled');

    // The list.
    fireEvent.click(within(screen.getByRole('main')).getByRole('link', { name: 'Broadcasts' }));
    const list = await screen.findByRole('list', { name: 'Your broadcasts' });
    const row = within(list).getByText('Monday: rest day for everyone.').closest('li')!;
    expect(within(row).getByText('Scheduled')).toBeTruthy();
    expect(within(row).getByTestId('broadcast-counts').textContent).toBe('3 recipients');
    fireEvent.click(within(row).getByRole('button', { name: 'Cancel' }));
    fireEvent.click(within(within(row).getByRole('group', { name: 'Cancel this broadcast?' })).getByRole('button', { name: 'Cancel broadcast' }));
    await within(row).findByText('Cancelled');
    expect(server.log()).toContain(`DELETE /api/messaging/broadcasts/${server.broadcasts[0].id}/`);
    expect(within(row).queryByRole('button', { name: 'Cancel' })).toBeNull();
  });

  it('retry-safe: the same client_broadcast_id after no answer, a new one after a refusal; field errors in place', async () => {
    await openComposer();
    fireEvent.click(check(/Ana Lima/));
    fireEvent.change(box(), { target: { value: 'Hello {first_name}' } });
    let answer: { status: number; body: unknown } | undefined = { status: 503, body: { detail: 'Service temporarily unavailable, try again shortly.' } };
    server.on((r) => (r.method === 'POST' && r.path === '/api/messaging/broadcasts/' ? answer : undefined));
    fireEvent.click(within(composer()).getByRole('button', { name: 'Send to 1 trainee' }));
    expect((await screen.findByText('Service temporarily unavailable, try again shortly.')).getAttribute('role')).toBe('alert');
    answer = { status: 400, body: { content: ['Ensure this field has no more than 2000 characters.'] } };
    fireEvent.click(within(composer()).getByRole('button', { name: 'Send to 1 trainee' }));
    expect((await screen.findByText('Ensure this field has no more than 2000 characters.')).getAttribute('role')).toBe('alert');
    expect(box().getAttribute('aria-invalid')).toBe('true');
    answer = undefined;
    fireEvent.click(within(composer()).getByRole('button', { name: 'Send to 1 trainee' }));
    await waitFor(() => expect(window.location.pathname).toMatch(/^\/broadcasts\/\d+$/));
    const keys = posts().map((c) => (c.body as { client_broadcast_id: string }).client_broadcast_id);
    expect(keys[0]).toBe(keys[1]);
    expect(keys[2]).not.toBe(keys[1]);
  });

  it('checks before sending: a recipient, some text, a time in the future', async () => {
    await openComposer();
    fireEvent.click(within(composer()).getByRole('radio', { name: 'Schedule' }));
    fireEvent.change(within(composer()).getByLabelText('Date and time'), { target: { value: '2020-01-01T06:00' } });
    fireEvent.click(within(composer()).getByRole('button', { name: 'Schedule for 0 trainees' }));
    expect(screen.getByText('Pick at least one trainee.')).toBeTruthy();
    expect(screen.getByText('Write the message.')).toBeTruthy();
    expect(screen.getByText('Pick a time in the future.')).toBeTruthy();
    expect(posts()).toHaveLength(0);
  });

  it('the list is kept live by frames and loads the detail of one', async () => {
    server.broadcasts = [bc({ id: 70 }), bc({ id: 71, state: 'sending', sent: 1, failed: 0, finished_at: null, content: 'Second one' })];
    boot('/broadcasts');
    const list = await screen.findByRole('list', { name: 'Your broadcasts' });
    const rows = within(list).getAllByRole('listitem');
    expect(rows.map((r) => r.getAttribute('data-broadcast-id'))).toEqual(['71', '70']);
    expect(within(rows[0]).getByTestId('broadcast-counts').textContent).toBe('1 of 3 sent');
    await waitFor(() => expect(FakeSocket.all.length).toBeGreaterThan(0));
    FakeSocket.last().push({ type: 'broadcast_progress', broadcast: { ...server.broadcasts[1], state: 'done', sent: 3 } });
    await waitFor(() => expect(within(rows[0]).getByTestId('broadcast-counts').textContent).toBe('3 of 3 sent'));
    expect(within(rows[0]).getByText('Sent')).toBeTruthy();
    // The placeholder shows as such.
    expect(within(rows[1]).getByText('{first_name}').className).toBe('token');
  });

  it('an answer that left the server before a frame does not take the detail back', async () => {
    server.broadcasts = [bc({ id: 71, state: 'sending', sent: 1, failed: 0, finished_at: null })];
    // The detail's answer is held until the frame is in; it then says "1 of 3" still.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let answered = false;
    const serverFetch = globalThis.fetch;
    vi.stubGlobal('fetch', async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = input instanceof Request ? input.url : input.toString();
      if (!url.includes('/broadcasts/71/')) return serverFetch(input, init);
      await held;
      const res = await serverFetch(input, init);
      answered = true;
      return res;
    });
    boot('/broadcasts/71');
    await waitFor(() => expect(FakeSocket.all.length).toBeGreaterThan(0));
    FakeSocket.last().push({ type: 'broadcast_progress', broadcast: { ...server.broadcasts[0], failures: undefined, state: 'done', sent: 3 } });
    release();
    await waitFor(() => expect(answered).toBe(true));
    await waitFor(() => expect(screen.getByTestId('broadcast-counts').textContent).toBe('3 of 3 sent'));
    expect(screen.getByText('Sent')).toBeTruthy();
  });

  it('trainees have no broadcasts', async () => {
    server.me = meAna;
    boot('/broadcasts');
    await screen.findByText('Only trainers send broadcasts.');
    expect(screen.queryByRole('link', { name: 'Broadcasts' })).toBeNull();
  });
});

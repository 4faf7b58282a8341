// Saved replies: `/` in the message box opens a picker of the trainer's replies (GET templates/),
// filtered by title; arrows and Enter or Tab insert (replacing the `/query`, `{first_name}`
// filled), Escape closes, a click picks; "Manage saved replies…" opens the manager (create,
// edit, delete, with the server's refusals). Trainees have none of it.
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ana, conv, meAna, msg } from '../test/fixtures';
import { boot, FakeServer } from '../test/server';

let server: FakeServer;
const box = () => screen.getByLabelText<HTMLTextAreaElement>('message input');
const picker = () => screen.queryByTestId('saved-reply-picker');
const options = () => within(picker()!).getAllByRole('option');
/** Type as a user does: the value, with the caret at its end. */
function type(value: string) {
  const el = box();
  fireEvent.change(el, { target: { value, selectionStart: value.length, selectionEnd: value.length } });
}
const key = (k: string, extra: object = {}) => fireEvent.keyDown(box(), { key: k, ...extra });
const tpl = (id: number, title: string, content: string) => ({ id, title, content, created_at: '2026-02-01T10:00:00Z', updated_at: '2026-02-01T10:00:00Z' });

async function openChat() {
  boot('/messages/1');
  await screen.findByText('hello there', { selector: '.content' });
  await waitFor(() => expect(server.log()).toContain('GET /api/messaging/templates/'));
}

describe('saved replies (fetch and WebSocket mocked)', () => {
  beforeEach(() => {
    server = new FakeServer().install();
    server.conversations = [conv(1, ana)];
    server.messages = [msg(1, { sender: ana, content: 'hello there' })];
    server.templates = [
      tpl(11, 'Check-in', 'Hi {first_name}, how did today’s session feel?'),
      tpl(12, 'Form check', 'Send me a video of your squat.'),
      tpl(13, 'Weekly plan', 'Here is your plan for the week.'),
    ];
  });
  afterEach(() => vi.unstubAllGlobals());

  it('"/" at the start opens the picker with every reply; typing filters by title, case-insensitively', async () => {
    await openChat();
    expect(picker()).toBeNull();
    type('/');
    expect(options().map((o) => o.querySelector('.reply-title')?.textContent ?? null)).toEqual([
      'Check-in',
      'Form check',
      'Weekly plan',
      null, // "Manage saved replies…"
    ]);
    expect(options()[3].textContent).toBe('Manage saved replies…');
    expect(box().getAttribute('aria-controls')).toBe(within(picker()!).getByRole('listbox').id);
    type('/CHECK');
    expect(options().map((o) => o.querySelector('.reply-title')?.textContent ?? null)).toEqual(['Check-in', 'Form check', null]);
    expect(within(picker()!).getByRole('status').textContent).toBe('2 saved replies');
    // The typed part is marked.
    expect(options()[1].querySelector('mark')?.textContent).toBe('check');
    type('/plan');
    expect(options()).toHaveLength(2);
    type('/nothing');
    expect(within(picker()!).getByRole('status').textContent).toBe('No saved reply matches “nothing”.');
    // A space after a miss: plain text, no picker.
    type('/nothing here');
    expect(picker()).toBeNull();
  });

  it('opens after a space, not inside a word; arrows move, Enter inserts in place of the /query', async () => {
    await openChat();
    type('and/or');
    expect(picker()).toBeNull();
    type('Great work today. /c');
    expect(options()[0].getAttribute('aria-selected')).toBe('true');
    expect(box().getAttribute('aria-activedescendant')).toBe(options()[0].id);
    key('ArrowDown');
    expect(options()[1].getAttribute('aria-selected')).toBe('true');
    expect(box().getAttribute('aria-activedescendant')).toBe(options()[1].id);
    key('ArrowDown');
    key('ArrowDown'); // wraps: Manage, then the first
    expect(options()[0].getAttribute('aria-selected')).toBe('true');
    key('ArrowUp');
    key('ArrowUp');
    expect(options()[1].getAttribute('aria-selected')).toBe('true');
    key('Enter');
    expect(box().value).toBe('Great work today. Send me a video of your squat.');
    expect(box().selectionStart).toBe(box().value.length);
    expect(picker()).toBeNull();
    // Nothing was sent: Enter went to the picker.
    expect(server.calls.some((c) => c.path.endsWith('/send/'))).toBe(false);
  });

  it('fills {first_name} with the trainee’s name; Tab inserts too; text after the caret stays', async () => {
    await openChat();
    type('/check');
    key('Tab');
    expect(box().value).toBe('Hi Ana, how did today’s session feel?');
    // Insert in the middle: the caret after "/we", text after it kept.
    const el = box();
    fireEvent.change(el, { target: { value: 'Start. /we End.', selectionStart: 10, selectionEnd: 10 } });
    key('Enter');
    expect(box().value).toBe('Start. Here is your plan for the week. End.');
  });

  it('Escape closes it and keeps the text; Enter then sends it as a message', async () => {
    await openChat();
    type('/check');
    key('Escape');
    expect(picker()).toBeNull();
    expect(box().value).toBe('/check');
    // Still closed while typing on after the same "/".
    type('/checkx');
    expect(picker()).toBeNull();
    key('Enter');
    await waitFor(() => expect(server.calls.some((c) => c.path.endsWith('/send/'))).toBe(true));
    expect(server.calls.find((c) => c.path.endsWith('/send/'))!.body).toMatchObject({ content: '/checkx' });
    // A new "/" opens it again.
    type('/');
    expect(picker()).not.toBeNull();
  });

  it('a click inserts (the box keeps the focus)', async () => {
    await openChat();
    box().focus();
    type('/');
    const weekly = options()[2];
    fireEvent.mouseDown(weekly);
    fireEvent.click(weekly);
    expect(box().value).toBe('Here is your plan for the week.');
    expect(document.activeElement).toBe(box());
  });

  it('the manager: create, a duplicate title refused in the server’s words, edit, delete; the picker follows', async () => {
    await openChat();
    type('/');
    fireEvent.click(within(picker()!).getByRole('option', { name: 'Manage saved replies…' }));
    const dialog = await screen.findByRole('dialog', { name: 'Saved replies' });
    expect(document.activeElement).toBe(within(dialog).getByLabelText('Title'));
    const add = (title: string, content: string) => {
      fireEvent.change(within(dialog).getByLabelText('Title'), { target: { value: title } });
      fireEvent.change(within(dialog).getByLabelText('Reply'), { target: { value: content } });
      fireEvent.click(within(dialog).getByRole('button', { name: 'Add saved reply' }));
    };
    // Checked here first: empty fields.
    add('', '');
    expect(within(dialog).getByText('Give it a title.')).toBeTruthy();
    expect(server.calls.some((c) => c.method === 'POST')).toBe(false);
    add('Rest day', 'Take it easy today, {first_name}.');
    const list = await within(dialog).findByRole('list', { name: 'Your saved replies' });
    await within(list).findByText('Rest day');
    expect(server.calls.find((c) => c.method === 'POST')!.body).toEqual({ title: 'Rest day', content: 'Take it easy today, {first_name}.' });
    // The server's refusal, under the title.
    add('WEEKLY PLAN', 'dup');
    expect((await within(dialog).findByText('You already have a saved reply with this title.')).getAttribute('role')).toBe('alert');
    expect(within(dialog).getByLabelText('Title').getAttribute('aria-invalid')).toBe('true');
    // Edit.
    fireEvent.click(within(dialog).getByRole('button', { name: 'Edit “Form check”' }));
    const title = within(dialog).getByLabelText<HTMLInputElement>('Title');
    expect(title.value).toBe('Form check');
    fireEvent.change(title, { target: { value: 'Squat check' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save changes' }));
    await within(list).findByText('Squat check');
    expect(server.calls.find((c) => c.method === 'PATCH')!.path).toBe('/api/messaging/templates/12/');
    // Delete, after a confirmation.
    fireEvent.click(within(dialog).getByRole('button', { name: 'Delete “Weekly plan”' }));
    fireEvent.click(within(within(dialog).getByRole('group', { name: 'Delete “Weekly plan”?' })).getByRole('button', { name: 'Delete' }));
    await waitFor(() => expect(within(list).queryByText('Weekly plan')).toBeNull());
    expect(server.log()).toContain('DELETE /api/messaging/templates/13/');
    // Escape closes it; the picker has the changes.
    fireEvent.keyDown(dialog, { key: 'Escape' });
    expect(screen.queryByRole('dialog')).toBeNull();
    type('/');
    expect(options().map((o) => o.querySelector('.reply-title')?.textContent ?? null)).toEqual(['Check-in', 'Rest day', 'Squat check', null]);
  });

  it('shows the cap refusal of the server', async () => {
    server.templateCap = 3;
    await openChat();
    type('/');
    fireEvent.click(within(picker()!).getByRole('option', { name: 'Manage saved replies…' }));
    const dialog = await screen.findByRole('dialog', { name: 'Saved replies' });
    fireEvent.change(within(dialog).getByLabelText('Title'), { target: { value: 'One more' } });
    fireEvent.change(within(dialog).getByLabelText('Reply'), { target: { value: 'text' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Add saved reply' }));
    expect(
      (await within(dialog).findByText('You can keep at most 200 saved replies. Delete one to save another.')).getAttribute('role'),
    ).toBe('alert');
  });

  it('with no saved reply yet, "/" offers to create one', async () => {
    server.templates = [];
    await openChat();
    type('/');
    expect(within(picker()!).getByRole('status').textContent).toBe('No saved replies yet.');
    key('ArrowDown');
    key('Enter');
    expect(await screen.findByRole('dialog', { name: 'Saved replies' })).toBeTruthy();
  });

  it('trainees have no saved replies: no picker, no request', async () => {
    server.me = meAna;
    boot('/messages/1');
    await screen.findByText('hello there', { selector: '.content' });
    type('/');
    expect(picker()).toBeNull();
    expect(server.log().some((c) => c.includes('templates'))).toBe(false);
  });
});

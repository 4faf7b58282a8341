import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import type { ChatMessage } from '../api/types';
import { fullTime } from '../lib/dates';
import { ana, msg } from '../test/fixtures';
import { canEditAt, EDIT_WINDOW_MS, MessageBubble } from './MessageBubble';

const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

function bubble(message: ChatMessage, props: Partial<Parameters<typeof MessageBubble>[0]> = {}) {
  render(
    <ol>
      <MessageBubble message={message} mine={message.sender?.id !== ana.id} firstOfGroup {...props} />
    </ol>,
  );
  return screen.getByRole('listitem');
}

describe('MessageBubble', () => {
  it('"edited" with the edit time as tooltip', () => {
    const li = bubble(msg(1, { content: 'fixed', edited_at: '2026-02-19T10:05:00.000000Z' }));
    expect(within(li).getByText('edited').getAttribute('title')).toBe(`Edited ${fullTime('2026-02-19T10:05:00.000000Z')}`);
  });

  it('a deleted message: "This message was deleted" in place, muted, no receipt, no menu', () => {
    const li = bubble(msg(1, { content: '', is_deleted: true, edited_at: '2026-02-19T10:05:00Z' }), {
      onEdit: vi.fn(),
      onDelete: vi.fn(),
    });
    const text = within(li).getByText('This message was deleted');
    expect(text.className).toContain('deleted-text');
    expect(li.className).toContain('deleted');
    expect(within(li).queryByText('edited')).toBeNull();
    expect(within(li).queryByRole('img')).toBeNull();
    expect(within(li).queryByRole('button', { name: 'Message actions' })).toBeNull();
  });

  it('a photo with a caption: thumbnail box from image_width/height, caption below', () => {
    const li = bubble(
      msg(1, {
        sender: ana,
        content: 'Form check',
        image: 'http://h/full.png',
        thumbnail: 'http://h/thumb.jpg',
        image_width: 300,
        image_height: 300,
      }),
    );
    const button = within(li).getByRole('button', { name: 'Open photo from Ana Lima' });
    const img = button.querySelector('img')!;
    expect(img.getAttribute('src')).toBe('http://h/thumb.jpg');
    expect([img.getAttribute('width'), img.getAttribute('height')]).toEqual(['280', '280']);
    expect(button.style.aspectRatio).toBe('280 / 280');
    expect(within(li).getByText('Form check').className).toBe('content');
  });

  it('others’ messages and read-only chats have no menu', () => {
    const theirs = bubble(msg(1, { sender: ana }), { onEdit: vi.fn(), onDelete: vi.fn() });
    expect(within(theirs).queryByRole('button', { name: 'Message actions' })).toBeNull();
  });

  it('read-only chat: no menu on my messages either', () => {
    const li = bubble(msg(1, { created_at: ago(1000) }));
    expect(within(li).queryByRole('button', { name: 'Message actions' })).toBeNull();
  });

  it('the edit window is 15 minutes from created_at', () => {
    const now = Date.parse('2026-02-19T10:15:00Z');
    expect(EDIT_WINDOW_MS).toBe(900_000);
    expect(canEditAt(msg(1, { created_at: '2026-02-19T10:00:00.001Z' }), now)).toBe(true);
    expect(canEditAt(msg(1, { created_at: '2026-02-19T10:00:00.000Z' }), now)).toBe(false);
    expect(canEditAt(msg(1, { created_at: '2026-02-19T10:14:00Z', is_deleted: true }), now)).toBe(false);
    expect(canEditAt({ ...msg(1, { created_at: '2026-02-19T10:14:00Z' }), local: { status: 'sending' } }, now)).toBe(false);
  });

  it('Enter saves through onEdit; a refusal shows its reason; an unchanged text sends nothing', async () => {
    const onEdit = vi.fn(async () => {
      throw new Error('Edit window has expired.');
    });
    const m = msg(1, { content: 'caption', image: 'http://h/p.png', thumbnail: 'http://h/t.jpg', created_at: ago(60_000) });
    const li = bubble(m, { onEdit, onDelete: vi.fn() });
    const open = () => {
      fireEvent.click(within(li).getByRole('button', { name: 'Message actions' }));
      fireEvent.click(within(li).getByRole('menuitem', { name: 'Edit' }));
      return within(li).getByRole('textbox', { name: 'Edit message' });
    };
    fireEvent.keyDown(open(), { key: 'Enter' });
    expect(onEdit).not.toHaveBeenCalled();
    // A photo's caption may be emptied.
    const box = open();
    fireEvent.change(box, { target: { value: '' } });
    fireEvent.keyDown(box, { key: 'Enter' });
    expect(onEdit).toHaveBeenCalledWith(m, '');
    expect((await within(li).findByRole('alert')).textContent).toContain('Edit window has expired.');
    await waitFor(() => expect(document.activeElement).toBe(within(li).getByRole('button', { name: 'Message actions' })));
  });

  it('a pending photo shows the upload progress', () => {
    const m: ChatMessage = {
      ...msg(-1, { content: '', image: 'blob:1', thumbnail: 'blob:1', image_width: 100, image_height: 100 }),
      local: { status: 'sending', progress: 0.25, upload: { file: new File(['x'], 'x.png', { type: 'image/png' }) } },
    };
    const li = bubble(m);
    expect(within(li).getByRole('progressbar', { name: 'Uploading photo' }).getAttribute('aria-valuenow')).toBe('25');
    expect(within(li).getByText('25%')).toBeTruthy();
    expect(li.getAttribute('data-receipt')).toBe('sending');
  });
});

// Photos: attach (button, paste, drop), checks with the server's wording, upload progress on the
// pending bubble, the thumbnail sized from image_width/height, the viewer.
import { act, fireEvent, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_IMAGE_BYTES } from '../lib/images';
import { ana, conv, msg } from '../test/fixtures';
import { boot, FakeServer, pngFile } from '../test/server';

let server: FakeServer;
const input = () => screen.getByLabelText<HTMLTextAreaElement>('message input');
const sendButton = () => screen.getByRole<HTMLButtonElement>('button', { name: 'Send message' });
const fileInput = () => screen.getByLabelText<HTMLInputElement>('Photo file');
const pick = (file: File) => fireEvent.change(fileInput(), { target: { files: [file] } });
const log = () => screen.getByRole('log');

async function openChat() {
  boot('/messages/1');
  await screen.findByText('message 1');
}

describe('photos in the chat (fetch, XHR and WebSocket mocked)', () => {
  beforeEach(() => {
    server = new FakeServer().install();
    server.conversations = [conv(1, ana)];
    server.messages = [msg(1, { sender: ana })];
  });
  afterEach(() => vi.unstubAllGlobals());

  it('attach from the button: preview with remove, caption, upload progress on the pending bubble, then the thumbnail', async () => {
    await openChat();
    expect(screen.getByRole('button', { name: 'Attach a photo' })).toBeTruthy();
    pick(pngFile('squat.png', 2048));
    const preview = screen.getByRole('group', { name: 'Photo to send' });
    expect(within(preview).getByText('squat.png')).toBeTruthy();
    expect(within(preview).getByText('2 KB')).toBeTruthy();
    expect(within(preview).getByRole('button', { name: 'Remove photo' })).toBeTruthy();
    expect(input().placeholder).toBe('Add a caption…');
    expect(sendButton().disabled).toBe(false); // a photo alone can be sent

    server.holdUploads = true;
    fireEvent.change(input(), { target: { value: '  Form check  ' } });
    fireEvent.keyDown(input(), { key: 'Enter' });
    // The box clears at once; the pending bubble shows the photo and the progress.
    expect(screen.queryByRole('group', { name: 'Photo to send' })).toBeNull();
    expect(input().value).toBe('');
    await waitFor(() => expect(server.uploads).toHaveLength(1));
    const xhr = server.uploads[0];
    expect(xhr.method).toBe('POST');
    expect(xhr.url).toBe('/api/messaging/conversations/1/send/');
    expect(xhr.headers.Authorization).toBe('Bearer A');
    expect(xhr.headers['Content-Type']).toBeUndefined(); // the browser writes the multipart boundary
    expect(xhr.body!.get('content')).toBe('Form check');
    expect((xhr.body!.get('image') as File).name).toBe('squat.png');
    expect(xhr.body!.get('client_message_id')).toMatch(/^[0-9a-f-]{36}$/);

    const bar = within(log()).getByRole('progressbar', { name: 'Uploading photo' });
    expect(bar.getAttribute('aria-valuenow')).toBe('0');
    xhr.progress(42, 100);
    await waitFor(() => expect(within(log()).getByRole('progressbar').getAttribute('aria-valuenow')).toBe('42'));
    expect(within(log()).getByText('42%')).toBeTruthy();
    const pending = document.querySelector('li.msg.mine[data-receipt="sending"]')!;
    expect(pending.querySelector('img')!.getAttribute('src')).toMatch(/^blob:/);

    xhr.complete();
    await waitFor(() => expect(document.querySelector('li.msg.mine[data-receipt="sent"]')).toBeTruthy());
    const sent = document.querySelector('li.msg.mine[data-receipt="sent"]')!;
    expect(within(log()).queryByRole('progressbar')).toBeNull();
    const img = sent.querySelector('img')!;
    const stored = server.messages[server.messages.length - 1];
    expect(img.getAttribute('src')).toBe(stored.thumbnail);
    // 640 x 480 fits 280 x 320: 280 x 210, set before it loads (no jump).
    expect(img.getAttribute('width')).toBe('280');
    expect(img.getAttribute('height')).toBe('210');
    expect(within(sent as HTMLElement).getByText('Form check')).toBeTruthy();
    expect(within(log()).getAllByText('Form check')).toHaveLength(1);
  });

  it('opens the full photo in an accessible dialog; Escape closes and focus returns', async () => {
    server.messages = [
      msg(1),
      msg(2, {
        sender: ana,
        content: '',
        image: 'http://localhost/media/2.webp',
        thumbnail: 'http://localhost/media/2-thumb.jpg',
        image_width: 1000,
        image_height: 2000,
      }),
    ];
    boot('/messages/1');
    const open = await screen.findByRole('button', { name: 'Open photo from Ana Lima' });
    // Image-only: no empty text line.
    const li = open.closest('li')!;
    expect(li.querySelector('.content')).toBeNull();
    // 1000 x 2000 fits 280 x 320: 160 x 320.
    expect(open.querySelector('img')!.getAttribute('width')).toBe('160');
    expect(open.querySelector('img')!.getAttribute('height')).toBe('320');
    open.focus();
    fireEvent.click(open);
    const dialog = screen.getByRole('dialog', { name: 'Photo from Ana Lima' });
    expect(dialog.getAttribute('aria-modal')).toBe('true');
    expect(within(dialog).getByRole('img').getAttribute('src')).toBe('http://localhost/media/2.webp');
    expect(document.activeElement).toBe(within(dialog).getByRole('button', { name: 'Close photo' }));
    fireEvent.keyDown(document.activeElement!, { key: 'Escape' });
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(document.activeElement).toBe(open);
    // A click anywhere closes it too.
    fireEvent.click(open);
    fireEvent.click(screen.getByRole('dialog'));
    expect(screen.queryByRole('dialog')).toBeNull();
  });

  it("checks type and size first, with the server's wording, and sends nothing", async () => {
    await openChat();
    pick(pngFile('anim.gif', 100, 'image/gif'));
    expect(screen.getByRole('alert').textContent).toContain('Only JPEG, PNG, and WebP images are supported.');
    expect(screen.queryByRole('group', { name: 'Photo to send' })).toBeNull();
    pick(pngFile('huge.png', MAX_IMAGE_BYTES + 1));
    expect(screen.getByRole('alert').textContent).toContain('Image must be under 5MB.');
    expect(screen.queryByRole('group', { name: 'Photo to send' })).toBeNull();
    // Exactly 5 MiB is allowed.
    pick(pngFile('max.jpg', MAX_IMAGE_BYTES, 'image/jpeg'));
    expect(screen.getByRole('group', { name: 'Photo to send' })).toBeTruthy();
    expect(screen.queryByRole('alert')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Remove photo' }));
    expect(screen.queryByRole('group', { name: 'Photo to send' })).toBeNull();
    expect(sendButton().disabled).toBe(true);
    expect(server.uploads).toHaveLength(0);
    expect(server.log().some((c) => c.includes('/send/'))).toBe(false);
  });

  it('takes a pasted image, and a photo dropped anywhere on the chat', async () => {
    await openChat();
    // Pasted text is left to the box; a pasted image is attached.
    fireEvent.paste(input(), { clipboardData: { files: [], items: [], getData: () => 'text' } });
    expect(screen.queryByRole('group', { name: 'Photo to send' })).toBeNull();
    fireEvent.paste(input(), { clipboardData: { files: [pngFile('pasted.png')], items: [] } });
    expect(within(screen.getByRole('group', { name: 'Photo to send' })).getByText('pasted.png')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Remove photo' }));

    const pane = screen.getByRole('region', { name: 'Conversation with Ana Lima' });
    fireEvent.dragEnter(pane, { dataTransfer: { types: ['Files'], files: [] } });
    expect(screen.getByTestId('drop-overlay').textContent).toContain('Drop a photo');
    fireEvent.drop(pane, { dataTransfer: { types: ['Files'], files: [pngFile('dropped.webp', 10, 'image/webp')] } });
    expect(screen.queryByTestId('drop-overlay')).toBeNull();
    expect(within(screen.getByRole('group', { name: 'Photo to send' })).getByText('dropped.webp')).toBeTruthy();
    expect(document.activeElement).toBe(input());
  });

  it("shows the server's refusal on the pending bubble; it can be discarded", async () => {
    await openChat();
    server.on((req) =>
      req.path.endsWith('/send/') ? { status: 400, body: { error: 'Only JPEG, PNG, and WebP images are supported.' } } : undefined,
    );
    pick(pngFile('fake.png'));
    fireEvent.click(sendButton());
    const alert = await within(log()).findByRole('alert');
    expect(alert.textContent).toContain('Only JPEG, PNG, and WebP images are supported.');
    expect(document.querySelector('li.msg.mine[data-receipt="failed"]')).toBeTruthy();
    // Not worth retrying (a 400): discard instead.
    expect(within(alert).queryByRole('button', { name: 'Retry' })).toBeNull();
    fireEvent.click(within(alert).getByRole('button', { name: 'Discard' }));
    await waitFor(() => expect(document.querySelector('li.msg.mine[data-receipt="failed"]')).toBeNull());
  });

  it('a lost upload is retried with the same photo and client_message_id', async () => {
    await openChat();
    server.holdUploads = true;
    pick(pngFile('retry.png'));
    fireEvent.click(sendButton());
    await waitFor(() => expect(server.uploads).toHaveLength(1));
    server.uploads[0].fail();
    const retry = await within(log()).findByRole('button', { name: 'Retry' });
    fireEvent.click(retry);
    await waitFor(() => expect(server.uploads).toHaveLength(2));
    const [a, b] = server.uploads;
    expect(b.body!.get('client_message_id')).toBe(a.body!.get('client_message_id'));
    expect((b.body!.get('image') as File).name).toBe('retry.png');
    act(() => b.complete());
    await waitFor(() => expect(document.querySelector('li.msg.mine[data-receipt="sent"] img')).toBeTruthy());
  });
});

import { act, fireEvent, render, screen } from '@testing-library/react';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ChatInput, MAX_LENGTH, WARN_AT, type ChatInputHandle } from './ChatInput';

const box = () => screen.getByLabelText<HTMLTextAreaElement>('message input');
const sendButton = () => screen.getByRole<HTMLButtonElement>('button', { name: 'Send message' });
const type = (text: string) => fireEvent.change(box(), { target: { value: text } });

describe('ChatInput', () => {
  it('has a labelled input and a labelled send button, disabled while empty', () => {
    render(<ChatInput onSend={() => {}} />);
    expect(box().tagName).toBe('TEXTAREA');
    expect(sendButton().disabled).toBe(true);
  });

  it('stays disabled for whitespace, enables after typing', () => {
    render(<ChatInput onSend={() => {}} />);
    type('   \n  ');
    expect(sendButton().disabled).toBe(true);
    type('Hi coach');
    expect(sendButton().disabled).toBe(false);
  });

  it('Enter sends the trimmed text and clears; Shift+Enter does not send', () => {
    const onSend = vi.fn();
    render(<ChatInput onSend={onSend} />);
    type('  hello  ');
    fireEvent.keyDown(box(), { key: 'Enter', shiftKey: true });
    expect(onSend).not.toHaveBeenCalled();
    fireEvent.keyDown(box(), { key: 'Enter' });
    expect(onSend).toHaveBeenCalledWith('hello');
    expect(box().value).toBe('');
  });

  it('does not send on Enter while an IME composes', () => {
    const onSend = vi.fn();
    render(<ChatInput onSend={onSend} />);
    type('こんにちは');
    fireEvent.keyDown(box(), { key: 'Enter', isComposing: true });
    expect(onSend).not.toHaveBeenCalled();
  });

  it('clicking the button sends too', () => {
    const onSend = vi.fn();
    render(<ChatInput onSend={onSend} />);
    type('via button');
    fireEvent.click(sendButton());
    expect(onSend).toHaveBeenCalledWith('via button');
  });

  it('counts up to 2000, warns near the end, refuses longer text', () => {
    const onSend = vi.fn();
    render(<ChatInput onSend={onSend} />);
    type('abc');
    expect(screen.getByText(`3/${MAX_LENGTH}`, { exact: false }).className).not.toContain('warn');
    type('a'.repeat(WARN_AT));
    expect(screen.getByText(`${WARN_AT}/${MAX_LENGTH}`, { exact: false }).className).toContain('warn');
    expect(sendButton().disabled).toBe(false);
    type('a'.repeat(MAX_LENGTH));
    expect(sendButton().disabled).toBe(false);
    type('a'.repeat(MAX_LENGTH + 1));
    expect(sendButton().disabled).toBe(true);
    expect(box().getAttribute('aria-invalid')).toBe('true');
    fireEvent.keyDown(box(), { key: 'Enter' });
    expect(onSend).not.toHaveBeenCalled();
  });

  it('counts emoji as one character each', () => {
    render(<ChatInput onSend={() => {}} />);
    type('💪💪');
    expect(screen.getByText(`2/${MAX_LENGTH}`, { exact: false })).toBeTruthy();
  });

  it('read-only: disabled with the reason attached to the input', () => {
    render(<ChatInput onSend={() => {}} disabled disabledReason="Impersonation is read-only." />);
    expect(box().disabled).toBe(true);
    expect(sendButton().disabled).toBe(true);
    const reason = screen.getByText('Impersonation is read-only.');
    expect(box().getAttribute('aria-describedby')).toContain(reason.id);
  });

  it('keeps the text when an async send fails, clears it when it succeeds', async () => {
    let ok = false;
    const onSend = vi.fn(async () => ok);
    render(<ChatInput onSend={onSend} />);
    type('first');
    fireEvent.keyDown(box(), { key: 'Enter' });
    await vi.waitFor(() => expect(sendButton().disabled).toBe(false));
    expect(box().value).toBe('first');
    ok = true;
    fireEvent.keyDown(box(), { key: 'Enter' });
    await vi.waitFor(() => expect(box().value).toBe(''));
  });

  it('reports typing and its end', () => {
    const onTyping = vi.fn();
    render(<ChatInput onSend={() => {}} onTyping={onTyping} />);
    type('h');
    expect(onTyping).toHaveBeenLastCalledWith('h');
    fireEvent.blur(box());
    expect(onTyping).toHaveBeenLastCalledWith('');
  });
});

describe('ChatInput photos', () => {
  const png = (name = 'p.png', size = 100, type = 'image/png') => new File([new Uint8Array(size)], name, { type });
  const fileInput = () => screen.getByLabelText<HTMLInputElement>('Photo file');
  beforeEach(() => {
    Object.defineProperty(URL, 'createObjectURL', { value: () => 'blob:x', configurable: true, writable: true });
    Object.defineProperty(URL, 'revokeObjectURL', { value: vi.fn(), configurable: true, writable: true });
  });

  it('the attach button opens the file picker (images only)', () => {
    render(<ChatInput onSend={() => {}} />);
    const click = vi.spyOn(fileInput(), 'click');
    fireEvent.click(screen.getByRole('button', { name: 'Attach a photo' }));
    expect(click).toHaveBeenCalled();
    expect(fileInput().accept).toBe('image/jpeg,image/png,image/webp');
  });

  it('a photo alone can be sent; the caption is optional and trimmed; both clear after', () => {
    const onSend = vi.fn();
    render(<ChatInput onSend={onSend} />);
    fireEvent.change(fileInput(), { target: { files: [png('a.png')] } });
    expect(sendButton().disabled).toBe(false);
    fireEvent.click(sendButton());
    expect(onSend).toHaveBeenLastCalledWith('', { file: expect.objectContaining({ name: 'a.png' }), width: undefined, height: undefined });
    expect(screen.queryByRole('group', { name: 'Photo to send' })).toBeNull();
    fireEvent.change(fileInput(), { target: { files: [png('b.png')] } });
    type('  nice  ');
    fireEvent.keyDown(box(), { key: 'Enter' });
    expect(onSend).toHaveBeenLastCalledWith('nice', expect.objectContaining({ file: expect.objectContaining({ name: 'b.png' }) }));
    expect(box().value).toBe('');
  });

  it('a caption over 2000 characters blocks the send', () => {
    render(<ChatInput onSend={() => {}} />);
    fireEvent.change(fileInput(), { target: { files: [png()] } });
    type('a'.repeat(MAX_LENGTH + 1));
    expect(sendButton().disabled).toBe(true);
  });

  it('a refused file says why and keeps the photo already picked', () => {
    render(<ChatInput onSend={() => {}} />);
    fireEvent.change(fileInput(), { target: { files: [png('keep.png')] } });
    fireEvent.change(fileInput(), { target: { files: [png('x.bmp', 10, 'image/bmp')] } });
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toContain('Only JPEG, PNG, and WebP images are supported.');
    expect(box().getAttribute('aria-describedby')).toContain(alert.id);
    expect(screen.getByText('keep.png')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Dismiss' }));
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('takes a photo through its handle (a drop on the chat) and from a paste of clipboard items', () => {
    const ref = { current: null as ChatInputHandle | null };
    render(<ChatInput onSend={() => {}} ref={ref} />);
    act(() => ref.current!.attach(png('dropped.png')));
    expect(screen.getByText('dropped.png')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Remove photo' }));
    const item = { kind: 'file', getAsFile: () => png('clip.webp', 5, 'image/webp') };
    fireEvent.paste(box(), { clipboardData: { files: [], items: [item] } });
    expect(screen.getByText('clip.webp')).toBeTruthy();
  });

  it('read-only: no attaching', () => {
    const ref = { current: null as ChatInputHandle | null };
    render(<ChatInput onSend={() => {}} disabled disabledReason="Archived." ref={ref} />);
    expect(screen.getByRole<HTMLButtonElement>('button', { name: 'Attach a photo' }).disabled).toBe(true);
    act(() => ref.current!.attach(png()));
    expect(screen.queryByRole('group', { name: 'Photo to send' })).toBeNull();
  });

  it('shows upload progress on the photo while a (non-optimistic) send is in flight', async () => {
    let finish: (ok: boolean) => void = () => {};
    const { rerender } = render(<ChatInput onSend={() => new Promise<boolean>((r) => (finish = r))} progress={null} />);
    fireEvent.change(fileInput(), { target: { files: [png()] } });
    fireEvent.click(sendButton());
    rerender(<ChatInput onSend={() => new Promise<boolean>((r) => (finish = r))} progress={0.6} />);
    expect(screen.getByRole('progressbar', { name: 'Uploading photo' }).getAttribute('aria-valuenow')).toBe('60');
    await act(async () => finish(true));
    expect(screen.queryByRole('progressbar')).toBeNull();
    expect(screen.queryByRole('group', { name: 'Photo to send' })).toBeNull();
  });
});

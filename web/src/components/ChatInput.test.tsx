import { fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { ChatInput, MAX_LENGTH, WARN_AT } from './ChatInput';

const box = () => screen.getByLabelText('message input') as HTMLTextAreaElement;
const sendButton = () => screen.getByRole('button', { name: 'Send message' }) as HTMLButtonElement;
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

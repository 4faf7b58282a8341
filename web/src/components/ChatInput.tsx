import { useId, useLayoutEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { SendIcon } from './icons';

export const MAX_LENGTH = 2000;
/** The counter turns to a warning from here on. */
export const WARN_AT = 1800;

/** Characters as the server counts them (code points, after trimming). */
export const charCount = (s: string) => [...s].length;

export function canSend(text: string): boolean {
  const t = text.trim();
  return t.length > 0 && charCount(t) <= MAX_LENGTH;
}

interface Props {
  /** Optimistic senders return nothing (the box clears at once); others return a promise of success. */
  onSend: (text: string) => void | Promise<boolean>;
  onTyping?: (text: string) => void;
  disabled?: boolean;
  /** Shown above the disabled box, and announced with it. */
  disabledReason?: string;
  placeholder?: string;
  autoFocus?: boolean;
}

/** Message box: grows with its text, Enter sends, Shift+Enter breaks the line, counts to 2000. */
export function ChatInput({ onSend, onTyping, disabled, disabledReason, placeholder, autoFocus }: Props) {
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const ref = useRef<HTMLTextAreaElement>(null);
  const counterId = useId();
  const reasonId = useId();

  const count = charCount(text);
  const over = charCount(text.trim()) > MAX_LENGTH;
  const warn = count >= WARN_AT;
  const sendable = !disabled && !busy && canSend(text);

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, 180)}px`;
  }, [text]);

  const submit = async () => {
    if (!sendable) return;
    const content = text.trim();
    const result = onSend(content);
    if (result instanceof Promise) {
      setBusy(true);
      try {
        if (await result) setText('');
      } finally {
        setBusy(false);
        ref.current?.focus();
      }
    } else {
      setText('');
      ref.current?.focus();
    }
    onTyping?.('');
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void submit();
    }
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void submit();
  };

  const describedBy = disabled ? (disabledReason ? reasonId : undefined) : counterId;

  return (
    <form className={`chat-input${disabled ? ' is-disabled' : ''}`} onSubmit={onSubmit}>
      {disabled && disabledReason && (
        <p className="readonly-reason" id={reasonId} role="note">
          {disabledReason}
        </p>
      )}
      <div className="chat-input-row">
        <textarea
          ref={ref}
          aria-label="message input"
          aria-describedby={describedBy}
          aria-invalid={over || undefined}
          rows={1}
          value={text}
          disabled={disabled}
          placeholder={disabled ? 'Read-only' : (placeholder ?? 'Write a message…')}
          autoFocus={autoFocus}
          onChange={(e) => {
            setText(e.target.value);
            onTyping?.(e.target.value);
          }}
          onBlur={() => onTyping?.('')}
          onKeyDown={onKeyDown}
        />
        <button type="submit" className="send-button" aria-label="Send message" title="Send (Enter)" disabled={!sendable}>
          <SendIcon />
        </button>
      </div>
      <div className="chat-input-foot" hidden={disabled}>
        <span className="hint" aria-hidden="true">
          Enter to send · Shift+Enter for a new line
        </span>
        <span
          id={counterId}
          className={`counter${warn ? ' warn' : ''}${over ? ' over' : ''}`}
          aria-live={warn ? 'polite' : 'off'}
        >
          <span className="visually-hidden">{over ? 'Too long: ' : warn ? 'Characters used: ' : ''}</span>
          {count}/{MAX_LENGTH}
        </span>
      </div>
    </form>
  );
}

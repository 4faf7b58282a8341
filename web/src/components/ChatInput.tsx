import {
  useCallback,
  useEffect,
  useId,
  useImperativeHandle,
  useLayoutEffect,
  useRef,
  useState,
  type ClipboardEvent,
  type FormEvent,
  type KeyboardEvent,
  type Ref,
} from 'react';
import type { PendingImage, Template } from '../api/types';
import { fillFirstName, filterTemplates, slashQuery } from '../lib/coaching';
import { formatBytes, imageProblem, IMAGE_TYPES, objectUrl, pickImageFile, revokeUrl } from '../lib/images';
import { CloseIcon, PaperclipIcon, ScheduleIcon, SendIcon } from './icons';
import { optionId, SavedReplyPicker } from './SavedReplyPicker';
import { SchedulePopover } from './SchedulePopover';

export const MAX_LENGTH = 2000;
/** The counter turns to a warning from here on. */
export const WARN_AT = 1800;

/** Characters as the server counts them (code points, after trimming). */
export const charCount = (s: string) => [...s].length;

export function canSend(text: string): boolean {
  const t = text.trim();
  return t.length > 0 && charCount(t) <= MAX_LENGTH;
}

/** What the chat pane can do with the box: a photo dropped on the chat lands here. */
export interface ChatInputHandle {
  attach: (file: File) => void;
  focus: () => void;
}

interface Props {
  /**
   * Optimistic senders return nothing (the box clears at once); others return a promise of
   * success. `image` is there only when a photo is attached (the text is then optional).
   */
  onSend: (text: string, image?: PendingImage) => void | Promise<boolean>;
  onTyping?: (text: string) => void;
  disabled?: boolean;
  /** Shown above the disabled box, and announced with it. */
  disabledReason?: string;
  placeholder?: string;
  autoFocus?: boolean;
  /** Upload progress (0 to 1) of a non-optimistic send in flight, shown on the photo. */
  progress?: number | null;
  ref?: Ref<ChatInputHandle>;
  /** Saved replies offered by typing `/` (trainers); undefined: no picker. */
  savedReplies?: Template[];
  savedRepliesLoading?: boolean;
  /** Opens the saved replies manager ("Manage saved replies…" in the picker). */
  onManageSavedReplies?: () => void;
  /** `{first_name}` in an inserted saved reply becomes this name. */
  recipientFirstName?: string;
  /** Schedule the text for later (the clock beside Send); rejects with the reason to show. */
  onSchedule?: (text: string, at: Date) => Promise<void>;
}

interface Attached extends PendingImage {
  url: string;
}

const ACCEPT = IMAGE_TYPES.join(',');

/**
 * Message box: grows with its text, Enter sends, Shift+Enter breaks the line, counts to 2000.
 * A photo can be attached from the button, by paste, or (through the handle) by a drop; it
 * shows as a preview with a remove button and is checked here first (type, 5 MB) with the
 * server's wording. With a photo the text is an optional caption.
 */
export function ChatInput({
  onSend,
  onTyping,
  disabled,
  disabledReason,
  placeholder,
  autoFocus,
  progress,
  ref,
  savedReplies,
  savedRepliesLoading,
  onManageSavedReplies,
  recipientFirstName,
  onSchedule,
}: Props) {
  const [text, setText] = useState('');
  const [caret, setCaret] = useState(0);
  /** Where the `/` was when Escape closed the picker (it stays closed for that one). */
  const [dismissed, setDismissed] = useState<number | null>(null);
  // The `/` that Escape closed is gone (deleted, sent): a new one opens the picker again.
  if (dismissed !== null && text[dismissed] !== '/') setDismissed(null);
  const [picked, setPicked] = useState({ query: '', index: 0 });
  const pendingCaret = useRef<number | null>(null);
  const [scheduling, setScheduling] = useState(false);
  const [scheduleBusy, setScheduleBusy] = useState(false);
  const [scheduleError, setScheduleError] = useState<string | null>(null);
  const scheduleButtonRef = useRef<HTMLButtonElement>(null);
  const listId = useId();
  const [busy, setBusy] = useState(false);
  const [image, setImage] = useState<Attached | null>(null);
  const [imageError, setImageError] = useState<string | null>(null);
  const boxRef = useRef<HTMLTextAreaElement>(null);
  const fileRef = useRef<HTMLInputElement>(null);
  const imageRef = useRef<Attached | null>(null);
  const counterId = useId();
  const reasonId = useId();
  const errorId = useId();

  const count = charCount(text);
  const over = charCount(text.trim()) > MAX_LENGTH;
  const warn = count >= WARN_AT;
  const sendable = !disabled && !busy && (image ? !over : canSend(text));

  // The saved replies picker: open while a `/query` is typed at the caret.
  const trigger = savedReplies && !disabled ? slashQuery(text, caret) : null;
  const matches = trigger && savedReplies ? filterTemplates(savedReplies, trigger.query) : [];
  const canManage = !!onManageSavedReplies;
  const pickerOpen =
    !!trigger &&
    trigger.start !== dismissed &&
    (matches.length > 0 || !/\s/.test(trigger.query)) &&
    (matches.length > 0 || canManage || !!savedRepliesLoading || savedReplies!.length === 0);
  const optionCount = matches.length + (canManage ? 1 : 0);
  const active =
    picked.query === trigger?.query ? Math.min(picked.index, Math.max(0, optionCount - 1)) : matches.length > 0 ? 0 : -1;
  const setActive = (index: number) => setPicked({ query: trigger?.query ?? '', index });

  // After an insertion: the caret goes to the end of the inserted text.
  useLayoutEffect(() => {
    const at = pendingCaret.current;
    const el = boxRef.current;
    if (at == null || !el) return;
    pendingCaret.current = null;
    el.setSelectionRange(at, at);
    setCaret(at);
  }, [text]);

  const syncCaret = () => {
    const el = boxRef.current;
    if (el) setCaret(el.selectionStart ?? el.value.length);
  };

  const insertReply = (t: Template) => {
    if (!trigger) return;
    const content = fillFirstName(t.content, recipientFirstName);
    const next = text.slice(0, trigger.start) + content + text.slice(caret);
    pendingCaret.current = trigger.start + content.length;
    setText(next);
    onTyping?.(next);
    boxRef.current?.focus();
  };

  // The picker stays: back from the manager, the new replies are there to pick.
  const openManager = () => onManageSavedReplies?.();

  // The `/` that Escape closed is gone (deleted, sent): a new one opens the picker again.

  const closeSchedule = useCallback((refocus: boolean) => {
    setScheduling(false);
    setScheduleError(null);
    if (refocus) scheduleButtonRef.current?.focus();
  }, []);

  const scheduleBlocked = image
    ? 'A photo cannot be scheduled: remove it, or send it now.'
    : !canSend(text)
      ? over
        ? 'The message is too long.'
        : 'Write the message first, then pick when it goes.'
      : null;

  const schedule = async (at: Date) => {
    if (!onSchedule || scheduleBlocked || scheduleBusy) return;
    setScheduleBusy(true);
    setScheduleError(null);
    try {
      await onSchedule(text.trim(), at);
      setText('');
      onTyping?.('');
      setScheduling(false);
      boxRef.current?.focus();
    } catch (e) {
      setScheduleError((e as Error).message || 'Could not schedule the message.');
    } finally {
      setScheduleBusy(false);
    }
  };

  useLayoutEffect(() => {
    const el = boxRef.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, 180)}px`;
  }, [text]);

  const replaceImage = (next: Attached | null) => {
    if (imageRef.current) revokeUrl(imageRef.current.url);
    imageRef.current = next;
    setImage(next);
  };
  // The preview's blob: URL goes with the box.
  useEffect(() => () => revokeUrl(imageRef.current?.url), []);

  const attach = (file: File) => {
    if (disabled) return;
    const problem = imageProblem(file);
    if (problem) {
      setImageError(problem);
      return;
    }
    setImageError(null);
    replaceImage({ file, url: objectUrl(file) });
    boxRef.current?.focus();
  };

  useImperativeHandle(ref, () => ({ attach, focus: () => boxRef.current?.focus() }));

  const removeImage = () => {
    replaceImage(null);
    setImageError(null);
    boxRef.current?.focus();
  };

  const submit = async () => {
    if (!sendable) return;
    const content = text.trim();
    const photo: PendingImage | undefined = image
      ? { file: image.file, width: image.width, height: image.height }
      : undefined;
    const result = photo ? onSend(content, photo) : onSend(content);
    if (result instanceof Promise) {
      setBusy(true);
      try {
        if (await result) {
          setText('');
          replaceImage(null);
        }
      } finally {
        setBusy(false);
        boxRef.current?.focus();
      }
    } else {
      setText('');
      replaceImage(null);
      boxRef.current?.focus();
    }
    setImageError(null);
    onTyping?.('');
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (pickerOpen && trigger && !e.nativeEvent.isComposing) {
      const choose = (e.key === 'Enter' && !e.shiftKey) || (e.key === 'Tab' && !e.shiftKey);
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        if (optionCount > 0) setActive((Math.max(active, e.key === 'ArrowDown' ? -1 : 0) + (e.key === 'ArrowDown' ? 1 : -1) + optionCount) % optionCount);
        return;
      }
      if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        setDismissed(trigger.start);
        return;
      }
      // "Manage…" only when moved to; with no match Enter sends as usual.
      const onManage = active === matches.length && canManage && picked.query === trigger.query;
      if (choose && (active < matches.length || onManage)) {
        e.preventDefault();
        if (active < matches.length) insertReply(matches[active]);
        else openManager();
        return;
      }
    }
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void submit();
    }
  };

  const onPaste = (e: ClipboardEvent<HTMLTextAreaElement>) => {
    const data = e.clipboardData;
    if (!data) return;
    const fromItems = Array.from(data.items ?? [])
      .filter((i) => i.kind === 'file')
      .map((i) => i.getAsFile())
      .filter((f): f is File => !!f);
    const file = pickImageFile(data.files?.length ? data.files : fromItems);
    if (!file) return; // plain text: the textarea takes it
    e.preventDefault();
    attach(file);
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void submit();
  };

  const describedBy = disabled
    ? disabledReason
      ? reasonId
      : undefined
    : [counterId, imageError ? errorId : ''].filter(Boolean).join(' ');
  const pct = progress != null ? Math.round(progress * 100) : null;

  return (
    <form className={`chat-input${disabled ? ' is-disabled' : ''}`} onSubmit={onSubmit}>
      {disabled && disabledReason && (
        <p className="readonly-reason" id={reasonId} role="note">
          {disabledReason}
        </p>
      )}
      {image && !disabled && (
        <div className="attachment" role="group" aria-label="Photo to send">
          <span className="attachment-thumb">
            {image.url && (
              <img
                src={image.url}
                alt=""
                onLoad={(e) => {
                  const { naturalWidth: width, naturalHeight: height } = e.currentTarget;
                  if (width && height && imageRef.current?.url === image.url) {
                    imageRef.current = { ...image, width, height };
                    setImage(imageRef.current);
                  }
                }}
              />
            )}
            {busy && pct !== null && (
              <span
                className="upload-progress"
                role="progressbar"
                aria-label="Uploading photo"
                aria-valuemin={0}
                aria-valuemax={100}
                aria-valuenow={pct}
              >
                <span style={{ width: `${pct}%` }} />
              </span>
            )}
          </span>
          <span className="attachment-text">
            <span className="attachment-name">{image.file.name || 'Photo'}</span>
            <span className="muted">{formatBytes(image.file.size)}</span>
          </span>
          <button
            type="button"
            className="icon-button attachment-remove"
            aria-label="Remove photo"
            title="Remove photo"
            onClick={removeImage}
            disabled={busy}
          >
            <CloseIcon />
          </button>
        </div>
      )}
      {imageError && !disabled && (
        <p className="attach-error" role="alert" id={errorId}>
          <span>{imageError}</span>
          <button type="button" className="link-button" onClick={() => setImageError(null)}>
            Dismiss
          </button>
        </p>
      )}
      <div className="chat-input-row">
        <button
          type="button"
          className="icon-button attach-button"
          aria-label="Attach a photo"
          title="Attach a photo (JPEG, PNG or WebP, up to 5 MB)"
          disabled={disabled || busy}
          onClick={() => fileRef.current?.click()}
        >
          <PaperclipIcon />
        </button>
        <input
          ref={fileRef}
          type="file"
          accept={ACCEPT}
          hidden
          tabIndex={-1}
          aria-label="Photo file"
          data-testid="photo-file"
          disabled={disabled}
          onChange={(e) => {
            const file = e.target.files?.[0];
            e.target.value = ''; // the same file can be picked again
            if (file) attach(file);
          }}
        />
        <textarea
          ref={boxRef}
          aria-label="message input"
          aria-describedby={describedBy || undefined}
          aria-autocomplete={savedReplies ? 'list' : undefined}
          aria-controls={pickerOpen ? listId : undefined}
          aria-activedescendant={pickerOpen && active >= 0 ? optionId(listId, active) : undefined}
          aria-invalid={over || undefined}
          rows={1}
          value={text}
          disabled={disabled}
          placeholder={disabled ? 'Read-only' : image ? 'Add a caption…' : (placeholder ?? 'Write a message…')}
          autoFocus={autoFocus}
          onChange={(e) => {
            setText(e.target.value);
            setCaret(e.target.selectionStart ?? e.target.value.length);
            onTyping?.(e.target.value);
          }}
          onSelect={syncCaret}
          onBlur={() => onTyping?.('')}
          onKeyDown={onKeyDown}
          onPaste={onPaste}
        />
        {onSchedule && (
          <button
            ref={scheduleButtonRef}
            type="button"
            className="icon-button schedule-button"
            aria-label="Schedule message"
            title="Schedule for later"
            aria-haspopup="dialog"
            aria-expanded={scheduling}
            disabled={disabled}
            onClick={() => (scheduling ? closeSchedule(false) : setScheduling(true))}
          >
            <ScheduleIcon />
          </button>
        )}
        <button type="submit" className="send-button" aria-label="Send message" title="Send (Enter)" disabled={!sendable}>
          <SendIcon />
        </button>
        {pickerOpen && trigger && (
          <SavedReplyPicker
            listId={listId}
            query={trigger.query}
            matches={matches}
            none={!!savedReplies && savedReplies.length === 0}
            loading={savedRepliesLoading}
            active={active}
            canManage={canManage}
            onHover={setActive}
            onPick={insertReply}
            onManage={openManager}
          />
        )}
        {scheduling && onSchedule && !disabled && (
          <SchedulePopover
            onSchedule={schedule}
            onClose={closeSchedule}
            busy={scheduleBusy}
            blocked={scheduleBlocked}
            error={scheduleError}
          />
        )}
      </div>
      <div className="chat-input-foot" hidden={disabled}>
        <span className="hint" aria-hidden="true">
          Enter to send · Shift+Enter for a new line · paste or drop a photo{savedReplies ? ' · / for saved replies' : ''}
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

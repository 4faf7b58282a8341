import { memo, useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import type { ChatMessage } from '../api/types';
import { clockTime, fullTime } from '../lib/dates';
import { displaySize, IMAGE_TEXT } from '../lib/images';
import { receiptOf, type Receipt } from '../lib/merge';
import { fullName } from '../lib/users';
import { charCount, MAX_LENGTH } from './ChatInput';
import { BanIcon, ClockIcon, Tick } from './icons';
import { ImageViewer } from './ImageViewer';
import { MessageMenu, type MenuItem } from './MessageMenu';

/** The sender may edit a message this long after `created_at`. */
export const EDIT_WINDOW_MS = 15 * 60_000;

export const DELETED_TEXT = 'This message was deleted';

/** Whether the reader's own message can still be edited at `now` (the server has the last word). */
export function canEditAt(m: Pick<ChatMessage, 'created_at' | 'is_deleted' | 'local'>, now: number = Date.now()): boolean {
  return !m.local && !m.is_deleted && now - Date.parse(m.created_at) < EDIT_WINDOW_MS;
}

function receiptTitle(m: ChatMessage, receipt: Receipt): string {
  switch (receipt) {
    case 'waiting':
      return 'Waiting for connection…';
    case 'sending':
      return 'Sending…';
    case 'failed':
      return 'Not sent';
    case 'read':
      return `Read${m.read_at ? ` ${fullTime(m.read_at)}` : ''}`;
    case 'delivered':
      return `Delivered${m.delivered_at ? ` ${fullTime(m.delivered_at)}` : ''}`;
    default:
      return `Sent ${fullTime(m.created_at)}`;
  }
}

/** The photo of a message: its thumbnail in a box of the final size (no jump when it loads). */
function MessagePhoto({ m, from, size }: { m: ChatMessage; from: string; size: { width: number; height: number } }) {
  const [open, setOpen] = useState(false);
  const src = m.thumbnail || m.image || undefined;
  const uploading = m.local?.status === 'sending' && m.local.progress != null;
  const pct = uploading ? Math.round((m.local?.progress ?? 0) * 100) : 0;
  return (
    <>
      <button
        type="button"
        className="msg-photo"
        aria-label={`Open photo from ${from}`}
        onClick={() => setOpen(true)}
        disabled={!src}
        style={{ width: size.width, aspectRatio: `${size.width} / ${size.height}` }}
      >
        {src && <img src={src} alt="" width={size.width} height={size.height} decoding="async" />}
        {uploading && (
          <span className="photo-upload">
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
            <span className="upload-pct" aria-hidden="true">
              {pct}%
            </span>
          </span>
        )}
      </button>
      {open && src && (
        <ImageViewer
          src={m.image || src}
          label={`Photo from ${from}`}
          caption={m.content || undefined}
          width={m.image_width}
          height={m.image_height}
          onClose={() => setOpen(false)}
        />
      )}
    </>
  );
}

/** In-place editor: Enter saves, Shift+Enter breaks the line, Escape cancels. */
function EditForm({
  initial,
  hasImage,
  onSave,
  onCancel,
}: {
  initial: string;
  hasImage: boolean;
  onSave: (content: string) => void;
  onCancel: () => void;
}) {
  const [draft, setDraft] = useState(initial);
  const [problem, setProblem] = useState<string | null>(null);
  const ref = useRef<HTMLTextAreaElement>(null);
  const hintId = useId();
  const problemId = useId();
  const over = charCount(draft.trim()) > MAX_LENGTH;

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.focus();
    el.setSelectionRange(el.value.length, el.value.length);
  }, []);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, 200)}px`;
  }, [draft]);

  const save = () => {
    const content = draft.trim();
    if (!content && !hasImage) return setProblem(IMAGE_TEXT.empty);
    if (over) return setProblem(`Ensure this field has no more than ${MAX_LENGTH} characters.`);
    onSave(content);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      save();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      onCancel();
    }
  };

  return (
    <form
      className="msg-edit"
      onSubmit={(e) => {
        e.preventDefault();
        save();
      }}
    >
      <textarea
        ref={ref}
        aria-label="Edit message"
        aria-describedby={problem ? `${hintId} ${problemId}` : hintId}
        aria-invalid={over || !!problem || undefined}
        rows={1}
        value={draft}
        onChange={(e) => {
          setDraft(e.target.value);
          setProblem(null);
        }}
        onKeyDown={onKeyDown}
      />
      {problem && (
        <p className="msg-edit-problem" id={problemId} role="alert">
          {problem}
        </p>
      )}
      <div className="msg-edit-foot">
        <span id={hintId} className="hint">
          Enter to save · Esc to cancel
        </span>
        <button type="button" className="button small ghost" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="button small primary" disabled={over}>
          Save
        </button>
      </div>
    </form>
  );
}

interface Props {
  message: ChatMessage;
  mine: boolean;
  firstOfGroup: boolean;
  /** Briefly marked (opened from a search result). */
  highlighted?: boolean;
  onRetry?: (clientMessageId: string) => void;
  onDiscard?: (clientMessageId: string) => void;
  /** A local message held back until the browser is online again. */
  waiting?: boolean;
  /** Present when the reader may change their messages here (not read-only). Reject with the reason. */
  onEdit?: (message: ChatMessage, content: string) => Promise<void>;
  onDelete?: (message: ChatMessage) => Promise<void>;
  /** Read-only views of others' conversations (the admin console): this side, names shown. */
  side?: 'end';
  showName?: boolean;
}

export const MessageBubble = memo(function MessageBubble({
  message: m,
  mine,
  firstOfGroup,
  highlighted,
  onRetry,
  onDiscard,
  waiting,
  onEdit,
  onDelete,
  side,
  showName,
}: Props) {
  const [editRequested, setEditing] = useState(false);
  const [confirmRequested, setConfirming] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const menuButton = useRef<HTMLButtonElement | null>(null);
  const confirmRef = useRef<HTMLButtonElement>(null);
  const confirmTextId = useId();
  const receipt: Receipt = waiting && m.local?.status === 'sending' ? 'waiting' : receiptOf(m);
  const deleted = !!m.is_deleted;
  // A deletion from elsewhere ends an edit or a confirmation in progress.
  const editing = editRequested && !deleted;
  const confirming = confirmRequested && !deleted;
  const hasImage = !deleted && !!(m.image || m.thumbnail || m.local?.upload);
  const photoSize = hasImage ? displaySize(m.image_width, m.image_height) : null;
  const from = mine ? 'you' : fullName(m.sender);
  const actionable = mine && !m.local && !deleted && (onEdit || onDelete);

  useEffect(() => {
    if (confirming) confirmRef.current?.focus();
  }, [confirming]);

  const backToMenu = () => requestAnimationFrame(() => menuButton.current?.focus());

  const save = (content: string) => {
    setEditing(false);
    backToMenu();
    if (content === m.content || !onEdit) return;
    setActionError(null);
    onEdit(m, content).catch((e: Error) => setActionError(e.message));
  };

  const remove = () => {
    setConfirming(false);
    if (!onDelete) return;
    setActionError(null);
    onDelete(m).catch((e: Error) => {
      setActionError(e.message);
      backToMenu();
    });
  };

  const menuItems = (): MenuItem[] => {
    const items: MenuItem[] = [];
    // "Edit" only within the edit window, judged when the menu opens.
    if (onEdit && canEditAt(m)) {
      items.push({
        label: 'Edit',
        onSelect: () => {
          setActionError(null);
          setEditing(true);
        },
      });
    }
    if (onDelete) {
      items.push({
        label: 'Delete',
        danger: true,
        onSelect: () => {
          setActionError(null);
          setConfirming(true);
        },
      });
    }
    return items;
  };

  return (
    <li
      className={`msg ${mine ? 'mine' : 'theirs'}${firstOfGroup ? ' first' : ''}${receipt === 'failed' ? ' failed' : ''}${
        deleted ? ' deleted' : ''
      }${hasImage ? ' has-photo' : ''}${editing ? ' editing' : ''}${highlighted ? ' flash' : ''}${side === 'end' ? ' side-end' : ''}`}
      data-message-id={m.local ? undefined : m.id}
      data-client-id={m.client_message_id ?? undefined}
      data-receipt={mine ? receipt : undefined}
      tabIndex={highlighted ? -1 : undefined}
    >
      {showName && firstOfGroup && (
        <span className="msg-sender" aria-hidden="true">
          {fullName(m.sender)}
        </span>
      )}
      <div className="msg-row">
        <div
          className="bubble"
          // As wide as the photo (a caption wraps under it), with room for a caption or the time.
          style={photoSize && !editing ? { width: Math.max(photoSize.width, m.content ? 200 : 80) + 8 } : undefined}
        >
          <span className="visually-hidden">{mine ? 'You' : fullName(m.sender)}: </span>
          {deleted ? (
            <p className="content deleted-text">
              <BanIcon /> {DELETED_TEXT}
            </p>
          ) : (
            <>
              {photoSize && <MessagePhoto m={m} from={from} size={photoSize} />}
              {editing ? (
                <EditForm
                  initial={m.content}
                  hasImage={hasImage}
                  onSave={save}
                  onCancel={() => {
                    setEditing(false);
                    backToMenu();
                  }}
                />
              ) : (
                m.content && <p className="content">{m.content}</p>
              )}
            </>
          )}
          <span className="meta">
            {m.edited_at && !deleted && (
              <span className="edited" title={`Edited ${fullTime(m.edited_at)}`}>
                edited
              </span>
            )}
            <time dateTime={m.created_at} title={fullTime(m.created_at)}>
              {clockTime(m.created_at)}
            </time>
            {mine && !deleted && (
              <span className={`receipt receipt-${receipt}`} title={receiptTitle(m, receipt)} role="img" aria-label={receiptTitle(m, receipt)}>
                {receipt === 'sending' || receipt === 'waiting' ? <ClockIcon /> : receipt === 'failed' ? '!' : <Tick double={receipt !== 'sent'} />}
              </span>
            )}
          </span>
        </div>
        {actionable && !editing && <MessageMenu items={menuItems} buttonRef={menuButton} />}
      </div>
      {confirming && (
        <div
          className="msg-confirm"
          role="group"
          aria-labelledby={confirmTextId}
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              e.stopPropagation();
              setConfirming(false);
              backToMenu();
            }
          }}
        >
          <span id={confirmTextId}>Delete this message for everyone?</span>
          <button ref={confirmRef} type="button" className="button small danger" onClick={remove}>
            Delete for everyone
          </button>
          <button
            type="button"
            className="button small secondary"
            onClick={() => {
              setConfirming(false);
              backToMenu();
            }}
          >
            Cancel
          </button>
        </div>
      )}
      {actionError && (
        <div className="send-failed" role="alert">
          <span>{actionError}</span>
          <button type="button" className="link-button" onClick={() => setActionError(null)}>
            Dismiss
          </button>
        </div>
      )}
      {receipt === 'failed' && (
        <div className="send-failed" role="alert">
          <span>{m.local?.error ?? 'Not sent.'}</span>
          {onRetry && m.client_message_id && m.local?.retryable !== false && (
            <button type="button" className="link-button" onClick={() => onRetry(m.client_message_id!)}>
              Retry
            </button>
          )}
          {onDiscard && m.client_message_id && (
            <button type="button" className="link-button" onClick={() => onDiscard(m.client_message_id!)}>
              Discard
            </button>
          )}
        </div>
      )}
    </li>
  );
});

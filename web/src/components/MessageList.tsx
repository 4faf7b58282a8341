import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { ChatMessage } from '../api/types';
import { withDateSeparators } from '../lib/dates';
import { ArrowDownIcon } from './icons';
import { MessageBubble } from './MessageBubble';

interface Props {
  messages: ChatMessage[];
  meId: number;
  hasMore: boolean;
  loadOlder: () => Promise<void>;
  /** Newer messages exist that are not loaded (a window around an older message). */
  hasNewer?: boolean;
  loadNewer?: () => Promise<void>;
  /** Leave the window: show the newest messages. */
  onJumpToLatest?: () => void;
  onRetry: (cmid: string) => void;
  onDiscard?: (cmid: string) => void;
  /** client_message_ids of sends held back until the browser is online again. */
  waiting?: ReadonlySet<string>;
  onEdit?: (message: ChatMessage, content: string) => Promise<void>;
  onDelete?: (message: ChatMessage) => Promise<void>;
  /** Scroll to this message (it is in `messages`) and mark it briefly; once per `focusKey`. */
  focusId?: number | null;
  focusKey?: string;
  /** Rendered under the last message (typing indicator). */
  footer?: React.ReactNode;
  label: string;
}

const NEAR_BOTTOM = 80;
const NEAR_TOP = 120;
/** How long a message opened from search stays marked. */
export const FLASH_MS = 2500;

/**
 * Scrolling message log: opens at the bottom, follows new messages while the reader is at the
 * bottom (else counts them in a "new messages" pill), loads older ones at the top and keeps the
 * view where it was. Opened on a message (a search result) it centres and marks it, and loads
 * newer messages at the bottom until it meets the live end.
 */
export function MessageList({
  messages,
  meId,
  hasMore,
  loadOlder,
  hasNewer = false,
  loadNewer,
  onJumpToLatest,
  onRetry,
  onDiscard,
  waiting,
  onEdit,
  onDelete,
  focusId = null,
  focusKey = '',
  footer,
  label,
}: Props) {
  const ref = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const prev = useRef<{ first: string | null; last: string | null; height: number; hasNewer: boolean }>({
    first: null,
    last: null,
    height: 0,
    hasNewer: false,
  });
  const loading = useRef(false);
  const loadingNewerRef = useRef(false);
  const handledFocus = useRef<string | null>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [loadingNewer, setLoadingNewer] = useState(false);
  const [unseen, setUnseen] = useState(0);
  const [flashId, setFlashId] = useState<number | null>(null);

  const items = useMemo(() => withDateSeparators(messages), [messages]);
  const keyOf = (m: ChatMessage | undefined) => (m ? (m.client_message_id ?? `id-${m.id}`) : null);

  const scrollToBottom = useCallback((smooth = false) => {
    const el = ref.current;
    if (!el) return;
    el.scrollTo({ top: el.scrollHeight, behavior: smooth ? 'smooth' : 'auto' });
    atBottom.current = true;
    setUnseen(0);
  }, []);

  const older = useCallback(async () => {
    if (loading.current || !hasMore) return;
    loading.current = true;
    setLoadingOlder(true);
    try {
      await loadOlder();
    } finally {
      loading.current = false;
      setLoadingOlder(false);
    }
  }, [hasMore, loadOlder]);

  const newer = useCallback(async () => {
    if (loadingNewerRef.current || !hasNewer || !loadNewer) return;
    loadingNewerRef.current = true;
    setLoadingNewer(true);
    try {
      await loadNewer();
    } catch {
      /* the button stays: the reader can try again */
    } finally {
      loadingNewerRef.current = false;
      setLoadingNewer(false);
    }
  }, [hasNewer, loadNewer]);

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const first = keyOf(messages[0]);
    const lastMsg = messages[messages.length - 1];
    const last = keyOf(lastMsg);
    const p = prev.current;
    const target =
      focusId != null && handledFocus.current !== focusKey
        ? el.querySelector<HTMLElement>(`[data-message-id="${focusId}"]`)
        : null;
    if (target) {
      // Opened on a message: centre it.
      handledFocus.current = focusKey;
      const box = el.getBoundingClientRect();
      const t = target.getBoundingClientRect();
      el.scrollTop += t.top - box.top - (el.clientHeight - t.height) / 2;
      atBottom.current = !hasNewer && el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM;
      setUnseen(0);
      setFlashId(focusId);
    } else if (p.first === null && p.last === null) {
      el.scrollTop = el.scrollHeight; // first render with messages: start at the bottom
      atBottom.current = true;
    } else {
      if (first !== p.first && last === p.last) {
        // Older messages prepended: keep what the reader was looking at in place.
        el.scrollTop += el.scrollHeight - p.height;
      } else if (last !== p.last && lastMsg) {
        if (p.hasNewer) {
          // Newer history loaded below the reader (scrolling down a window): the view stays.
        } else if (atBottom.current || lastMsg.sender?.id === meId) scrollToBottom();
        else if (lastMsg.sender?.id !== meId) setUnseen((n) => n + 1);
      } else if (atBottom.current) {
        el.scrollTop = el.scrollHeight; // receipts, typing indicator: stay pinned
      }
    }
    prev.current = { first, last, height: el.scrollHeight, hasNewer };
  }, [messages, meId, scrollToBottom, footer, focusId, focusKey, hasNewer]);

  // The marked message takes focus (for screen readers and the keyboard), then fades.
  useEffect(() => {
    if (flashId == null) return;
    ref.current?.querySelector<HTMLElement>(`[data-message-id="${flashId}"]`)?.focus({ preventScroll: true });
    const t = setTimeout(() => setFlashId(null), FLASH_MS);
    return () => clearTimeout(t);
  }, [flashId]);

  // Too few messages to scroll: fetch older (and newer) ones until the view fills, or none are left.
  useEffect(() => {
    const el = ref.current;
    if (!el || el.scrollHeight > el.clientHeight + NEAR_TOP) return;
    if (hasMore) void older();
    if (hasNewer) void newer();
  }, [messages, hasMore, hasNewer, older, newer]);

  const onScroll = () => {
    const el = ref.current;
    if (!el) return;
    const fromBottom = el.scrollHeight - el.scrollTop - el.clientHeight;
    atBottom.current = !hasNewer && fromBottom < NEAR_BOTTOM;
    if (atBottom.current && unseen) setUnseen(0);
    if (el.scrollTop < NEAR_TOP) void older();
    if (hasNewer && fromBottom < NEAR_TOP) void newer();
  };

  return (
    <div className="message-scroll-wrap">
      <div className="message-scroll" ref={ref} onScroll={onScroll} tabIndex={0} aria-label={label} role="region">
        {hasMore ? (
          <div className="older-status" aria-live="polite">
            {loadingOlder ? 'Loading older messages…' : (
              <button type="button" className="link-button" onClick={() => void older()}>
                Load older messages
              </button>
            )}
          </div>
        ) : messages.length > 0 ? (
          <div className="older-status muted">Beginning of the conversation</div>
        ) : null}
        <ol className="message-list" role="log" aria-live="polite" aria-relevant="additions" aria-label={label}>
          {items.map((it) =>
            it.kind === 'day' ? (
              <li key={it.key} className="day-separator" role="separator" aria-label={it.label}>
                <span>{it.label}</span>
              </li>
            ) : (
              <MessageBubble
                key={it.key}
                message={it.message}
                mine={it.message.sender?.id === meId}
                firstOfGroup={it.firstOfGroup}
                highlighted={flashId != null && !it.message.local && it.message.id === flashId}
                onRetry={onRetry}
                onDiscard={onDiscard}
                waiting={!!it.message.local && !!it.message.client_message_id && !!waiting?.has(it.message.client_message_id)}
                onEdit={onEdit}
                onDelete={onDelete}
              />
            ),
          )}
        </ol>
        {hasNewer && (
          <div className="older-status newer-status" aria-live="polite">
            {loadingNewer ? 'Loading newer messages…' : (
              <button type="button" className="link-button" onClick={() => void newer()}>
                Load newer messages
              </button>
            )}
          </div>
        )}
        {footer}
      </div>
      {hasNewer && onJumpToLatest ? (
        <button type="button" className="new-pill" onClick={onJumpToLatest}>
          <ArrowDownIcon /> Jump to latest
        </button>
      ) : (
        unseen > 0 && (
          <button type="button" className="new-pill" onClick={() => scrollToBottom(true)}>
            <ArrowDownIcon /> {unseen === 1 ? '1 new message' : `${unseen} new messages`}
          </button>
        )
      )}
    </div>
  );
}

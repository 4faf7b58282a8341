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
  onRetry: (cmid: string) => void;
  /** Rendered under the last message (typing indicator). */
  footer?: React.ReactNode;
  label: string;
}

const NEAR_BOTTOM = 80;
const NEAR_TOP = 120;

/**
 * Scrolling message log: opens at the bottom, follows new messages while the reader is at the
 * bottom (else counts them in a "new messages" pill), loads older ones at the top and keeps the
 * view where it was.
 */
export function MessageList({ messages, meId, hasMore, loadOlder, onRetry, footer, label }: Props) {
  const ref = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const prev = useRef<{ first: string | null; last: string | null; height: number }>({ first: null, last: null, height: 0 });
  const loading = useRef(false);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [unseen, setUnseen] = useState(0);

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

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const first = keyOf(messages[0]);
    const lastMsg = messages[messages.length - 1];
    const last = keyOf(lastMsg);
    const p = prev.current;
    if (p.first === null && p.last === null) {
      el.scrollTop = el.scrollHeight; // first render with messages: start at the bottom
      atBottom.current = true;
    } else {
      if (first !== p.first && last === p.last) {
        // Older messages prepended: keep what the reader was looking at in place.
        el.scrollTop += el.scrollHeight - p.height;
      } else if (last !== p.last && lastMsg) {
        if (atBottom.current || lastMsg.sender.id === meId) scrollToBottom();
        else if (lastMsg.sender.id !== meId) setUnseen((n) => n + 1);
      } else if (atBottom.current) {
        el.scrollTop = el.scrollHeight; // receipts, typing indicator: stay pinned
      }
    }
    prev.current = { first, last, height: el.scrollHeight };
  }, [messages, meId, scrollToBottom, footer]);

  // Too few messages to scroll: fetch older ones until the view fills (or none are left).
  useEffect(() => {
    const el = ref.current;
    if (el && hasMore && el.scrollHeight <= el.clientHeight + NEAR_TOP) void older();
  }, [messages, hasMore, older]);

  const onScroll = () => {
    const el = ref.current;
    if (!el) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM;
    if (atBottom.current && unseen) setUnseen(0);
    if (el.scrollTop < NEAR_TOP) void older();
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
                mine={it.message.sender.id === meId}
                firstOfGroup={it.firstOfGroup}
                onRetry={onRetry}
              />
            ),
          )}
        </ol>
        {footer}
      </div>
      {unseen > 0 && (
        <button type="button" className="new-pill" onClick={() => scrollToBottom(true)}>
          <ArrowDownIcon /> {unseen === 1 ? '1 new message' : `${unseen} new messages`}
        </button>
      )}
    </div>
  );
}

import { memo } from 'react';
import type { ChatMessage } from '../api/types';
import { clockTime, fullTime } from '../lib/dates';
import { receiptOf } from '../lib/merge';
import { fullName } from '../lib/users';
import { ClockIcon, Tick } from './icons';

function receiptTitle(m: ChatMessage): string {
  switch (receiptOf(m)) {
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

interface Props {
  message: ChatMessage;
  mine: boolean;
  firstOfGroup: boolean;
  onRetry?: (clientMessageId: string) => void;
}

export const MessageBubble = memo(function MessageBubble({ message: m, mine, firstOfGroup, onRetry }: Props) {
  const receipt = receiptOf(m);
  return (
    <li
      className={`msg ${mine ? 'mine' : 'theirs'}${firstOfGroup ? ' first' : ''}${receipt === 'failed' ? ' failed' : ''}`}
      data-message-id={m.local ? undefined : m.id}
      data-client-id={m.client_message_id ?? undefined}
      data-receipt={mine ? receipt : undefined}
    >
      <div className="bubble">
        <span className="visually-hidden">{mine ? 'You' : fullName(m.sender)}: </span>
        <p className="content">{m.content}</p>
        <span className="meta">
          <time dateTime={m.created_at} title={fullTime(m.created_at)}>
            {clockTime(m.created_at)}
          </time>
          {mine && (
            <span className={`receipt receipt-${receipt}`} title={receiptTitle(m)} role="img" aria-label={receiptTitle(m)}>
              {receipt === 'sending' ? <ClockIcon /> : receipt === 'failed' ? '!' : <Tick double={receipt !== 'sent'} />}
            </span>
          )}
        </span>
      </div>
      {receipt === 'failed' && (
        <div className="send-failed" role="alert">
          <span>{m.local?.error ?? 'Not sent.'}</span>
          {onRetry && m.client_message_id && (
            <button type="button" className="link-button" onClick={() => onRetry(m.client_message_id!)}>
              Retry
            </button>
          )}
        </div>
      )}
    </li>
  );
});

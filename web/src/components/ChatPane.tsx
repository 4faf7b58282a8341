import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect } from 'react';
import { ApiError } from '../api/client';
import type { Conversation, Me, UserSummary } from '../api/types';
import { markConversationRead, retrySend, sendChatMessage } from '../data/actions';
import { useConversation, useMessages, usePageActive, useTypingSender } from '../data/hooks';
import { setViewing } from '../data/viewing';
import { fullName, otherParty } from '../lib/users';
import { useRealtime } from '../realtime/RealtimeProvider';
import { useTypingUsers } from '../realtime/typing';
import { Link } from '../router';
import { Avatar } from './Avatar';
import { ChatInput } from './ChatInput';
import { ArchiveIcon, BackIcon, ChatIcon, LockIcon } from './icons';
import { MessageList } from './MessageList';
import { TypingIndicator } from './TypingIndicator';

export function ChatHeader({
  user,
  name,
  subtitle,
  backTo,
  badge,
}: {
  user: UserSummary | null;
  /** Defaults to the user's full name. */
  name?: string;
  subtitle?: React.ReactNode;
  backTo: string;
  badge?: React.ReactNode;
}) {
  return (
    <header className="chat-header">
      <Link to={backTo} className="icon-button back-button" aria-label="Back to conversations">
        <BackIcon />
      </Link>
      <Avatar user={user} size={40} />
      <div className="chat-header-text">
        <h2 className="chat-title">{name ?? fullName(user)}</h2>
        <div className="chat-subtitle">{subtitle}</div>
      </div>
      {badge}
    </header>
  );
}

function ConnectionNote() {
  const { status } = useRealtime();
  if (status === 'open' || status === 'stopped') return null;
  const text =
    status === 'connecting' ? 'Connecting…' : status === 'polling' ? 'Live updates unavailable: refreshing every few seconds' : 'Reconnecting…';
  return (
    <span className={`conn-note conn-${status}`} role="status">
      {text}
    </span>
  );
}

export function readOnlyReason(me: Me, archived: boolean, other: UserSummary | null): string | null {
  if (me.is_impersonating)
    return `You are viewing as ${fullName(me)} (impersonation). Messaging is read-only: nothing can be sent on their behalf.`;
  if (archived)
    return `This conversation is archived${other ? ` (${fullName(other)} is no longer assigned)` : ''}. Its history stays readable, but no new messages can be sent.`;
  return null;
}

/** An open conversation: header, messages, typing indicator, input. */
export function ChatPane({ conversationId, me, backTo }: { conversationId: number; me: Me; backTo: string }) {
  const qc = useQueryClient();
  const { client } = useRealtime();
  const { conversation, isArchived, isLoading: convLoading } = useConversation(conversationId, me);
  const msgs = useMessages(conversationId);
  const active = usePageActive();
  const typingUsers = useTypingUsers(conversationId);

  const forbiddenArchived =
    msgs.error instanceof ApiError && msgs.error.status === 403 && /archived/i.test(msgs.error.message);
  const archived = isArchived || forbiddenArchived;
  const other = conversation ? otherParty(conversation, me) : null;
  const reason = readOnlyReason(me, archived, other);
  const readOnly = reason !== null;

  useEffect(() => {
    setViewing(conversationId);
    return () => setViewing(null);
  }, [conversationId]);

  // Mark read while the conversation is on screen and the tab is focused.
  const unreadLoaded = msgs.data?.messages.some((m) => !m.local && m.sender.id !== me.id && !m.is_read) ?? false;
  const unreadListed = (conversation?.unread_count ?? 0) > 0;
  useEffect(() => {
    if (!active || readOnly || !msgs.data) return;
    if (unreadLoaded || unreadListed) void markConversationRead(qc, me, conversationId);
  }, [active, readOnly, unreadLoaded, unreadListed, msgs.data, qc, me, conversationId]);

  const onTyping = useTypingSender(client, conversationId, !readOnly);
  const onSend = useCallback((text: string) => void sendChatMessage(qc, me, conversationId, text), [qc, me, conversationId]);
  const onRetry = useCallback((cmid: string) => retrySend(qc, me, conversationId, cmid), [qc, me, conversationId]);

  const typingName =
    typingUsers.length > 0 && other && typingUsers.includes(other.id) ? fullName(other).split(' ')[0] || fullName(other) : null;

  if (!conversation && !convLoading && msgs.error && !forbiddenArchived) {
    const notFound = msgs.error instanceof ApiError && (msgs.error.status === 404 || msgs.error.status === 403);
    return (
      <section className="chat-pane" aria-label="Conversation">
        <div className="chat-empty">
          <ChatIcon />
          <p>{notFound ? msgs.error.message : 'Could not load this conversation.'}</p>
          <Link to={backTo} className="button secondary">
            Back to conversations
          </Link>
        </div>
      </section>
    );
  }

  const name = conversation ? fullName(other) : convLoading ? '' : 'Conversation';
  return (
    <section className="chat-pane" aria-label={name ? `Conversation with ${name}` : 'Conversation'} data-conversation-id={conversationId}>
      <ChatHeader
        user={other}
        name={name}
        backTo={backTo}
        subtitle={
          <>
            {typingName ? (
              <span className="typing-inline">typing…</span>
            ) : (
              <span>{conversation ? (conversation.trainer.id === me.id ? 'Trainee' : 'Trainer') : ''}</span>
            )}
            <ConnectionNote />
          </>
        }
        badge={
          archived ? (
            <span className="pill pill-muted">
              <ArchiveIcon /> Archived
            </span>
          ) : me.is_impersonating ? (
            <span className="pill pill-warn">
              <LockIcon /> Read-only
            </span>
          ) : null
        }
      />
      {msgs.isLoading ? (
        <div className="chat-loading" aria-busy="true" aria-live="polite">
          Loading messages…
        </div>
      ) : forbiddenArchived ? (
        <div className="chat-empty">
          <ArchiveIcon />
          <p>{(msgs.error as Error).message}</p>
        </div>
      ) : msgs.error ? (
        <div className="chat-empty" role="alert">
          <p>Could not load messages: {(msgs.error as Error).message}</p>
          <button type="button" className="button secondary" onClick={() => void msgs.refetch()}>
            Try again
          </button>
        </div>
      ) : (
        <MessageList
          messages={msgs.data?.messages ?? []}
          meId={me.id}
          hasMore={msgs.data?.hasMore ?? false}
          loadOlder={msgs.loadOlder}
          onRetry={onRetry}
          label={name ? `Messages with ${name}` : 'Messages'}
          footer={<TypingIndicator name={typingName} />}
        />
      )}
      <ChatInput
        key={conversationId}
        onSend={onSend}
        onTyping={onTyping}
        disabled={readOnly}
        disabledReason={reason ?? undefined}
        placeholder={other ? `Message ${fullName(other).split(' ')[0]}…` : undefined}
      />
    </section>
  );
}

export type { Conversation };

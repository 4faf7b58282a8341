import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from '../api/client';
import type { ChatMessage, Conversation, Me, PendingImage, UserSummary } from '../api/types';
import {
  deleteChatMessage,
  discardLocal,
  editChatMessage,
  loadAround,
  markConversationRead,
  resetToLatest,
  retrySend,
  sendChatMessage,
} from '../data/actions';
import { scheduleChatMessage, useScheduled, useTemplates } from '../data/coaching';
import { announce } from '../data/announcer';
import { useConversation, useMessages, usePageActive, useTypingSender } from '../data/hooks';
import { keys } from '../data/keys';
import { setViewing } from '../data/viewing';
import type { MessagesState } from '../lib/merge';
import { whenLabel } from '../lib/coaching';
import { fullName, otherParty } from '../lib/users';
import { useRealtime } from '../realtime/RealtimeProvider';
import { useTypingUsers } from '../realtime/typing';
import { Link, navigate, useSearch } from '../router';
import { Avatar } from './Avatar';
import { ChatInput, type ChatInputHandle } from './ChatInput';
import { ArchiveIcon, BackIcon, ChatIcon, LockIcon } from './icons';
import { MessageList } from './MessageList';
import { DropOverlay, usePhotoDrop } from './PhotoDrop';
import { SavedRepliesDialog } from './SavedReplies';
import { ScheduledList } from './ScheduledList';
import { TypingIndicator } from './TypingIndicator';

/** Asks an open chat to scroll to a message again (a search result clicked a second time). */
export const FOCUS_MESSAGE_EVENT = 'spotter:focus-message';

/** The `?message=<id>` of the address: the message to open the chat on. */
function messageParam(search: string): number | null {
  const v = Number(new URLSearchParams(search).get('message'));
  return Number.isInteger(v) && v > 0 ? v : null;
}

/** The address without `?message=` (other parameters stay). */
function withoutMessageParam(): string {
  const params = new URLSearchParams(window.location.search);
  params.delete('message');
  const q = params.toString();
  return window.location.pathname + (q ? `?${q}` : '');
}

interface Focus {
  id: number;
  /** Changes with every request to go there (the same message twice scrolls twice). */
  key: string;
  status: 'loading' | 'ready' | 'missing';
  error?: string;
}

/**
 * The chat opened on one message (`?message=`): if it is not loaded, a page around it replaces
 * (or joins) what is; without it, a window around an older message goes back to the newest.
 */
function useMessageFocus(conversationId: number) {
  const qc = useQueryClient();
  const focusParam = messageParam(useSearch());
  // The answer of the last `?around=` request, for the request it answered.
  const [opened, setOpened] = useState<{ key: string; status: 'ready' | 'missing'; error?: string } | null>(null);
  const [again, setAgain] = useState(0);

  useEffect(() => {
    const onAgain = (e: Event) => {
      const d = (e as CustomEvent<{ conversationId: number; messageId: number }>).detail;
      if (d?.conversationId === conversationId) setAgain((n) => n + 1);
    };
    window.addEventListener(FOCUS_MESSAGE_EVENT, onAgain);
    return () => window.removeEventListener(FOCUS_MESSAGE_EVENT, onAgain);
  }, [conversationId]);

  const key = `${conversationId}:${focusParam}:${again}`;
  const state = qc.getQueryData<MessagesState>(keys.messages(conversationId));
  const loaded = focusParam != null && !!state?.messages.some((m) => !m.local && m.id === focusParam);

  useEffect(() => {
    if (focusParam == null) {
      if (qc.getQueryData<MessagesState>(keys.messages(conversationId))?.hasNewer) resetToLatest(qc, conversationId);
      return;
    }
    if (qc.getQueryData<MessagesState>(keys.messages(conversationId))?.messages.some((m) => !m.local && m.id === focusParam)) return;
    let alive = true;
    loadAround(qc, conversationId, focusParam).then(
      () => alive && setOpened({ key, status: 'ready' }),
      (e: Error) => alive && setOpened({ key, status: 'missing', error: e.message }),
    );
    return () => {
      alive = false;
    };
  }, [qc, conversationId, focusParam, key]);

  let focus: Focus | null = null;
  if (focusParam != null) {
    if (opened?.key === key) focus = { ...opened, id: focusParam };
    else focus = { id: focusParam, key, status: loaded ? 'ready' : 'loading' };
  }
  // Until the window around the message is there, the newest page is not fetched.
  const paused = focus?.status === 'loading';
  return { focus, paused };
}

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
  const { focus, paused } = useMessageFocus(conversationId);
  const msgs = useMessages(conversationId, { paused });
  const inputRef = useRef<ChatInputHandle>(null);
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

  // Coaching tools: saved replies (trainers), scheduled messages (both sides).
  const isTrainer = me.role === 'trainer' && !me.is_impersonating;
  const templates = useTemplates(isTrainer && !readOnly);
  const [managing, setManaging] = useState(false);
  const scheduled = useScheduled(conversationId, !me.is_impersonating);
  const onSchedule = useCallback(
    async (text: string, at: Date) => {
      const s = await scheduleChatMessage(qc, conversationId, text, at);
      announce(`Message scheduled for ${whenLabel(s.send_at)}.`);
    },
    [qc, conversationId],
  );

  const onTyping = useTypingSender(client, conversationId, !readOnly);
  const onSend = useCallback(
    (text: string, image?: PendingImage) => {
      // Writing from a window around an older message: the chat goes back to the newest.
      if (messageParam(window.location.search) != null) navigate(withoutMessageParam(), { replace: true });
      void sendChatMessage(qc, me, conversationId, text, image);
    },
    [qc, me, conversationId],
  );
  const onRetry = useCallback((cmid: string) => retrySend(qc, me, conversationId, cmid), [qc, me, conversationId]);
  const onDiscard = useCallback((cmid: string) => discardLocal(qc, conversationId, cmid), [qc, conversationId]);
  const onEdit = useCallback(
    (m: ChatMessage, content: string) => editChatMessage(qc, conversationId, m.id, content),
    [qc, conversationId],
  );
  const onDelete = useCallback((m: ChatMessage) => deleteChatMessage(qc, conversationId, m.id), [qc, conversationId]);
  const onJumpToLatest = useCallback(() => {
    navigate(withoutMessageParam(), { replace: true });
    resetToLatest(qc, conversationId);
  }, [qc, conversationId]);
  const drop = usePhotoDrop((file) => inputRef.current?.attach(file), !readOnly);

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
  const messages = msgs.data?.messages ?? [];
  const focusId =
    focus?.status === 'ready' && messages.some((m) => !m.local && m.id === focus.id) ? focus.id : null;
  // Also while a window around a message loads, and while the newest page comes back after one.
  const loading = msgs.isLoading || (!msgs.data && paused) || (msgs.isFetching && messages.length === 0);
  return (
    <section
      className="chat-pane"
      aria-label={name ? `Conversation with ${name}` : 'Conversation'}
      data-conversation-id={conversationId}
      {...drop.handlers}
    >
      {drop.dragging && <DropOverlay />}
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
      {focus?.status === 'missing' && (
        <p className="focus-note" role="alert">
          That message could not be opened{focus.error ? `: ${focus.error}` : '.'}
        </p>
      )}
      {loading ? (
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
          <p>Could not load messages: {(msgs.error).message}</p>
          <button type="button" className="button secondary" onClick={() => void msgs.refetch()}>
            Try again
          </button>
        </div>
      ) : (
        <MessageList
          messages={messages}
          meId={me.id}
          hasMore={msgs.data?.hasMore ?? false}
          loadOlder={msgs.loadOlder}
          hasNewer={msgs.data?.hasNewer ?? false}
          loadNewer={msgs.loadNewer}
          onJumpToLatest={onJumpToLatest}
          focusId={focusId}
          focusKey={focus?.key ?? ''}
          onRetry={onRetry}
          onDiscard={onDiscard}
          onEdit={readOnly ? undefined : onEdit}
          onDelete={readOnly ? undefined : onDelete}
          label={name ? `Messages with ${name}` : 'Messages'}
          footer={
            <>
              {!me.is_impersonating && <ScheduledList items={scheduled.data ?? []} />}
              <TypingIndicator name={typingName} />
            </>
          }
        />
      )}
      <ChatInput
        key={conversationId}
        ref={inputRef}
        onSend={onSend}
        onTyping={onTyping}
        disabled={readOnly}
        disabledReason={reason ?? undefined}
        placeholder={other ? `Message ${fullName(other).split(' ')[0]}…` : undefined}
        savedReplies={isTrainer ? (templates.data ?? []) : undefined}
        savedRepliesLoading={templates.isLoading}
        onManageSavedReplies={isTrainer ? () => setManaging(true) : undefined}
        recipientFirstName={other?.first_name || undefined}
        onSchedule={readOnly ? undefined : onSchedule}
      />
      {managing && (
        <SavedRepliesDialog
          onClose={() => {
            setManaging(false);
            inputRef.current?.focus();
          }}
        />
      )}
    </section>
  );
}

export type { Conversation };

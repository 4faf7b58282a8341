import { useQueryClient, type QueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useEffectEvent, useRef, useState } from 'react';
import { ApiError } from '../api/client';
import type { ChatMessage, Conversation, Me, PendingImage, UserSummary } from '../api/types';
import { scheduleChatMessage, useScheduled, useTemplates } from '../data/coaching';
import { useAnnounce } from '../data/announcer';
import { useConversation, usePageActive, useTypingSender } from '../data/hooks';
import { hasLoaded, useMessages } from '../data/messages';
import { useDeleteMessage, useEditMessage, useMarkRead, useSendMessage, useWaitingSends } from '../data/mutations';
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
 * Where a history shows message `id`: the newest messages when they hold it, the window in
 * view when it does, else a new window around it.
 */
function anchorFor(qc: QueryClient, conversationId: number, id: number | null, current: number | null): number | null {
  if (id == null || hasLoaded(qc, conversationId, null, id)) return null;
  if (current != null && hasLoaded(qc, conversationId, current, id)) return current;
  return id;
}

/**
 * The chat opened on one message (`?message=`): on the newest messages when they hold it, else
 * on a window around it (`?around=`). Without it, the newest messages.
 */
function useMessageFocus(conversationId: number) {
  const qc = useQueryClient();
  const focusParam = messageParam(useSearch());
  const [again, setAgain] = useState(0);

  useEffect(() => {
    const onAgain = (e: Event) => {
      const d = (e as CustomEvent<{ conversationId: number; messageId: number }>).detail;
      if (d?.conversationId === conversationId) setAgain((n) => n + 1);
    };
    window.addEventListener(FOCUS_MESSAGE_EVENT, onAgain);
    return () => window.removeEventListener(FOCUS_MESSAGE_EVENT, onAgain);
  }, [conversationId]);

  // Decided once per request (loading older messages later does not move the reader).
  const [choice, setChoice] = useState(() => ({
    conversationId,
    focusParam,
    anchor: anchorFor(qc, conversationId, focusParam, null),
  }));
  let anchor = choice.anchor;
  if (choice.conversationId !== conversationId || choice.focusParam !== focusParam) {
    anchor = anchorFor(qc, conversationId, focusParam, choice.conversationId === conversationId ? choice.anchor : null);
    setChoice({ conversationId, focusParam, anchor });
  }
  return { focusParam, anchor, key: `${conversationId}:${focusParam}:${again}` };
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
  const { client, typing, view } = useRealtime();
  const { conversation, isArchived, isLoading: convLoading } = useConversation(conversationId, me);
  const { focusParam, anchor, key: focusKey } = useMessageFocus(conversationId);
  // A window around the message; the newest messages without one (or when it cannot be opened).
  const around = useMessages(conversationId, anchor, anchor != null);
  const aroundFailed = anchor != null && around.isError;
  const latest = useMessages(conversationId, null, anchor == null || aroundFailed);
  const msgs = anchor != null && !aroundFailed ? around : latest;
  const inputRef = useRef<ChatInputHandle>(null);
  const active = usePageActive();
  const typingUsers = useTypingUsers(typing, conversationId);
  const waiting = useWaitingSends();

  const forbiddenArchived =
    msgs.error instanceof ApiError && msgs.error.status === 403 && /archived/i.test(msgs.error.message);
  const archived = isArchived || forbiddenArchived;
  const other = conversation ? otherParty(conversation, me) : null;
  const reason = readOnlyReason(me, archived, other);
  const readOnly = reason !== null;

  useEffect(() => {
    view?.setViewing(conversationId);
    return () => view?.setViewing(null);
  }, [view, conversationId]);

  // Mark read while the conversation is on screen and the tab is focused.
  const markRead = useMarkRead(conversationId);
  const markReadNow = useEffectEvent(markRead);
  const unreadLoaded = msgs.data?.messages.some((m) => !m.local && m.sender.id !== me.id && !m.is_read) ?? false;
  const unreadListed = (conversation?.unread_count ?? 0) > 0;
  useEffect(() => {
    if (!active || readOnly || !msgs.data) return;
    if (unreadLoaded || unreadListed) markReadNow();
  }, [active, readOnly, unreadLoaded, unreadListed, msgs.data]);

  // Coaching tools: saved replies (trainers), scheduled messages (both sides).
  const isTrainer = me.role === 'trainer' && !me.is_impersonating;
  const templates = useTemplates(isTrainer && !readOnly);
  const [managing, setManaging] = useState(false);
  const scheduled = useScheduled(conversationId, !me.is_impersonating);
  const announce = useAnnounce();
  const onSchedule = useCallback(
    async (text: string, at: Date) => {
      const s = await scheduleChatMessage(qc, conversationId, text, at);
      announce(`Message scheduled for ${whenLabel(s.send_at)}.`);
    },
    [qc, conversationId, announce],
  );

  const onTyping = useTypingSender(client, conversationId, !readOnly);
  const sender = useSendMessage(conversationId);
  const onSend = (text: string, image?: PendingImage) => {
    // Writing from a window around an older message: the chat goes back to the newest.
    if (messageParam(window.location.search) != null) navigate(withoutMessageParam(), { replace: true });
    sender.send(text, image);
  };
  const edit = useEditMessage();
  const remove = useDeleteMessage();
  const onEdit = useCallback((m: ChatMessage, content: string) => edit(conversationId, m, content), [edit, conversationId]);
  const onDelete = useCallback((m: ChatMessage) => remove(conversationId, m), [remove, conversationId]);
  const onJumpToLatest = useCallback(() => navigate(withoutMessageParam(), { replace: true }), []);
  // The list asks again as it scrolls: a page on its way is not fetched twice.
  const { fetchPreviousPage, fetchNextPage } = msgs;
  const loadOlder = useCallback(async () => {
    await fetchPreviousPage({ cancelRefetch: false });
  }, [fetchPreviousPage]);
  const loadNewer = useCallback(async () => {
    await fetchNextPage({ cancelRefetch: false });
  }, [fetchNextPage]);
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
  let focus: Focus | null = null;
  if (focusParam != null) {
    if (aroundFailed) focus = { id: focusParam, key: focusKey, status: 'missing', error: (around.error).message };
    else if (messages.some((m) => !m.local && m.id === focusParam)) focus = { id: focusParam, key: focusKey, status: 'ready' };
    else focus = { id: focusParam, key: focusKey, status: 'loading' };
  }
  const focusId = focus?.status === 'ready' ? focus.id : null;
  // Also while the newest page comes back after a window.
  const loading = msgs.isPending || (msgs.isFetching && messages.length === 0);
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
          hasMore={msgs.data?.hasOlder ?? false}
          loadOlder={loadOlder}
          hasNewer={msgs.data?.hasNewer ?? false}
          loadNewer={loadNewer}
          onJumpToLatest={onJumpToLatest}
          focusId={focusId}
          focusKey={focusKey}
          onRetry={sender.retry}
          onDiscard={sender.discard}
          waiting={waiting}
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

import { useState } from 'react';
import type { Conversation, Me } from '../api/types';
import { useNeedsReply } from '../data/coaching';
import { useConversations, useDebounced, useNow } from '../data/hooks';
import { waitingLabel, waitingLevel } from '../lib/coaching';
import { fullTime, relativeTime } from '../lib/dates';
import { fullName, otherParty } from '../lib/users';
import { Link } from '../router';
import { Avatar } from './Avatar';
import { ChatIcon } from './icons';
import { MessageSearchBox, SearchResults } from './MessageSearch';

export type ListView = 'active' | 'needs-reply' | 'archived';

function Row({
  c,
  me,
  selected,
  now,
  suffix,
  waiting,
}: {
  c: Conversation;
  me: Me;
  selected: boolean;
  now: Date;
  suffix: string;
  /** In the "needs reply" inbox: since when the trainee waits. */
  waiting?: string | null;
}) {
  const other = otherParty(c, me);
  const name = fullName(other);
  const time = c.last_message_at ?? c.created_at;
  const unread = c.unread_count > 0;
  const inbox = waiting !== undefined;
  return (
    <li>
      <Link
        to={`/messages/${c.id}${suffix}`}
        className={`conv-item${selected ? ' selected' : ''}${unread ? ' unread' : ''}`}
        aria-current={selected ? 'page' : undefined}
        data-conversation-id={c.id}
      >
        <Avatar user={other} size={44} />
        <span className="conv-text">
          <span className="conv-top">
            <span className="conv-name">{name}</span>
            {inbox ? (
              <time
                className={`conv-time waiting waiting-${waitingLevel(waiting, now)}`}
                dateTime={waiting ?? undefined}
                title={waiting ? `Waiting since ${fullTime(waiting)}` : undefined}
              >
                {waitingLabel(waiting, now)}
              </time>
            ) : (
              <time className="conv-time" dateTime={time} title={new Date(time).toLocaleString()}>
                {relativeTime(time, now)}
              </time>
            )}
          </span>
          <span className="conv-bottom">
            <span className="conv-preview">{c.last_message_preview ?? 'No messages yet'}</span>
            {unread && (
              <span className="badge" aria-label={`${c.unread_count} unread`}>
                {c.unread_count > 99 ? '99+' : c.unread_count}
              </span>
            )}
          </span>
        </span>
      </Link>
    </li>
  );
}

const VIEWS: { view: ListView; label: string; to: string }[] = [
  { view: 'active', label: 'Active', to: '/messages' },
  { view: 'needs-reply', label: 'Needs reply', to: '/messages?view=needs-reply' },
  { view: 'archived', label: 'Archived', to: '/messages?view=archived' },
];

function Skeleton() {
  return (
    <ul className="conv-list" aria-busy="true" aria-label="Loading conversations">
      {[0, 1, 2, 3].map((i) => (
        <li key={i} className="conv-skeleton">
          <span className="sk-avatar" />
          <span className="sk-lines">
            <span />
            <span />
          </span>
        </li>
      ))}
    </ul>
  );
}

function LoadError({ error, retry }: { error: unknown; retry: () => void }) {
  return (
    <div className="conv-state" role="alert">
      <p>Could not load conversations.</p>
      <p className="muted">{(error as Error).message}</p>
      <button type="button" className="button secondary" onClick={retry}>
        Try again
      </button>
    </div>
  );
}

/**
 * Conversation list, most recent first, kept live by the socket through the query cache.
 * Trainers also have the "needs reply" inbox (longest waiting first, with how long) and the
 * archive.
 */
export function ConversationList({ me, selectedId, view }: { me: Me; selectedId: number | null; view: ListView }) {
  const isTrainer = me.role === 'trainer';
  const archived = view === 'archived';
  const inbox = view === 'needs-reply';
  const q = useConversations(archived);
  // Loaded for the count on the tab, whichever list is shown; kept live from the socket.
  const needs = useNeedsReply(isTrainer);
  const active = useConversations(false, inbox);
  const now = useNow(inbox ? 30_000 : 60_000);
  const suffix = view === 'active' ? '' : `?view=${view}`;
  const [typed, setTyped] = useState('');
  const query = useDebounced(typed, 300);
  const searching = typed.trim().length > 0;
  const waitingCount = needs.data?.length ?? 0;
  // Rows of the inbox show the conversation as the live list has it (preview, unread).
  const live = new Map((active.data ?? []).map((c) => [c.id, c]));
  return (
    <nav className="conv-pane" aria-label="Conversations">
      <div className="conv-head">
        <h1>Messages</h1>
      </div>
      {isTrainer && (
        <div className="conv-tabs segmented" role="group" aria-label="Which conversations">
          {VIEWS.map((v) => (
            <Link
              key={v.view}
              to={v.to}
              className={view === v.view ? 'active' : ''}
              aria-current={view === v.view ? 'true' : undefined}
              aria-label={v.view === 'needs-reply' && waitingCount > 0 ? `Needs reply, ${waitingCount} waiting` : undefined}
            >
              {v.label}
              {v.view === 'needs-reply' && waitingCount > 0 && (
                <span className="badge tab-badge" data-testid="needs-reply-count" aria-hidden="true">
                  {waitingCount > 99 ? '99+' : waitingCount}
                </span>
              )}
            </Link>
          ))}
        </div>
      )}
      {me.role !== 'admin' && <MessageSearchBox value={typed} onChange={setTyped} />}
      {searching ? (
        <SearchResults typed={typed} query={query} me={me} />
      ) : inbox ? (
        needs.isLoading ? (
          <Skeleton />
        ) : needs.error ? (
          <LoadError error={needs.error} retry={() => void needs.refetch()} />
        ) : !needs.data || needs.data.length === 0 ? (
          <div className="conv-state">
            <ChatIcon />
            <p className="conv-empty-title">All caught up</p>
            <p className="muted">No trainee is waiting for your answer.</p>
          </div>
        ) : (
          <ul className="conv-list" aria-label="Waiting for your reply, longest first">
            {needs.data.map((c) => (
              <Row
                key={c.id}
                c={live.get(c.id) ?? c}
                me={me}
                selected={c.id === selectedId}
                now={now}
                suffix={suffix}
                waiting={c.waiting_since ?? null}
              />
            ))}
          </ul>
        )
      ) : q.isLoading ? (
        <Skeleton />
      ) : q.error ? (
        <LoadError error={q.error} retry={() => void q.refetch()} />
      ) : !q.data || q.data.length === 0 ? (
        <div className="conv-state">
          <ChatIcon />
          <p className="conv-empty-title">{archived ? 'No archived conversations' : 'No conversations yet'}</p>
          {!archived && isTrainer && (
            <p className="muted">
              Open a trainee from <Link to="/trainees">Trainees</Link> and press “Message”.
            </p>
          )}
          {!archived && me.role === 'trainee' && <p className="muted">Your trainer’s messages will show up here.</p>}
        </div>
      ) : (
        <ul className="conv-list">
          {q.data.map((c) => (
            <Row key={c.id} c={c} me={me} selected={c.id === selectedId} now={now} suffix={suffix} />
          ))}
        </ul>
      )}
    </nav>
  );
}

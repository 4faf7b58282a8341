import { useState } from 'react';
import type { Conversation, Me } from '../api/types';
import { useConversations, useDebounced, useNow } from '../data/hooks';
import { relativeTime } from '../lib/dates';
import { fullName, otherParty } from '../lib/users';
import { Link } from '../router';
import { Avatar } from './Avatar';
import { ChatIcon } from './icons';
import { MessageSearchBox, SearchResults } from './MessageSearch';

function Row({ c, me, selected, now, suffix }: { c: Conversation; me: Me; selected: boolean; now: Date; suffix: string }) {
  const other = otherParty(c, me);
  const name = fullName(other);
  const time = c.last_message_at ?? c.created_at;
  const unread = c.unread_count > 0;
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
            <time className="conv-time" dateTime={time} title={new Date(time).toLocaleString()}>
              {relativeTime(time, now)}
            </time>
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

/** Conversation list, most recent first, kept live by the socket through the query cache. */
export function ConversationList({ me, selectedId, archived }: { me: Me; selectedId: number | null; archived: boolean }) {
  const q = useConversations(archived);
  const now = useNow();
  const isTrainer = me.role === 'trainer';
  const suffix = archived ? '?view=archived' : '';
  const [typed, setTyped] = useState('');
  const query = useDebounced(typed, 300);
  const searching = typed.trim().length > 0;
  return (
    <nav className="conv-pane" aria-label="Conversations">
      <div className="conv-head">
        <h1>Messages</h1>
        {isTrainer && (
          <div className="segmented" role="group" aria-label="Which conversations">
            <Link to="/messages" className={!archived ? 'active' : ''} aria-current={!archived ? 'true' : undefined}>
              Active
            </Link>
            <Link
              to="/messages?view=archived"
              className={archived ? 'active' : ''}
              aria-current={archived ? 'true' : undefined}
            >
              Archived
            </Link>
          </div>
        )}
      </div>
      {me.role !== 'admin' && <MessageSearchBox value={typed} onChange={setTyped} />}
      {searching ? (
        <SearchResults typed={typed} query={query} me={me} />
      ) : q.isLoading ? (
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
      ) : q.error ? (
        <div className="conv-state" role="alert">
          <p>Could not load conversations.</p>
          <p className="muted">{(q.error as Error).message}</p>
          <button type="button" className="button secondary" onClick={() => void q.refetch()}>
            Try again
          </button>
        </div>
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

import { Fragment, useId, useRef } from 'react';
import type { Me, SearchResult } from '../api/types';
import { SEARCH_MIN, useMessageSearch, useNow } from '../data/hooks';
import { clockTime, dayKey, fullTime, relativeTime } from '../lib/dates';
import { highlightSegments, snippet } from '../lib/highlight';
import { fullName } from '../lib/users';
import { Link, usePath, useSearch } from '../router';
import { Avatar } from './Avatar';
import { FOCUS_MESSAGE_EVENT } from './ChatPane';
import { CloseIcon, ImageIcon, SearchIcon } from './icons';

/** The search field above the conversation list; Escape clears it. */
export function MessageSearchBox({ value, onChange }: { value: string; onChange: (v: string) => void }) {
  const ref = useRef<HTMLInputElement>(null);
  const hintId = useId();
  return (
    <form className="conv-search" role="search" aria-label="Messages" onSubmit={(e) => e.preventDefault()}>
      <SearchIcon />
      <input
        ref={ref}
        type="search"
        aria-label="Search messages"
        aria-describedby={hintId}
        placeholder="Search messages"
        value={value}
        autoComplete="off"
        enterKeyHint="search"
        onChange={(e) => onChange(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape' && value) {
            e.preventDefault();
            onChange('');
          }
        }}
      />
      <span id={hintId} className="visually-hidden">
        At least {SEARCH_MIN} characters. Results replace the conversation list; Escape clears.
      </span>
      {value && (
        <button
          type="button"
          className="icon-button search-clear"
          aria-label="Clear search"
          onClick={() => {
            onChange('');
            ref.current?.focus();
          }}
        >
          <CloseIcon />
        </button>
      )}
    </form>
  );
}

function resultTime(iso: string, now: Date): string {
  return dayKey(iso) === dayKey(now.toISOString()) ? clockTime(iso) : relativeTime(iso, now);
}

function ResultRow({ r, me, now, current }: { r: SearchResult; me: Me; now: Date; current: boolean }) {
  const other = {
    id: r.other_participant_id ?? 0,
    first_name: r.other_participant_first_name ?? '',
    last_name: r.other_participant_last_name ?? '',
    profile_image: null,
  };
  const name = r.other_participant_id == null ? 'Deleted user' : fullName(other);
  const { text, highlights } = snippet(r.content ?? '', r.highlights ?? []);
  const to = `/messages/${r.conversation_id}?message=${r.message_id}`;
  return (
    <li>
      <Link
        to={to}
        className={`conv-item search-item${current ? ' selected' : ''}`}
        aria-current={current ? 'page' : undefined}
        data-message-id={r.message_id}
        onClick={() => {
          // Already there (scrolled away since): go to the message again.
          if (current) {
            window.dispatchEvent(
              new CustomEvent(FOCUS_MESSAGE_EVENT, { detail: { conversationId: r.conversation_id, messageId: r.message_id } }),
            );
          }
        }}
      >
        <Avatar user={r.other_participant_id == null ? null : other} size={36} />
        <span className="conv-text">
          <span className="conv-top">
            <span className="conv-name">{name}</span>
            <time className="conv-time" dateTime={r.created_at} title={fullTime(r.created_at)}>
              {resultTime(r.created_at, now)}
            </time>
          </span>
          <span className="search-snippet">
            {r.sender_id === me.id && <span className="muted">You: </span>}
            {text ? (
              highlightSegments(text, highlights).map((s, i) => (s.mark ? <mark key={i}>{s.text}</mark> : <Fragment key={i}>{s.text}</Fragment>))
            ) : r.image_url ? (
              <span className="muted">
                <ImageIcon /> Photo
              </span>
            ) : null}
          </span>
        </span>
      </Link>
    </li>
  );
}

/**
 * Results of a message search across conversations, newest first, with the matched text
 * marked; "More results" loads the next page. `typed` is what is in the box, `query` the
 * debounced text that is searched.
 */
export function SearchResults({ typed, query, me }: { typed: string; query: string; me: Me }) {
  const short = Array.from(typed.trim()).length < SEARCH_MIN;
  const q = useMessageSearch(short ? '' : query);
  const now = useNow();
  const path = usePath();
  const search = useSearch();
  const here = path + search;
  const pending = !short && (typed.trim() !== query.trim() || q.isLoading);
  const pages = q.data?.pages ?? [];
  const results = pages.flatMap((p) => p.results);
  const count = pages[0]?.count ?? 0;

  let status: string;
  if (short) status = `Type at least ${SEARCH_MIN} characters to search.`;
  else if (pending) status = 'Searching…';
  else if (q.error) status = '';
  else if (count === 0) status = `No messages match “${query.trim()}”.`;
  else status = count === 1 ? '1 message found' : `${count} messages found`;

  return (
    <section className="search-results" aria-label="Search results" aria-busy={pending || q.isFetchingNextPage || undefined}>
      <p className="search-status muted" role="status">
        {status}
      </p>
      {q.isError && !q.isFetchNextPageError && !pending && (
        <div className="conv-state" role="alert">
          <p>{(q.error).message}</p>
          <button type="button" className="button secondary small" onClick={() => void q.refetch()}>
            Try again
          </button>
        </div>
      )}
      {!short && !pending && results.length > 0 && (
        <ul className="conv-list search-list">
          {results.map((r) => (
            <ResultRow
              key={r.message_id}
              r={r}
              me={me}
              now={now}
              current={here === `/messages/${r.conversation_id}?message=${r.message_id}`}
            />
          ))}
        </ul>
      )}
      {!short && !pending && q.hasNextPage && (
        <div className="search-more">
          <button
            type="button"
            className="button secondary small"
            onClick={() => void q.fetchNextPage()}
            disabled={q.isFetchingNextPage}
          >
            {q.isFetchingNextPage ? 'Loading…' : 'More results'}
          </button>
          {q.isFetchNextPageError && (
            <p className="form-error" role="alert">
              {(q.error as Error | null)?.message ?? 'Could not load more results.'}
            </p>
          )}
        </div>
      )}
    </section>
  );
}

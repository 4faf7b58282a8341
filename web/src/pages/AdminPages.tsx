import { useQueryClient, type InfiniteData } from '@tanstack/react-query';
import { Fragment, useEffect, useEffectEvent, useId, useLayoutEffect, useRef, useState } from 'react';
import type { AdminConversation, Page, UserSummary } from '../api/types';
import { exportUserMessages } from '../api/endpoints';
import { Avatar } from '../components/Avatar';
import { ExportButtons } from '../components/ExportButtons';
import { ArchiveIcon, ChevronIcon, LockIcon, SearchIcon } from '../components/icons';
import { MessageBubble } from '../components/MessageBubble';
import { useAdminConversations, useAdminMessages, useAdminSearch, useAdminUser, useAdminUsers } from '../data/admin';
import { useDebounced } from '../data/hooks';
import { keys } from '../data/keys';
import { shortDateTime } from '../lib/audit';
import { fullTime, withDateSeparators } from '../lib/dates';
import { highlightSegments, snippet } from '../lib/highlight';
import { fullName } from '../lib/users';
import { Link, useSearch } from '../router';

function LoadError({ what, error, retry }: { what: string; error: unknown; retry: () => void }) {
  return (
    <div role="alert" className="card">
      <p>
        Could not load {what}: {(error as Error).message}
      </p>
      <button type="button" className="button secondary" onClick={retry}>
        Try again
      </button>
    </div>
  );
}

function RolePill({ role, active = true }: { role: string; active?: boolean }) {
  return (
    <>
      <span className={`pill role-pill role-${role}`}>{role}</span>
      {!active && <span className="pill pill-warn">deactivated</span>}
    </>
  );
}

/** `/admin`: the admin's home, the user finder. Finding accounts is not logged. */
export function AdminUsersPage() {
  const [input, setInput] = useState('');
  const q = useDebounced(input.trim(), 250);
  const users = useAdminUsers(q);
  const rows = users.data?.pages.flatMap((p) => p.results) ?? [];
  const count = users.data?.pages[0]?.count;
  return (
    <main className="page admin-page">
      <div className="page-head">
        <h1>Admin</h1>
        {count !== undefined && <span className="muted">{count === 1 ? '1 account' : `${count} accounts`}</span>}
        <Link to="/admin/audit-log" className="page-head-link">
          Audit log
        </Link>
      </div>
      <p className="muted admin-intro">
        Find an account to see their conversations. Opening a conversation or searching messages is recorded in the audit log, and the
        people concerned see it under “Who accessed my data”.
      </p>
      <div className="search-box">
        <SearchIcon />
        <input
          type="search"
          aria-label="Find a user"
          placeholder="Name or email"
          value={input}
          autoComplete="off"
          onChange={(e) => setInput(e.target.value)}
        />
      </div>
      {users.isLoading ? (
        <p className="muted" aria-busy="true">
          Loading accounts…
        </p>
      ) : users.error ? (
        <LoadError what="accounts" error={users.error} retry={() => void users.refetch()} />
      ) : rows.length === 0 ? (
        <p className="card muted">{q ? `No account matches “${q}”.` : 'No accounts yet.'}</p>
      ) : (
        <>
          <ul className="trainee-list card" aria-label="Accounts">
            {rows.map((u) => (
              <li key={u.id}>
                <Link to={`/admin/users/${u.id}`} className="trainee-row">
                  <Avatar user={u} size={40} />
                  <span className="trainee-text">
                    <span className="trainee-name">{fullName(u)}</span>
                    <span className="muted">{u.email}</span>
                  </span>
                  <RolePill role={u.role} active={u.is_active} />
                  <ChevronIcon />
                </Link>
              </li>
            ))}
          </ul>
          {users.hasNextPage && (
            <button type="button" className="button secondary load-more" onClick={() => void users.fetchNextPage()} disabled={users.isFetchingNextPage}>
              {users.isFetchingNextPage ? 'Loading…' : 'Load more'}
            </button>
          )}
        </>
      )}
    </main>
  );
}

function partnerOf(c: AdminConversation, userId: number): { who: UserSummary | null; as: string } {
  if (c.trainer.id === userId) return { who: c.trainee, as: 'trainee' };
  return { who: c.trainer, as: 'trainer' };
}

/** `/admin/users/<id>`: the account, their conversations (a logged read) and a search of their messages. */
export function AdminUserPage({ userId }: { userId: number }) {
  const { user, isLoading } = useAdminUser(userId);
  const name = user ? fullName(user) : isLoading ? 'Loading…' : `User #${userId}`;
  return (
    <main className="page admin-page">
      <Link to="/admin" className="back-link">
        ← All accounts
      </Link>
      <section className="card trainee-card" aria-label="Account">
        <Avatar user={user} size={56} />
        <div className="trainee-card-text">
          <h1>{name}</h1>
          {user && (
            <p className="muted">
              {user.email} · <RolePill role={user.role} active={user.is_active} />
            </p>
          )}
        </div>
        <div className="trainee-actions">
          <Link to={`/admin/audit-log?subject=${userId}`} className="button secondary small">
            Audit log about them
          </Link>
        </div>
      </section>
      <section className="card" aria-label="Export">
        <ExportButtons
          label="Export this user’s messages"
          fetchFile={(f) => exportUserMessages(userId, f)}
          fallbackName={(f) => `spotter-export-${userId}.${f}`}
          note="Recorded in the audit log, and shown to them under “Who accessed my data”."
        />
      </section>
      <AdminUserSearch userId={userId} userName={user ? fullName(user) : 'them'} />
      <AdminConversationList userId={userId} />
    </main>
  );
}

function AdminConversationList({ userId }: { userId: number }) {
  const q = useAdminConversations(userId);
  const rows = q.data?.pages.flatMap((p) => p.results) ?? [];
  return (
    <section aria-labelledby="admin-convs-title" className="admin-section">
      <h2 id="admin-convs-title">Conversations</h2>
      {q.isLoading ? (
        <p className="muted" aria-busy="true">
          Loading conversations…
        </p>
      ) : q.error ? (
        <LoadError what="conversations" error={q.error} retry={() => void q.refetch()} />
      ) : rows.length === 0 ? (
        <p className="card muted">No conversations.</p>
      ) : (
        <>
          <ul className="trainee-list card" aria-label="Their conversations">
            {rows.map((c) => {
              const { who, as } = partnerOf(c, userId);
              return (
                <li key={c.id}>
                  {/* No prefetch on hover: every open of a history is a logged read. */}
                  <Link to={`/admin/conversations/${c.id}?user=${userId}`} className="trainee-row" data-conversation-id={c.id}>
                    <Avatar user={who} size={36} />
                    <span className="trainee-text">
                      <span className="trainee-name">
                        {who ? fullName(who) : 'Deleted account'} <span className="muted small-text">({as})</span>
                      </span>
                      <span className="muted small-text">
                        {c.message_count === 1 ? '1 message' : `${c.message_count} messages`}
                        {c.last_message_at && (
                          <>
                            {' · last '}
                            <time dateTime={c.last_message_at} title={fullTime(c.last_message_at)}>
                              {shortDateTime(c.last_message_at)}
                            </time>
                          </>
                        )}
                      </span>
                    </span>
                    {c.is_archived && (
                      <span className="pill pill-muted" title={c.archived_at ? `Archived ${fullTime(c.archived_at)}` : undefined}>
                        <ArchiveIcon /> Archived
                      </span>
                    )}
                    <ChevronIcon />
                  </Link>
                </li>
              );
            })}
          </ul>
          {q.hasNextPage && (
            <button type="button" className="button secondary load-more" onClick={() => void q.fetchNextPage()} disabled={q.isFetchingNextPage}>
              {q.isFetchingNextPage ? 'Loading…' : 'Load more'}
            </button>
          )}
        </>
      )}
    </section>
  );
}

function AdminUserSearch({ userId, userName }: { userId: number; userName: string }) {
  const [input, setInput] = useState('');
  const query = useDebounced(input.trim(), 300);
  const short = Array.from(input.trim()).length < 2;
  const s = useAdminSearch(userId, short ? '' : query);
  const hintId = useId();
  const pages = s.data?.pages ?? [];
  const results = pages.flatMap((p) => p.results);
  const pending = !short && (input.trim() !== query || s.isLoading);
  const count = pages[0]?.count ?? 0;
  return (
    <section aria-labelledby="admin-search-title" className="admin-section">
      <h2 id="admin-search-title">Search their messages</h2>
      <form className="search-box" role="search" aria-label="Their messages" onSubmit={(e) => e.preventDefault()}>
        <SearchIcon />
        <input
          type="search"
          aria-label="Search their messages"
          aria-describedby={hintId}
          placeholder="Search their messages (recorded in the audit log)"
          value={input}
          autoComplete="off"
          onChange={(e) => setInput(e.target.value)}
        />
      </form>
      <span id={hintId} className="visually-hidden">
        At least 2 characters. Each search is recorded in the audit log.
      </span>
      {!short && (
        <div className="admin-search-results" aria-busy={pending || undefined}>
          <p className="muted" role="status">
            {pending ? 'Searching…' : s.error ? '' : count === 0 ? `No messages match “${query}”.` : count === 1 ? '1 message found' : `${count} messages found`}
          </p>
          {s.error && !pending && <LoadError what="the search" error={s.error} retry={() => void s.refetch()} />}
          {results.length > 0 && (
            <ul className="trainee-list card" aria-label="Search results">
              {results.map((r) => {
                const { text, highlights } = snippet(r.content ?? '', r.highlights ?? []);
                return (
                  <li key={r.message_id}>
                    <Link to={`/admin/conversations/${r.conversation_id}?user=${userId}`} className="trainee-row">
                      <span className="trainee-text">
                        <span className="small-text muted">
                          {r.sender_first_name} {r.sender_last_name} to{' '}
                          {r.sender_id === userId ? `${r.other_participant_first_name} ${r.other_participant_last_name}`.trim() || 'a deleted account' : userName} ·{' '}
                          <time dateTime={r.created_at}>{shortDateTime(r.created_at)}</time>
                        </span>
                        <span>
                          {highlightSegments(text, highlights).map((g, i) =>
                            g.mark ? <mark key={i}>{g.text}</mark> : <Fragment key={i}>{g.text}</Fragment>,
                          )}
                        </span>
                      </span>
                      <ChevronIcon />
                    </Link>
                  </li>
                );
              })}
            </ul>
          )}
          {s.hasNextPage && (
            <button type="button" className="button secondary load-more" onClick={() => void s.fetchNextPage()} disabled={s.isFetchingNextPage}>
              {s.isFetchingNextPage ? 'Loading…' : 'More results'}
            </button>
          )}
        </div>
      )}
    </section>
  );
}

const DELETED_SENDER: UserSummary = { id: -1, first_name: 'Deleted', last_name: 'account', profile_image: null };

/** The conversation's participants from the user page's list, when it was loaded (no extra logged read). */
function useKnownConversation(conversationId: number, userId: number | null): AdminConversation | null {
  const qc = useQueryClient();
  if (userId == null) return null;
  const data = qc.getQueryData<InfiniteData<Page<AdminConversation>>>(keys.adminConversations(userId));
  return data?.pages.flatMap((p) => p.results).find((c) => c.id === conversationId) ?? null;
}

/**
 * `/admin/conversations/<id>`: the history, read-only (no input, no receipts, no socket). Older
 * pages load when the top comes into view (or with the button). Every page is a logged read.
 */
export function AdminConversationPage({ conversationId }: { conversationId: number }) {
  const search = useSearch();
  const userParam = new URLSearchParams(search).get('user');
  const userId = userParam && /^\d+$/.test(userParam) ? Number(userParam) : null;
  const known = useKnownConversation(conversationId, userId);
  const q = useAdminMessages(conversationId);
  // A deleted author's messages keep their place, under a stand-in name.
  const messages = q.data
    ? [...q.data.pages].reverse().flatMap((p) => p.messages.map((m) => (m.sender ? m : { ...m, sender: DELETED_SENDER })))
    : [];
  const scroller = useRef<HTMLDivElement>(null);
  const sentinel = useRef<HTMLDivElement>(null);
  const prevHeight = useRef<number | null>(null);
  const first = useRef(true);

  // Start at the newest; keep the place when older messages come in above.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el || messages.length === 0) return;
    if (first.current) {
      el.scrollTop = el.scrollHeight;
      first.current = false;
    } else if (prevHeight.current != null) {
      el.scrollTop += el.scrollHeight - prevHeight.current;
      prevHeight.current = null;
    }
  }, [messages.length]);

  const loadOlder = () => {
    if (!q.hasNextPage || q.isFetchingNextPage) return;
    prevHeight.current = scroller.current?.scrollHeight ?? null;
    void q.fetchNextPage();
  };
  const loadOlderSeen = useEffectEvent(loadOlder);

  useEffect(() => {
    const el = sentinel.current;
    if (!el || typeof IntersectionObserver === 'undefined' || !q.hasNextPage) return;
    const io = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) loadOlderSeen();
    }, { root: scroller.current, rootMargin: '200px 0px 0px 0px' });
    io.observe(el);
    return () => io.disconnect();
  }, [q.hasNextPage, q.data]);

  const trainee = known?.trainee;
  const trainer = known?.trainer;
  const senders = new Map<number, string>();
  for (const m of messages) if (m.sender.id > 0) senders.set(m.sender.id, fullName(m.sender));
  const title = known
    ? `${trainer ? fullName(trainer) : 'Deleted account'} and ${trainee ? fullName(trainee) : 'a deleted account'}`
    : senders.size > 0
      ? [...senders.values()].join(' and ')
      : `Conversation ${conversationId}`;
  // The trainer's messages on the right, as the trainer sees them.
  const rightId = trainer?.id ?? null;
  const items = withDateSeparators(messages);

  return (
    <main className="admin-history" aria-labelledby="admin-history-title">
      <div className="admin-history-head">
        <Link to={userId != null ? `/admin/users/${userId}` : '/admin'} className="back-link">
          ← {userId != null ? 'Back to the account' : 'All accounts'}
        </Link>
        <h1 id="admin-history-title">{title}</h1>
        {known?.is_archived && (
          <span className="pill pill-muted">
            <ArchiveIcon /> Archived
          </span>
        )}
      </div>
      <div className="readonly-banner" role="note" data-testid="readonly-banner">
        <LockIcon /> <span>Read-only · this read is recorded in the audit log</span>
      </div>
      <div className="message-scroll admin-scroll" ref={scroller} role="log" aria-label="Messages, read-only" aria-busy={q.isLoading || q.isFetchingNextPage || undefined} tabIndex={0}>
        <div ref={sentinel} />
        {q.hasNextPage && (
          <div className="load-older">
            <button type="button" className="button ghost small" onClick={loadOlder} disabled={q.isFetchingNextPage}>
              {q.isFetchingNextPage ? 'Loading older messages…' : 'Load older messages'}
            </button>
          </div>
        )}
        {q.isFetchNextPageError && (
          <p className="form-error" role="alert">
            Could not load older messages: {(q.error).message}
          </p>
        )}
        {q.isLoading ? (
          <p className="muted">Loading messages…</p>
        ) : q.error && !q.data ? (
          <LoadError what="this conversation" error={q.error} retry={() => void q.refetch()} />
        ) : messages.length === 0 ? (
          <p className="muted conv-state">No messages in this conversation.</p>
        ) : (
          !q.hasNextPage && <p className="muted history-start">The beginning of the conversation.</p>
        )}
        <ol className="message-list" aria-label="Messages">
          {items.map((it) =>
            it.kind === 'day' ? (
              <li key={it.key} className="day-separator" role="separator" aria-label={it.label}>
                <span>{it.label}</span>
              </li>
            ) : (
              // Nobody here is "you": every bubble is named; the trainer's sit on the right.
              <MessageBubble
                key={it.key}
                message={it.message}
                mine={false}
                firstOfGroup={it.firstOfGroup}
                side={rightId != null && it.message.sender.id === rightId ? 'end' : undefined}
                showName
              />
            ),
          )}
        </ol>
      </div>
    </main>
  );
}

import { ApiError } from '../api/client';
import { useAccessLog, useMyConversationNames } from '../data/admin';
import { useMeUser } from '../data/me';
import { accessSentence, shortDateTime } from '../lib/audit';
import { fullTime } from '../lib/dates';

/**
 * `/access-log`, "Who accessed my data": every entry of the audit log about the reader (an
 * admin's read, an export, an impersonation by their trainer, an erasure), newest first.
 */
export function AccessLogPage() {
  const me = useMeUser();
  const log = useAccessLog();
  const rows = log.data?.pages.flatMap((p) => p.results) ?? [];
  const needsNames = rows.some((r) => r.conversation_id != null);
  const names = useMyConversationNames(me.id, needsNames && !me.is_impersonating);
  const withWhom = (id: number) => names.data?.get(id) ?? null;
  const forbidden = log.error instanceof ApiError && log.error.status === 403;
  return (
    <main className="page access-page">
      <div className="page-head">
        <h1>Who accessed my data</h1>
      </div>
      <p className="muted">
        Every time someone other than you reads your messages, exports them, views Spotter as you, or erases data, it is written down here.
      </p>
      {log.isLoading ? (
        <p className="muted" aria-busy="true">
          Loading…
        </p>
      ) : forbidden ? (
        <p className="card calm-note" role="status">
          {me.is_impersonating
            ? `This list is private to ${me.first_name || 'the account holder'}: it cannot be viewed while viewing Spotter as them.`
            : 'This list cannot be shown right now.'}
        </p>
      ) : log.error && !log.data ? (
        <div role="alert" className="card">
          <p>Could not load who accessed your data: {(log.error).message}</p>
          <button type="button" className="button secondary" onClick={() => void log.refetch()}>
            Try again
          </button>
        </div>
      ) : rows.length === 0 ? (
        <p className="card muted">Nobody else has accessed your data.</p>
      ) : (
        <>
          <ul className="access-list card" aria-label="Accesses, newest first">
            {rows.map((e) => (
              <li key={e.id} className="access-row" data-entry-id={e.id}>
                <span className="access-text">{accessSentence(e, withWhom)}</span>
                <span className="muted">
                  {' · '}
                  <time dateTime={e.created_at} title={fullTime(e.created_at)}>
                    {shortDateTime(e.created_at)}
                  </time>
                </span>
              </li>
            ))}
          </ul>
          {log.isFetchNextPageError && (
            <p className="form-error" role="alert">
              Could not load more: {(log.error).message}
            </p>
          )}
          {log.hasNextPage && (
            <button type="button" className="button secondary load-more" onClick={() => void log.fetchNextPage()} disabled={log.isFetchingNextPage}>
              {log.isFetchingNextPage ? 'Loading…' : 'Load more'}
            </button>
          )}
        </>
      )}
    </main>
  );
}

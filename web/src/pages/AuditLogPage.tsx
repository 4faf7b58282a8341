import { useEffect, useId, useState, type FormEvent } from 'react';
import { ApiError } from '../api/client';
import type { AuditEntry, AuditFilters, User } from '../api/types';
import { useAuditLog, useUserDirectory } from '../data/admin';
import { actionLabel, localInputToIso, OPERATOR_ID, OPERATOR_NAME, shortDateTime, shortHash } from '../lib/audit';
import { fullTime } from '../lib/dates';
import { fullName } from '../lib/users';
import { Link, navigate, useSearch } from '../router';

type FieldErrors = Partial<Record<keyof AuditFilters, string>>;

function fieldErrors(e: unknown): FieldErrors | null {
  if (!(e instanceof ApiError) || e.status !== 400 || !e.body || typeof e.body !== 'object') return null;
  const out: FieldErrors = {};
  for (const k of ['actor', 'subject', 'since', 'until'] as const) {
    const v = (e.body as Record<string, unknown>)[k];
    if (Array.isArray(v)) out[k] = v.join(' ');
  }
  return Object.keys(out).length ? out : null;
}

function filtersFromUrl(search: string): AuditFilters {
  const p = new URLSearchParams(search);
  const f: AuditFilters = {};
  for (const k of ['actor', 'subject', 'since', 'until'] as const) {
    const v = p.get(k);
    if (v) f[k] = v;
  }
  return f;
}

/** An ISO time back into a `datetime-local` value (the reader's time zone). */
function isoToLocalInput(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function personName(id: number | null, dir: Map<number, User> | undefined): string {
  if (id == null) return '—';
  if (id === OPERATOR_ID) return OPERATOR_NAME;
  const u = dir?.get(id);
  return u ? fullName(u) : `User #${id}`;
}

/** A user id field: type an id, or pick an account from the list (a `<datalist>` of names). */
function UserField({ label, value, onChange, error, users }: { label: string; value: string; onChange: (v: string) => void; error?: string; users: User[] }) {
  const id = useId();
  const listId = `${id}-list`;
  const errorId = `${id}-error`;
  const known = value && /^\d+$/.test(value) ? users.find((u) => u.id === Number(value)) : undefined;
  return (
    <div className="field audit-field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        list={listId}
        inputMode="numeric"
        placeholder="User id or pick"
        value={value}
        onChange={(e) => onChange(e.target.value.trim())}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? errorId : undefined}
      />
      <datalist id={listId}>
        {users.map((u) => (
          <option key={u.id} value={String(u.id)}>
            {fullName(u)} · {u.email}
          </option>
        ))}
      </datalist>
      <span className="muted small-text field-hint">{known ? `${fullName(known)} (${known.role})` : '\u00a0'}</span>
      {error && (
        <span className="form-error" id={errorId}>
          {error}
        </span>
      )}
    </div>
  );
}

function HashCell({ hash }: { hash: string }) {
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    if (!copied) return;
    const t = setTimeout(() => setCopied(false), 2000);
    return () => clearTimeout(t);
  }, [copied]);
  return (
    <span className="hash-cell">
      <code title={hash}>{shortHash(hash)}…</code>
      <button
        type="button"
        className="button ghost small copy-hash"
        aria-label={copied ? 'Hash copied' : `Copy hash ${shortHash(hash)}`}
        onClick={() => {
          void navigator.clipboard?.writeText(hash).then(
            () => setCopied(true),
            () => setCopied(false),
          );
        }}
      >
        {copied ? 'Copied' : 'Copy'}
      </button>
    </span>
  );
}

function Row({ e, dir }: { e: AuditEntry; dir: Map<number, User> | undefined }) {
  return (
    <tr data-entry-id={e.id}>
      <td>
        <time dateTime={e.created_at} title={fullTime(e.created_at)}>
          {shortDateTime(e.created_at)}
        </time>
      </td>
      <td>{personName(e.actor_id, dir)}</td>
      <td className="audit-action">{actionLabel(e.action)}</td>
      <td>
        {e.subject_user_id == null ? <span className="muted">—</span> : personName(e.subject_user_id, dir)}
        {e.conversation_id != null && <span className="muted small-text"> · conversation {e.conversation_id}</span>}
      </td>
      <td>
        <code>{e.ip ?? '—'}</code>
      </td>
      <td>
        <HashCell hash={e.hash} />
      </td>
    </tr>
  );
}

/** `/admin/audit-log`: the whole log, newest first, with filters (kept in the address) and "Load more". */
export function AuditLogPage() {
  const search = useSearch();
  const filters = filtersFromUrl(search);
  const [draft, setDraft] = useState(() => ({
    actor: filters.actor ?? '',
    subject: filters.subject ?? '',
    since: isoToLocalInput(filters.since),
    until: isoToLocalInput(filters.until),
  }));
  // A new address (a link from an account) fills the form again.
  const [draftFor, setDraftFor] = useState(search);
  if (search !== draftFor) {
    setDraftFor(search);
    setDraft({
      actor: filters.actor ?? '',
      subject: filters.subject ?? '',
      since: isoToLocalInput(filters.since),
      until: isoToLocalInput(filters.until),
    });
  }
  const log = useAuditLog(filters);
  const dir = useUserDirectory();
  const users = dir.data ? [...dir.data.values()] : [];
  const rows = log.data?.pages.flatMap((p) => p.results) ?? [];
  const count = log.data?.pages[0]?.count;
  const errors = fieldErrors(log.error) ?? {};
  const filtered = Object.keys(filters).length > 0;

  const apply = (ev: FormEvent) => {
    ev.preventDefault();
    const p = new URLSearchParams();
    if (draft.actor) p.set('actor', draft.actor);
    if (draft.subject) p.set('subject', draft.subject);
    const since = localInputToIso(draft.since);
    const until = localInputToIso(draft.until);
    if (since) p.set('since', since);
    if (until) p.set('until', until);
    const qs = p.toString();
    navigate(`/admin/audit-log${qs ? `?${qs}` : ''}`);
  };

  return (
    <main className="page admin-page audit-page">
      <div className="page-head">
        <h1>Audit log</h1>
        {count !== undefined && <span className="muted">{count === 1 ? '1 entry' : `${count} entries`}</span>}
        <Link to="/admin" className="page-head-link">
          Accounts
        </Link>
      </div>
      <form className="card audit-filters" onSubmit={apply} aria-label="Filters">
        <UserField label="Actor" value={draft.actor} onChange={(v) => setDraft((d) => ({ ...d, actor: v }))} error={errors.actor} users={users} />
        <UserField label="Subject" value={draft.subject} onChange={(v) => setDraft((d) => ({ ...d, subject: v }))} error={errors.subject} users={users} />
        <div className="field audit-field">
          <label htmlFor="audit-since">From</label>
          <input id="audit-since" type="datetime-local" value={draft.since} onChange={(e) => setDraft((d) => ({ ...d, since: e.target.value }))} />
          {errors.since && <span className="form-error">{errors.since}</span>}
        </div>
        <div className="field audit-field">
          <label htmlFor="audit-until">Until</label>
          <input id="audit-until" type="datetime-local" value={draft.until} onChange={(e) => setDraft((d) => ({ ...d, until: e.target.value }))} />
          {errors.until && <span className="form-error">{errors.until}</span>}
        </div>
        <div className="audit-filter-actions">
          <button type="submit" className="button small">
            Apply filters
          </button>
          {filtered && (
            <button type="button" className="button secondary small" onClick={() => navigate('/admin/audit-log')}>
              Clear
            </button>
          )}
        </div>
      </form>
      {log.isLoading ? (
        <p className="muted" aria-busy="true">
          Loading the audit log…
        </p>
      ) : log.error && !log.data ? (
        fieldErrors(log.error) ? (
          <p className="card muted" role="alert">
            Check the filters above.
          </p>
        ) : (
          <div role="alert" className="card">
            <p>Could not load the audit log: {(log.error).message}</p>
            <button type="button" className="button secondary" onClick={() => void log.refetch()}>
              Try again
            </button>
          </div>
        )
      ) : rows.length === 0 ? (
        <p className="card muted">{filtered ? 'No entries match these filters.' : 'Nothing has been logged yet.'}</p>
      ) : (
        <>
          <div className="table-wrap card" role="region" aria-label="Audit log entries" tabIndex={0}>
            <table className="audit-table">
              <caption className="visually-hidden">Audit log, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Action</th>
                  <th scope="col">Subject</th>
                  <th scope="col">IP</th>
                  <th scope="col">Hash</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((e) => (
                  <Row key={e.id} e={e} dir={dir.data} />
                ))}
              </tbody>
            </table>
          </div>
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

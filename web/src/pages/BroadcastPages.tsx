import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useMemo, useRef, useState, type FormEvent } from 'react';
import { ApiError } from '../api/client';
import { createBroadcast } from '../api/endpoints';
import type { Broadcast, BroadcastDetail, NewBroadcast, Trainee } from '../api/types';
import { Avatar } from '../components/Avatar';
import { charCount, MAX_LENGTH } from '../components/ChatInput';
import { BackIcon, MegaphoneIcon, PlusIcon, SearchIcon } from '../components/icons';
import { applyBroadcast, cancelScheduledBroadcast, useAllTrainees, useBroadcast, useBroadcasts } from '../data/coaching';
import { useNow } from '../data/hooks';
import { useMeUser } from '../data/me';
import { fillFirstName, fromLocalInput, quickPicks, sendAtProblem, toLocalInput, whenLabel } from '../lib/coaching';
import { fullTime, relativeTime } from '../lib/dates';
import { newClientMessageId } from '../lib/ids';
import { fullName } from '../lib/users';
import { Link, navigate } from '../router';

const PLACEHOLDER = '{first_name}';

const STATE_TEXT: Record<Broadcast['state'], string> = {
  scheduled: 'Scheduled',
  sending: 'Sending',
  done: 'Sent',
  cancelled: 'Cancelled',
};

function StatePill({ b }: { b: Broadcast }) {
  const text = b.state === 'done' && b.failed > 0 ? 'Sent with failures' : STATE_TEXT[b.state];
  return <span className={`pill state-${b.state}${b.state === 'done' && b.failed > 0 ? ' state-partial' : ''}`}>{text}</span>;
}

/** The content with `{first_name}` shown as a token. */
function WithToken({ text }: { text: string }) {
  const parts = text.split(PLACEHOLDER);
  return (
    <>
      {parts.map((p, i) => (
        <span key={i}>
          {p}
          {i < parts.length - 1 && <span className="token">{PLACEHOLDER}</span>}
        </span>
      ))}
    </>
  );
}

/** Sent and failed of the total: a bar (the failed part in red) and the counts. */
export function BroadcastProgress({ b, compact }: { b: Broadcast; compact?: boolean }) {
  const done = b.sent + b.failed;
  const pct = (n: number) => (b.total > 0 ? (n / b.total) * 100 : 0);
  const label =
    b.state === 'scheduled'
      ? `${b.total} ${b.total === 1 ? 'recipient' : 'recipients'}`
      : `${b.sent} of ${b.total} sent${b.failed ? ` · ${b.failed} failed` : ''}`;
  return (
    <div className={`bc-progress${compact ? ' compact' : ''}`}>
      <div
        className="bc-bar"
        role="progressbar"
        aria-label="Broadcast progress"
        aria-valuemin={0}
        aria-valuemax={b.total}
        aria-valuenow={done}
        aria-valuetext={label}
      >
        <span className="bc-bar-sent" style={{ width: `${pct(b.sent)}%` }} />
        <span className="bc-bar-failed" style={{ width: `${pct(b.failed)}%` }} />
      </div>
      <span className="bc-counts" data-testid="broadcast-counts">
        {label}
      </span>
    </div>
  );
}

function CancelBroadcast({ b }: { b: Broadcast }) {
  const qc = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const confirmRef = useRef<HTMLButtonElement>(null);
  const openRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (confirming) confirmRef.current?.focus();
  }, [confirming]);
  if (b.state !== 'scheduled') return null;
  const cancel = async () => {
    setBusy(true);
    setError(null);
    try {
      await cancelScheduledBroadcast(qc, b);
    } catch (e) {
      setError((e as Error).message);
      setConfirming(false);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="bc-cancel">
      {confirming ? (
        <span
          className="inline-confirm"
          role="group"
          aria-label="Cancel this broadcast?"
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              e.preventDefault();
              setConfirming(false);
              openRef.current?.focus();
            }
          }}
        >
          <span className="small-text">Nobody will get it.</span>
          <button type="button" className="button small ghost" onClick={() => setConfirming(false)} disabled={busy}>
            Keep
          </button>
          <button ref={confirmRef} type="button" className="button small danger" onClick={() => void cancel()} disabled={busy}>
            {busy ? 'Cancelling…' : 'Cancel broadcast'}
          </button>
        </span>
      ) : (
        <button ref={openRef} type="button" className="button small secondary" onClick={() => setConfirming(true)}>
          Cancel
        </button>
      )}
      {error && (
        <p className="form-error small-text" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

function NotForYou() {
  return (
    <main className="page">
      <h1>Broadcasts</h1>
      <p className="muted">Only trainers send broadcasts.</p>
    </main>
  );
}

// ---------- the list ----------

/** `/broadcasts`: past and scheduled broadcasts, newest first, live. */
export function BroadcastsPage() {
  const me = useMeUser();
  const allowed = me.role === 'trainer' && !me.is_impersonating;
  const q = useBroadcasts(allowed);
  const now = useNow(30_000);
  if (!allowed) return <NotForYou />;
  const rows = q.data?.pages.flatMap((p) => p.results) ?? [];
  return (
    <main className="page">
      <div className="page-head">
        <h1>Broadcasts</h1>
        <Link to="/broadcasts/new" className="button primary small head-action">
          <PlusIcon /> New broadcast
        </Link>
      </div>
      <p className="muted">One message to many trainees, each in their own conversation.</p>
      {q.isLoading ? (
        <p className="muted" aria-busy="true">
          Loading broadcasts…
        </p>
      ) : q.error ? (
        <div role="alert" className="card">
          <p>Could not load broadcasts: {(q.error).message}</p>
          <button type="button" className="button secondary" onClick={() => void q.refetch()}>
            Try again
          </button>
        </div>
      ) : rows.length === 0 ? (
        <div className="card empty-card">
          <MegaphoneIcon />
          <p>No broadcasts yet.</p>
          <Link to="/broadcasts/new">Write your first one</Link>
        </div>
      ) : (
        <ul className="bc-list card" aria-label="Your broadcasts">
          {rows.map((b) => (
            <li key={b.id} className="bc-row" data-broadcast-id={b.id}>
              <div className="bc-row-main">
                <div className="bc-row-top">
                  <StatePill b={b} />
                  <span className="muted small-text">
                    {b.state === 'scheduled' && b.send_at ? (
                      <time dateTime={b.send_at} title={fullTime(b.send_at)}>
                        for {whenLabel(b.send_at, now)}
                      </time>
                    ) : (
                      <time dateTime={b.created_at} title={fullTime(b.created_at)}>
                        {relativeTime(b.created_at, now)}
                      </time>
                    )}
                  </span>
                </div>
                <Link to={`/broadcasts/${b.id}`} className="bc-row-content">
                  <WithToken text={b.content} />
                </Link>
                <BroadcastProgress b={b} compact />
              </div>
              <CancelBroadcast b={b} />
            </li>
          ))}
        </ul>
      )}
      {q.hasNextPage && (
        <button type="button" className="button secondary" onClick={() => void q.fetchNextPage()} disabled={q.isFetchingNextPage}>
          {q.isFetchingNextPage ? 'Loading…' : 'Show more'}
        </button>
      )}
    </main>
  );
}

// ---------- one broadcast ----------

/** `/broadcasts/:id`: progress live from `broadcast_progress` frames, failures, Cancel while scheduled. */
export function BroadcastDetailPage({ id }: { id: number }) {
  const me = useMeUser();
  const q = useBroadcast(id);
  const now = useNow(30_000);
  if (me.role !== 'trainer' || me.is_impersonating) return <NotForYou />;
  const b: BroadcastDetail | undefined = q.data;
  return (
    <main className="page">
      <Link to="/broadcasts" className="back-link">
        <BackIcon /> Broadcasts
      </Link>
      {q.isLoading ? (
        <p className="muted" aria-busy="true">
          Loading…
        </p>
      ) : q.error || !b ? (
        <p role="alert">Could not load this broadcast: {(q.error as Error | null)?.message ?? 'not found'}</p>
      ) : (
        <section className="card bc-detail" aria-labelledby="bc-title" data-broadcast-id={b.id}>
          <div className="bc-detail-head">
            <h1 id="bc-title">Broadcast</h1>
            <span role="status" aria-live="polite">
              <StatePill b={b} />
            </span>
            <CancelBroadcast b={b} />
          </div>
          <p className="muted small-text">
            {b.state === 'scheduled' && b.send_at ? (
              <>Goes out {whenLabel(b.send_at, now)} ({fullTime(b.send_at)})</>
            ) : b.finished_at ? (
              <>Finished {fullTime(b.finished_at)}</>
            ) : (
              <>Created {fullTime(b.created_at)}</>
            )}
          </p>
          <div className="bc-message">
            <WithToken text={b.content} />
          </div>
          <BroadcastProgress b={b} />
          {b.state === 'sending' && (
            <p className="muted small-text">Sending… you can leave this page, it goes on.</p>
          )}
          {(b.failures?.length ?? 0) > 0 && (
            <div className="bc-failures" role="region" aria-label="Not delivered">
              <h2>Not delivered</h2>
              <ul>
                {b.failures!.map((f) => (
                  <li key={f.trainee_id}>
                    <strong>{f.trainee_name}</strong>
                    <span className="muted">{f.reason}</span>
                  </li>
                ))}
              </ul>
            </div>
          )}
        </section>
      )}
    </main>
  );
}

// ---------- the composer ----------

interface Problems {
  content?: string;
  trainee_ids?: string;
  send_at?: string;
  other?: string;
}

function problemsOf(e: unknown): Problems {
  if (e instanceof ApiError && e.body && typeof e.body === 'object') {
    const b = e.body as Record<string, unknown>;
    const first = (v: unknown) => (Array.isArray(v) && typeof v[0] === 'string' ? v[0] : undefined);
    const out: Problems = { content: first(b.content), trainee_ids: first(b.trainee_ids), send_at: first(b.send_at) };
    if (!out.content && !out.trainee_ids && !out.send_at) out.other = e.message;
    return out;
  }
  return { other: (e as Error)?.message || 'Could not send the broadcast.' };
}

const matchesSearch = (t: Trainee, q: string) => {
  const s = q.trim().toLocaleLowerCase();
  if (!s) return true;
  return [t.first_name, t.last_name, `${t.first_name} ${t.last_name}`, t.email].some((v) => v?.toLocaleLowerCase().includes(s));
};

/** `/broadcasts/new`: recipients, the message with `{first_name}`, a live preview, now or later. */
export function BroadcastComposerPage() {
  const me = useMeUser();
  const qc = useQueryClient();
  const allowed = me.role === 'trainer' && !me.is_impersonating;
  const trainees = useAllTrainees(allowed);
  const [all, setAll] = useState(false);
  const [picked, setPicked] = useState<Set<number>>(new Set());
  const [search, setSearch] = useState('');
  const [content, setContent] = useState('');
  const [mode, setMode] = useState<'now' | 'later'>('now');
  const [when, setWhen] = useState(() => toLocalInput(quickPicks(new Date()).find((p) => p.label.startsWith('Tomorrow'))!.at));
  const [previewId, setPreviewId] = useState<number | null>(null);
  const [cbid, setCbid] = useState(newClientMessageId);
  const [busy, setBusy] = useState(false);
  const [problems, setProblems] = useState<Problems>({});
  const boxRef = useRef<HTMLTextAreaElement>(null);
  const allRef = useRef<HTMLInputElement>(null);
  const ids = {
    content: useId(),
    contentErr: useId(),
    count: useId(),
    recipientsErr: useId(),
    when: useId(),
    whenErr: useId(),
    preview: useId(),
  };

  const list = useMemo(() => trainees.data ?? [], [trainees.data]);
  const shown = list.filter((t) => matchesSearch(t, search));
  const recipients = all ? list : list.filter((t) => picked.has(t.id));
  const count = all ? list.length : picked.size;
  const previewTrainee = recipients.find((t) => t.id === previewId) ?? recipients[0] ?? list[0];
  const partial = !all && picked.size > 0 && picked.size < list.length;

  useEffect(() => {
    if (allRef.current) allRef.current.indeterminate = partial;
  }, [partial]);

  if (!allowed) return <NotForYou />;

  const toggle = (id: number) => {
    setProblems((p) => ({ ...p, trainee_ids: undefined }));
    if (all) {
      setAll(false);
      setPicked(new Set(list.map((t) => t.id).filter((x) => x !== id)));
      return;
    }
    setPicked((cur) => {
      const next = new Set(cur);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  };

  const insertToken = () => {
    const el = boxRef.current;
    const start = el?.selectionStart ?? content.length;
    const end = el?.selectionEnd ?? content.length;
    const next = content.slice(0, start) + PLACEHOLDER + content.slice(end);
    setContent(next);
    requestAnimationFrame(() => {
      el?.focus();
      el?.setSelectionRange(start + PLACEHOLDER.length, start + PLACEHOLDER.length);
    });
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const text = content.trim();
    const at = mode === 'later' ? fromLocalInput(when) : null;
    const local: Problems = {
      trainee_ids: count === 0 ? 'Pick at least one trainee.' : undefined,
      content: !text ? 'Write the message.' : charCount(text) > MAX_LENGTH ? `At most ${MAX_LENGTH} characters.` : undefined,
      send_at: mode === 'later' ? (sendAtProblem(at) ?? undefined) : undefined,
    };
    if (local.trainee_ids || local.content || local.send_at) {
      setProblems(local);
      return;
    }
    const body: NewBroadcast = {
      content: text,
      trainee_ids: all ? 'all' : [...picked],
      client_broadcast_id: cbid,
      ...(at ? { send_at: at.toISOString() } : {}),
    };
    setBusy(true);
    setProblems({});
    try {
      const b = await createBroadcast(body);
      applyBroadcast(qc, b);
      navigate(`/broadcasts/${b.id}`);
    } catch (err) {
      setProblems(problemsOf(err));
      // A refusal is final: the next attempt is a new broadcast. (No answer: the same key again.)
      if (err instanceof ApiError && err.status < 500 && err.status !== 429) setCbid(newClientMessageId());
      setBusy(false);
    }
  };

  const textCount = charCount(content.trim());
  const previewText = fillFirstName(content.trim(), previewTrainee?.first_name || 'there');
  const action = mode === 'later' ? 'Schedule for' : 'Send to';
  const who = count === 1 ? '1 trainee' : `${count} trainees`;

  return (
    <main className="page page-wide">
      <Link to="/broadcasts" className="back-link">
        <BackIcon /> Broadcasts
      </Link>
      <h1>New broadcast</h1>
      <form className="bc-composer" onSubmit={submit} noValidate aria-label="New broadcast">
        <fieldset className="card bc-recipients" aria-describedby={problems.trainee_ids ? ids.recipientsErr : undefined}>
          <legend>Recipients</legend>
          <div className="bc-recipients-head">
            <label className="check all-check">
              <input
                ref={allRef}
                type="checkbox"
                checked={all}
                onChange={(e) => {
                  setAll(e.target.checked);
                  setPicked(new Set());
                  setProblems((p) => ({ ...p, trainee_ids: undefined }));
                }}
              />
              <span>All trainees</span>
            </label>
            <span className="muted small-text" role="status">
              {trainees.isLoading ? 'Loading trainees…' : `${count} of ${list.length} selected`}
            </span>
          </div>
          <div className="search-box small">
            <SearchIcon />
            <input
              type="search"
              aria-label="Search trainees"
              placeholder="Search by name or email"
              value={search}
              onChange={(e) => setSearch(e.target.value)}
            />
          </div>
          {trainees.error ? (
            <p className="form-error" role="alert">
              Could not load trainees: {(trainees.error).message}
            </p>
          ) : (
            <ul className="bc-trainees" aria-label="Trainees">
              {shown.map((t) => (
                <li key={t.id}>
                  <label className="check trainee-check">
                    <input type="checkbox" checked={all || picked.has(t.id)} onChange={() => toggle(t.id)} />
                    <Avatar user={t} size={28} />
                    <span className="trainee-text">
                      <span className="trainee-name">{fullName(t)}</span>
                      <span className="muted">{t.email}</span>
                    </span>
                  </label>
                </li>
              ))}
              {!trainees.isLoading && shown.length === 0 && (
                <li className="muted small-text">{search ? `No trainee matches “${search}”.` : 'No trainees yet.'}</li>
              )}
            </ul>
          )}
          {problems.trainee_ids && (
            <p className="form-error small-text" id={ids.recipientsErr} role="alert">
              {problems.trainee_ids}
            </p>
          )}
        </fieldset>

        <div className="bc-side">
          <div className="card bc-write">
            <div className="field">
              <label htmlFor={ids.content}>Message</label>
              <textarea
                ref={boxRef}
                id={ids.content}
                rows={5}
                value={content}
                placeholder="Hi {first_name}, the gym is closed on Monday: here is a home workout…"
                aria-invalid={!!problems.content || undefined}
                aria-describedby={[problems.content ? ids.contentErr : '', ids.count].filter(Boolean).join(' ')}
                onChange={(e) => {
                  setContent(e.target.value);
                  setProblems((p) => ({ ...p, content: undefined }));
                }}
              />
              <span className="field-foot">
                <button type="button" className="button small secondary" onClick={insertToken}>
                  Insert {PLACEHOLDER}
                </button>
                <span id={ids.count} className={`counter${textCount > MAX_LENGTH ? ' over' : ''}`}>
                  {textCount}/{MAX_LENGTH}
                </span>
              </span>
              {problems.content && (
                <p className="form-error small-text" id={ids.contentErr} role="alert">
                  {problems.content}
                </p>
              )}
            </div>

            <div className="bc-preview" aria-labelledby={ids.preview}>
              <div className="bc-preview-head">
                <span id={ids.preview} className="field-label">
                  Preview
                </span>
                {recipients.length > 1 ? (
                  <label className="small-text">
                    <span className="muted">as </span>
                    <select value={previewTrainee?.id ?? ''} onChange={(e) => setPreviewId(Number(e.target.value))}>
                      {recipients.slice(0, 200).map((t) => (
                        <option key={t.id} value={t.id}>
                          {fullName(t)}
                        </option>
                      ))}
                    </select>
                  </label>
                ) : previewTrainee ? (
                  <span className="muted small-text">as {fullName(previewTrainee)}</span>
                ) : null}
              </div>
              <div className="bc-preview-chat" data-testid="broadcast-preview">
                {previewText ? (
                  <div className="msg mine first">
                    <div className="bubble">
                      <p className="content">{previewText}</p>
                    </div>
                  </div>
                ) : (
                  <p className="muted small-text">Your message shows here as each trainee will read it.</p>
                )}
              </div>
            </div>
          </div>

          <fieldset className="card bc-when">
            <legend>When</legend>
            <label className="check">
              <input type="radio" name="bc-when" checked={mode === 'now'} onChange={() => setMode('now')} />
              <span>Send now</span>
            </label>
            <label className="check">
              <input type="radio" name="bc-when" checked={mode === 'later'} onChange={() => setMode('later')} />
              <span>Schedule</span>
            </label>
            {mode === 'later' && (
              <div className="field">
                <label htmlFor={ids.when}>Date and time</label>
                <input
                  id={ids.when}
                  type="datetime-local"
                  value={when}
                  min={toLocalInput(new Date())}
                  aria-invalid={!!problems.send_at || undefined}
                  aria-describedby={problems.send_at ? ids.whenErr : undefined}
                  onChange={(e) => {
                    setWhen(e.target.value);
                    setProblems((p) => ({ ...p, send_at: undefined }));
                  }}
                />
                {problems.send_at && (
                  <p className="form-error small-text" id={ids.whenErr} role="alert">
                    {problems.send_at}
                  </p>
                )}
              </div>
            )}
          </fieldset>

          {problems.other && (
            <p className="form-error" role="alert">
              {problems.other}
            </p>
          )}
          <button type="submit" className="button primary bc-submit" disabled={busy}>
            {busy ? (mode === 'later' ? 'Scheduling…' : 'Sending…') : `${action} ${who}`}
          </button>
        </div>
      </form>
    </main>
  );
}

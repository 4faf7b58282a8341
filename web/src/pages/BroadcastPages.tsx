import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useMemo, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { formatNumber, i18n } from '../i18n';
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

const stateText = (state: Broadcast['state']): string => {
  switch (state) {
    case 'scheduled':
      return i18n.t('broadcast.state.scheduled');
    case 'sending':
      return i18n.t('broadcast.state.sending');
    case 'done':
      return i18n.t('broadcast.state.done');
    case 'cancelled':
      return i18n.t('broadcast.state.cancelled');
  }
};

function StatePill({ b }: { b: Broadcast }) {
  const { t } = useTranslation();
  const text = b.state === 'done' && b.failed > 0 ? t('broadcast.state.partial') : stateText(b.state);
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
  const { t } = useTranslation();
  const done = b.sent + b.failed;
  const pct = (n: number) => (b.total > 0 ? (n / b.total) * 100 : 0);
  const label =
    b.state === 'scheduled'
      ? t('broadcast.recipients', { count: b.total, n: formatNumber(b.total) })
      : t('broadcast.sentOf', { count: b.total, sent: formatNumber(b.sent), total: formatNumber(b.total) }) +
        (b.failed ? ` · ${t('broadcast.failedCount', { count: b.failed, n: formatNumber(b.failed) })}` : '');
  return (
    <div className={`bc-progress${compact ? ' compact' : ''}`}>
      <div
        className="bc-bar"
        role="progressbar"
        aria-label={t('broadcast.progress')}
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
  const { t } = useTranslation();
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
          aria-label={t('broadcast.confirmCancel')}
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              e.preventDefault();
              setConfirming(false);
              openRef.current?.focus();
            }
          }}
        >
          <span className="small-text">{t('broadcast.nobodyGetsIt')}</span>
          <button type="button" className="button small ghost" onClick={() => setConfirming(false)} disabled={busy}>
            {t('common.keep')}
          </button>
          <button ref={confirmRef} type="button" className="button small danger" onClick={() => void cancel()} disabled={busy}>
            {busy ? t('common.cancelling') : t('broadcast.cancel')}
          </button>
        </span>
      ) : (
        <button ref={openRef} type="button" className="button small secondary" onClick={() => setConfirming(true)}>
          {t('common.cancel')}
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
  const { t } = useTranslation();
  return (
    <main className="page">
      <h1>{t('nav.broadcasts')}</h1>
      <p className="muted">{t('broadcast.onlyTrainers')}</p>
    </main>
  );
}

// ---------- the list ----------

/** `/broadcasts`: past and scheduled broadcasts, newest first, live. */
export function BroadcastsPage() {
  const { t } = useTranslation();
  const me = useMeUser();
  const allowed = me.role === 'trainer' && !me.is_impersonating;
  const q = useBroadcasts(allowed);
  const now = useNow(30_000);
  if (!allowed) return <NotForYou />;
  const rows = q.data?.pages.flatMap((p) => p.results) ?? [];
  return (
    <main className="page">
      <div className="page-head">
        <h1>{t('nav.broadcasts')}</h1>
        <Link to="/broadcasts/new" className="button primary small head-action">
          <PlusIcon /> {t('broadcast.new')}
        </Link>
      </div>
      <p className="muted">{t('broadcast.intro')}</p>
      {q.isLoading ? (
        <p className="muted" aria-busy="true">
          {t('broadcast.loading')}
        </p>
      ) : q.error ? (
        <div role="alert" className="card">
          <p>{t('broadcast.loadFailed', { message: q.error.message })}</p>
          <button type="button" className="button secondary" onClick={() => void q.refetch()}>
            {t('common.tryAgain')}
          </button>
        </div>
      ) : rows.length === 0 ? (
        <div className="card empty-card">
          <MegaphoneIcon />
          <p>{t('broadcast.none')}</p>
          <Link to="/broadcasts/new">{t('broadcast.writeFirst')}</Link>
        </div>
      ) : (
        <ul className="bc-list card" aria-label={t('broadcast.yours')}>
          {rows.map((b) => (
            <li key={b.id} className="bc-row" data-broadcast-id={b.id}>
              <div className="bc-row-main">
                <div className="bc-row-top">
                  <StatePill b={b} />
                  <span className="muted small-text">
                    {b.state === 'scheduled' && b.send_at ? (
                      <time dateTime={b.send_at} title={fullTime(b.send_at)}>
                        {t('broadcast.for', { when: whenLabel(b.send_at, now) })}
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
          {q.isFetchingNextPage ? t('common.loading') : t('common.showMore')}
        </button>
      )}
    </main>
  );
}

// ---------- one broadcast ----------

/** `/broadcasts/:id`: progress live from `broadcast_progress` frames, failures, Cancel while scheduled. */
export function BroadcastDetailPage({ id }: { id: number }) {
  const { t } = useTranslation();
  const me = useMeUser();
  const q = useBroadcast(id);
  const now = useNow(30_000);
  if (me.role !== 'trainer' || me.is_impersonating) return <NotForYou />;
  const b: BroadcastDetail | undefined = q.data;
  return (
    <main className="page">
      <Link to="/broadcasts" className="back-link">
        <BackIcon /> {t('nav.broadcasts')}
      </Link>
      {q.isLoading ? (
        <p className="muted" aria-busy="true">
          {t('common.loading')}
        </p>
      ) : q.error || !b ? (
        <p role="alert">{t('broadcast.loadOneFailed', { message: (q.error as Error | null)?.message ?? t('common.notFound') })}</p>
      ) : (
        <section className="card bc-detail" aria-labelledby="bc-title" data-broadcast-id={b.id}>
          <div className="bc-detail-head">
            <h1 id="bc-title">{t('broadcast.one')}</h1>
            <span role="status" aria-live="polite">
              <StatePill b={b} />
            </span>
            <CancelBroadcast b={b} />
          </div>
          <p className="muted small-text">
            {b.state === 'scheduled' && b.send_at ? (
              <>{t('broadcast.goesOut', { when: whenLabel(b.send_at, now), time: fullTime(b.send_at) })}</>
            ) : b.finished_at ? (
              <>{t('broadcast.finished', { time: fullTime(b.finished_at) })}</>
            ) : (
              <>{t('broadcast.created', { time: fullTime(b.created_at) })}</>
            )}
          </p>
          <div className="bc-message">
            <WithToken text={b.content} />
          </div>
          <BroadcastProgress b={b} />
          {b.state === 'sending' && (
            <p className="muted small-text">{t('broadcast.sendingNote')}</p>
          )}
          {(b.failures?.length ?? 0) > 0 && (
            <div className="bc-failures" role="region" aria-label={t('broadcast.notDelivered')}>
              <h2>{t('broadcast.notDelivered')}</h2>
              <ul>
                {b.failures.map((f) => (
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
  return { other: (e as Error)?.message || i18n.t('broadcast.sendFailed') };
}

const matchesSearch = (t: Trainee, q: string) => {
  const s = q.trim().toLocaleLowerCase();
  if (!s) return true;
  return [t.first_name, t.last_name, `${t.first_name} ${t.last_name}`, t.email].some((v) => v?.toLocaleLowerCase().includes(s));
};

/** `/broadcasts/new`: recipients, the message with `{first_name}`, a live preview, now or later. */
export function BroadcastComposerPage() {
  const { t } = useTranslation();
  const me = useMeUser();
  const qc = useQueryClient();
  const allowed = me.role === 'trainer' && !me.is_impersonating;
  const trainees = useAllTrainees(allowed);
  const [all, setAll] = useState(false);
  const [picked, setPicked] = useState<Set<number>>(new Set());
  const [search, setSearch] = useState('');
  const [content, setContent] = useState('');
  const [mode, setMode] = useState<'now' | 'later'>('now');
  const [when, setWhen] = useState(() => toLocalInput(quickPicks(new Date()).find((p) => p.id === 'tomorrow-6')!.at));
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
  const shown = list.filter((tr) => matchesSearch(tr, search));
  const recipients = all ? list : list.filter((tr) => picked.has(tr.id));
  const count = all ? list.length : picked.size;
  const previewTrainee = recipients.find((tr) => tr.id === previewId) ?? recipients[0] ?? list[0];
  const partial = !all && picked.size > 0 && picked.size < list.length;

  useEffect(() => {
    if (allRef.current) allRef.current.indeterminate = partial;
  }, [partial]);

  if (!allowed) return <NotForYou />;

  const toggle = (id: number) => {
    setProblems((p) => ({ ...p, trainee_ids: undefined }));
    if (all) {
      setAll(false);
      setPicked(new Set(list.map((tr) => tr.id).filter((x) => x !== id)));
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
      trainee_ids: count === 0 ? t('broadcast.pickOne') : undefined,
      content: !text ? t('common.writeTheMessage') : charCount(text) > MAX_LENGTH ? t('common.atMostChars', { max: MAX_LENGTH }) : undefined,
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
  const previewText = fillFirstName(content.trim(), previewTrainee?.first_name || t('broadcast.there'));
  const submitLabel =
    mode === 'later'
      ? t('broadcast.scheduleFor', { count, n: formatNumber(count) })
      : t('broadcast.sendTo', { count, n: formatNumber(count) });

  return (
    <main className="page page-wide">
      <Link to="/broadcasts" className="back-link">
        <BackIcon /> {t('nav.broadcasts')}
      </Link>
      <h1>{t('broadcast.new')}</h1>
      <form className="bc-composer" onSubmit={submit} noValidate aria-label={t('broadcast.new')}>
        <fieldset className="card bc-recipients" aria-describedby={problems.trainee_ids ? ids.recipientsErr : undefined}>
          <legend>{t('broadcast.recipientsTitle')}</legend>
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
              <span>{t('broadcast.allTrainees')}</span>
            </label>
            <span className="muted small-text" role="status">
              {trainees.isLoading ? t('common.loadingTrainees') : t('broadcast.selected', { count: list.length, n: formatNumber(count), total: formatNumber(list.length) })}
            </span>
          </div>
          <div className="search-box small">
            <SearchIcon />
            <input
              type="search"
              aria-label={t('common.searchTrainees')}
              placeholder={t('common.searchByNameOrEmail')}
              value={search}
              onChange={(e) => setSearch(e.target.value)}
            />
          </div>
          {trainees.error ? (
            <p className="form-error" role="alert">
              {t('common.loadTraineesFailed', { message: trainees.error.message })}
            </p>
          ) : (
            <ul className="bc-trainees" aria-label={t('nav.trainees')}>
              {shown.map((tr) => (
                <li key={tr.id}>
                  <label className="check trainee-check">
                    <input type="checkbox" checked={all || picked.has(tr.id)} onChange={() => toggle(tr.id)} />
                    <Avatar user={tr} size={28} />
                    <span className="trainee-text">
                      <span className="trainee-name">{fullName(tr)}</span>
                      <span className="muted">{tr.email}</span>
                    </span>
                  </label>
                </li>
              ))}
              {!trainees.isLoading && shown.length === 0 && (
                <li className="muted small-text">{search ? t('common.noTraineeMatches', { query: search }) : t('broadcast.noTrainees')}</li>
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
              <label htmlFor={ids.content}>{t('broadcast.message')}</label>
              <textarea
                ref={boxRef}
                id={ids.content}
                rows={5}
                value={content}
                placeholder={t('broadcast.placeholder')}
                aria-invalid={!!problems.content || undefined}
                aria-describedby={[problems.content ? ids.contentErr : '', ids.count].filter(Boolean).join(' ')}
                onChange={(e) => {
                  setContent(e.target.value);
                  setProblems((p) => ({ ...p, content: undefined }));
                }}
              />
              <span className="field-foot">
                <button type="button" className="button small secondary" onClick={insertToken}>
                  {t('broadcast.insertToken', { token: PLACEHOLDER })}
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
                  {t('broadcast.preview')}
                </span>
                {recipients.length > 1 ? (
                  <label className="small-text">
                    <span className="muted">{t('broadcast.previewAs')} </span>
                    <select value={previewTrainee?.id ?? ''} onChange={(e) => setPreviewId(Number(e.target.value))}>
                      {recipients.slice(0, 200).map((tr) => (
                        <option key={tr.id} value={tr.id}>
                          {fullName(tr)}
                        </option>
                      ))}
                    </select>
                  </label>
                ) : previewTrainee ? (
                  <span className="muted small-text">{t('broadcast.previewAsName', { name: fullName(previewTrainee) })}</span>
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
                  <p className="muted small-text">{t('broadcast.previewEmpty')}</p>
                )}
              </div>
            </div>
          </div>

          <fieldset className="card bc-when">
            <legend>{t('broadcast.when')}</legend>
            <label className="check">
              <input type="radio" name="bc-when" checked={mode === 'now'} onChange={() => setMode('now')} />
              <span>{t('broadcast.sendNow')}</span>
            </label>
            <label className="check">
              <input type="radio" name="bc-when" checked={mode === 'later'} onChange={() => setMode('later')} />
              <span>{t('schedule.schedule')}</span>
            </label>
            {mode === 'later' && (
              <div className="field">
                <label htmlFor={ids.when}>{t('common.dateAndTime')}</label>
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
            {busy ? (mode === 'later' ? t('schedule.scheduling') : t('receipt.sending')) : submitLabel}
          </button>
        </div>
      </form>
    </main>
  );
}

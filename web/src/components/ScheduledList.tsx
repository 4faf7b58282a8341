import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ScheduledMessage } from '../api/types';
import { cancelScheduledMessage, dismissScheduled, editScheduledMessage } from '../data/coaching';
import { useNow } from '../data/hooks';
import { fromLocalInput, sendAtProblem, toLocalInput, whenLabel } from '../lib/coaching';
import { fullTime } from '../lib/dates';
import { charCount, MAX_LENGTH } from './ChatInput';
import { AlertIcon, ClockIcon } from './icons';

function Editor({ s, onDone }: { s: ScheduledMessage; onDone: () => void }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const [content, setContent] = useState(s.content);
  const [when, setWhen] = useState(() => toLocalInput(new Date(s.send_at)));
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const boxRef = useRef<HTMLTextAreaElement>(null);
  const ids = { box: useId(), when: useId(), problem: useId() };

  useEffect(() => {
    const el = boxRef.current;
    el?.focus();
    el?.setSelectionRange(el.value.length, el.value.length);
  }, []);

  const save = async () => {
    const text = content.trim();
    const at = fromLocalInput(when);
    const p = !text ? t('common.writeTheMessage') : charCount(text) > MAX_LENGTH ? t('common.atMostChars', { max: MAX_LENGTH }) : null;
    const changes: { content?: string; send_at?: string } = {};
    if (text !== s.content) changes.content = text;
    // The minute shown is what counts: an unchanged input keeps the exact time.
    if (at && when !== toLocalInput(new Date(s.send_at))) changes.send_at = at.toISOString();
    const timeProblem = changes.send_at ? sendAtProblem(at) : at ? null : sendAtProblem(null);
    if (p || timeProblem) {
      setProblem(p ?? timeProblem);
      return;
    }
    if (!changes.content && !changes.send_at) return onDone();
    setBusy(true);
    setProblem(null);
    try {
      await editScheduledMessage(qc, s, changes);
      onDone();
    } catch (e) {
      setProblem((e as Error).message);
      setBusy(false);
    }
  };

  return (
    <div
      className="scheduled-edit"
      role="group"
      aria-label={t('scheduled.editLabel')}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.preventDefault();
          e.stopPropagation();
          onDone();
        }
      }}
    >
      <label className="visually-hidden" htmlFor={ids.box}>
        {t('scheduled.text')}
      </label>
      <textarea
        ref={boxRef}
        id={ids.box}
        value={content}
        rows={2}
        aria-describedby={problem ? ids.problem : undefined}
        onChange={(e) => setContent(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
            e.preventDefault();
            void save();
          }
        }}
      />
      <div className="scheduled-edit-row">
        <label htmlFor={ids.when}>{t('scheduled.sendAt')}</label>
        <input id={ids.when} type="datetime-local" value={when} onChange={(e) => setWhen(e.target.value)} />
      </div>
      {problem && (
        <p className="form-error small-text" id={ids.problem} role="alert">
          {problem}
        </p>
      )}
      <div className="scheduled-actions">
        <button type="button" className="button small ghost" onClick={onDone} disabled={busy}>
          {t('scheduled.discardChanges')}
        </button>
        <button type="button" className="button small primary" onClick={() => void save()} disabled={busy}>
          {busy ? t('common.saving') : t('common.save')}
        </button>
      </div>
    </div>
  );
}

function Item({ s, now }: { s: ScheduledMessage; now: Date }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const editRef = useRef<HTMLButtonElement>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);
  const confirmRef = useRef<HTMLButtonElement>(null);
  const failed = s.state === 'failed';
  const when = whenLabel(s.send_at, now);

  useEffect(() => {
    if (confirming) confirmRef.current?.focus();
  }, [confirming]);

  const cancel = async () => {
    setBusy(true);
    setError(null);
    try {
      await cancelScheduledMessage(qc, s);
    } catch (e) {
      setError((e as Error).message);
      setBusy(false);
      setConfirming(false);
    }
  };

  return (
    <li className={`scheduled-item${failed ? ' failed' : ''}`} data-scheduled-id={s.id} aria-label={failed ? t('scheduled.failedLabel', { content: s.content }) : t('scheduled.itemLabel', { when, content: s.content })}>
      <div className="scheduled-bubble">
        <p className="scheduled-when">
          {failed ? <AlertIcon /> : <ClockIcon />}
          {failed ? (
            <span>{s.failure_reason ? t('scheduled.failedWhy', { reason: s.failure_reason }) : t('receipt.failed')}</span>
          ) : (
            <time dateTime={s.send_at} title={fullTime(s.send_at)}>
              {t('scheduled.for', { when })}
            </time>
          )}
        </p>
        {editing ? (
          <Editor
            s={s}
            onDone={() => {
              setEditing(false);
              requestAnimationFrame(() => editRef.current?.focus());
            }}
          />
        ) : (
          <>
            <p className="content">{s.content}</p>
            {failed ? (
              <div className="scheduled-actions">
                <button type="button" className="button small ghost" onClick={() => dismissScheduled(qc, s)}>
                  {t('common.dismiss')}
                </button>
              </div>
            ) : confirming ? (
              <div
                className="scheduled-actions"
                role="group"
                aria-label={t('scheduled.confirmLabel')}
                onKeyDown={(e) => {
                  if (e.key === 'Escape') {
                    e.preventDefault();
                    e.stopPropagation();
                    setConfirming(false);
                    cancelRef.current?.focus();
                  }
                }}
              >
                <span className="small-text">{t('scheduled.willNotSend')}</span>
                <button type="button" className="button small ghost" onClick={() => setConfirming(false)} disabled={busy}>
                  {t('common.keep')}
                </button>
                <button ref={confirmRef} type="button" className="button small danger" onClick={() => void cancel()} disabled={busy}>
                  {busy ? t('common.cancelling') : t('scheduled.cancelMessage')}
                </button>
              </div>
            ) : (
              <div className="scheduled-actions">
                <button ref={editRef} type="button" className="button small ghost" onClick={() => setEditing(true)}>
                  {t('common.edit')}
                </button>
                <button ref={cancelRef} type="button" className="button small ghost" onClick={() => setConfirming(true)}>
                  {t('common.cancel')}
                </button>
              </div>
            )}
          </>
        )}
        {error && (
          <p className="form-error small-text" role="alert">
            {error}
          </p>
        )}
      </div>
    </li>
  );
}

/**
 * The reader's scheduled messages in this conversation, under the last message: dashed,
 * "Scheduled for Mon 06:00", with Edit and Cancel. Kept live by `scheduled_message` frames.
 */
export function ScheduledList({ items }: { items: ScheduledMessage[] }) {
  const { t } = useTranslation();
  const now = useNow(30_000);
  if (items.length === 0) return null;
  return (
    <section className="scheduled" aria-label={t('scheduled.label')}>
      <ul className="scheduled-list">
        {items.map((s) => (
          <Item key={s.id} s={s} now={now} />
        ))}
      </ul>
    </section>
  );
}

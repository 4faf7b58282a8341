import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { intlLocale } from '../i18n';
import { fromLocalInput, quickPicks, sendAtProblem, toLocalInput, whenLabel } from '../lib/coaching';

interface Props {
  /** Resolves when scheduled; rejects with the reason shown. */
  onSchedule: (at: Date) => Promise<void>;
  onClose: (refocus: boolean) => void;
  busy: boolean;
  /** Why nothing can be scheduled now (empty text, a photo attached), or null. */
  blocked: string | null;
  error: string | null;
}

/**
 * "Schedule message": quick picks (in 1 hour, tomorrow 6:00, …) or a date and time. A small
 * non-modal dialog over the Send button; Escape or a click elsewhere closes it.
 */
export function SchedulePopover({ onSchedule, onClose, busy, blocked, error }: Props) {
  const { t } = useTranslation();
  const [now] = useState(() => new Date());
  const [custom, setCustom] = useState(() => {
    const d = new Date(now.getTime() + 3_600_000);
    d.setMinutes(0, 0, 0);
    return toLocalInput(d);
  });
  const [problem, setProblem] = useState<string | null>(null);
  const rootRef = useRef<HTMLDivElement>(null);
  const titleId = useId();
  const inputId = useId();
  const errorId = useId();
  const picks = quickPicks(now);

  useEffect(() => {
    rootRef.current?.querySelector<HTMLElement>('button:not(:disabled), input')?.focus();
    const outside = (e: MouseEvent) => {
      const t = e.target as Element | null;
      if (!rootRef.current?.contains(t) && !t?.closest?.('.schedule-button')) onClose(false);
    };
    document.addEventListener('mousedown', outside);
    return () => document.removeEventListener('mousedown', outside);
  }, [onClose]);

  const submitCustom = () => {
    const at = fromLocalInput(custom);
    const p = sendAtProblem(at);
    setProblem(p);
    if (!p && at) void onSchedule(at);
  };

  const onKey = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      onClose(true);
    }
  };

  const shown = problem ?? error;
  return (
    <div className="schedule-popover" role="dialog" aria-labelledby={titleId} ref={rootRef} onKeyDown={onKey} data-testid="schedule-popover">
      <h3 className="schedule-title" id={titleId}>
        {t('schedule.title')}
      </h3>
      {blocked && <p className="muted small-text">{blocked}</p>}
      <div className="schedule-picks" role="group" aria-label={t('schedule.quickPicks')}>
        {picks.map((p) => (
          <button
            key={p.id}
            type="button"
            className="schedule-pick"
            disabled={busy || !!blocked}
            onClick={() => void onSchedule(p.at)}
            title={p.at.toLocaleString(intlLocale())}
          >
            <span>{p.label}</span>
            <span className="muted">{whenLabel(p.at.toISOString(), now)}</span>
          </button>
        ))}
      </div>
      <div className="schedule-custom">
        <label htmlFor={inputId}>{t('common.dateAndTime')}</label>
        <div className="schedule-custom-row">
          <input
            id={inputId}
            type="datetime-local"
            value={custom}
            min={toLocalInput(now)}
            aria-invalid={!!problem || undefined}
            aria-describedby={shown ? errorId : undefined}
            onChange={(e) => {
              setCustom(e.target.value);
              setProblem(null);
            }}
            onKeyDown={(e) => {
              // Not the message form's Enter (that sends now).
              if (e.key === 'Enter') {
                e.preventDefault();
                if (!busy && !blocked) submitCustom();
              }
            }}
          />
          <button type="button" className="button primary small" disabled={busy || !!blocked} onClick={submitCustom}>
            {busy ? t('schedule.scheduling') : t('schedule.schedule')}
          </button>
        </div>
      </div>
      {shown && (
        <p className="form-error small-text" role="alert" id={errorId}>
          {shown}
        </p>
      )}
    </div>
  );
}

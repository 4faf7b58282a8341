import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { formatNumber } from '../i18n';
import { useMessagingStats } from '../data/coaching';
import { humanDuration } from '../lib/coaching';
import { Link } from '../router';

const WINDOWS = [7, 30] as const;

function Figure({ label, value, hint, testId }: { label: string; value: React.ReactNode; hint?: string; testId: string }) {
  return (
    <div className="figure" data-testid={testId}>
      <dt>{label}</dt>
      <dd>
        <span className="figure-value">{value}</span>
        {hint && <span className="figure-hint muted">{hint}</span>}
      </dd>
    </div>
  );
}

/**
 * The trainer's response-time figures over the last 7 or 30 days: conversations, messages
 * received and sent, the median and 90th percentile first response, and who waits now.
 */
export function MessagingStatsCard() {
  const { t } = useTranslation();
  const [days, setDays] = useState<7 | 30>(7);
  const q = useMessagingStats(days);
  const f = q.data;
  const n = (v: number | undefined) => (v === undefined ? '…' : formatNumber(v));
  return (
    <section className="card stats-card" aria-labelledby="stats-title" aria-busy={q.isFetching || undefined}>
      <div className="stats-head">
        <h2 id="stats-title">{t('stats.title')}</h2>
        <div className="segmented" role="group" aria-label={t('stats.period')}>
          {WINDOWS.map((d) => (
            <button
              key={d}
              type="button"
              className={days === d ? 'active' : ''}
              aria-pressed={days === d}
              onClick={() => setDays(d)}
            >
              {t('stats.days', { count: d, n: formatNumber(d) })}
            </button>
          ))}
        </div>
      </div>
      {q.error && !f ? (
        <p className="form-error" role="alert">
          {t('stats.loadFailed', { message: (q.error as Error).message })}{' '}
          <button type="button" className="link-button" onClick={() => void q.refetch()}>
            {t('common.tryAgain')}
          </button>
        </p>
      ) : (
        <dl className="figures">
          <Figure testId="stat-conversations" label={t('stats.conversations')} value={n(f?.conversations)} hint={t('stats.withMessages')} />
          <Figure testId="stat-received" label={t('stats.received')} value={n(f?.messages_received)} hint={t('stats.fromTrainees')} />
          <Figure testId="stat-sent" label={t('stats.sent')} value={n(f?.messages_sent)} hint={t('stats.byYou')} />
          <Figure
            testId="stat-median"
            label={t('stats.firstResponse')}
            value={f ? humanDuration(f.median_first_response_seconds) : '…'}
            hint={t('stats.median')}
          />
          <Figure
            testId="stat-p90"
            label={t('stats.p90')}
            value={f ? humanDuration(f.p90_first_response_seconds) : '…'}
            hint={t('stats.firstResponses')}
          />
          <Figure
            testId="stat-waiting"
            label={t('stats.waitingNow')}
            value={
              f && f.waiting_now > 0 ? (
                <Link to="/messages?view=needs-reply">{n(f.waiting_now)}</Link>
              ) : (
                n(f?.waiting_now)
              )
            }
            hint={f && f.waiting_now > 0 ? t('stats.needReply') : t('stats.allCaughtUp')}
          />
        </dl>
      )}
    </section>
  );
}

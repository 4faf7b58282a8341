import { useState } from 'react';
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
  const [days, setDays] = useState<7 | 30>(7);
  const q = useMessagingStats(days);
  const f = q.data;
  const n = (v: number | undefined) => (v === undefined ? '…' : v.toLocaleString());
  return (
    <section className="card stats-card" aria-labelledby="stats-title" aria-busy={q.isFetching || undefined}>
      <div className="stats-head">
        <h2 id="stats-title">Your messaging</h2>
        <div className="segmented" role="group" aria-label="Period">
          {WINDOWS.map((d) => (
            <button
              key={d}
              type="button"
              className={days === d ? 'active' : ''}
              aria-pressed={days === d}
              onClick={() => setDays(d)}
            >
              {d} days
            </button>
          ))}
        </div>
      </div>
      {q.error && !f ? (
        <p className="form-error" role="alert">
          Could not load your figures: {(q.error as Error).message}{' '}
          <button type="button" className="link-button" onClick={() => void q.refetch()}>
            Try again
          </button>
        </p>
      ) : (
        <dl className="figures">
          <Figure testId="stat-conversations" label="Conversations" value={n(f?.conversations)} hint="with messages" />
          <Figure testId="stat-received" label="Received" value={n(f?.messages_received)} hint="from trainees" />
          <Figure testId="stat-sent" label="Sent" value={n(f?.messages_sent)} hint="by you" />
          <Figure
            testId="stat-median"
            label="First response"
            value={f ? humanDuration(f.median_first_response_seconds) : '…'}
            hint="median"
          />
          <Figure
            testId="stat-p90"
            label="90% answered within"
            value={f ? humanDuration(f.p90_first_response_seconds) : '…'}
            hint="first responses"
          />
          <Figure
            testId="stat-waiting"
            label="Waiting now"
            value={
              f && f.waiting_now > 0 ? (
                <Link to="/messages?view=needs-reply">{n(f.waiting_now)}</Link>
              ) : (
                n(f?.waiting_now)
              )
            }
            hint={f && f.waiting_now > 0 ? 'need a reply' : 'all caught up'}
          />
        </dl>
      )}
    </section>
  );
}

import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { fetchConversations, fetchTrainee, startImpersonation } from '../api/endpoints';
import { tokens } from '../api/tokens';
import { Avatar } from '../components/Avatar';
import { BackIcon, ChatIcon } from '../components/icons';
import { keys } from '../data/keys';
import { useMeUser } from '../data/me';
import { sortConversations } from '../lib/merge';
import { fullName } from '../lib/users';
import { Link, navigate } from '../router';

function since(v: unknown): string | null {
  if (typeof v !== 'string' || Number.isNaN(Date.parse(v))) return null;
  return new Date(v).toLocaleDateString(undefined, { day: 'numeric', month: 'long', year: 'numeric' });
}

export function TraineeDetailPage({ traineeId }: { traineeId: number }) {
  const me = useMeUser();
  const qc = useQueryClient();
  const q = useQuery({ queryKey: keys.trainee(traineeId), queryFn: () => fetchTrainee(traineeId), enabled: me.role === 'trainer' });
  const [busy, setBusy] = useState<'message' | 'view' | null>(null);
  const [error, setError] = useState<string | null>(null);

  /** Open the conversation with this trainee, or a composer whose first message starts it. */
  const openConversation = async () => {
    setBusy('message');
    setError(null);
    try {
      const list = await qc.fetchQuery({
        queryKey: keys.conversations(false),
        queryFn: async () => sortConversations(await fetchConversations(false)),
        staleTime: 5_000,
      });
      const existing = list.find((c) => c.trainee?.id === traineeId);
      navigate(existing ? `/messages/${existing.id}` : `/messages/new/${traineeId}`);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(null);
    }
  };

  const viewAs = async () => {
    setBusy('view');
    setError(null);
    try {
      const pair = await startImpersonation(traineeId);
      tokens.set(pair);
      qc.clear();
      // A different identity: start from a clean page (socket, caches).
      window.location.assign('/messages');
    } catch (e) {
      setError((e as Error).message);
      setBusy(null);
    }
  };

  if (q.isLoading) return <main className="page muted">Loading…</main>;
  if (q.error || !q.data)
    return (
      <main className="page">
        <p role="alert">Could not load this trainee: {(q.error)?.message ?? 'not found'}</p>
        <Link to="/trainees">Back to trainees</Link>
      </main>
    );

  const t = q.data;
  const joined = since(t.date_joined);
  const inactive = t.is_active === false;

  return (
    <main className="page">
      <Link to="/trainees" className="back-link">
        <BackIcon /> Trainees
      </Link>
      <section className="card trainee-card" aria-labelledby="trainee-name">
        <Avatar user={t} size={72} />
        <div className="trainee-card-text">
          <h1 id="trainee-name">{fullName(t)}</h1>
          <p className="muted">
            <a href={`mailto:${t.email}`}>{t.email}</a>
          </p>
          {(joined || inactive) && (
            <p className="muted small-text">
              {joined && `Trainee since ${joined}`}
              {inactive && ' · account inactive'}
            </p>
          )}
        </div>
        <div className="trainee-actions">
          <button type="button" className="button primary" onClick={() => void openConversation()} disabled={busy !== null || me.is_impersonating}>
            <ChatIcon /> {busy === 'message' ? 'Opening…' : 'Message'}
          </button>
          <button type="button" className="button secondary" onClick={() => void viewAs()} disabled={busy !== null || me.is_impersonating}>
            {busy === 'view' ? 'Switching…' : 'View as trainee'}
          </button>
        </div>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
      </section>
    </main>
  );
}

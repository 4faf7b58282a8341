import { useInfiniteQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { fetchTrainees } from '../api/endpoints';
import { Avatar } from '../components/Avatar';
import { ChevronIcon, SearchIcon } from '../components/icons';
import { MessagingStatsCard } from '../components/MessagingStats';
import { keys } from '../data/keys';
import { useMeUser } from '../data/me';
import { fullName } from '../lib/users';
import { Link } from '../router';

export function TraineesPage() {
  const me = useMeUser();
  const [input, setInput] = useState('');
  const [search, setSearch] = useState('');
  useEffect(() => {
    const t = setTimeout(() => setSearch(input.trim()), 250);
    return () => clearTimeout(t);
  }, [input]);

  const q = useInfiniteQuery({
    queryKey: keys.trainees(search),
    queryFn: ({ pageParam }) => fetchTrainees(search, pageParam ?? undefined),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next,
    enabled: me.role === 'trainer',
  });

  if (me.role !== 'trainer') {
    return (
      <main className="page">
        <h1>Trainees</h1>
        <p className="muted">Only trainers have trainees.</p>
      </main>
    );
  }

  const rows = q.data?.pages.flatMap((p) => p.results) ?? [];
  const count = q.data?.pages[0]?.count;
  return (
    <main className="page">
      <div className="page-head">
        <h1>Trainees</h1>
        {count !== undefined && <span className="muted">{count === 1 ? '1 trainee' : `${count} trainees`}</span>}
      </div>
      {!me.is_impersonating && <MessagingStatsCard />}
      <div className="search-box">
        <SearchIcon />
        <input
          type="search"
          aria-label="Search trainees"
          placeholder="Search by name or email"
          value={input}
          onChange={(e) => setInput(e.target.value)}
        />
      </div>
      {q.isLoading ? (
        <p className="muted" aria-busy="true">
          Loading trainees…
        </p>
      ) : q.error ? (
        <div role="alert" className="card">
          <p>Could not load trainees: {(q.error).message}</p>
          <button type="button" className="button secondary" onClick={() => void q.refetch()}>
            Try again
          </button>
        </div>
      ) : rows.length === 0 ? (
        <p className="card muted">{search ? `No trainee matches “${search}”.` : 'No trainees assigned to you yet.'}</p>
      ) : (
        <ul className="trainee-list card" aria-label="Trainees">
          {rows.map((t) => (
            <li key={t.id}>
              <Link to={`/trainees/${t.id}`} className="trainee-row">
                <Avatar user={t} size={40} />
                <span className="trainee-text">
                  <span className="trainee-name">{fullName(t)}</span>
                  <span className="muted">{t.email}</span>
                </span>
                <ChevronIcon />
              </Link>
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

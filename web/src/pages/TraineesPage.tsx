import { useInfiniteQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { fetchTrainees } from '../api/endpoints';
import { Avatar } from '../components/Avatar';
import { ChevronIcon, SearchIcon } from '../components/icons';
import { MessagingStatsCard } from '../components/MessagingStats';
import { keys } from '../data/keys';
import { useMeUser } from '../data/me';
import { formatNumber } from '../i18n';
import { fullName } from '../lib/users';
import { Link } from '../router';

export function TraineesPage() {
  const { t } = useTranslation();
  const me = useMeUser();
  const [input, setInput] = useState('');
  const [search, setSearch] = useState('');
  useEffect(() => {
    const timer = setTimeout(() => setSearch(input.trim()), 250);
    return () => clearTimeout(timer);
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
        <h1>{t('nav.trainees')}</h1>
        <p className="muted">{t('trainees.onlyTrainers')}</p>
      </main>
    );
  }

  const rows = q.data?.pages.flatMap((p) => p.results) ?? [];
  const count = q.data?.pages[0]?.count;
  return (
    <main className="page">
      <div className="page-head">
        <h1>{t('nav.trainees')}</h1>
        {count !== undefined && <span className="muted">{t('trainees.count', { count, n: formatNumber(count) })}</span>}
      </div>
      {!me.is_impersonating && <MessagingStatsCard />}
      <div className="search-box">
        <SearchIcon />
        <input
          type="search"
          aria-label={t('common.searchTrainees')}
          placeholder={t('common.searchByNameOrEmail')}
          value={input}
          onChange={(e) => setInput(e.target.value)}
        />
      </div>
      {q.isLoading ? (
        <p className="muted" aria-busy="true">
          {t('common.loadingTrainees')}
        </p>
      ) : q.error ? (
        <div role="alert" className="card">
          <p>{t('common.loadTraineesFailed', { message: q.error.message })}</p>
          <button type="button" className="button secondary" onClick={() => void q.refetch()}>
            {t('common.tryAgain')}
          </button>
        </div>
      ) : rows.length === 0 ? (
        <p className="card muted">{search ? t('common.noTraineeMatches', { query: search }) : t('trainees.none')}</p>
      ) : (
        <ul className="trainee-list card" aria-label={t('nav.trainees')}>
          {rows.map((tr) => (
            <li key={tr.id}>
              <Link to={`/trainees/${tr.id}`} className="trainee-row">
                <Avatar user={tr} size={40} />
                <span className="trainee-text">
                  <span className="trainee-name">{fullName(tr)}</span>
                  <span className="muted">{tr.email}</span>
                </span>
                <ChevronIcon />
              </Link>
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

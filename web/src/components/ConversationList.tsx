import { useState } from 'react';
import { Trans, useTranslation } from 'react-i18next';
import type { Conversation, Me } from '../api/types';
import { useNeedsReply } from '../data/coaching';
import { useConversations, useDebounced, useNow } from '../data/hooks';
import { waitingLabel, waitingLevel } from '../lib/coaching';
import { fullTime, relativeTime } from '../lib/dates';
import { previewLabel } from '../lib/merge';
import { formatNumber, intlLocale } from '../i18n';
import { fullName, otherParty } from '../lib/users';
import { Link } from '../router';
import { Avatar } from './Avatar';
import { ChatIcon } from './icons';
import { MessageSearchBox, SearchResults } from './MessageSearch';

export type ListView = 'active' | 'needs-reply' | 'archived';

function Row({
  c,
  me,
  selected,
  now,
  suffix,
  waiting,
}: {
  c: Conversation;
  me: Me;
  selected: boolean;
  now: Date;
  suffix: string;
  /** In the "needs reply" inbox: since when the trainee waits. */
  waiting?: string | null;
}) {
  const { t } = useTranslation();
  const other = otherParty(c, me);
  const name = fullName(other);
  const time = c.last_message_at ?? c.created_at;
  const unread = c.unread_count > 0;
  const inbox = waiting !== undefined;
  return (
    <li>
      <Link
        to={`/messages/${c.id}${suffix}`}
        className={`conv-item${selected ? ' selected' : ''}${unread ? ' unread' : ''}`}
        aria-current={selected ? 'page' : undefined}
        data-conversation-id={c.id}
      >
        <Avatar user={other} size={44} />
        <span className="conv-text">
          <span className="conv-top">
            <span className="conv-name">{name}</span>
            {inbox ? (
              <time
                className={`conv-time waiting waiting-${waitingLevel(waiting, now)}`}
                dateTime={waiting ?? undefined}
                title={waiting ? t('convList.waitingSince', { time: fullTime(waiting) }) : undefined}
              >
                {waitingLabel(waiting, now)}
              </time>
            ) : (
              <time className="conv-time" dateTime={time} title={new Date(time).toLocaleString(intlLocale())}>
                {relativeTime(time, now)}
              </time>
            )}
          </span>
          <span className="conv-bottom">
            <span className="conv-preview">{c.last_message_preview != null ? previewLabel(c.last_message_preview) : t('convList.noMessagesYet')}</span>
            {unread && (
              <span className="badge" aria-label={t('convList.unread', { count: c.unread_count, n: formatNumber(c.unread_count) })}>
                {c.unread_count > 99 ? '99+' : c.unread_count}
              </span>
            )}
          </span>
        </span>
      </Link>
    </li>
  );
}

const VIEWS: { view: ListView; to: string }[] = [
  { view: 'active', to: '/messages' },
  { view: 'needs-reply', to: '/messages?view=needs-reply' },
  { view: 'archived', to: '/messages?view=archived' },
];

function Skeleton() {
  const { t } = useTranslation();
  return (
    <ul className="conv-list" aria-busy="true" aria-label={t('convList.loading')}>
      {[0, 1, 2, 3].map((i) => (
        <li key={i} className="conv-skeleton">
          <span className="sk-avatar" />
          <span className="sk-lines">
            <span />
            <span />
          </span>
        </li>
      ))}
    </ul>
  );
}

function LoadError({ error, retry }: { error: unknown; retry: () => void }) {
  const { t } = useTranslation();
  return (
    <div className="conv-state" role="alert">
      <p>{t('convList.loadFailed')}</p>
      <p className="muted">{(error as Error).message}</p>
      <button type="button" className="button secondary" onClick={retry}>
        {t('common.tryAgain')}
      </button>
    </div>
  );
}

/**
 * Conversation list, most recent first, kept live by the socket through the query cache.
 * Trainers also have the "needs reply" inbox (longest waiting first, with how long) and the
 * archive.
 */
export function ConversationList({ me, selectedId, view }: { me: Me; selectedId: number | null; view: ListView }) {
  const { t } = useTranslation();
  const isTrainer = me.role === 'trainer';
  const archived = view === 'archived';
  const inbox = view === 'needs-reply';
  const q = useConversations(archived);
  // Loaded for the count on the tab, whichever list is shown; kept live from the socket.
  const needs = useNeedsReply(isTrainer);
  const active = useConversations(false, inbox);
  const now = useNow(inbox ? 30_000 : 60_000);
  const suffix = view === 'active' ? '' : `?view=${view}`;
  const [typed, setTyped] = useState('');
  const query = useDebounced(typed, 300);
  const searching = typed.trim().length > 0;
  const waitingCount = needs.data?.length ?? 0;
  // Rows of the inbox show the conversation as the live list has it (preview, unread).
  const live = new Map((active.data ?? []).map((c) => [c.id, c]));
  return (
    <nav className="conv-pane" aria-label={t('convList.label')}>
      <div className="conv-head">
        <h1>{t('nav.messages')}</h1>
      </div>
      {isTrainer && (
        <div className="conv-tabs segmented" role="group" aria-label={t('convList.which')}>
          {VIEWS.map((v) => (
            <Link
              key={v.view}
              to={v.to}
              className={view === v.view ? 'active' : ''}
              aria-current={view === v.view ? 'true' : undefined}
              aria-label={v.view === 'needs-reply' && waitingCount > 0 ? t('convList.needsReplyWaiting', { count: waitingCount, n: formatNumber(waitingCount) }) : undefined}
            >
              {v.view === 'active' ? t('convList.active') : v.view === 'needs-reply' ? t('convList.needsReply') : t('convList.archived')}
              {v.view === 'needs-reply' && waitingCount > 0 && (
                <span className="badge tab-badge" data-testid="needs-reply-count" aria-hidden="true">
                  {waitingCount > 99 ? '99+' : waitingCount}
                </span>
              )}
            </Link>
          ))}
        </div>
      )}
      {me.role !== 'admin' && <MessageSearchBox value={typed} onChange={setTyped} />}
      {searching ? (
        <SearchResults typed={typed} query={query} me={me} />
      ) : inbox ? (
        needs.isLoading ? (
          <Skeleton />
        ) : needs.error ? (
          <LoadError error={needs.error} retry={() => void needs.refetch()} />
        ) : !needs.data || needs.data.length === 0 ? (
          <div className="conv-state">
            <ChatIcon />
            <p className="conv-empty-title">{t('convList.allCaughtUp')}</p>
            <p className="muted">{t('convList.nobodyWaiting')}</p>
          </div>
        ) : (
          <ul className="conv-list" aria-label={t('convList.waitingLabel')}>
            {needs.data.map((c) => (
              <Row
                key={c.id}
                c={live.get(c.id) ?? c}
                me={me}
                selected={c.id === selectedId}
                now={now}
                suffix={suffix}
                waiting={c.waiting_since ?? null}
              />
            ))}
          </ul>
        )
      ) : q.isLoading ? (
        <Skeleton />
      ) : q.error ? (
        <LoadError error={q.error} retry={() => void q.refetch()} />
      ) : !q.data || q.data.length === 0 ? (
        <div className="conv-state">
          <ChatIcon />
          <p className="conv-empty-title">{archived ? t('convList.noArchived') : t('convList.noConversations')}</p>
          {!archived && isTrainer && (
            <p className="muted">
              <Trans i18nKey="convList.startHint" components={{ go: <Link to="/trainees" /> }} />
            </p>
          )}
          {!archived && me.role === 'trainee' && <p className="muted">{t('convList.traineeHint')}</p>}
        </div>
      ) : (
        <ul className="conv-list">
          {q.data.map((c) => (
            <Row key={c.id} c={c} me={me} selected={c.id === selectedId} now={now} suffix={suffix} />
          ))}
        </ul>
      )}
    </nav>
  );
}

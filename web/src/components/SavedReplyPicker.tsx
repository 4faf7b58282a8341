import { Fragment } from 'react';
import { useTranslation } from 'react-i18next';
import { formatNumber } from '../i18n';
import type { Template } from '../api/types';

/** The id of an option of the picker (for `aria-activedescendant`). */
export const optionId = (listId: string, i: number) => `${listId}-opt-${i}`;

interface Props {
  listId: string;
  query: string;
  matches: Template[];
  /** No saved reply at all (not just no match). */
  none: boolean;
  loading?: boolean;
  /** Index of the highlighted option; `matches.length` is "Manage saved replies…". */
  active: number;
  canManage: boolean;
  onHover: (i: number) => void;
  onPick: (t: Template) => void;
  onManage: () => void;
}

/** The title with the typed text marked. */
function Title({ title, query }: { title: string; query: string }) {
  const q = query.trim().toLocaleLowerCase();
  const i = q ? title.toLocaleLowerCase().indexOf(q) : -1;
  if (i < 0) return <>{title}</>;
  return (
    <Fragment>
      {title.slice(0, i)}
      <mark>{title.slice(i, i + q.length)}</mark>
      {title.slice(i + q.length)}
    </Fragment>
  );
}

/**
 * The list of saved replies over the message box while a `/query` is typed. Focus stays in the
 * box (it owns the keys: arrows, Enter or Tab, Escape); a mouse click picks too.
 */
export function SavedReplyPicker({ listId, query, matches, none, loading, active, canManage, onHover, onPick, onManage }: Props) {
  const { t } = useTranslation();
  const keep = (e: React.MouseEvent) => e.preventDefault(); // the box keeps focus
  const status = loading
    ? t('replies.loading')
    : none
      ? t('replies.none')
      : matches.length === 0
        ? t('replies.noMatch', { query })
        : t('replies.count', { count: matches.length, n: formatNumber(matches.length) });
  return (
    <div className="reply-picker" data-testid="saved-reply-picker">
      <div className="reply-picker-head">
        <span>{t('replies.title')}</span>
        <span className="muted" role="status" aria-live="polite">
          {status}
        </span>
      </div>
      <ul className="reply-options" role="listbox" id={listId} aria-label={t('replies.title')}>
        {matches.map((reply, i) => (
          <li
            key={reply.id}
            id={optionId(listId, i)}
            role="option"
            aria-selected={i === active}
            className={i === active ? 'active' : undefined}
            onMouseDown={keep}
            onMouseMove={() => i !== active && onHover(i)}
            onClick={() => onPick(reply)}
          >
            <span className="reply-title">
              <Title title={reply.title} query={query} />
            </span>
            <span className="reply-content">{reply.content}</span>
          </li>
        ))}
        {canManage && (
          <li
            id={optionId(listId, matches.length)}
            role="option"
            aria-selected={active === matches.length}
            className={`reply-manage${active === matches.length ? ' active' : ''}`}
            onMouseDown={keep}
            onMouseMove={() => active !== matches.length && onHover(matches.length)}
            onClick={onManage}
          >
            {none ? t('replies.create') : t('replies.manage')}
          </li>
        )}
      </ul>
      <div className="reply-picker-foot" aria-hidden="true">
        {t('replies.keys')}
      </div>
    </div>
  );
}

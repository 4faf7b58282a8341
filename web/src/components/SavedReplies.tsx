import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { Trans, useTranslation } from 'react-i18next';
import { i18n } from '../i18n';
import { ApiError } from '../api/client';
import type { Template } from '../api/types';
import { removeTemplate, saveTemplate, useTemplates } from '../data/coaching';
import { charCount, MAX_LENGTH } from './ChatInput';
import { Modal } from './Modal';

export const TITLE_MAX = 100;

interface Problems {
  title?: string;
  content?: string;
  other?: string;
}

/** The server's refusal, by field: `{"title": [...]}`, `{"content": [...]}`, or `{"error"}`. */
function problemsOf(e: unknown): Problems {
  if (e instanceof ApiError && e.body && typeof e.body === 'object') {
    const b = e.body as Record<string, unknown>;
    const first = (v: unknown) => (Array.isArray(v) && typeof v[0] === 'string' ? v[0] : undefined);
    const out: Problems = { title: first(b.title), content: first(b.content) };
    if (!out.title && !out.content) out.other = e.message;
    return out;
  }
  return { other: (e as Error)?.message || i18n.t('replies.saveFailed') };
}

/** The form for a new saved reply, or for changing one (`editing`). */
function ReplyForm({ editing, onDone, focusFirst }: { editing: Template | null; onDone: () => void; focusFirst?: boolean }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const [title, setTitle] = useState(editing?.title ?? '');
  const [content, setContent] = useState(editing?.content ?? '');
  const [busy, setBusy] = useState(false);
  const [problems, setProblems] = useState<Problems>({});
  const titleRef = useRef<HTMLInputElement>(null);
  const ids = { title: useId(), content: useId(), titleErr: useId(), contentErr: useId(), count: useId() };

  useEffect(() => {
    if (editing || focusFirst) titleRef.current?.focus();
  }, [editing, focusFirst]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const ti = title.trim();
    const c = content.trim();
    const local: Problems = {
      title: !ti ? t('replies.needTitle') : charCount(ti) > TITLE_MAX ? t('common.atMostChars', { max: TITLE_MAX }) : undefined,
      content: !c ? t('replies.needContent') : charCount(c) > MAX_LENGTH ? t('common.atMostChars', { max: MAX_LENGTH }) : undefined,
    };
    if (local.title || local.content) {
      setProblems(local);
      return;
    }
    setBusy(true);
    setProblems({});
    try {
      await saveTemplate(qc, editing?.id ?? null, ti, c);
      if (!editing) {
        setTitle('');
        setContent('');
        titleRef.current?.focus();
      }
      onDone();
    } catch (err) {
      setProblems(problemsOf(err));
    } finally {
      setBusy(false);
    }
  };

  const count = charCount(content.trim());
  return (
    <form className="reply-form" onSubmit={submit} aria-label={editing ? t('replies.editNamed', { title: editing.title }) : t('replies.new')} noValidate>
      <div className="field">
        <label htmlFor={ids.title}>{t('replies.titleLabel')}</label>
        <input
          ref={titleRef}
          id={ids.title}
          value={title}
          maxLength={TITLE_MAX * 2}
          placeholder={t('replies.titlePlaceholder')}
          aria-invalid={!!problems.title || undefined}
          aria-describedby={problems.title ? ids.titleErr : undefined}
          onChange={(e) => setTitle(e.target.value)}
        />
        {problems.title && (
          <p className="form-error small-text" id={ids.titleErr} role="alert">
            {problems.title}
          </p>
        )}
      </div>
      <div className="field">
        <label htmlFor={ids.content}>{t('replies.replyLabel')}</label>
        <textarea
          id={ids.content}
          value={content}
          rows={3}
          placeholder={t('replies.replyPlaceholder')}
          aria-invalid={!!problems.content || undefined}
          aria-describedby={[problems.content ? ids.contentErr : '', ids.count].filter(Boolean).join(' ')}
          onChange={(e) => setContent(e.target.value)}
        />
        <span className="field-foot">
          <span className="muted">{t('replies.firstNameHint', { token: '{first_name}' })}</span>
          <span id={ids.count} className={`counter${count > MAX_LENGTH ? ' over' : ''}`}>
            {count}/{MAX_LENGTH}
          </span>
        </span>
        {problems.content && (
          <p className="form-error small-text" id={ids.contentErr} role="alert">
            {problems.content}
          </p>
        )}
      </div>
      {problems.other && (
        <p className="form-error" role="alert">
          {problems.other}
        </p>
      )}
      <div className="form-actions">
        {editing && (
          <button type="button" className="button ghost small" onClick={onDone} disabled={busy}>
            {t('common.cancel')}
          </button>
        )}
        <button type="submit" className="button primary small" disabled={busy}>
          {busy ? t('common.saving') : editing ? t('replies.saveChanges') : t('replies.add')}
        </button>
      </div>
    </form>
  );
}

function ReplyRow({ t: reply, onEdit }: { t: Template; onEdit: () => void }) {
  const { t } = useTranslation();
  const qc = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const confirmRef = useRef<HTMLButtonElement>(null);
  const deleteRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (confirming) confirmRef.current?.focus();
  }, [confirming]);
  const remove = async () => {
    setBusy(true);
    setError(null);
    try {
      await removeTemplate(qc, reply.id);
    } catch (e) {
      setError((e as Error).message);
      setBusy(false);
      setConfirming(false);
    }
  };
  return (
    <li className="reply-row" data-template-id={reply.id}>
      <div className="reply-row-text">
        <span className="reply-title">{reply.title}</span>
        <span className="reply-content">{reply.content}</span>
      </div>
      {confirming ? (
        <div
          className="reply-row-actions"
          role="group"
          aria-label={t('replies.confirmDeleteNamed', { title: reply.title })}
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              e.preventDefault();
              e.stopPropagation();
              setConfirming(false);
              deleteRef.current?.focus();
            }
          }}
        >
          <span className="small-text">{t('replies.confirmDelete')}</span>
          <button ref={confirmRef} type="button" className="button small danger" onClick={() => void remove()} disabled={busy}>
            {busy ? t('common.deleting') : t('common.delete')}
          </button>
          <button type="button" className="button small ghost" onClick={() => setConfirming(false)} disabled={busy}>
            {t('common.keep')}
          </button>
        </div>
      ) : (
        <div className="reply-row-actions">
          <button type="button" className="button small secondary" onClick={onEdit} aria-label={t('replies.editNamed', { title: reply.title })}>
            {t('common.edit')}
          </button>
          <button
            ref={deleteRef}
            type="button"
            className="button small ghost"
            onClick={() => setConfirming(true)}
            aria-label={t('replies.deleteNamed', { title: reply.title })}
          >
            {t('common.delete')}
          </button>
        </div>
      )}
      {error && (
        <p className="form-error small-text" role="alert">
          {error}
        </p>
      )}
    </li>
  );
}

/** Create, edit and delete the trainer's saved replies (with the server's reasons when refused). */
export function SavedRepliesManager() {
  const { t } = useTranslation();
  const q = useTemplates();
  const [editing, setEditing] = useState<Template | null>(null);
  // After an edit (its form goes), the focus goes back to the form for a new one.
  const [edited, setEdited] = useState(false);
  const list = q.data ?? [];
  return (
    <div className="saved-replies">
      <p className="muted small-text">
        <Trans i18nKey="replies.intro" values={{ max: 200 }} components={{ kbd: <kbd /> }} />
      </p>
      <ReplyForm
        key={editing?.id ?? 'new'}
        editing={editing}
        focusFirst={edited}
        onDone={() => {
          setEdited(!!editing);
          setEditing(null);
        }}
      />
      {q.isLoading ? (
        <p className="muted" aria-busy="true">
          {t('replies.loading')}
        </p>
      ) : q.error ? (
        <p className="form-error" role="alert">
          {t('replies.loadFailed', { message: (q.error as Error).message })}
        </p>
      ) : list.length === 0 ? (
        <p className="muted">{t('replies.none')}</p>
      ) : (
        <ul className="reply-list" aria-label={t('replies.yours')}>
          {list.map((reply) => (
            <ReplyRow key={reply.id} t={reply} onEdit={() => setEditing(reply)} />
          ))}
        </ul>
      )}
    </div>
  );
}

export function SavedRepliesDialog({ onClose }: { onClose: () => void }) {
  const { t } = useTranslation();
  return (
    <Modal title={t('replies.title')} onClose={onClose} className="saved-replies-dialog">
      <SavedRepliesManager />
    </Modal>
  );
}

import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
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
  return { other: (e as Error)?.message || 'Could not save the reply.' };
}

/** The form for a new saved reply, or for changing one (`editing`). */
function ReplyForm({ editing, onDone, focusFirst }: { editing: Template | null; onDone: () => void; focusFirst?: boolean }) {
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
    const t = title.trim();
    const c = content.trim();
    const local: Problems = {
      title: !t ? 'Give it a title.' : charCount(t) > TITLE_MAX ? `At most ${TITLE_MAX} characters.` : undefined,
      content: !c ? 'Write the reply.' : charCount(c) > MAX_LENGTH ? `At most ${MAX_LENGTH} characters.` : undefined,
    };
    if (local.title || local.content) {
      setProblems(local);
      return;
    }
    setBusy(true);
    setProblems({});
    try {
      await saveTemplate(qc, editing?.id ?? null, t, c);
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
    <form className="reply-form" onSubmit={submit} aria-label={editing ? `Edit “${editing.title}”` : 'New saved reply'} noValidate>
      <div className="field">
        <label htmlFor={ids.title}>Title</label>
        <input
          ref={titleRef}
          id={ids.title}
          value={title}
          maxLength={TITLE_MAX * 2}
          placeholder="e.g. Check-in reminder"
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
        <label htmlFor={ids.content}>Reply</label>
        <textarea
          id={ids.content}
          value={content}
          rows={3}
          placeholder="Hi {first_name}, how did today's session feel?"
          aria-invalid={!!problems.content || undefined}
          aria-describedby={[problems.content ? ids.contentErr : '', ids.count].filter(Boolean).join(' ')}
          onChange={(e) => setContent(e.target.value)}
        />
        <span className="field-foot">
          <span className="muted">{'{first_name}'} becomes the trainee’s first name.</span>
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
            Cancel
          </button>
        )}
        <button type="submit" className="button primary small" disabled={busy}>
          {busy ? 'Saving…' : editing ? 'Save changes' : 'Add saved reply'}
        </button>
      </div>
    </form>
  );
}

function ReplyRow({ t, onEdit }: { t: Template; onEdit: () => void }) {
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
      await removeTemplate(qc, t.id);
    } catch (e) {
      setError((e as Error).message);
      setBusy(false);
      setConfirming(false);
    }
  };
  return (
    <li className="reply-row" data-template-id={t.id}>
      <div className="reply-row-text">
        <span className="reply-title">{t.title}</span>
        <span className="reply-content">{t.content}</span>
      </div>
      {confirming ? (
        <div
          className="reply-row-actions"
          role="group"
          aria-label={`Delete “${t.title}”?`}
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              e.preventDefault();
              e.stopPropagation();
              setConfirming(false);
              deleteRef.current?.focus();
            }
          }}
        >
          <span className="small-text">Delete?</span>
          <button ref={confirmRef} type="button" className="button small danger" onClick={() => void remove()} disabled={busy}>
            {busy ? 'Deleting…' : 'Delete'}
          </button>
          <button type="button" className="button small ghost" onClick={() => setConfirming(false)} disabled={busy}>
            Keep
          </button>
        </div>
      ) : (
        <div className="reply-row-actions">
          <button type="button" className="button small secondary" onClick={onEdit} aria-label={`Edit “${t.title}”`}>
            Edit
          </button>
          <button
            ref={deleteRef}
            type="button"
            className="button small ghost"
            onClick={() => setConfirming(true)}
            aria-label={`Delete “${t.title}”`}
          >
            Delete
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
  const q = useTemplates();
  const [editing, setEditing] = useState<Template | null>(null);
  // After an edit (its form goes), the focus goes back to the form for a new one.
  const [edited, setEdited] = useState(false);
  const list = q.data ?? [];
  return (
    <div className="saved-replies">
      <p className="muted small-text">
        Type <kbd>/</kbd> in a message to insert one. You can keep up to 200.
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
          Loading saved replies…
        </p>
      ) : q.error ? (
        <p className="form-error" role="alert">
          Could not load saved replies: {(q.error as Error).message}
        </p>
      ) : list.length === 0 ? (
        <p className="muted">No saved replies yet.</p>
      ) : (
        <ul className="reply-list" aria-label="Your saved replies">
          {list.map((t) => (
            <ReplyRow key={t.id} t={t} onEdit={() => setEditing(t)} />
          ))}
        </ul>
      )}
    </div>
  );
}

export function SavedRepliesDialog({ onClose }: { onClose: () => void }) {
  return (
    <Modal title="Saved replies" onClose={onClose} className="saved-replies-dialog">
      <SavedRepliesManager />
    </Modal>
  );
}

import { useEffect, useEffectEvent, useId, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import { createPortal } from 'react-dom';
import { CloseIcon } from './icons';

const FOCUSABLE = 'button:not(:disabled), a[href], input:not(:disabled), textarea:not(:disabled), select:not(:disabled)';

/**
 * A modal dialog over the page: focus moves in (to `initialFocus` or the first field), Tab stays
 * inside, Escape or a click on the backdrop closes, and focus goes back to what opened it.
 */
export function Modal({
  title,
  onClose,
  children,
  className,
  initialFocus,
}: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  className?: string;
  /** A CSS selector inside the dialog. */
  initialFocus?: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  // The latest onClose, for the key listener set up once per opening.
  const close = useEffectEvent(onClose);
  // Where the focus goes when the dialog opens (read once, at opening).
  const [firstFocus] = useState(initialFocus);
  const titleId = useId();

  useEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const root = ref.current;
    const first =
      (firstFocus ? root?.querySelector<HTMLElement>(firstFocus) : null) ??
      root?.querySelector<HTMLElement>('input, textarea') ??
      root?.querySelector<HTMLElement>(FOCUSABLE);
    first?.focus();
    // Escape also when the focus got lost (on the page's body): not when a part inside took it.
    const onKey = (e: globalThis.KeyboardEvent) => {
      if (e.key === 'Escape' && !e.defaultPrevented) {
        e.preventDefault();
        close();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('keydown', onKey);
      if (opener?.isConnected) opener.focus();
    };
  }, [firstFocus]);

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key !== 'Tab') return;
    const items = Array.from(ref.current?.querySelectorAll<HTMLElement>(FOCUSABLE) ?? []);
    if (items.length === 0) return;
    const i = items.indexOf(document.activeElement as HTMLElement);
    if (e.shiftKey && i <= 0) {
      e.preventDefault();
      items[items.length - 1].focus();
    } else if (!e.shiftKey && i === items.length - 1) {
      e.preventDefault();
      items[0].focus();
    }
  };

  return createPortal(
    <div
      className="modal-backdrop"
      onMouseDown={(e) => {
        if (e.target === e.currentTarget) onClose();
      }}
    >
      <div
        ref={ref}
        className={`modal${className ? ` ${className}` : ''}`}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        onKeyDown={onKeyDown}
      >
        <header className="modal-head">
          <h2 id={titleId}>{title}</h2>
          <button type="button" className="icon-button" aria-label="Close" title="Close (Esc)" onClick={onClose}>
            <CloseIcon />
          </button>
        </header>
        {children}
      </div>
    </div>,
    document.body,
  );
}

import { useEffect, useId, useImperativeHandle, useRef, useState, type KeyboardEvent, type Ref } from 'react';
import { MoreIcon } from './icons';

export interface MenuItem {
  label: string;
  onSelect: () => void;
  danger?: boolean;
}

interface Props {
  /** Asked each time the menu opens (what is allowed can change with time). */
  items: () => MenuItem[];
  label?: string;
  buttonRef?: Ref<HTMLButtonElement>;
}

/**
 * A "⋯" button with a menu (WAI-ARIA menu button): opens on click, Enter, Space or ArrowDown
 * with focus on the first item; arrows, Home and End move; Escape closes and returns focus to
 * the button; Tab or a click elsewhere closes.
 */
export function MessageMenu({ items, label = 'Message actions', buttonRef }: Props) {
  const [open, setOpen] = useState(false);
  const ownButton = useRef<HTMLButtonElement | null>(null);
  const menuRef = useRef<HTMLDivElement>(null);
  const rootRef = useRef<HTMLDivElement>(null);
  const id = useId();
  const list = open ? items() : [];

  useEffect(() => {
    if (!open) return;
    menuRef.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
    const outside = (e: MouseEvent) => {
      if (!rootRef.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', outside);
    return () => document.removeEventListener('mousedown', outside);
  }, [open]);

  const close = (refocus: boolean) => {
    setOpen(false);
    if (refocus) ownButton.current?.focus();
  };

  const onMenuKey = (e: KeyboardEvent<HTMLDivElement>) => {
    const el = Array.from(menuRef.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? []);
    const i = el.indexOf(document.activeElement as HTMLElement);
    const go = (n: number) => {
      e.preventDefault();
      el[(n + el.length) % el.length]?.focus();
    };
    if (e.key === 'ArrowDown') go(i + 1);
    else if (e.key === 'ArrowUp') go(i - 1);
    else if (e.key === 'Home') go(0);
    else if (e.key === 'End') go(el.length - 1);
    else if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      close(true);
    } else if (e.key === 'Tab') close(false);
  };

  // The owner (the message bubble) gives focus back to the button after an edit.
  useImperativeHandle(buttonRef, () => ownButton.current!, []);

  return (
    <div className={`msg-actions${open ? ' open' : ''}`} ref={rootRef}>
      <button
        ref={ownButton}
        type="button"
        className="msg-actions-button"
        aria-label={label}
        title={label}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? id : undefined}
        onClick={() => setOpen((o) => !o)}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown' && !open) {
            e.preventDefault();
            setOpen(true);
          }
        }}
      >
        <MoreIcon />
      </button>
      {open && (
        <div className="msg-menu" role="menu" id={id} aria-label={label} ref={menuRef} onKeyDown={onMenuKey}>
          {list.map((it) => (
            <button
              key={it.label}
              type="button"
              role="menuitem"
              tabIndex={-1}
              className={it.danger ? 'danger' : undefined}
              onClick={() => {
                close(false);
                it.onSelect();
              }}
            >
              {it.label}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}

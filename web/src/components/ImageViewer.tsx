import { useEffect, useEffectEvent, useRef, type KeyboardEvent } from 'react';
import { createPortal } from 'react-dom';
import { CloseIcon } from './icons';

interface Props {
  src: string;
  /** Describes the photo for assistive technology (e.g. "Photo from Ana Lima"). */
  label: string;
  caption?: string;
  width?: number | null;
  height?: number | null;
  onClose: () => void;
}

/**
 * The full photo over the page: a modal dialog that takes focus (on its close button), keeps
 * Tab inside, closes on Escape or any click, and gives focus back to what opened it.
 */
export function ImageViewer({ src, label, caption, width, height, onClose }: Props) {
  const closeRef = useRef<HTMLButtonElement>(null);
  const dialogRef = useRef<HTMLDivElement>(null);
  // The latest onClose, for the key listener set up once per opening.
  const close = useEffectEvent(onClose);

  useEffect(() => {
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    closeRef.current?.focus();
    const onKey = (e: globalThis.KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        close();
      }
    };
    document.addEventListener('keydown', onKey, true);
    return () => {
      document.removeEventListener('keydown', onKey, true);
      if (opener?.isConnected) opener.focus();
    };
  }, []);

  const trapTab = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key !== 'Tab') return;
    const items = Array.from(dialogRef.current?.querySelectorAll<HTMLElement>('button, a[href]') ?? []);
    if (items.length === 0) return;
    const i = items.indexOf(document.activeElement as HTMLElement);
    const next = e.shiftKey ? (i <= 0 ? items.length - 1 : i - 1) : i === items.length - 1 ? 0 : i + 1;
    e.preventDefault();
    items[next].focus();
  };

  return createPortal(
    <div
      ref={dialogRef}
      className="viewer"
      role="dialog"
      aria-modal="true"
      aria-label={label}
      onClick={onClose}
      onKeyDown={trapTab}
      data-testid="image-viewer"
    >
      <button ref={closeRef} type="button" className="viewer-close" aria-label="Close photo" title="Close (Esc)">
        <CloseIcon />
      </button>
      <figure className="viewer-figure">
        <img className="viewer-image" src={src} alt={caption || label} width={width ?? undefined} height={height ?? undefined} />
        {caption && <figcaption>{caption}</figcaption>}
      </figure>
      <a
        className="viewer-open"
        href={src}
        target="_blank"
        rel="noopener noreferrer"
        onClick={(e) => e.stopPropagation()}
      >
        Open original
      </a>
    </div>,
    document.body,
  );
}

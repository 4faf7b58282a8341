import { useRef, useState, type DragEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { pickImageFile } from '../lib/images';
import { ImageIcon } from './icons';

const hasFiles = (e: DragEvent) => Array.from(e.dataTransfer?.types ?? []).includes('Files');

/**
 * Drag and drop of a photo onto an area (the chat): handlers for the area, and whether a file
 * is being dragged over it. Files dropped while `enabled` is false are refused (and do not
 * make the browser open the file instead of the app).
 */
export function usePhotoDrop(onFile: (file: File) => void, enabled: boolean) {
  const [dragging, setDragging] = useState(false);
  const depth = useRef(0);
  const handlers = {
    onDragEnter: (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth.current++;
      if (enabled) setDragging(true);
    },
    onDragOver: (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = enabled ? 'copy' : 'none';
    },
    onDragLeave: (e: DragEvent) => {
      if (!hasFiles(e)) return;
      depth.current = Math.max(0, depth.current - 1);
      if (depth.current === 0) setDragging(false);
    },
    onDrop: (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth.current = 0;
      setDragging(false);
      const file = enabled ? pickImageFile(e.dataTransfer?.files) : null;
      if (file) onFile(file);
    },
  };
  return { dragging, handlers };
}

export function DropOverlay() {
  const { t } = useTranslation();
  return (
    <div className="drop-overlay" aria-hidden="true" data-testid="drop-overlay">
      <span>
        <ImageIcon /> {t('photo.drop')}
      </span>
    </div>
  );
}

/** Photos in messages: the server's limits and wording, display sizes, blob: URLs. */
import { formatNumber, i18n } from '../i18n';

export const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const;
/** At most 5 MiB (5,242,880 bytes), as the server allows. */
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;

/**
 * The server's error texts (in English they are the server's own words, so a refusal reads the
 * same before and after upload), in the reader's language.
 */
export const IMAGE_TEXT = {
  get type() {
    return i18n.t('photo.problem.type');
  },
  get size() {
    return i18n.t('photo.problem.size');
  },
  get empty() {
    return i18n.t('photo.problem.empty');
  },
};

/** Why this file cannot be sent as a photo, or null when it can. */
export function imageProblem(file: Pick<File, 'type' | 'size'>): string | null {
  if (!(IMAGE_TYPES as readonly string[]).includes(file.type)) return IMAGE_TEXT.type;
  if (file.size > MAX_IMAGE_BYTES) return IMAGE_TEXT.size;
  return null;
}

/** The first file of a drop or paste that looks like an image (or the first file at all). */
export function pickImageFile(files: ArrayLike<File> | null | undefined): File | null {
  if (!files || files.length === 0) return null;
  const all = Array.from(files);
  return all.find((f) => f.type.startsWith('image/')) ?? all[0];
}

/** Box for a photo in the chat: keeps the aspect ratio, fits in `max`, never upscales. */
export function displaySize(
  width: number | null | undefined,
  height: number | null | undefined,
  max: { width: number; height: number } = { width: 280, height: 320 },
): { width: number; height: number } {
  if (!width || !height || width <= 0 || height <= 0) return { width: Math.min(240, max.width), height: Math.min(240, max.height) };
  const scale = Math.min(1, max.width / width, max.height / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** "1.2 MB", "340 KB". */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${formatNumber(n / (1024 * 1024), { minimumFractionDigits: 1, maximumFractionDigits: 1 })} MB`;
  if (n >= 1024) return `${formatNumber(Math.round(n / 1024))} KB`;
  return `${formatNumber(n)} B`;
}

/** A blob: URL for a local file ('' where the browser has none, as in tests). */
export function objectUrl(file: Blob): string {
  return typeof URL.createObjectURL === 'function' ? URL.createObjectURL(file) : '';
}

export function revokeUrl(url: string | null | undefined): void {
  if (url && url.startsWith('blob:') && typeof URL.revokeObjectURL === 'function') URL.revokeObjectURL(url);
}

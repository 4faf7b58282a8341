/** The conversation the reader has open and in view right now (null when none). */
let viewing: number | null = null;

/**
 * Where the server learns what the reader is looking at (a `focus` frame on the user socket):
 * while a conversation is open, visible and focused, its messages are not pushed as
 * notifications. Set by the realtime provider for each (re)connected socket.
 */
type FocusSink = (conversationId: number | null) => void;
let sink: FocusSink | null = null;
let reported: number | null | undefined;

function inView(): number | null {
  if (viewing === null || typeof document === 'undefined') return null;
  return document.visibilityState === 'visible' && document.hasFocus() ? viewing : null;
}

/** Tells the server when what is in view changed (or always, with `force`). */
export function reportFocus(force = false): void {
  const now = inView();
  if (!force && now === reported) return;
  reported = now;
  sink?.(now);
}

/** The socket to report to (null: none); reports the current view at once. */
export function setFocusSink(s: FocusSink | null): void {
  sink = s;
  reported = undefined;
  if (s) reportFocus(true);
}

export function setViewing(id: number | null): void {
  viewing = id;
  reportFocus();
}

export function isViewing(id: number): boolean {
  return inView() === id;
}

if (typeof window !== 'undefined') {
  document.addEventListener('visibilitychange', () => reportFocus());
  window.addEventListener('focus', () => reportFocus());
  window.addEventListener('blur', () => reportFocus());
}

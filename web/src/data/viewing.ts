/** Where the server learns what the reader is looking at (a `focus` frame on the user socket). */
type FocusSink = (conversationId: number | null) => void;

/**
 * The conversation the reader has open and in view right now. While a conversation is open,
 * visible and focused, the server pushes no notifications for its messages, and its messages
 * count no unread here. One per socket owner (RealtimeProvider); `start` follows the page's
 * visibility and focus until `stop`.
 */
export class ViewTracker {
  private viewing: number | null = null;
  private sink: FocusSink | null = null;
  private reported: number | null | undefined;

  private inView(): number | null {
    if (this.viewing === null || typeof document === 'undefined') return null;
    return document.visibilityState === 'visible' && document.hasFocus() ? this.viewing : null;
  }

  /** Tells the server when what is in view changed (or always, with `force`). */
  report = (force = false): void => {
    const now = this.inView();
    if (!force && now === this.reported) return;
    this.reported = now;
    this.sink?.(now);
  };

  private changed = () => this.report();

  /** The socket to report to (null: none); reports the current view at once. */
  setSink(s: FocusSink | null): void {
    this.sink = s;
    this.reported = undefined;
    if (s) this.report(true);
  }

  setViewing = (id: number | null): void => {
    this.viewing = id;
    this.report();
  };

  isViewing = (id: number): boolean => this.inView() === id;

  start(): void {
    document.addEventListener('visibilitychange', this.changed);
    window.addEventListener('focus', this.changed);
    window.addEventListener('blur', this.changed);
  }

  stop(): void {
    document.removeEventListener('visibilitychange', this.changed);
    window.removeEventListener('focus', this.changed);
    window.removeEventListener('blur', this.changed);
  }
}

/** A polite aria-live region for screen readers: new messages, connection changes. */
type Listener = (text: string) => void;
const listeners = new Set<Listener>();

export function announce(text: string): void {
  listeners.forEach((l) => l(text));
}

export function onAnnounce(l: Listener): () => void {
  listeners.add(l);
  return () => void listeners.delete(l);
}

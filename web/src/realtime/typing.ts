import { useSyncExternalStore } from 'react';

/**
 * Who is typing where, from `typing_indicator` frames. An entry expires by itself after
 * `ttl` ms (the server also sends is_typing:false after 6 s, this is a safety net).
 */
export class TypingStore {
  private state = new Map<number, Map<number, number>>(); // conversation -> user -> expires
  private timers = new Map<string, ReturnType<typeof setTimeout>>();
  private listeners = new Set<() => void>();
  private snapshot = new Map<number, number[]>();

  constructor(private ttl = 8000) {}

  set(conversationId: number, userId: number, isTyping: boolean): void {
    const key = `${conversationId}:${userId}`;
    const t = this.timers.get(key);
    if (t) clearTimeout(t);
    this.timers.delete(key);
    let users = this.state.get(conversationId);
    if (isTyping) {
      if (!users) this.state.set(conversationId, (users = new Map<number, number>()));
      users.set(userId, Date.now() + this.ttl);
      this.timers.set(
        key,
        setTimeout(() => this.set(conversationId, userId, false), this.ttl),
      );
    } else if (users) {
      users.delete(userId);
      if (users.size === 0) this.state.delete(conversationId);
    }
    this.publish(conversationId);
  }

  clearAll(): void {
    this.timers.forEach((t) => clearTimeout(t));
    this.timers.clear();
    const ids = [...this.state.keys()];
    this.state.clear();
    ids.forEach((id) => this.publish(id));
  }

  typingIn(conversationId: number): number[] {
    return this.snapshot.get(conversationId) ?? EMPTY;
  }

  subscribe = (l: () => void) => {
    this.listeners.add(l);
    return () => void this.listeners.delete(l);
  };

  private publish(conversationId: number) {
    const users = this.state.get(conversationId);
    const next = users ? [...users.keys()] : EMPTY;
    const prev = this.snapshot.get(conversationId) ?? EMPTY;
    if (prev.length === next.length && prev.every((v, i) => v === next[i])) return;
    if (next.length) this.snapshot.set(conversationId, next);
    else this.snapshot.delete(conversationId);
    this.listeners.forEach((l) => l());
  }
}

const EMPTY: number[] = [];

const noSubscription = () => () => {};

/** Who is typing in a conversation, from the store of the user's socket (none without one). */
export function useTypingUsers(store: TypingStore | null, conversationId: number | null): number[] {
  return useSyncExternalStore(store?.subscribe ?? noSubscription, () =>
    store == null || conversationId == null ? EMPTY : store.typingIn(conversationId),
  );
}

import type { TokenPair } from './types';

const ACCESS = 'spotter.access';
const REFRESH = 'spotter.refresh';

type Listener = () => void;
const listeners = new Set<Listener>();

function read(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

export const tokens = {
  access: (): string | null => read(ACCESS),
  refresh: (): string | null => read(REFRESH),
  set(pair: TokenPair): void {
    localStorage.setItem(ACCESS, pair.access);
    localStorage.setItem(REFRESH, pair.refresh);
    listeners.forEach((l) => l());
  },
  clear(): void {
    localStorage.removeItem(ACCESS);
    localStorage.removeItem(REFRESH);
    listeners.forEach((l) => l());
  },
  /** Called whenever the tokens change (login, refresh, logout, impersonation). */
  subscribe: (l: Listener): (() => void) => {
    listeners.add(l);
    return () => listeners.delete(l);
  },
};

// Another tab logged in or out: follow it.
if (typeof window !== 'undefined') {
  window.addEventListener('storage', (e) => {
    if (e.key === ACCESS || e.key === REFRESH || e.key === null) listeners.forEach((l) => l());
  });
}

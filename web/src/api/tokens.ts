import type { TokenPair } from './types';

const ACCESS = 'spotter.access';
const REFRESH = 'spotter.refresh';

/** Fired on window when this tab changes the tokens (another tab's changes come as `storage`). */
const CHANGED = 'spotter:tokens';
const changed = () => window.dispatchEvent(new Event(CHANGED));

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
    changed();
  },
  clear(): void {
    localStorage.removeItem(ACCESS);
    localStorage.removeItem(REFRESH);
    changed();
  },
  /** Called whenever the tokens change (login, refresh, logout, impersonation). */
  subscribe: (l: () => void): (() => void) => {
    // Another tab logged in or out: follow it.
    const fromStorage = (e: StorageEvent) => {
      if (e.key === ACCESS || e.key === REFRESH || e.key === null) l();
    };
    window.addEventListener(CHANGED, l);
    window.addEventListener('storage', fromStorage);
    return () => {
      window.removeEventListener(CHANGED, l);
      window.removeEventListener('storage', fromStorage);
    };
  },
};


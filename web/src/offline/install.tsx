/**
 * "Install app": the browser's install prompt, offered from the settings panel while the
 * dashboard can be installed (Chromium-based browsers fire `beforeinstallprompt` once the
 * manifest and the service worker qualify). Hidden once installed (`appinstalled`) and when
 * already running as the installed app (`display-mode: standalone`). Safari has no prompt: there,
 * "Add to Home Screen" in the share menu installs it (README).
 */
import { useState, useSyncExternalStore } from 'react';
import { useTranslation } from 'react-i18next';

/** An arrow into a tray (inline, like components/icons.tsx). */
const InstallIcon = () => (
  <svg width={20} height={20} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={2} strokeLinecap="round" strokeLinejoin="round" aria-hidden focusable={false}>
    <path d="M12 3v12" />
    <path d="m7 10 5 5 5-5" />
    <path d="M5 21h14" />
  </svg>
);

/** Chromium's event (not in TypeScript's DOM types). */
export interface BeforeInstallPromptEvent extends Event {
  prompt(): Promise<void>;
  userChoice: Promise<{ outcome: 'accepted' | 'dismissed'; platform?: string }>;
}

export type InstallState = 'unavailable' | 'installable' | 'installed';

let deferred: BeforeInstallPromptEvent | null = null;
let installed = false;
const listeners = new Set<() => void>();
const notify = () => listeners.forEach((l) => l());

function standalone(): boolean {
  try {
    if (window.matchMedia?.('(display-mode: standalone)').matches) return true;
  } catch {
    /* no matchMedia */
  }
  return (navigator as Navigator & { standalone?: boolean }).standalone === true;
}

export function installState(): InstallState {
  if (installed || standalone()) return 'installed';
  return deferred ? 'installable' : 'unavailable';
}

function subscribe(l: () => void) {
  listeners.add(l);
  return () => listeners.delete(l);
}

/**
 * Listen for the browser's install events. Called once at start-up, before React renders:
 * `beforeinstallprompt` may fire before any component mounts.
 */
export function captureInstallPrompt(target: Window = window): () => void {
  const onPrompt = (e: Event) => {
    // Our own button instead of the browser's mini-infobar; the event is kept for prompt().
    e.preventDefault();
    deferred = e as BeforeInstallPromptEvent;
    notify();
  };
  const onInstalled = () => {
    installed = true;
    deferred = null;
    notify();
  };
  target.addEventListener('beforeinstallprompt', onPrompt);
  target.addEventListener('appinstalled', onInstalled);
  const media = target.matchMedia?.('(display-mode: standalone)');
  media?.addEventListener?.('change', notify);
  return () => {
    target.removeEventListener('beforeinstallprompt', onPrompt);
    target.removeEventListener('appinstalled', onInstalled);
    media?.removeEventListener?.('change', notify);
  };
}

/** Show the browser's install dialog (once per captured event). */
export async function promptInstall(): Promise<'accepted' | 'dismissed' | 'unavailable'> {
  const e = deferred;
  if (!e) return 'unavailable';
  // An event can prompt only once: whatever the answer, wait for the browser's next one.
  deferred = null;
  notify();
  await e.prompt();
  const { outcome } = await e.userChoice;
  if (outcome === 'accepted') {
    installed = true;
    notify();
  }
  return outcome;
}

/** For tests: forget captured events and the installed flag. */
export function resetInstallState(): void {
  deferred = null;
  installed = false;
  notify();
}

export function useInstallState(): InstallState {
  return useSyncExternalStore(subscribe, installState, () => 'unavailable');
}

/** The settings panel's "Install app" button: shown only while the browser offers the install. */
export function InstallAppButton() {
  const { t } = useTranslation();
  const state = useInstallState();
  const [busy, setBusy] = useState(false);
  if (state !== 'installable') return null;
  return (
    <div className="pref-row install-row">
      <button
        type="button"
        className="button secondary small install-button"
        disabled={busy}
        onClick={() => {
          setBusy(true);
          void promptInstall().finally(() => setBusy(false));
        }}
      >
        <InstallIcon /> {t('install.button')}
      </button>
      <p className="muted small-text">{t('install.note')}</p>
    </div>
  );
}

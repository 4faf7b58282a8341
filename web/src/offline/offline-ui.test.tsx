// The offline banner, the "Install app" button, and the connectivity watch.
import { MutationObserver, onlineManager, QueryClient, QueryClientProvider, useQuery } from '@tanstack/react-query';
import { act, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { NetworkError } from '../api/client';
import { captureInstallPrompt, InstallAppButton, resetInstallState, type BeforeInstallPromptEvent } from './install';
import { OfflineBanner } from './OfflineBanner';
import { PROBE_FIRST_MS, PROBE_URL, seedOnlineState, watchConnectivity } from './online';

afterEach(() => {
  act(() => onlineManager.setOnline(true));
  resetInstallState();
});

function withClient(ui: React.ReactNode, qc = new QueryClient()) {
  return render(<QueryClientProvider client={qc}>{ui}</QueryClientProvider>);
}

describe('offline banner', () => {
  it("shows while offline, with how many sends wait, and goes when back online", async () => {
    const qc = new QueryClient();
    qc.setMutationDefaults(['messages', 'send'], { mutationFn: async () => ({}) });
    withClient(<OfflineBanner />, qc);
    expect(screen.queryByRole('status')).toBeNull();

    act(() => onlineManager.setOnline(false));
    const banner = screen.getByRole('status');
    expect(banner.textContent).toContain("You're offline — messages will be sent when you're back");
    expect(banner.textContent).not.toContain('waiting');

    for (const n of [1, 2]) {
      const o = new MutationObserver<unknown, Error, { clientMessageId: string }>(qc, { mutationKey: ['messages', 'send'] });
      act(() => void o.mutate({ clientMessageId: `c${n}` }).catch(() => {}));
    }
    await vi.waitFor(() => expect(screen.getByRole('status').textContent).toContain('2 messages waiting'));

    act(() => onlineManager.setOnline(true));
    expect(screen.queryByRole('status')).toBeNull();
  });

  it('a page opened offline starts offline (navigator.onLine seeds it); online stays as it is', () => {
    seedOnlineState({ onLine: true });
    expect(onlineManager.isOnline()).toBe(true);
    seedOnlineState({ onLine: false });
    expect(onlineManager.isOnline()).toBe(false);
  });
});

/** A `beforeinstallprompt` like Chromium's, answering `outcome`. */
function installEvent(outcome: 'accepted' | 'dismissed') {
  const e = new Event('beforeinstallprompt', { cancelable: true }) as BeforeInstallPromptEvent;
  const prompt = vi.fn(async () => {});
  Object.assign(e, { prompt, userChoice: Promise.resolve({ outcome, platform: 'web' }) });
  return { e, prompt };
}

describe('Install app', () => {
  it('is offered only after the browser says the app can be installed; accepting hides it', async () => {
    const stop = captureInstallPrompt();
    try {
      render(<InstallAppButton />);
      expect(screen.queryByRole('button', { name: 'Install app' })).toBeNull();
      const { e, prompt } = installEvent('accepted');
      act(() => void window.dispatchEvent(e));
      expect(e.defaultPrevented).toBe(true); // our button instead of the browser's infobar
      fireEvent.click(screen.getByRole('button', { name: 'Install app' }));
      expect(prompt).toHaveBeenCalledTimes(1);
      await vi.waitFor(() => expect(screen.queryByRole('button', { name: 'Install app' })).toBeNull());
    } finally {
      stop();
    }
  });

  it('dismissed: hidden until the browser offers again; appinstalled hides it for good', async () => {
    const stop = captureInstallPrompt();
    try {
      render(<InstallAppButton />);
      act(() => void window.dispatchEvent(installEvent('dismissed').e));
      fireEvent.click(screen.getByRole('button', { name: 'Install app' }));
      await vi.waitFor(() => expect(screen.queryByRole('button', { name: 'Install app' })).toBeNull());
      act(() => void window.dispatchEvent(installEvent('dismissed').e));
      screen.getByRole('button', { name: 'Install app' });
      act(() => void window.dispatchEvent(new Event('appinstalled')));
      expect(screen.queryByRole('button', { name: 'Install app' })).toBeNull();
      act(() => void window.dispatchEvent(installEvent('dismissed').e));
      expect(screen.queryByRole('button', { name: 'Install app' })).toBeNull();
    } finally {
      stop();
    }
  });

  it('is not offered inside the installed app (display-mode: standalone)', () => {
    const matchMedia = vi.fn((q: string) => ({ matches: q === '(display-mode: standalone)', addEventListener() {}, removeEventListener() {} }));
    vi.stubGlobal('matchMedia', matchMedia);
    const stop = captureInstallPrompt();
    try {
      render(<InstallAppButton />);
      act(() => void window.dispatchEvent(installEvent('accepted').e));
      expect(screen.queryByRole('button', { name: 'Install app' })).toBeNull();
    } finally {
      stop();
      vi.unstubAllGlobals();
    }
  });
});

describe('connectivity watch', () => {
  it('a request that gets no answer means offline; the probe brings it back online when the server answers', async () => {
    vi.useFakeTimers();
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    let serverUp = false;
    const fetchFn = vi.fn(async (url: string) => {
      expect(url).toBe(PROBE_URL);
      if (!serverUp) throw new TypeError('Failed to fetch');
      return new Response('{"status":"ok"}');
    });
    const stop = watchConnectivity(qc, { fetchFn: fetchFn as unknown as typeof fetch });
    function Probe() {
      const q = useQuery({ queryKey: ['x'], queryFn: () => (serverUp ? Promise.resolve('hello') : Promise.reject(new NetworkError('down'))) });
      return <p>{q.data ?? 'no data'}</p>;
    }
    try {
      withClient(<Probe />, qc);
      await vi.waitFor(() => expect(onlineManager.isOnline()).toBe(false));
      await act(() => vi.advanceTimersByTimeAsync(PROBE_FIRST_MS));
      expect(fetchFn).toHaveBeenCalledTimes(1);
      expect(onlineManager.isOnline()).toBe(false);
      serverUp = true;
      // Backoff: the next look comes later, not at once.
      await act(() => vi.advanceTimersByTimeAsync(PROBE_FIRST_MS));
      expect(fetchFn).toHaveBeenCalledTimes(1);
      await act(() => vi.advanceTimersByTimeAsync(PROBE_FIRST_MS));
      expect(fetchFn).toHaveBeenCalledTimes(2);
      expect(onlineManager.isOnline()).toBe(true);
      // Back online, the failed query is fetched again (refetchOnReconnect).
      await vi.waitFor(() => screen.getByText('hello'));
    } finally {
      stop();
      vi.useRealTimers();
    }
  });

  it("the browser's online event looks at once; other errors (a refusal) change nothing", async () => {
    vi.useFakeTimers();
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    const fetchFn = vi.fn(async () => new Response('ok'));
    const stop = watchConnectivity(qc, { fetchFn: fetchFn as unknown as typeof fetch });
    try {
      await qc.fetchQuery({ queryKey: ['refused'], queryFn: () => Promise.reject(new Error('403')) }).catch(() => {});
      expect(onlineManager.isOnline()).toBe(true);
      await qc.fetchQuery({ queryKey: ['gone'], queryFn: () => Promise.reject(new NetworkError('x')) }).catch(() => {});
      expect(onlineManager.isOnline()).toBe(false);
      await act(async () => void window.dispatchEvent(new Event('online')));
      await vi.waitFor(() => expect(onlineManager.isOnline()).toBe(true));
      expect(fetchFn).toHaveBeenCalledTimes(1);
    } finally {
      stop();
      vi.useRealTimers();
    }
  });
});

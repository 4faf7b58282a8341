import type { ClientFrame, ServerFrame } from '../api/types';

export type SocketStatus =
  /** First connection attempt in progress. */
  | 'connecting'
  | 'open'
  /** Lost (or never had) the connection; trying again with backoff. */
  | 'reconnecting'
  /** Never connected after several tries: the app polls over REST meanwhile. */
  | 'polling'
  | 'stopped';

export interface SocketOptions {
  /** The socket URL with a fresh token, or null when logged out. */
  url: () => string | null;
  /** Renew the access token after close 4001; false when the session is gone. */
  refreshToken: () => Promise<boolean>;
  /** The session is gone (refresh refused): stop for good. */
  onAuthLost?: () => void;
  WebSocketImpl?: typeof WebSocket;
  random?: () => number;
  /** Backoff base and cap in ms. */
  baseDelay?: number;
  maxDelay?: number;
  /** Send a ping this often (ms); a connection silent for `pongTimeout` after it is dropped. */
  pingInterval?: number;
  pongTimeout?: number;
  /** Failed attempts in a row, without ever connecting, before falling back to polling. */
  pollAfterFailures?: number;
}

type FrameListener = (f: ServerFrame) => void;
type OpenListener = (reconnected: boolean) => void;
type StatusListener = (s: SocketStatus) => void;

/** Delay before attempt n (0-based): exponential, capped, with "equal jitter" (half fixed, half random). */
export function backoffDelay(attempt: number, base: number, max: number, random: () => number): number {
  const d = Math.min(max, base * 2 ** Math.min(attempt, 16));
  return Math.round(d / 2 + random() * (d / 2));
}

/**
 * The per-user socket (`/ws/messaging/?token=`): one connection, reconnect with exponential
 * backoff + jitter, token refresh on 4001, heartbeat pings, polling fallback when a socket never
 * connects. Framework-free so it can be tested with a fake WebSocket.
 */
export class RealtimeClient {
  status: SocketStatus = 'stopped';
  private ws: WebSocket | null = null;
  private attempt = 0;
  private everConnected = false;
  private failuresWithoutOpen = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private pongTimer: ReturnType<typeof setTimeout> | null = null;
  private frameListeners = new Set<FrameListener>();
  private openListeners = new Set<OpenListener>();
  private statusListeners = new Set<StatusListener>();
  private readonly o: Required<Omit<SocketOptions, 'onAuthLost'>> & Pick<SocketOptions, 'onAuthLost'>;

  constructor(opts: SocketOptions) {
    this.o = {
      WebSocketImpl: globalThis.WebSocket,
      random: Math.random,
      baseDelay: 500,
      maxDelay: 10_000,
      pingInterval: 25_000,
      pongTimeout: 10_000,
      pollAfterFailures: 4,
      ...opts,
    };
  }

  onFrame(l: FrameListener) {
    this.frameListeners.add(l);
    return () => void this.frameListeners.delete(l);
  }
  onOpen(l: OpenListener) {
    this.openListeners.add(l);
    return () => void this.openListeners.delete(l);
  }
  onStatus(l: StatusListener) {
    this.statusListeners.add(l);
    return () => void this.statusListeners.delete(l);
  }

  start(): void {
    if (this.status !== 'stopped') return;
    this.setStatus('connecting');
    if (typeof window !== 'undefined') {
      window.addEventListener('online', this.wake);
      document.addEventListener('visibilitychange', this.wake);
    }
    this.connect();
  }

  stop(): void {
    this.setStatus('stopped');
    if (typeof window !== 'undefined') {
      window.removeEventListener('online', this.wake);
      document.removeEventListener('visibilitychange', this.wake);
    }
    this.clearTimers();
    this.drop(1000);
  }

  /** Send a frame if the socket is open; false otherwise (caller falls back to REST). */
  send(frame: ClientFrame): boolean {
    if (this.ws && this.ws.readyState === 1 /* OPEN */) {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  /** Try now rather than after the backoff (back online, tab visible again). */
  private wake = () => {
    if (typeof document !== 'undefined' && document.visibilityState === 'hidden') return;
    if (this.status === 'reconnecting' || this.status === 'polling') {
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.retryTimer = null;
      this.connect();
    }
  };

  private setStatus(s: SocketStatus) {
    if (this.status === s) return;
    this.status = s;
    this.statusListeners.forEach((l) => l(s));
  }

  private clearTimers() {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (this.pongTimer) clearTimeout(this.pongTimer);
    this.retryTimer = this.pingTimer = this.pongTimer = null;
  }

  /** Forget the current socket without reacting to its close event. */
  private drop(code: number) {
    const ws = this.ws;
    this.ws = null;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    try {
      if (ws.readyState === 0 || ws.readyState === 1) ws.close(code);
    } catch {
      /* already closing */
    }
  }

  private connect() {
    if (this.status === 'stopped') return;
    const url = this.o.url();
    if (!url) {
      this.stop();
      return;
    }
    this.drop(1000);
    let ws: WebSocket;
    try {
      ws = new this.o.WebSocketImpl(url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      const reconnected = this.everConnected;
      this.everConnected = true;
      this.attempt = 0;
      this.failuresWithoutOpen = 0;
      this.setStatus('open');
      this.startHeartbeat();
      this.openListeners.forEach((l) => l(reconnected));
    };
    ws.onmessage = (ev: MessageEvent) => {
      this.armPongTimeout(false);
      let frame: ServerFrame;
      try {
        frame = JSON.parse(typeof ev.data === 'string' ? ev.data : '') as ServerFrame;
      } catch {
        return;
      }
      if (frame && typeof frame === 'object' && 'type' in frame) this.frameListeners.forEach((l) => l(frame));
    };
    ws.onclose = (ev: CloseEvent) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.stopHeartbeat();
      if (!opened) this.failuresWithoutOpen++;
      void this.handleClose(ev.code);
    };
    ws.onerror = () => {
      /* a close event follows */
    };
  }

  private async handleClose(code: number) {
    if (this.status === 'stopped') return;
    if (code === 4001) {
      // Bad or expired token: renew it, then connect again at once.
      this.setStatus('reconnecting');
      let ok: boolean;
      try {
        ok = await this.o.refreshToken();
      } catch {
        this.scheduleReconnect(); // network trouble: try again later
        return;
      }
      if (!ok) {
        this.stop();
        this.o.onAuthLost?.();
        return;
      }
      this.attempt++;
      this.retryTimer = setTimeout(() => this.connect(), this.attempt > 2 ? backoffDelay(this.attempt, this.o.baseDelay, this.o.maxDelay, this.o.random) : 0);
      return;
    }
    // 4003 forbidden: unlikely on the per-user socket; wait the longest before trying again.
    if (code === 4003) this.attempt = Math.max(this.attempt, 8);
    this.scheduleReconnect();
  }

  private scheduleReconnect() {
    if (this.status === 'stopped') return;
    const polling = !this.everConnected && this.failuresWithoutOpen >= this.o.pollAfterFailures;
    this.setStatus(polling ? 'polling' : 'reconnecting');
    const delay = backoffDelay(this.attempt, this.o.baseDelay, this.o.maxDelay, this.o.random);
    this.attempt++;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }

  private startHeartbeat() {
    this.stopHeartbeat();
    this.pingTimer = setInterval(() => {
      if (this.send({ type: 'ping' })) this.armPongTimeout(true);
    }, this.o.pingInterval);
  }

  private stopHeartbeat() {
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (this.pongTimer) clearTimeout(this.pongTimer);
    this.pingTimer = this.pongTimer = null;
  }

  /** After a ping, expect some frame within pongTimeout; any frame disarms it. */
  private armPongTimeout(arm: boolean) {
    if (this.pongTimer) clearTimeout(this.pongTimer);
    this.pongTimer = null;
    if (!arm) return;
    this.pongTimer = setTimeout(() => {
      // Silent connection (e.g. a dead network path): drop it and reconnect.
      this.drop(4000);
      this.stopHeartbeat();
      this.scheduleReconnect();
    }, this.o.pongTimeout);
  }
}

/** ws(s)://<this host>/ws/messaging/?token=<access> */
export function userSocketUrl(access: string, loc: Pick<Location, 'protocol' | 'host'> = window.location): string {
  const proto = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${loc.host}/ws/messaging/?token=${encodeURIComponent(access)}`;
}

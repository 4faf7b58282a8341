// Helpers for the end-to-end suite: a real `spotter serve --demo`, its REST API, a PNG maker.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '../..');
export const SPOTTER_BIN = process.env.SPOTTER_BIN ?? join(repoRoot, 'target/debug/spotter');
/** Where the screenshots for the docs go. */
export const SHOTS = join(repoRoot, 'docs/screenshots');
export const PASSWORD = 'spotter-demo';
export const USERS = {
  admin: 'admin@example.com',
  trainer: 'coach@example.com',
  ana: 'ana@example.com',
  ben: 'ben@example.com',
  cy: 'cy@example.com',
};

/**
 * A `spotter serve --demo` process on a data folder; `restart()` kills it (SIGKILL, as a crash)
 * and starts it again on the same folder and port.
 */
export class SpotterServer {
  env: Record<string, string>;
  ownDataDir: boolean;
  dataDir: string;
  logDir: string;
  port = 0;
  proc: ChildProcess | null = null;
  url: string | null = null;
  starts = 0;

  /** `env`: extra environment for the server (e.g. push settings). */
  constructor({ dataDir, logDir, env = {} }: { dataDir?: string; logDir?: string; env?: Record<string, string> } = {}) {
    this.env = env;
    this.ownDataDir = !dataDir;
    this.dataDir = dataDir ?? mkdtempSync(join(tmpdir(), 'spotter-e2e-data-'));
    this.logDir = logDir ?? mkdtempSync(join(tmpdir(), 'spotter-e2e-logs-'));
  }

  async start(): Promise<SpotterServer> {
    if (!existsSync(SPOTTER_BIN)) throw new Error(`spotter binary not found at ${SPOTTER_BIN} (cargo build -p spotter)`);
    mkdirSync(this.logDir, { recursive: true });
    this.starts++;
    const log = createWriteStream(join(this.logDir, `server-${this.starts}.log`));
    // Rebinding the same port right after a kill can race with the OS: try a few times.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#spawn(log);
      } catch (e) {
        if (this.port === 0 || attempt >= 20) throw e;
        await delay(250); // the port may still be held by the killed process
      }
    }
  }

  #spawn(log: WriteStream): Promise<SpotterServer> {
    return new Promise((resolvePromise, reject) => {
      const proc = spawn(SPOTTER_BIN, ['serve', '--demo'], {
        env: {
          ...process.env,
          SPOTTER_BIND: `127.0.0.1:${this.port}`,
          SPOTTER_DATA_DIR: this.dataDir,
          // The suite logs in many times from one address; the contract's send limit stays.
          SPOTTER_AUTH_RATE_PER_MINUTE: '1000',
          RUST_LOG: process.env.RUST_LOG ?? 'spotter=info',
          ...this.env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`spotter did not print its URL within 30 s:\n${out}`));
      }, 30_000);
      proc.stdout.on('data', (chunk: Buffer) => {
        log.write(chunk);
        if (this.proc === proc) return;
        out += chunk;
        const m = out.match(/http:\/\/\S+/);
        if (m) {
          clearTimeout(timer);
          this.proc = proc;
          this.url = m[0].replace(/\/$/, '');
          this.port = Number(new URL(this.url).port);
          resolvePromise(this);
        }
      });
      proc.stderr.on('data', (chunk: Buffer) => {
        log.write(chunk);
        if (this.proc !== proc) out += chunk;
      });
      proc.on('exit', (code, signal) => {
        if (this.proc !== proc) {
          clearTimeout(timer);
          reject(new Error(`spotter exited (${code ?? signal}) before serving:\n${out}`));
        }
      });
    });
  }

  /** Kill -9 (no graceful shutdown) and wait for the exit. */
  async kill() {
    const proc = this.proc;
    if (!proc) return;
    this.proc = null;
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((r) => {
      proc.once('exit', () => r());
      proc.kill('SIGKILL');
    });
  }

  /** Graceful stop (SIGTERM), SIGKILL after 5 s. */
  async stop() {
    const proc = this.proc;
    if (!proc) return;
    this.proc = null;
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((r) => {
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      proc.once('exit', () => {
        clearTimeout(t);
        r();
      });
      proc.kill('SIGTERM');
    });
  }

  /** Remove the data folder this object created (logs stay, for a look after a failure). */
  cleanup() {
    if (this.ownDataDir && !process.env.SPOTTER_E2E_KEEP) rmSync(this.dataDir, { recursive: true, force: true });
  }

  async restart() {
    await this.kill();
    await this.start();
  }
}

/** A tiny REST client for setting the scene through the API. */
export class Api {
  constructor(readonly base: string) {}
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async call(path: string, { token, method = 'GET', body }: { token?: string; method?: string; body?: unknown } = {}): Promise<any> {
    const res = await fetch(this.base + path, {
      method,
      headers: {
        Accept: 'application/json',
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const data = text ? JSON.parse(text) : null;
    if (!res.ok) throw new Error(`${method} ${path} -> ${res.status} ${text}`);
    return data;
  }
  async login(email: string) {
    return this.call('/api/auth/jwt/create/', { method: 'POST', body: { email, password: PASSWORD } });
  }
  async token(email: string): Promise<string> {
    return (await this.login(email)).access;
  }
  me(token: string) {
    return this.call('/api/auth/users/me/', { token });
  }
  start(token: string, traineeId: number, content: string) {
    return this.call('/api/messaging/conversations/start/', {
      token,
      method: 'POST',
      body: { trainee_id: traineeId, content, client_message_id: crypto.randomUUID() },
    });
  }
  send(token: string, conversationId: number, content: string) {
    return this.call(`/api/messaging/conversations/${conversationId}/send/`, {
      token,
      method: 'POST',
      body: { content, client_message_id: crypto.randomUUID() },
    });
  }
  conversations(token: string, archived = false) {
    return this.call(`/api/messaging/conversations/${archived ? '?archived=true' : ''}`, { token });
  }
  messages(token: string, conversationId: number) {
    return this.call(`/api/messaging/conversations/${conversationId}/messages/?limit=100`, { token });
  }
  trainees(token: string, search = '') {
    return this.call(`/api/trainer/trainees/${search ? `?search=${encodeURIComponent(search)}` : ''}`, { token });
  }
  removeTrainee(token: string, id: number) {
    return this.call(`/api/trainer/trainees/${id}/remove/`, { token, method: 'POST' });
  }
  impersonate(token: string, traineeId: number) {
    return this.call(`/api/trainer/impersonate/${traineeId}/start/`, { token, method: 'POST' });
  }
  /** One message by id (through `?around=`, which includes it). */
  async message(token: string, conversationId: number, messageId: number) {
    const page = await this.call(`/api/messaging/conversations/${conversationId}/messages/?around=${messageId}&limit=1`, { token });
    return page.results.find((m: { id: number }) => m.id === messageId);
  }
  search(token: string, q: string, page = 1) {
    return this.call(`/api/messaging/search/?q=${encodeURIComponent(q)}&page=${page}`, { token });
  }
  notificationPreferences(token: string) {
    return this.call('/api/users/notification-preferences/', { token });
  }
  setNotificationPreferences(token: string, changes: Record<string, boolean>) {
    return this.call('/api/users/notification-preferences/', { token, method: 'PATCH', body: changes });
  }
}

/** CRC-32 (IEEE), for PNG chunks. */
function crc32(buf: Buffer): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/**
 * A real PNG of `width` x `height` (8-bit RGB), a diagonal gradient over `rgb`, made here so the
 * suite needs no image files. Returns a Buffer.
 */
export function makePng(width: number, height: number, rgb = [15, 118, 110]): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const o = y * (width * 3 + 1);
    rows[o] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const t = (x + y) / (width + height);
      rows[o + 1 + x * 3] = Math.round(rgb[0] + (255 - rgb[0]) * t);
      rows[o + 2 + x * 3] = Math.round(rgb[1] * (1 - t));
      rows[o + 3 + x * 3] = Math.round(rgb[2] + (255 - rgb[2]) * (1 - t) * 0.5);
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// Helpers for the end-to-end suite: a real `spotter serve --demo`, its REST API, Chromium.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { deflateSync } from 'node:zlib';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '../..');
export const SPOTTER_BIN = process.env.SPOTTER_BIN ?? join(repoRoot, 'target/debug/spotter');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const PASSWORD = 'spotter-demo';
export const USERS = {
  admin: 'admin@example.com',
  trainer: 'coach@example.com',
  ana: 'ana@example.com',
  ben: 'ben@example.com',
  cy: 'cy@example.com',
};

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Poll `fn` until it returns a truthy value; throws `what` after `timeout` ms. */
export async function waitUntil(fn, { timeout = 5000, interval = 50, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${last})`);
    await sleep(interval);
  }
}

/**
 * A `spotter serve --demo` process on a data folder; `restart()` kills it (SIGKILL, as a crash)
 * and starts it again on the same folder and port.
 */
export class SpotterServer {
  /** `env`: extra environment for the server (e.g. push settings). */
  constructor({ dataDir, logDir, env = {} } = {}) {
    this.env = env;
    this.ownDataDir = !dataDir;
    this.dataDir = dataDir ?? mkdtempSync(join(tmpdir(), 'spotter-e2e-data-'));
    this.logDir = logDir ?? mkdtempSync(join(tmpdir(), 'spotter-e2e-logs-'));
    this.port = 0;
    this.proc = null;
    this.url = null;
    this.starts = 0;
  }

  async start() {
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
        await sleep(250);
      }
    }
  }

  #spawn(log) {
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
      proc.stdout.on('data', (chunk) => {
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
      proc.stderr.on('data', (chunk) => {
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
    await new Promise((r) => {
      proc.once('exit', r);
      proc.kill('SIGKILL');
    });
  }

  /** Graceful stop (SIGTERM), SIGKILL after 5 s. */
  async stop() {
    const proc = this.proc;
    if (!proc) return;
    this.proc = null;
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise((r) => {
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
  constructor(base) {
    this.base = base;
  }
  async call(path, { token, method = 'GET', body } = {}) {
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
  async login(email) {
    return this.call('/api/auth/jwt/create/', { method: 'POST', body: { email, password: PASSWORD } });
  }
  async token(email) {
    return (await this.login(email)).access;
  }
  me(token) {
    return this.call('/api/auth/users/me/', { token });
  }
  start(token, traineeId, content) {
    return this.call('/api/messaging/conversations/start/', {
      token,
      method: 'POST',
      body: { trainee_id: traineeId, content, client_message_id: crypto.randomUUID() },
    });
  }
  send(token, conversationId, content) {
    return this.call(`/api/messaging/conversations/${conversationId}/send/`, {
      token,
      method: 'POST',
      body: { content, client_message_id: crypto.randomUUID() },
    });
  }
  conversations(token, archived = false) {
    return this.call(`/api/messaging/conversations/${archived ? '?archived=true' : ''}`, { token });
  }
  messages(token, conversationId) {
    return this.call(`/api/messaging/conversations/${conversationId}/messages/?limit=100`, { token });
  }
  trainees(token, search = '') {
    return this.call(`/api/trainer/trainees/${search ? `?search=${encodeURIComponent(search)}` : ''}`, { token });
  }
  removeTrainee(token, id) {
    return this.call(`/api/trainer/trainees/${id}/remove/`, { token, method: 'POST' });
  }
  impersonate(token, traineeId) {
    return this.call(`/api/trainer/impersonate/${traineeId}/start/`, { token, method: 'POST' });
  }
  /** One message by id (through `?around=`, which includes it). */
  async message(token, conversationId, messageId) {
    const page = await this.call(`/api/messaging/conversations/${conversationId}/messages/?around=${messageId}&limit=1`, { token });
    return page.results.find((m) => m.id === messageId);
  }
  search(token, q, page = 1) {
    return this.call(`/api/messaging/search/?q=${encodeURIComponent(q)}&page=${page}`, { token });
  }
  notificationPreferences(token) {
    return this.call('/api/users/notification-preferences/', { token });
  }
  setNotificationPreferences(token, changes) {
    return this.call('/api/users/notification-preferences/', { token, method: 'PATCH', body: changes });
  }
}

/** CRC-32 (IEEE), for PNG chunks. */
function crc32(buf) {
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
export function makePng(width, height, rgb = [15, 118, 110]) {
  const chunk = (type, data) => {
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

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

export function launchBrowser() {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} missing (apt-get install -y chromium)`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/** A new browser context + page, logged in through the login form. */
export async function loggedInPage(browser, base, email, { viewport = { width: 1280, height: 800 }, deviceScaleFactor = 1, path = '/messages' } = {}) {
  const context = await browser.newContext({ baseURL: base, viewport, deviceScaleFactor, locale: 'en-GB', timezoneId: 'UTC' });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error(`[${email}] page error:`, e.message));
  await page.goto(path === '/messages' ? '/login' : `/login?next=${encodeURIComponent(path)}`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.pathname === path, { timeout: 10_000 });
  return { context, page };
}

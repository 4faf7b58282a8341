// Fixtures for the end-to-end suite (@playwright/test): a real `spotter serve --demo` per suite
// file (its own data folder and port), a REST client to set the scene, logged-in pages, and an
// accessibility check. Each file sets `test.use({ suite: '<name>' })`: a distinct worker option
// value, so each file runs in its own worker with its own server, as before.
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { test as base, expect, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { Api, PASSWORD, SPOTTER_BIN, SpotterServer } from './helpers';

export { expect };

export interface OpenOptions {
  viewport?: { width: number; height: number };
  deviceScaleFactor?: number;
  /** Where the login leads (through `?next=`); `/messages` by default. */
  path?: string;
}

/** Browser contexts made for one suite file, all closed when its worker ends. */
export class Session {
  readonly contexts: BrowserContext[] = [];
  constructor(
    private readonly browser: Browser,
    private readonly server: SpotterServer,
  ) {}

  /** A fresh context (English, UTC, desktop size unless told), closed with the suite. */
  async newContext(opts: OpenOptions = {}): Promise<BrowserContext> {
    const context = await this.browser.newContext({
      baseURL: this.server.url!,
      viewport: opts.viewport ?? { width: 1280, height: 800 },
      deviceScaleFactor: opts.deviceScaleFactor ?? 1,
      locale: 'en-GB',
      timezoneId: 'UTC',
    });
    context.setDefaultTimeout(10_000);
    this.contexts.push(context);
    return context;
  }

  /** A new context and page, logged in through the login form, on `path`. */
  async open(email: string, opts: OpenOptions = {}): Promise<Page> {
    const path = opts.path ?? '/messages';
    const page = await (await this.newContext(opts)).newPage();
    page.on('pageerror', (e) => console.error(`[${email}] page error:`, e.message));
    await page.goto(path === '/messages' ? '/login' : `/login?next=${encodeURIComponent(path)}`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((u) => u.pathname === path);
    return page;
  }

  async close(): Promise<void> {
    for (const c of this.contexts) await c.close().catch(() => {});
  }
}

interface WorkerFixtures {
  /** The suite's name (one per file): its worker, server and log folder. */
  suite: string;
  /** Extra environment for the suite's server. */
  serverEnv: Record<string, string>;
  server: SpotterServer;
  api: Api;
  session: Session;
}

interface TestFixtures {
  /** On a failure, the server's logs go into the report next to the trace. */
  serverLogs: void;
}

export const test = base.extend<TestFixtures, WorkerFixtures>({
  suite: ['', { scope: 'worker', option: true }],
  serverEnv: [{}, { scope: 'worker', option: true }],
  server: [
    async ({ suite, serverEnv }, use, workerInfo) => {
      if (!existsSync(SPOTTER_BIN)) throw new Error(`spotter binary not found at ${SPOTTER_BIN} (cargo build -p spotter, or set SPOTTER_BIN)`);
      const logDir = join(workerInfo.project.outputDir, `server-logs-${suite || 'e2e'}-${workerInfo.workerIndex}`);
      mkdirSync(logDir, { recursive: true });
      const server = new SpotterServer({ logDir, env: serverEnv });
      await server.start();
      await use(server);
      await server.stop();
      server.cleanup();
      console.log(`# ${suite} server logs: ${server.logDir}`);
    },
    { scope: 'worker', timeout: 60_000 },
  ],
  api: [async ({ server }, use) => use(new Api(server.url!)), { scope: 'worker' }],
  session: [
    async ({ browser, server }, use) => {
      const session = new Session(browser, server);
      await use(session);
      await session.close();
    },
    { scope: 'worker' },
  ],
  serverLogs: [
    async ({ server }, use, testInfo) => {
      await use();
      if (testInfo.status !== testInfo.expectedStatus) {
        for (const f of readdirSync(server.logDir)) await testInfo.attach(f, { path: join(server.logDir, f), contentType: 'text/plain' });
      }
    },
    { auto: true },
  ],
});

/**
 * Accessibility: axe-core on the page as it is (or on `include`, a CSS selector) finds no
 * `serious` or `critical` violation. The whole report is attached to the test.
 */
export async function expectAccessible(page: Page, what: string, include?: string): Promise<void> {
  let builder = new AxeBuilder({ page });
  if (include) builder = builder.include(include);
  const results = await builder.analyze();
  await test.info().attach(`axe-${what.replace(/[^a-z0-9]+/gi, '-')}.json`, {
    body: JSON.stringify(results.violations, null, 2),
    contentType: 'application/json',
  });
  const bad = results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help}: ${v.nodes.map((n) => `${n.target.join(' ')} (${n.any[0]?.message ?? n.failureSummary})`).join('; ')}`);
  // Soft: the test goes on (and the report lists every page's findings), but it fails.
  expect.soft(bad, `serious or critical accessibility violations on ${what}`).toEqual([]);
}

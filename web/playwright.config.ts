// End-to-end tests: the built dashboard (web/dist) served by a real `spotter serve --demo` (one
// per suite file, started by the `server` fixture in e2e/fixtures.ts), in Debian's Chromium.
// No browser download: `executablePath` is the system's /usr/bin/chromium (apt package
// `chromium`); never `playwright install`. Run from web/: `npx playwright test` (all suites) or
// `npx playwright test e2e/admin.spec.ts` (one); scripts/web-test.sh runs it after the build.
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: './e2e',
  testMatch: '*.spec.ts',
  outputDir: './test-results',
  // Two cores, shared: one browser at a time. Each file runs in order (its cases build on each
  // other) in its own worker, with its own server and data folder.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: !!process.env.CI,
  timeout: 90_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['json', { outputFile: './test-results/results.json' }]],
  use: {
    browserName: 'chromium',
    headless: true,
    locale: 'en-GB',
    timezoneId: 'UTC',
    viewport: { width: 1280, height: 800 },
    actionTimeout: 10_000,
    navigationTimeout: 10_000,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-quic',
        '--no-first-run',
      ],
    },
  },
});

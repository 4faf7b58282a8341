/* Which navigations the service worker answers with the app shell (shell.js). Plain JS, no
 * imports: bundled into /sw.js and unit-tested as a module (routes.test.ts). */

/**
 * Paths of the server itself, never the single-page app: the API, the sockets, the media
 * files, the operations endpoints. The worker leaves them alone (no cache, no fallback), so an
 * offline request to them fails as it would without a worker.
 */
export const SERVER_PATHS = [/^\/api\//, /^\/ws\//, /^\/media\//, /^\/metrics(?:\/|$)/, /^\/healthz(?:\/|$)/, /^\/readyz(?:\/|$)/];

/** Whether a navigation to `url` (same origin) is one of the app's pages. */
export function isAppPage(url) {
  return !SERVER_PATHS.some((re) => re.test(url.pathname));
}

/* Spotter service worker, part 2 of 2: the offline app shell, with Workbox.
 *
 * - The build's shell (index.html, the hashed assets/*, manifest, icons) is precached at
 *   install: vite-plugin-pwa writes the list, with revisions, in place of self.__WB_MANIFEST.
 *   Hashed assets are then served cache-first (their name changes with their content).
 * - Navigations to the app's pages go to the network first, so a new deploy's index.html is
 *   picked up at once; only when the network fails does the precached index.html answer (the
 *   app then runs offline: its outbox keeps what is written, see src/offline/).
 * - The API, sockets, media and operations paths are never cached nor answered from a cache.
 * - A new worker's precache replaces the old one's entries on activate; caches of older Workbox
 *   versions are deleted too.
 */
import { cleanupOutdatedCaches, matchPrecache, precacheAndRoute } from 'workbox-precaching';
import { registerRoute } from 'workbox-routing';
import { isAppPage } from './routes.js';

const SHELL = 'index.html';

// Registered before the precache's route: a navigation to "/" must not be answered cache-first.
registerRoute(
  ({ request, url }) => request.mode === 'navigate' && url.origin === self.location.origin && isAppPage(url),
  async ({ request }) => {
    try {
      return await fetch(request);
    } catch (e) {
      const shell = await matchPrecache(SHELL);
      if (shell) return shell;
      throw e;
    }
  },
);

precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();

/* The service worker's entry (built by vite-plugin-pwa, `injectManifest`, into dist/sw.js,
 * served at /sw.js with scope /): push notifications and the offline app shell. */
import './push.js';
import './shell.js';

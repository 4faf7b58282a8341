/** Types of routes.js (plain JS, bundled into the service worker). */
export declare const SERVER_PATHS: RegExp[];
export declare function isAppPage(url: URL): boolean;

// Which navigations the service worker answers with the app shell when the network fails.
import { describe, expect, it } from 'vitest';
import { isAppPage } from './routes.js';

const at = (path: string) => new URL(path, 'https://spotter.example');

describe('service worker: app pages', () => {
  it("the app's own routes get the shell", () => {
    for (const p of ['/', '/login', '/messages', '/messages/7?message=12', '/trainees/3', '/admin/audit-log', '/access-log', '/metricsboard'])
      expect(isAppPage(at(p)), p).toBe(true);
  });

  it('the API, sockets, media and operations endpoints never do (no cache, no fallback)', () => {
    for (const p of ['/api/auth/users/me/', '/api/openapi.json', '/ws/messaging/', '/media/photos/a.jpg', '/metrics', '/healthz', '/readyz'])
      expect(isAppPage(at(p)), p).toBe(false);
  });
});

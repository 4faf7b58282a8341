/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { VitePWA } from 'vite-plugin-pwa';

// `npm run dev` proxies the API and sockets to a running `spotter serve`
// (SPOTTER_URL, default http://127.0.0.1:8000).
const backend = process.env.SPOTTER_URL ?? 'http://127.0.0.1:8000';

export default defineConfig({
  plugins: [
    react(),
    // The service worker (src/sw/sw.js -> dist/sw.js): our own push code plus Workbox's
    // precache of this build's shell, its list injected at build time (`injectManifest`). The
    // manifest stays the hand-written public/manifest.webmanifest, and src/push/push.ts
    // registers the worker (for push too), so the plugin adds neither.
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src/sw',
      filename: 'sw.js',
      injectRegister: false,
      manifest: false,
      injectManifest: {
        globPatterns: ['**/*.{js,css,html,svg,png,webmanifest}'],
        // One classic script (push.ts registers it without `type: 'module'`).
        rollupFormat: 'iife',
      },
    }),
  ],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 400,
  },
  server: {
    proxy: {
      '/api': backend,
      '/ws': { target: backend, ws: true },
    },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test/setup.ts'],
    restoreMocks: true,
  },
});

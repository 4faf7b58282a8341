// ESLint (flat config): `npm run lint`, zero warnings allowed; run by scripts/web-test.sh.
// - src/: typescript-eslint's type-aware recommended rules, and eslint-plugin-react-hooks'
//   recommended set (the rules of hooks, exhaustive deps, and the React Compiler rules: no
//   refs read in render, no setState straight in an effect body, purity, immutability).
// - the end-to-end suite (TypeScript): typescript-eslint's recommended rules.
// - the service worker and the build config: plain JavaScript rules.
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig([
  globalIgnores(['dist/', 'node_modules/']),
  {
    files: ['src/**/*.{ts,tsx}'],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked, reactHooks.configs.flat.recommended],
    languageOptions: {
      globals: globals.browser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // `void promise` marks a promise deliberately not awaited (event handlers, effects).
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: true }],
      // React event props take async handlers; a rejected promise there is handled inside.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The message log keeps the reader's place: whether a new message counts as unseen (a
    // "new messages" pill) or scrolls into view depends on the scroll position, which only
    // exists after layout. Measuring in useLayoutEffect and then setting state is the case
    // React documents for it, so this one rule does not apply to this file.
    files: ['src/components/MessageList.tsx'],
    rules: { 'react-hooks/set-state-in-effect': 'off' },
  },
  {
    // Tests: vitest's mocks are loosely typed on purpose (fake fetch, fake sockets).
    files: ['src/**/*.test.{ts,tsx}', 'src/test/**'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/unbound-method': 'off',
      // Fakes keep the async signature of what they stand in for, with nothing to await.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // The service worker test runs src/sw/push.js's source against a fake global scope.
    files: ['src/push/sw.test.ts'],
    rules: { '@typescript-eslint/no-implied-eval': 'off' },
  },
  {
    files: ['vite.config.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    languageOptions: { globals: globals.node },
  },
  {
    // The service worker (src/sw/, bundled into dist/sw.js by vite-plugin-pwa).
    files: ['public/**/*.js', 'src/sw/**/*.js'],
    extends: [js.configs.recommended],
    languageOptions: { globals: globals.serviceworker },
  },
  {
    // The end-to-end suite (Playwright, TypeScript): typescript-eslint's recommended rules;
    // `tsc` type-checks it (npm run typecheck).
    files: ['e2e/**/*.ts', 'playwright.config.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['e2e/**/*.{js,mjs}', 'eslint.config.js'],
    extends: [js.configs.recommended],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
]);

import { defineConfig } from 'vite';

// Preact through the automatic JSX runtime; no framework plugin needed.
// The gateway serves dist/ under a strict CSP (default-src 'self'), so the
// build must not inject inline scripts: the modulepreload polyfill is off.
export default defineConfig({
  oxc: {
    jsx: { runtime: 'automatic', importSource: 'preact' },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
});

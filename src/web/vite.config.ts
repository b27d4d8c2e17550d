import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

/**
 * The console is served by the daemon under a strict Content-Security-Policy (script-src 'self', style-src 'self'),
 * so the build must emit only files: no inlined scripts or styles, and nothing fetched from the internet.
 * SW_WEB_OUT lets a developer build elsewhere (dist-web/web) without touching the real dist/web.
 */
export default defineConfig({
  root: here('.'),
  base: '/',
  plugins: [preact()],
  build: {
    outDir: process.env['SW_WEB_OUT'] ?? here('../../dist/web'),
    emptyOutDir: true,
    assetsDir: 'assets',
    // Inlined assets would become data: URIs inside CSS or JS; keep every asset a file the daemon serves itself.
    assetsInlineLimit: 0,
    // The module-preload polyfill is injected as code; modern Chromium, Firefox and Safari do not need it.
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: 'es2020',
  },
});

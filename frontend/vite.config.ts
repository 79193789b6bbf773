// Builds the dashboard, the widget frame and the sign-in callback page into
// dist/, which the Go package in this folder embeds. The widget loader
// (dist/widget.js, a classic script for other sites) is built by
// vite.loader.config.ts after this.
import { defineConfig } from 'vite';

// `npm run dev` serves the pages with hot reload and forwards everything
// else to a Switchboard on :8080 (`go run ./cmd/switchboard`).
const backend = process.env.SWITCHBOARD_URL || 'http://127.0.0.1:8080';

export default defineConfig({
  base: '/',
  publicDir: 'public',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact', legalComments: 'none' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // The Content-Security-Policy allows scripts from files only.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    rollupOptions: {
      input: {
        dashboard: 'dashboard/index.html',
        widget: 'widget/index.html',
        callback: 'widget/callback.html',
      },
      output: {
        // The charts (reports only) stay out of what the widget loads.
        manualChunks: (id) =>
          id.includes('/node_modules/uplot/')
            ? 'charts'
            : id.includes('/node_modules/')
              ? 'vendor'
              : id.includes('/src/shared/')
                ? 'shared'
                : undefined,
      },
    },
  },
  server: {
    proxy: Object.fromEntries(
      ['/socket.io', '/api', '/oidc', '/frontend-config.json', '/widget.js'].map((p) => [p, { target: backend, ws: p === '/socket.io' }]),
    ),
  },
});

// Builds dist/widget.js: the one classic <script> a site embeds. It must not
// be a module (sites paste it anywhere) and must not share chunks with the
// pages, so it is a library build of its own, run after vite.config.ts.
import { defineConfig } from 'vite';

export default defineConfig({
  publicDir: false,
  esbuild: { legalComments: 'none' },
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    target: 'es2018',
    sourcemap: false,
    lib: {
      entry: 'src/loader/widget-loader.ts',
      formats: ['iife'],
      name: 'SwitchboardWidget',
      fileName: () => 'widget.js',
    },
  },
});

// Bundles the TypeScript host into dist/ with esbuild: dist/index.js (the embedding API),
// dist/cli.js (the `wasmloop` command) and dist/worker.js (a worker thread of a pool).
// Runtime dependencies stay external.
import { build } from 'esbuild';

await build({
  entryPoints: { index: 'host/index.ts', cli: 'host/cli.ts', worker: 'host/driver/worker.ts' },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});

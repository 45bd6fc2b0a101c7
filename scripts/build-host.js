// Bundles the TypeScript host into dist/ with esbuild: dist/index.js (the embedding API),
// dist/cli.js (the `wasmloop` command), dist/worker.js (a worker thread of a pool),
// dist/command-worker.js (the thread of an embedded WASI command: runCommand) and
// dist/testing.js (`wasmloop/testing`, a guest over the simulated kernel).
// Runtime dependencies stay external. The package's .d.ts types are emitted next, by
// `tsc -p tsconfig.types.json` into dist/types (npm run build:host); the old ones are removed
// here so that a moved or deleted source leaves no stale declaration behind.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

rmSync('dist/types', { recursive: true, force: true });

await build({
  entryPoints: {
    index: 'host/index.ts',
    cli: 'host/cli.ts',
    worker: 'host/driver/worker.ts',
    'command-worker': 'host/command/worker.ts',
    testing: 'host/testing.ts',
  },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});

#!/usr/bin/env node
// The package's install script. npm runs it only where install scripts are allowed (npm 11 asks
// the user first), so the package must work without it: host/kernel/native.ts loads the
// prebuilt binary shipped in prebuilds/PLATFORM-ARCH/ (prebuildify's layout). This script only
// decides whether that is enough: a prebuilt binary that loads here is used as it is;
// otherwise (another platform, an older glibc) the shim is built from source with node-gyp
// into build/Release, which the loader tries first.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const prebuilt = `../prebuilds/${process.platform}-${process.arch}/node.napi.node`;
try {
  createRequire(import.meta.url)(prebuilt);
  process.exit(0);
} catch {
  // No usable prebuilt binary: build from source.
}
const r = spawnSync('node-gyp', ['configure', 'build'], { stdio: 'inherit' });
process.exit(r.status ?? 1);

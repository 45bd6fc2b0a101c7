// Puts the native shim where the package ships it: prebuilds/PLATFORM-ARCH/node.napi.node, the
// layout of prebuildify and node-gyp-build (host/kernel/native.ts loads it when there is no
// build/Release beside it, as in an installed package). This machine's build/Release binary is
// copied (`npm run build` does it, after the install script or `npm run build:native` built it).
// With --cross (npm pack and publish run it as `prepack`), linux-arm64 is cross-compiled too
// when Debian's cross-compiler is installed (apt-get install gcc-aarch64-linux-gnu); without
// it, the package ships linux-x64 only, and arm64 installs build from source.
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BUILT = 'build/Release/wasmloop.node';

function place(binary, platformArch) {
  mkdirSync(`prebuilds/${platformArch}`, { recursive: true });
  copyFileSync(binary, `prebuilds/${platformArch}/node.napi.node`);
}

/** Cross-compiles the shim for linux-arm64 in a scratch copy (build/ stays this machine's). */
function crossArm64() {
  const dir = mkdtempSync(join(tmpdir(), 'wasmloop-arm64-'));
  try {
    cpSync('binding.gyp', join(dir, 'binding.gyp'));
    cpSync('host/native', join(dir, 'host/native'), { recursive: true });
    const cc = 'aarch64-linux-gnu-gcc';
    const env = { ...process.env, CC: cc, CXX: cc, LINK: cc, AR: 'aarch64-linux-gnu-ar' };
    // npm names its own node-gyp to the scripts it runs; node-gyp on PATH otherwise.
    const gyp = process.env.npm_config_node_gyp;
    const [cmd, args] = gyp ? [process.execPath, [gyp]] : ['node-gyp', []];
    const r = spawnSync(cmd, [...args, 'configure', 'build', '--arch=arm64'], {
      cwd: dir,
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (r.status !== 0) throw new Error('prebuild: the linux-arm64 cross build failed');
    place(join(dir, BUILT), 'linux-arm64');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const here = `${process.platform}-${process.arch}`;
if (existsSync(BUILT)) {
  place(BUILT, here);
} else if (!existsSync(`prebuilds/${here}/node.napi.node`)) {
  console.error(`prebuild: no ${BUILT} and no prebuilt binary for ${here} (npm run build:native)`);
  process.exit(1);
}
if (process.argv.includes('--cross') && process.arch === 'x64') {
  const found = spawnSync('aarch64-linux-gnu-gcc', ['--version'], { stdio: 'ignore' });
  if (found.status === 0) crossArm64();
  else console.warn('prebuild: no aarch64-linux-gnu-gcc: linux-arm64 is not prebuilt');
}

/**
 * Handles and fds are distinct branded types (host/guest/handles.ts `Handle`,
 * host/kernel/contract.ts `Fd`): test/types/brands.ts holds the mixes the compiler must refuse,
 * each marked `@ts-expect-error`, and is type-checked here on its own (it is also part of
 * `tsc --noEmit`). The brands exist only at compile time: a handle is the same number at run time.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HandleTable, Kind } from '../host/guest/handles.ts';
import type { Fd } from '../host/kernel/contract.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

test('the compiler refuses a handle where an fd belongs, and the reverse', () => {
  const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
  const r = spawnSync(
    process.execPath,
    [
      tsc,
      '--noEmit',
      '--strict',
      '--target',
      'ES2022',
      '--module',
      'NodeNext',
      '--moduleResolution',
      'NodeNext',
      '--allowImportingTsExtensions',
      '--verbatimModuleSyntax',
      '--skipLibCheck',
      '--types',
      'node',
      'test/types/brands.ts',
    ],
    { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
  );
  assert.is(
    r.stdout + r.stderr,
    '',
    'every mix in test/types/brands.ts is an error, and nothing else is',
  );
  assert.is(r.status, 0);
});

test('a branded handle is a plain number at run time', () => {
  const t = new HandleTable({ maxConnections: 4, listeners: 1 });
  const h = t.add(42 as Fd, Kind.Listener);
  assert.type(h, 'number');
  assert.is(t.fd(h, Kind.Listener), 42);
});

test.run();

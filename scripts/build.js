#!/usr/bin/env node
// `npm run build`: the native addon (./genesys-tenants.<triple>.node, with the generated index.js and
// index.d.ts) and the emulator (./genesys-emulator), both release builds, stripped.
//
// On linux-x64-gnu the build goes through cargo-zigbuild against glibc 2.17 (napi-rs's baseline: the
// binaries then load on Amazon Linux 2, RHEL 8, Ubuntu 20.04, Debian 10…) when cargo-zigbuild and zig are
// found: in target/tools (where scripts/prepare.js puts them, `pip install ziglang cargo-zigbuild`) or on
// PATH. Otherwise it is a plain cargo build against this machine's glibc, and says so.
// `GENESYS_TENANTS_ZIG=0` forces the plain build. What was built is recorded in target/build-info.json
// (read by the baseline test and the packaging script).
//
// `--if-missing` (the `prepare` script, which npm runs for git installs): build only when a binary is
// missing, and say plainly what is needed when the toolchain is not there.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { platformTriple } = require('../lib/platform.js');

const root = path.resolve(__dirname, '..');
const pkg = require('../package.json');
const triple = platformTriple();
const exe = process.platform === 'win32' ? 'genesys-emulator.exe' : 'genesys-emulator';
const addon = path.join(root, `${pkg.napi.binaryName}.${triple}.node`);
const emulator = path.join(root, exe);
const GLIBC_BASELINE = '2.17';
const RUST_TARGET = 'x86_64-unknown-linux-gnu';

function has(cmd, args = ['--version'], env = process.env) {
  const r = spawnSync(cmd, args, { stdio: 'ignore', env });
  return !r.error && r.status === 0;
}

/** cargo-zigbuild and zig, from target/tools or PATH, as the environment to run them in; or null. */
function zigToolchain() {
  if (process.env.GENESYS_TENANTS_ZIG === '0' || triple !== 'linux-x64-gnu') return null;
  const tools = path.join(root, 'target', 'tools');
  const env = { ...process.env };
  if (fs.existsSync(path.join(tools, 'bin', 'cargo-zigbuild'))) {
    env.PATH = `${path.join(tools, 'bin')}${path.delimiter}${env.PATH}`;
  }
  const bundledZig = path.join(tools, 'ziglang', 'zig');
  if (!env.CARGO_ZIGBUILD_ZIG_PATH && fs.existsSync(bundledZig)) env.CARGO_ZIGBUILD_ZIG_PATH = bundledZig;
  const zigFound = env.CARGO_ZIGBUILD_ZIG_PATH ? fs.existsSync(env.CARGO_ZIGBUILD_ZIG_PATH) : has('zig', ['version'], env);
  if (!zigFound || !has('cargo-zigbuild', ['--version'], env)) return null;
  return env;
}

function cCompiler() {
  if (process.env.CC) return process.env.CC;
  return ['cc', 'gcc', 'clang'].find((c) => has(c)) || null;
}

/** What is missing to build from source, in words, or null. */
function missingToolchain(zig) {
  const missing = [];
  if (!has('cargo')) missing.push('Rust (cargo): install it from https://rustup.rs (Rust 1.85 or newer)');
  if (!zig && !cCompiler()) {
    missing.push('a C compiler (the TLS library, ring, compiles C): e.g. `apt-get install build-essential`, `dnf install gcc`, or Xcode command-line tools');
  }
  return missing.length ? missing : null;
}

function run(cmd, args, env) {
  console.error(`> ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  if (r.error) fail(`could not run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) fail(`'${cmd} ${args.join(' ')}' exited with ${r.status}`);
}

function fail(message) {
  console.error(`genesys-tenants build: ${message}`);
  process.exit(1);
}

function napiCli() {
  try {
    // The package's `bin` (exports hide dist/ from require.resolve).
    const dir = path.dirname(require.resolve('@napi-rs/cli/package.json', { paths: [root] }));
    return path.join(dir, require(path.join(dir, 'package.json')).bin.napi);
  } catch {
    return fail('the napi-rs CLI (@napi-rs/cli, a devDependency) is not installed: run `npm install` first');
  }
}

function main() {
  const ifMissing = process.argv.includes('--if-missing');
  if (ifMissing && fs.existsSync(addon) && fs.existsSync(emulator) && fs.existsSync(path.join(root, 'index.js'))) return;
  const zig = zigToolchain();
  const missing = missingToolchain(zig);
  if (missing) {
    fail(
      `no prebuilt binary for ${triple} is here, and building one from source needs:\n  - ${missing.join('\n  - ')}\n` +
        `Then run \`npm install\` (or \`npm run build\`) again. Installing from the npm registry instead needs no toolchain: the binary comes in ${pkg.name}-${triple}.`,
    );
  }
  const napi = [napiCli(), 'build', '--platform', '--release', '--js', 'index.js', '--dts', 'index.d.ts'];
  if (zig) {
    run(process.execPath, [...napi, '--cross-compile', '--target', `${RUST_TARGET}.${GLIBC_BASELINE}`], zig);
    run('cargo', ['zigbuild', '--release', '--target', `${RUST_TARGET}.${GLIBC_BASELINE}`, '-p', 'genesys-emulator', '--bin', 'genesys-emulator'], zig);
    copy(path.join(root, 'target', RUST_TARGET, 'release', exe), emulator);
  } else {
    if (triple === 'linux-x64-gnu' && process.env.GENESYS_TENANTS_ZIG !== '0') {
      console.error(
        `genesys-tenants build: cargo-zigbuild/zig not found, so this build links against this machine's glibc, not ${GLIBC_BASELINE} (fine for local use; a release needs \`pip install ziglang cargo-zigbuild\`).`,
      );
    }
    run(process.execPath, napi);
    run('cargo', ['build', '--release', '-p', 'genesys-emulator', '--bin', 'genesys-emulator']);
    copy(path.join(root, 'target', 'release', exe), emulator);
  }
  const info = { triple, toolchain: zig ? 'cargo-zigbuild' : 'cargo', glibcBaseline: zig ? GLIBC_BASELINE : null, addon: path.basename(addon), emulator: exe };
  fs.mkdirSync(path.join(root, 'target'), { recursive: true });
  fs.writeFileSync(path.join(root, 'target', 'build-info.json'), `${JSON.stringify(info, null, 2)}\n`);
}

function copy(from, to) {
  // Copy to a temp name and rename, so a running emulator's file is never rewritten in place.
  const tmp = `${to}.tmp-${process.pid}`;
  fs.copyFileSync(from, tmp);
  fs.chmodSync(tmp, 0o755);
  fs.renameSync(tmp, to);
}

main();

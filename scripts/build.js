#!/usr/bin/env node
// `npm run build`: the native addon (./genesys-tenants.<platform>.node, with the generated index.js and
// index.d.ts) and the emulator (./genesys-emulator), both release builds, stripped, for this machine.
//
// On Linux the build goes through cargo-zigbuild, against glibc 2.17 (napi-rs's baseline: the binaries then
// load on Amazon Linux 2, RHEL 8, Ubuntu 20.04, Debian 10…) or musl. The build provisions that toolchain
// itself (scripts/toolchain.js: `pip install ziglang cargo-zigbuild` into target/tools, pinned). When it
// cannot (no pip, offline, or GENESYS_TENANTS_ZIG=0) it makes a plain cargo build against this machine's C
// library, says so in capitals, and records it: such a build is LOCAL-ONLY and `npm run package` refuses it.
//
// Every build writes what it made to target/dist/<platform>/ (the two binaries and build-info.json: the
// toolchain, the glibc baseline, the git commit and whether the Rust sources differed from it, each file's
// sha256), which is what `npm run package` packs; target/build-info.json is the same record for this
// machine's build.
//
//   --if-missing            (the `prepare` script, run by npm for git installs) build only when a binary is
//                           missing, and say plainly what is needed when the toolchain is not there.
//   --target <p>[,<p>…]     cross-build these Linux platforms (linux-x64-gnu, linux-arm64-gnu, linux-x64-musl,
//   --linux                 linux-arm64-musl; --linux is all four) into target/dist/<platform>/, in their own
//                           cargo target directory (target/cross) so a long cross build does not hold the
//                           lock on target/ that everyday builds and tests take.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { platformTriple } = require('../lib/platform.js');
const toolchain = require('./toolchain.js');

const root = path.resolve(__dirname, '..');
const pkg = require('../package.json');
const host = platformTriple();
const exeName = (platform) => (platform.startsWith('win32-') ? 'genesys-emulator.exe' : 'genesys-emulator');
const addonName = (platform) => `${pkg.napi.binaryName}.${platform}.node`;
const distDir = (platform) => path.join(root, 'target', 'dist', platform);

function has(cmd, args = ['--version'], env = process.env) {
  const r = spawnSync(cmd, args, { stdio: 'ignore', env });
  return !r.error && r.status === 0;
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

function run(cmd, args, env = process.env) {
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

function copy(from, to) {
  // Copy to a temp name and rename, so a running emulator's file is never rewritten in place.
  fs.mkdirSync(path.dirname(to), { recursive: true });
  const tmp = `${to}.tmp-${process.pid}`;
  fs.copyFileSync(from, tmp);
  fs.chmodSync(tmp, 0o755);
  fs.renameSync(tmp, to);
}

/** Where cargo puts this machine's build: target/, or CARGO_TARGET_DIR when set. */
function cargoTargetDir() {
  return process.env.CARGO_TARGET_DIR ? path.resolve(root, process.env.CARGO_TARGET_DIR) : path.join(root, 'target');
}

/** The zig toolchain for a Linux build: provisioned when missing; null (with why) when it cannot be had. */
function zigFor(platform) {
  if (!platform.startsWith('linux-')) return { env: null, why: null };
  if (process.env.GENESYS_TENANTS_ZIG === '0') return { env: null, why: 'GENESYS_TENANTS_ZIG=0' };
  let env = toolchain.zigEnv();
  if (!env) {
    const why = toolchain.provisionZig();
    if (why) return { env: null, why };
    env = toolchain.zigEnv();
  }
  return env ? { env, why: null } : { env: null, why: 'cargo-zigbuild/zig were installed but do not run' };
}

/**
 * The build environment for `spec`'s target. A Node addon on musl is a shared library, which Rust's musl targets
 * only make without a static C runtime (-crt-static). The emulator is built with the same flags (one compile of
 * the shared dependencies); zig still links that executable static-pie, so it runs on any Linux of its machine.
 */
function withLibcFlags(spec, env) {
  if (spec.libc !== 'musl') return env;
  return { ...env, [`CARGO_TARGET_${spec.rust.toUpperCase().replace(/-/g, '_')}_RUSTFLAGS`]: '-C target-feature=-crt-static' };
}

/** Writes target/dist/<platform>/build-info.json for the files just copied there; returns the record. */
function record(platform, fields, before) {
  const { sha256 } = require('./binary-check.js');
  // Dirty when the Rust sources differed from the commit at the start or at the end of the build, or HEAD moved.
  const after = toolchain.gitState();
  const git = before && after ? { commit: before.commit, dirty: before.dirty || after.dirty || before.commit !== after.commit } : null;
  const files = {};
  for (const f of [addonName(platform), exeName(platform)]) files[f] = sha256(path.join(distDir(platform), f));
  const info = {
    platform,
    triple: platform,
    rustTarget: toolchain.PLATFORMS[platform]?.rust ?? null,
    ...fields,
    commit: git ? git.commit : null,
    dirty: git ? git.dirty : null,
    builtAt: new Date().toISOString(),
    addon: addonName(platform),
    emulator: exeName(platform),
    files,
  };
  fs.writeFileSync(path.join(distDir(platform), 'build-info.json'), `${JSON.stringify(info, null, 2)}\n`);
  return info;
}

/** This machine's build: binaries at the top of the checkout (where the loader and tests look) and in dist. */
function buildHost(ifMissing) {
  const addon = path.join(root, addonName(host));
  const emulator = path.join(root, exeName(host));
  if (ifMissing && fs.existsSync(addon) && fs.existsSync(emulator) && fs.existsSync(path.join(root, 'index.js'))) return;
  // A git install's `prepare` provisions nothing unasked-for when cargo is missing: say what to install first.
  const early = missingToolchain(process.env.GENESYS_TENANTS_ZIG === '0' ? null : toolchain.zigEnv());
  if (early && early.some((m) => m.startsWith('Rust'))) failMissing(early);
  const spec = toolchain.PLATFORMS[host];
  const { env: found, why } = spec ? zigFor(host) : { env: null, why: `${host} is not a platform this package releases` };
  const zig = found && withLibcFlags(spec, found);
  const missing = missingToolchain(zig);
  if (missing) failMissing(missing);
  const before = toolchain.gitState();
  const napi = [napiCli(), 'build', '--platform', '--release', '--js', 'index.js', '--dts', 'index.d.ts'];
  let fields;
  if (zig && spec) {
    run(process.execPath, [...napi, '--cross-compile', '--target', spec.zig], zig);
    run('cargo', ['zigbuild', '--release', '--target', spec.zig, '-p', 'genesys-emulator', '--bin', 'genesys-emulator'], zig);
    copy(path.join(cargoTargetDir(), spec.rust, 'release', exeName(host)), emulator);
    fields = { toolchain: 'cargo-zigbuild', ...toolchain.zigVersions(zig), libc: spec.libc, glibcBaseline: spec.libc === 'glibc' ? toolchain.GLIBC_BASELINE : null, release: true };
  } else {
    if (host.startsWith('linux-')) {
      console.error(
        `genesys-tenants build: LOCAL-ONLY BUILD. cargo-zigbuild/zig are not available (${why}), so these binaries link against this machine's C library${host.endsWith('-gnu') ? `, not glibc ${toolchain.GLIBC_BASELINE}` : ''}: fine on this machine, and \`npm run package\` will refuse them. A release build needs \`python3 -m pip\` (the build installs ziglang and cargo-zigbuild into target/tools itself).`,
      );
    }
    run(process.execPath, napi);
    run('cargo', ['build', '--release', '-p', 'genesys-emulator', '--bin', 'genesys-emulator']);
    copy(path.join(cargoTargetDir(), 'release', exeName(host)), emulator);
    // On macOS and Windows the native cargo build is the release toolchain (there is no C library to pin).
    const native = !host.startsWith('linux-');
    fields = { toolchain: 'cargo', libc: spec?.libc ?? null, glibcBaseline: null, release: native, ...(native ? {} : { localOnly: why }) };
  }
  copy(addon, path.join(distDir(host), addonName(host)));
  copy(emulator, path.join(distDir(host), exeName(host)));
  const info = record(host, fields, before);
  fs.writeFileSync(path.join(root, 'target', 'build-info.json'), `${JSON.stringify(info, null, 2)}\n`);
}

function failMissing(missing) {
  fail(
    `no prebuilt binary for ${host} is here, and building one from source needs:\n  - ${missing.join('\n  - ')}\n` +
      `Then run \`npm install\` (or \`npm run build\`) again. Installing from the npm registry instead needs no toolchain: the binary comes in ${pkg.name}-${host}.`,
  );
}

/** A Linux platform cross-built with cargo-zigbuild into target/dist/<platform>/ (never touches ./). */
function buildCross(platform) {
  const spec = toolchain.PLATFORMS[platform];
  if (!spec || !spec.crossHere) fail(`${platform} is not cross-built here (these are: ${toolchain.LINUX.join(', ')})`);
  if (platform === host) return buildHost(false);
  const { env, why } = zigFor(platform);
  if (!env) fail(`cross-building ${platform} needs cargo-zigbuild and zig: ${why}`);
  const targetsWhy = toolchain.ensureRustTargets([spec.rust]);
  if (targetsWhy) fail(targetsWhy);
  const targetDir = process.env.CARGO_TARGET_DIR || path.join(root, 'target', 'cross');
  const before = toolchain.gitState();
  run('cargo', ['zigbuild', '--release', '--target', spec.zig, '--target-dir', targetDir, '-p', 'genesys-tenants', '-p', 'genesys-emulator'], withLibcFlags(spec, env));
  const emulatorOut = path.join(targetDir, spec.rust, 'release', exeName(platform));
  copy(path.join(targetDir, spec.rust, 'release', 'libgenesys_tenants.so'), path.join(distDir(platform), addonName(platform)));
  copy(emulatorOut, path.join(distDir(platform), exeName(platform)));
  const info = record(platform, {
    toolchain: 'cargo-zigbuild',
    ...toolchain.zigVersions(env),
    libc: spec.libc,
    glibcBaseline: spec.libc === 'glibc' ? toolchain.GLIBC_BASELINE : null,
    release: true,
  }, before);
  console.error(`genesys-tenants build: ${platform} in target/dist/${platform}/ (${Object.keys(info.files).join(', ')})`);
}

function main() {
  const args = process.argv.slice(2);
  const at = args.indexOf('--target');
  const targets = args.includes('--linux') ? toolchain.LINUX : at >= 0 ? (args[at + 1] || '').split(',').filter(Boolean) : null;
  if (at >= 0 && !targets.length) fail('--target needs a platform, e.g. --target linux-arm64-gnu');
  if (!targets) return buildHost(args.includes('--if-missing'));
  for (const platform of targets) buildCross(platform);
}

main();

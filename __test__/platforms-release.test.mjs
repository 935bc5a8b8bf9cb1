// The release path cannot ship the wrong binary (issue 24): `npm run build` provisions the zig toolchain
// itself or says it made a LOCAL-ONLY build and records that; `npm run package` refuses any binary whose
// build record is not the release toolchain at this commit, or whose file, measured, needs more than glibc
// 2.17 (gnu), links glibc at all (musl), is for another machine or is not stripped; the main package's
// optionalDependencies are exactly the platforms packed; npm/<platform> declares os/cpu/libc right.
// Build behaviour is exercised in a sandbox with stub cargo/napi/pip/zig (no compile); packaging on copies of
// this machine's real build with tampered records.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, mkdtempSync, mkdirSync, cpSync, writeFileSync, chmodSync, rmSync, symlinkSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { root } from './helpers.mjs';

const require = createRequire(import.meta.url);
const { PLATFORMS, LINUX } = require('../scripts/toolchain.js');
const { problems, sha256, inspect } = require('../scripts/binary-check.js');
const { platformTriple } = require('../lib/platform.js');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const host = platformTriple();
const hostDist = path.join(root, 'target', 'dist', host);
const hostBuilt = existsSync(path.join(hostDist, 'build-info.json'));

let scratch;
before(() => {
  scratch = mkdtempSync(path.join(tmpdir(), 'gt-release-'));
});
after(() => rmSync(scratch, { recursive: true, force: true }));

test('npm/<platform>: one package per platform shipped, os/cpu/libc as npm matches them, files = addon + emulator', () => {
  assert.deepEqual(readdirSync(path.join(root, 'npm')).sort(), Object.keys(PLATFORMS).sort());
  assert.deepEqual([...pkg.napi.targets].sort(), Object.values(PLATFORMS).map((p) => p.rust).sort());
  const cpu = { x64: 'x64', arm64: 'arm64' };
  for (const [platform, spec] of Object.entries(PLATFORMS)) {
    const p = JSON.parse(readFileSync(path.join(root, 'npm', platform, 'package.json'), 'utf8'));
    const [os, arch] = platform.split('-');
    assert.equal(p.name, `${pkg.name}-${platform}`);
    assert.equal(p.version, pkg.version);
    assert.deepEqual(p.os, [os], platform);
    assert.deepEqual(p.cpu, [cpu[arch]], platform);
    if (spec.libc) assert.deepEqual(p.libc, [spec.libc], platform);
    else assert.equal(p.libc, undefined, platform);
    const exe = os === 'win32' ? 'genesys-emulator.exe' : 'genesys-emulator';
    assert.deepEqual(p.files, [`${pkg.napi.binaryName}.${platform}.node`, exe], platform);
    assert.equal(p.main, p.files[0]);
  }
  assert.deepEqual(LINUX, ['linux-x64-gnu', 'linux-arm64-gnu', 'linux-x64-musl', 'linux-arm64-musl']);
});

// ---- npm run build, in a sandbox: the real scripts, stub tools that record how they were called ----

/** A checkout-shaped directory with the build scripts, stub cargo/napi/cc (and optionally pip), and a PATH of only those. */
function sandbox({ zigTools = false, pip = false } = {}) {
  const dir = mkdtempSync(path.join(scratch, 'build-'));
  for (const f of ['scripts/build.js', 'scripts/toolchain.js', 'scripts/binary-check.js', 'lib/platform.js', 'package.json']) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    cpSync(path.join(root, f), path.join(dir, f));
  }
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  const stub = (file, body) => {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `#!/bin/sh\n${body}\n`);
    chmodSync(file, 0o755);
  };
  // cargo: record the call; a build writes the emulator where cargo would.
  stub(
    path.join(bin, 'cargo'),
    `echo "cargo $*" >> "${dir}/calls.log"
case "$*" in
  *"zigbuild"*) /bin/mkdir -p target/x86_64-unknown-linux-gnu/release && echo zig-emulator > target/x86_64-unknown-linux-gnu/release/genesys-emulator ;;
  *"build --release"*) /bin/mkdir -p target/release && echo plain-emulator > target/release/genesys-emulator ;;
esac
exit 0`,
  );
  stub(path.join(bin, 'cc'), 'exit 0');
  // The napi CLI: records its arguments, writes the addon and the loader.
  const napiDir = path.join(dir, 'node_modules', '@napi-rs', 'cli');
  mkdirSync(napiDir, { recursive: true });
  writeFileSync(path.join(napiDir, 'package.json'), JSON.stringify({ name: '@napi-rs/cli', bin: { napi: 'cli.js' } }));
  writeFileSync(
    path.join(napiDir, 'cli.js'),
    `const fs = require('fs'); fs.appendFileSync(${JSON.stringify(path.join(dir, 'calls.log'))}, 'napi ' + process.argv.slice(2).join(' ') + '\\n');
fs.writeFileSync('${pkg.napi.binaryName}.${host}.node', process.argv.includes('--cross-compile') ? 'zig-addon' : 'plain-addon');
fs.writeFileSync('index.js', ''); fs.writeFileSync('index.d.ts', '');`,
  );
  const zigStubs = (at) => {
    stub(path.join(at, 'bin', 'cargo-zigbuild'), 'echo "cargo-zigbuild 0.24.1"');
    stub(path.join(at, 'ziglang', 'zig'), 'echo 0.17.1');
  };
  if (zigTools) zigStubs(path.join(dir, 'target', 'tools'));
  if (pip) {
    // python3 -m pip: `--version` answers; `install --target <dir>` puts stub zig tools there, as pip would.
    stub(
      path.join(bin, 'python3'),
      `echo "python3 $*" >> "${dir}/calls.log"
[ "$3" = "--version" ] && exit 0
while [ $# -gt 0 ]; do if [ "$1" = "--target" ]; then t="$2"; fi; shift; done
/bin/mkdir -p "$t/bin" "$t/ziglang"
printf '#!/bin/sh\\necho "cargo-zigbuild 0.24.1"\\n' > "$t/bin/cargo-zigbuild"; /bin/chmod +x "$t/bin/cargo-zigbuild"
printf '#!/bin/sh\\necho 0.17.1\\n' > "$t/ziglang/zig"; /bin/chmod +x "$t/ziglang/zig"`,
    );
  }
  symlinkSync(process.execPath, path.join(bin, 'node'));
  return dir;
}

function build(dir, env = {}) {
  const r = spawnSync(process.execPath, ['scripts/build.js'], { cwd: dir, env: { PATH: path.join(dir, 'bin'), HOME: dir, ...env }, encoding: 'utf8', timeout: 60_000 });
  const calls = existsSync(path.join(dir, 'calls.log')) ? readFileSync(path.join(dir, 'calls.log'), 'utf8') : '';
  const info = existsSync(path.join(dir, 'target', 'build-info.json')) ? JSON.parse(readFileSync(path.join(dir, 'target', 'build-info.json'), 'utf8')) : null;
  return { ...r, calls, info };
}

test('npm run build on a fresh checkout provisions cargo-zigbuild and zig with pip itself, then builds against glibc 2.17', (t) => {
  if (host !== 'linux-x64-gnu') return t.skip(`the zig build applies to Linux; this is ${host}`);
  const dir = sandbox({ pip: true });
  const r = build(dir);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.calls, /python3 -m pip install .*--target \S+target\/tools ziglang==0\.17\.1 cargo-zigbuild==0\.24\.1/);
  assert.match(r.calls, /napi build --platform --release --js index\.js --dts index\.d\.ts --cross-compile --target x86_64-unknown-linux-gnu\.2\.17/);
  assert.match(r.calls, /cargo zigbuild --release --target x86_64-unknown-linux-gnu\.2\.17 -p genesys-emulator --bin genesys-emulator/);
  assert.doesNotMatch(r.stderr, /LOCAL-ONLY/);
  assert.equal(r.info.release, true);
  assert.equal(r.info.toolchain, 'cargo-zigbuild');
  assert.equal(r.info.glibcBaseline, '2.17');
  assert.equal(r.info.zig, '0.17.1');
  assert.equal(readFileSync(path.join(dir, 'genesys-emulator'), 'utf8'), 'zig-emulator\n');
  // The same record beside the binaries in target/dist/<platform>/, with their hashes.
  const dist = JSON.parse(readFileSync(path.join(dir, 'target', 'dist', host, 'build-info.json'), 'utf8'));
  assert.deepEqual(dist, r.info);
  assert.equal(dist.files[`${pkg.napi.binaryName}.${host}.node`], sha256(path.join(dir, 'target', 'dist', host, `${pkg.napi.binaryName}.${host}.node`)));
  // A second build finds the tools where the first put them: pip is not run again.
  const again = build(dir);
  assert.equal(again.status, 0, again.stderr);
  assert.equal(again.calls.match(/pip install/g).length, 1);
});

test('without pip (so without zig) the build says LOCAL-ONLY, why, and records release: false', (t) => {
  if (host !== 'linux-x64-gnu') return t.skip(`the zig build applies to Linux; this is ${host}`);
  const r = build(sandbox());
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /LOCAL-ONLY BUILD\. cargo-zigbuild\/zig are not available \(python3 -m pip is not available/);
  assert.match(r.stderr, /`npm run package` will refuse them/);
  assert.match(r.calls, /cargo build --release -p genesys-emulator/);
  assert.doesNotMatch(r.calls, /zigbuild|cross-compile/);
  assert.equal(r.info.release, false);
  assert.equal(r.info.toolchain, 'cargo');
  assert.equal(r.info.glibcBaseline, null);
  assert.match(r.info.localOnly, /python3 -m pip is not available/);
});

test('GENESYS_TENANTS_ZIG=0 forces the local-only build even with the tools there', (t) => {
  if (host !== 'linux-x64-gnu') return t.skip(`the zig build applies to Linux; this is ${host}`);
  const r = build(sandbox({ zigTools: true }), { GENESYS_TENANTS_ZIG: '0' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /LOCAL-ONLY BUILD\. cargo-zigbuild\/zig are not available \(GENESYS_TENANTS_ZIG=0\)/);
  assert.equal(r.info.release, false);
  assert.equal(r.info.localOnly, 'GENESYS_TENANTS_ZIG=0');
});

// ---- npm run package on copies of this machine's build, with tampered records ----

const HEAD = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).stdout.trim();

/** target/dist/<host> copied to a scratch dist, its record changed by `edit`; returns the dist directory. */
function distCopy(edit = () => {}) {
  const dist = mkdtempSync(path.join(scratch, 'dist-'));
  cpSync(hostDist, path.join(dist, host), { recursive: true });
  const file = path.join(dist, host, 'build-info.json');
  const info = { ...JSON.parse(readFileSync(file, 'utf8')), release: true, toolchain: 'cargo-zigbuild', glibcBaseline: '2.17', commit: HEAD, dirty: false };
  edit(info, path.join(dist, host));
  writeFileSync(file, JSON.stringify(info));
  return dist;
}

function pack(dist, args = ['--platforms', host]) {
  const out = mkdtempSync(path.join(scratch, 'out-'));
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'package.js'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, GENESYS_TENANTS_DIST: dist, GENESYS_TENANTS_PACKAGES: out },
    timeout: 120_000,
  });
  return { ...r, tarballs: readdirSync(out).filter((f) => f.endsWith('.tgz')) };
}

/** The refusal lines package.js printed for the host platform. */
const refusalsOf = (stderr) => stderr.split('\n').filter((l) => l.startsWith(`  - ${host}: `)).map((l) => l.slice(`  - ${host}: `.length));

function needsBuild(t) {
  if (host !== 'linux-x64-gnu') return t.skip(`these fixtures are linux-x64-gnu ELF files; this is ${host}`) || true;
  if (!hostBuilt) return t.skip('no build in target/dist yet (npm run build)') || true;
  const info = JSON.parse(readFileSync(path.join(hostDist, 'build-info.json'), 'utf8'));
  if (!info.release) return t.skip(`the build here is local-only (${info.localOnly}), so its binaries cannot stand in for release ones`) || true;
  return false;
}

test('package refuses a local-only build (plain cargo, no glibc baseline) and writes no tarball', (t) => {
  if (needsBuild(t)) return;
  const r = pack(distCopy((info) => Object.assign(info, { release: false, toolchain: 'cargo', glibcBaseline: null, localOnly: 'GENESYS_TENANTS_ZIG=0' })));
  assert.equal(r.status, 1);
  assert.deepEqual(refusalsOf(r.stderr), [
    'it is a local-only build (cargo: GENESYS_TENANTS_ZIG=0), not the release toolchain',
    'it was built with cargo, not cargo-zigbuild',
    'its build record names glibc null, not 2.17',
  ]);
  assert.deepEqual(r.tarballs, []);
});

test('package measures the file: an addon needing GLIBC_2.34 is refused even when its record says 2.17', (t) => {
  if (needsBuild(t)) return;
  const glibc234 = ['/bin/ls', '/usr/bin/ls'].find((f) => existsSync(f) && inspect(f).glibcMax === '2.34');
  if (!glibc234) return t.skip('no system binary needing GLIBC_2.34 to stand in for a 2.34 build');
  const addon = `${pkg.napi.binaryName}.${host}.node`;
  const r = pack(
    distCopy((info, dir) => {
      copyFileSync(glibc234, path.join(dir, addon));
      info.files[addon] = sha256(path.join(dir, addon));
    }),
  );
  assert.equal(r.status, 1);
  assert.deepEqual(refusalsOf(r.stderr), [`${addon} needs GLIBC_2.34, more than 2.17`, `${addon} does not export napi_register_module_v1 (not a Node addon)`]);
  assert.deepEqual(r.tarballs, []);
});

test('package refuses a build from another commit, with uncommitted Rust changes, or a file changed after the build', (t) => {
  if (needsBuild(t)) return;
  const other = pack(distCopy((info) => Object.assign(info, { commit: '0123456789abcdef0123456789abcdef01234567' })));
  assert.equal(other.status, 1);
  assert.deepEqual(refusalsOf(other.stderr), [`it was built from commit 0123456789ab, this checkout is at ${HEAD.slice(0, 12)}: rebuild it`]);
  const dirty = pack(distCopy((info) => Object.assign(info, { dirty: true })));
  assert.deepEqual(refusalsOf(dirty.stderr), ['it was built with uncommitted changes to the Rust sources']);
  const swapped = pack(distCopy((info) => Object.assign(info, { files: { ...info.files, 'genesys-emulator': '0'.repeat(64) } })));
  assert.deepEqual(refusalsOf(swapped.stderr), ['genesys-emulator is not the file its build record describes (changed since the build)']);
  const noRecord = distCopy();
  rmSync(path.join(noRecord, host, 'build-info.json'));
  const missing = pack(noRecord);
  assert.equal(missing.status, 1);
  assert.deepEqual(refusalsOf(missing.stderr), ['no build record (target/dist/linux-x64-gnu/build-info.json): run `npm run build`'].map((m) => m.replace('target/dist', path.relative(root, noRecord))));
  for (const r of [other, dirty, swapped, missing]) assert.deepEqual(r.tarballs, []);
});

test('a release build of this commit is packed; optionalDependencies list exactly the platforms packed', (t) => {
  if (needsBuild(t)) return;
  const r = pack(distCopy());
  const dirtyMain = spawnSync('git', ['status', '--porcelain', '--', 'lib', 'index.js', 'index.d.ts', 'package.json', 'npm'], { cwd: root, encoding: 'utf8' }).stdout.trim();
  if (dirtyMain) {
    // A working tree with uncommitted package files (someone is editing): the one refusal is the main package's.
    assert.equal(r.status, 1);
    assert.deepEqual(refusalsOf(r.stderr), []);
    assert.match(r.stderr, /main package: uncommitted changes in what it ships/);
    return;
  }
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(out.platforms), [host]);
  assert.deepEqual(r.tarballs.sort(), [`${pkg.name}-${host}-${pkg.version}.tgz`, `${pkg.name}-${pkg.version}.tgz`].sort());
  const published = JSON.parse(spawnSync('tar', ['-xzOf', out.main, 'package/package.json'], { encoding: 'utf8' }).stdout);
  assert.deepEqual(published.optionalDependencies, { [`${pkg.name}-${host}`]: pkg.version });
});

test('--local packs a working-tree build (for the consumer tests) with optionalDependencies = the platforms packed', (t) => {
  if (needsBuild(t)) return;
  const r = pack(distCopy((info) => Object.assign(info, { release: false, toolchain: 'cargo', dirty: true })), ['--local', '--platforms', host]);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.local, true);
  assert.equal(out.platform, out.platforms[host]);
  const published = JSON.parse(spawnSync('tar', ['-xzOf', out.main, 'package/package.json'], { encoding: 'utf8' }).stdout);
  assert.deepEqual(published.optionalDependencies, { [`${pkg.name}-${host}`]: pkg.version });
  const files = spawnSync('tar', ['-tzf', out.platform], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).sort();
  assert.deepEqual(files, ['package/README.md', `package/${pkg.napi.binaryName}.${host}.node`, 'package/genesys-emulator', 'package/package.json'].sort());
});

test('--platforms all names every platform without a build, and packs nothing', () => {
  const empty = mkdtempSync(path.join(scratch, 'empty-'));
  const r = pack(empty, ['--platforms', 'all']);
  assert.equal(r.status, 1);
  for (const p of Object.keys(PLATFORMS)) assert.match(r.stderr, new RegExp(`  - ${p}: no build record \\(`));
  assert.deepEqual(r.tarballs, []);
});

test('the binary checks: a glibc binary in a musl package, an x64 one in an arm64 package, an unstripped one', (t) => {
  if (needsBuild(t)) return;
  const addon = path.join(hostDist, `${pkg.napi.binaryName}.${host}.node`);
  const name = path.basename(addon);
  assert.deepEqual(problems('linux-x64-gnu', addon), []);
  const musl = problems('linux-x64-musl', addon);
  assert.equal(musl.length, 2, musl.join('; '));
  assert.match(musl[0], new RegExp(`^${name.replace(/\./g, '\\.')} links glibc \\(.*libc\\.so\\.6`));
  assert.equal(musl[1], `${name} references glibc symbol versions (up to GLIBC_2.17)`);
  assert.deepEqual(problems('linux-arm64-gnu', addon), [`${name} is for x86_64, not aarch64`]);
  assert.deepEqual(problems('darwin-arm64', addon), [`${name} is elf, not macho`, `${name} is for x86_64, not aarch64`]);
  // An unstripped shared object that needs no C library at all.
  const cc = spawnSync('cc', ['--version']);
  if (cc.error || cc.status !== 0) return t.skip('no C compiler to make an unstripped fixture');
  const src = path.join(scratch, 'x.c');
  writeFileSync(src, 'int genesys_fixture(int x) { return x + 1; }\n');
  const so = path.join(scratch, 'x.so');
  const r = spawnSync('cc', ['-shared', '-fPIC', '-nostdlib', '-g', src, '-o', so], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(problems('linux-x64-musl', so), ['x.so is not stripped']);
});

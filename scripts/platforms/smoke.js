#!/usr/bin/env node
// The consumer smoke for a platform package, run on that platform's own Node: here, on this Linux x64 machine,
// for the other Linux platforms (scripts/platforms/runtimes.js: arm64 under qemu-user, musl with musl's
// loader); on a native runner or in an Alpine container, with the Node that runs this script. The packed
// tarballs (`package.js --local`) are installed into a scratch project outside the checkout, the main package
// with every packed platform package offered as an optional dependency (npm's --os/--cpu/--libc of the
// platform), then that Node loads the package from CommonJS and ESM, starts the emulator through
// `genesys-tenants/testing`, makes a request through it, and runs the CLI's --version; `check()` says what fell
// short (wrong package installed, wrong addon loaded, wrong C library, …).
// On musl here, /usr/bin/ldd is bind-mounted (in a private mount namespace: unshare -m, as root) over a file
// that says musl, as on Alpine, because napi-rs's loader decides gnu or musl from that file first.
// Where this kernel cannot start the platform's emulator itself (arm64), GENESYS_EMULATOR_BIN points at a
// two-line script that starts the installed package's binary under qemu.
//
//   node scripts/platforms/smoke.js [platform…]     (default: every platform built in target/dist/)
// Prints one line per platform with its timings, and exits 1 when any fails.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { runner } = require('./runtimes.js');
const { npmCommand } = require('../toolchain.js');

const root = path.resolve(__dirname, '..', '..');
const pkg = require('../../package.json');
const RUN_TIMEOUT = 180_000;
const EXE = (platform) => (platform.startsWith('win32-') ? 'genesys-emulator.exe' : 'genesys-emulator');

const CJS = `
const { TenantOrchestrator, isGenesysTenantsError } = require('genesys-tenants');
const { startEmulator } = require('genesys-tenants/testing');
async function main() {
  const emu = await startEmulator({ startTimeoutMs: 60000 });
  const o = new TenantOrchestrator(emu.options());
  try {
    const ids = await o.initialize();
    const me = await o.request('acme', { path: '/api/v2/organizations/me', timeoutMs: 60000 });
    const report = process.report.getReport();
    const addon = (report.sharedObjects || []).filter((f) => /genesys-tenants\\.[\\w-]+\\.node$/.test(f));
    console.log(JSON.stringify({ arch: process.arch, glibc: report.header.glibcVersionRuntime || null, addon, ids, org: me.body.name, status: me.status }));
  } finally {
    await o.close();
    await emu.stop();
  }
}
main().catch((e) => { console.error(e); process.exitCode = 1; });
`;

const ESM = `
import { TenantOrchestrator, ErrorCodes, isGenesysTenantsError } from 'genesys-tenants';
import { startEmulator, emulatorPath } from 'genesys-tenants/testing';
console.log(JSON.stringify({
  orchestrator: typeof TenantOrchestrator,
  guard: typeof isGenesysTenantsError,
  aborted: ErrorCodes.includes('ABORTED'),
  startEmulator: typeof startEmulator,
  emulator: emulatorPath(),
}));
`;

function run(cmd, args, opts = {}) {
  const started = Date.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: RUN_TIMEOUT, maxBuffer: 16 * 1024 * 1024, ...opts });
  const ms = Date.now() - started;
  if (r.error) throw new Error(`${path.basename(cmd)} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${path.basename(cmd)} ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return { out: r.stdout, ms };
}

/** Packs the given platforms' builds (working tree, --local) into `out`; returns package.js's JSON. */
function pack(platforms, out) {
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'package.js'), '--local', '--platforms', platforms.join(',')], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, GENESYS_TENANTS_PACKAGES: out },
    timeout: RUN_TIMEOUT,
  });
  if (r.status !== 0) throw new Error(`package.js: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/**
 * Installs the main tarball into a scratch project, with every packed platform tarball offered as an optional
 * dependency, as npm would on `platform` (npm's --os/--cpu/--libc): npm must pick the one matching package by
 * its os/cpu/libc fields and skip the others.
 */
function install(platform, packages) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `genesys-tenants-${platform}-`));
  const optionalDependencies = {};
  for (const [p, tgz] of Object.entries(packages.platforms)) optionalDependencies[`${pkg.name}-${p}`] = `file:${tgz}`;
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, dependencies: { [pkg.name]: `file:${packages.main}` }, optionalDependencies }),
  );
  const [osName, arch, libc] = platform.split('-');
  const flags = [`--os=${osName}`, `--cpu=${arch}`, ...(osName === 'linux' ? [`--libc=${libc === 'gnu' ? 'glibc' : 'musl'}`] : [])];
  const [cmd, args, opts] = npmCommand(['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error', ...flags]);
  const { ms } = run(cmd, args, { cwd: dir, ...opts });
  return { dir, ms };
}

/** Runs `script` in `dir` with the platform's Node (in a mount namespace with a musl ldd when it needs one). */
function withNode(rt, dir, args, env) {
  const full = { ...process.env, ...rt.env, ...env };
  if (!rt.ldd) return run(rt.node[0], [...rt.node.slice(1), ...args], { cwd: dir, env: full });
  return run('unshare', ['-m', 'sh', '-c', 'mount --bind "$0" /usr/bin/ldd && exec "$@"', rt.ldd, ...rt.node, ...args], { cwd: dir, env: full });
}

/** The smoke for one platform; returns what was measured. Throws on any failure. */
function smoke(platform, packages, { runAs = platform } = {}) {
  const t0 = Date.now();
  const rt = runner(runAs);
  const provisionMs = Date.now() - t0;
  const { dir, ms: installMs } = install(platform, packages);
  try {
    // The real path: Node resolves packages to it (macOS's tmpdir is a symlink into /private).
    const pkgDir = path.join(fs.realpathSync(dir), 'node_modules', `${pkg.name}-${platform}`);
    const env = {};
    if (rt.emulatorWrapper) {
      const wrapper = path.join(dir, 'emulator.sh');
      fs.writeFileSync(wrapper, rt.emulatorWrapper(path.join(pkgDir, EXE(platform))), { mode: 0o755 });
      env.GENESYS_EMULATOR_BIN = wrapper;
    }
    fs.writeFileSync(path.join(dir, 'cjs.js'), CJS);
    fs.writeFileSync(path.join(dir, 'esm.mjs'), ESM);
    const cjs = withNode(rt, dir, ['cjs.js'], env);
    const esm = withNode(rt, dir, ['esm.mjs'], {});
    const cli = withNode(rt, dir, [path.join('node_modules', pkg.name, 'lib', 'cli', 'index.js'), '--version'], {});
    return {
      platform,
      installed: fs.readdirSync(path.join(dir, 'node_modules')).filter((d) => d.startsWith(pkg.name)).sort(),
      cjs: JSON.parse(cjs.out.trim().split('\n').pop()),
      esm: JSON.parse(esm.out.trim().split('\n').pop()),
      version: cli.out.trim(),
      expectedEmulator: path.join(pkgDir, EXE(platform)),
      usedWrapper: Boolean(rt.emulatorWrapper),
      ms: { provision: provisionMs, install: installMs, cjs: cjs.ms, esm: esm.ms, cli: cli.ms },
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Every way a smoke result falls short for `platform`; empty when the platform package did its job. */
function check(platform, r) {
  const [osName, arch, libc] = platform.split('-');
  const why = [];
  const expect = (cond, what) => cond || why.push(what);
  expect(JSON.stringify(r.installed) === JSON.stringify([pkg.name, `${pkg.name}-${platform}`]), `npm installed ${r.installed.join(', ')}`);
  expect(r.cjs.arch === arch, `Node ran as ${r.cjs.arch}`);
  if (osName === 'linux') expect(libc === 'gnu' ? /^2\.\d+$/.test(r.cjs.glibc || '') : r.cjs.glibc === null, `glibc at run time: ${r.cjs.glibc}`);
  const addon = `${pkg.napi.binaryName}.${platform}.node`;
  expect(
    r.cjs.addon.length === 1 && r.cjs.addon[0].endsWith(path.join('node_modules', `${pkg.name}-${platform}`, addon)),
    `addon loaded: ${JSON.stringify(r.cjs.addon)}`,
  );
  expect(JSON.stringify(r.cjs.ids) === JSON.stringify(['acme', 'acme-corp', 'globex', 'initech', 'umbrella']), `tenants: ${r.cjs.ids}`);
  expect(r.cjs.status === 200 && r.cjs.org === 'Acme EU', `request through the emulator: ${r.cjs.status} ${r.cjs.org}`);
  expect(r.esm.orchestrator === 'function' && r.esm.guard === 'function' && r.esm.aborted === true && r.esm.startEmulator === 'function', `ESM: ${JSON.stringify(r.esm)}`);
  expect(r.esm.emulator === r.expectedEmulator, `testing's emulator: ${r.esm.emulator}, expected ${r.expectedEmulator}`);
  expect(r.version === pkg.version, `CLI --version: ${r.version}`);
  return why;
}

function main() {
  const asked = process.argv.slice(2);
  const built = fs.existsSync(path.join(root, 'target', 'dist'))
    ? fs.readdirSync(path.join(root, 'target', 'dist')).filter((p) => fs.existsSync(path.join(root, 'target', 'dist', p, 'build-info.json')))
    : [];
  const platforms = asked.length ? asked : built;
  if (!platforms.length) {
    console.error('smoke: nothing built in target/dist/: run `npm run build -- --linux` first');
    process.exit(1);
  }
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'genesys-tenants-packages-'));
  let failed = 0;
  try {
    const packages = pack(platforms, out);
    for (const p of platforms) {
      try {
        const r = smoke(p, packages);
        const why = check(p, r);
        if (why.length) throw new Error(why.join('; '));
        console.log(`ok ${p}: ${JSON.stringify({ arch: r.cjs.arch, glibc: r.cjs.glibc, org: r.cjs.org, version: r.version, installed: r.installed, ms: r.ms })}`);
      } catch (e) {
        failed += 1;
        console.log(`FAILED ${p}: ${e.message}`);
      }
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
  process.exit(failed ? 1 : 0);
}

if (require.main === module) main();
module.exports = { smoke, pack, check };

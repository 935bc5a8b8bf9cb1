// Every Linux platform, built here and run here (issue 24). Before the tests, `npm run build -- --target …`
// cross-builds linux-arm64-gnu, linux-x64-musl and linux-arm64-musl with cargo-zigbuild into target/dist/
// (cargo is incremental: seconds when nothing changed; a fresh clone pays the full builds once, in
// target/cross), beside this machine's linux-x64-gnu build from `npm run build`. Then:
//   - each binary, measured: right machine, glibc ≤ 2.17 (gnu) or no glibc at all (musl), stripped;
//   - each platform's consumer smoke on its own Node (scripts/platforms/smoke.js): arm64 under qemu-user,
//     musl with musl's loader and an Alpine-like /usr/bin/ldd, installed by npm from tarballs of all four
//     platforms (npm must pick the one matching package), CJS + testing + a request through the emulator,
//     ESM, the CLI's --version.
// GENESYS_TENANTS_PLATFORMS=host limits the run to this machine's platform (a quick local run; CI runs all).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { root } from './helpers.mjs';

const require = createRequire(import.meta.url);
const { LINUX, GLIBC_BASELINE } = require('../scripts/toolchain.js');
const { inspect, problems } = require('../scripts/binary-check.js');
const { smoke, pack, check } = require('../scripts/platforms/smoke.js');
const { platformTriple } = require('../lib/platform.js');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const host = platformTriple();
const onlyHost = process.env.GENESYS_TENANTS_PLATFORMS === 'host';
const here = host === 'linux-x64-gnu';
const platforms = onlyHost ? [host] : LINUX;
const dist = (p) => path.join(root, 'target', 'dist', p);
const exe = 'genesys-emulator';
const addonOf = (p) => `${pkg.napi.binaryName}.${p}.node`;

let packages;
let out;
let buildError = null;
const timings = {};
const results = {};
// The runtimes come as Debian packages (apt-get download, dpkg-deb), as on this kind of machine.
const debianTools = ['apt-get', 'dpkg-deb', 'unshare'].every((c) => spawnSync(c, ['--version'], { stdio: 'ignore' }).status === 0);

before(() => {
  if (!here) return;
  const cross = platforms.filter((p) => p !== host);
  if (cross.length) {
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.js'), '--target', cross.join(',')], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'inherit', 'pipe'],
      timeout: 60 * 60_000,
    });
    timings.crossBuildMs = Date.now() - t0;
    if (r.status !== 0) buildError = `build.js --target ${cross.join(',')} exited ${r.status}: ${(r.stderr || '').slice(-3000)}`;
  }
  if (!buildError) {
    out = mkdtempSync(path.join(tmpdir(), 'gt-platform-packages-'));
    packages = pack(platforms, out);
  }
});

after(() => {
  if (out) rmSync(out, { recursive: true, force: true });
  if (Object.keys(timings).length) console.log(`# platform timings: ${JSON.stringify(timings)}`);
});

for (const platform of LINUX) {
  const [, arch, libc] = platform.split('-');
  const machine = arch === 'x64' ? 'x86_64' : 'aarch64';

  test(`${platform}: the addon and the emulator are ${machine}, ${libc === 'gnu' ? `need glibc ${GLIBC_BASELINE} at most` : 'link no glibc'}, stripped`, (t) => {
    if (!here) return t.skip(`cross-builds are made on linux-x64-gnu; this is ${host}`);
    if (!platforms.includes(platform)) return t.skip('GENESYS_TENANTS_PLATFORMS=host');
    assert.equal(buildError, null, buildError);
    const info = JSON.parse(readFileSync(path.join(dist(platform), 'build-info.json'), 'utf8'));
    assert.equal(info.platform, platform);
    if (platform === host && !info.release) return t.skip(`this machine's build is local-only (${info.localOnly}): see build.test.mjs`);
    assert.equal(info.toolchain, 'cargo-zigbuild');
    for (const file of [addonOf(platform), exe]) {
      const full = path.join(dist(platform), file);
      const facts = inspect(full);
      assert.equal(facts.format, 'elf', file);
      assert.equal(facts.machine, machine, file);
      assert.ok(facts.stripped, `${file} is not stripped`);
      assert.equal(facts.napiEntry, file.endsWith('.node'), `${file}: napi_register_module_v1 exported`);
      if (libc === 'gnu') {
        const [major, minor] = facts.glibcMax.split('.').map(Number);
        assert.ok(major === 2 && minor <= 17, `${platform}/${file} needs GLIBC_${facts.glibcMax}`);
        assert.ok(facts.needed.includes('libc.so.6'), `${file}: ${facts.needed}`);
      } else {
        assert.equal(facts.glibcMax, null, `${platform}/${file} references GLIBC_${facts.glibcMax}`);
        assert.deepEqual(
          facts.needed.filter((l) => /^(libc\.so\.6|libm\.so\.6|libpthread|libdl|librt|ld-linux)/.test(l)),
          [],
          `${platform}/${file} links glibc: ${facts.needed}`,
        );
        if (file === exe) {
          // Static (static-pie): no loader, no shared library, so it starts on any Linux of its machine.
          assert.deepEqual([facts.needed, facts.interpreter], [[], null], `${platform}/${file}`);
        } else {
          // The addon is loaded into musl's Node: it links musl's libc and nothing else.
          assert.deepEqual(facts.needed, ['libc.so'], `${platform}/${file}`);
        }
      }
      assert.deepEqual(problems(platform, full), []);
    }
  });

  test(`${platform}: the consumer smoke on ${platform}'s own Node (CJS, testing, a request via the emulator, ESM, CLI)`, (t) => {
    if (!here) return t.skip(`the runtimes here are for a linux-x64-gnu machine; this is ${host}`);
    if (!platforms.includes(platform)) return t.skip('GENESYS_TENANTS_PLATFORMS=host');
    if (platform !== host && !debianTools) return t.skip("the runtimes are fetched with Debian's apt-get and dpkg-deb, not here");
    if (libc === 'musl' && process.getuid() !== 0) return t.skip('the musl run needs root for its private mount namespace (unshare -m)');
    assert.equal(buildError, null, buildError);
    const r = smoke(platform, packages);
    timings[platform] = r.ms;
    results[platform] = r;
    assert.deepEqual(check(platform, r), []);
    // npm picked exactly this platform's package out of the four offered.
    assert.deepEqual(r.installed, [pkg.name, `${pkg.name}-${platform}`]);
    assert.equal(r.cjs.arch, arch);
    if (libc === 'gnu') assert.match(r.cjs.glibc, /^2\.\d+$/);
    else assert.equal(r.cjs.glibc, null);
    // The addon that loaded is the platform package's, and only it.
    assert.equal(r.cjs.addon.length, 1, JSON.stringify(r.cjs.addon));
    assert.ok(r.cjs.addon[0].endsWith(path.join('node_modules', `${pkg.name}-${platform}`, addonOf(platform))), r.cjs.addon[0]);
    assert.deepEqual(r.cjs.ids, ['acme', 'acme-corp', 'globex', 'initech', 'umbrella']);
    assert.equal(r.cjs.status, 200);
    assert.equal(r.cjs.org, 'Acme EU');
    assert.deepEqual({ ...r.esm, emulator: undefined }, { orchestrator: 'function', guard: 'function', aborted: true, startEmulator: 'function', emulator: undefined });
    // genesys-tenants/testing finds the emulator in the platform package (the CJS run may start it through a
    // wrapper that runs that same file under qemu or musl's loader: GENESYS_EMULATOR_BIN).
    assert.equal(r.esm.emulator, r.expectedEmulator);
    assert.equal(r.version, pkg.version);
  });
}

test('the smoke can fail: an arm64 package on x64 Node is not loaded; a gnu run does not pass as musl', (t) => {
  if (!here || onlyHost) return t.skip(onlyHost ? 'GENESYS_TENANTS_PLATFORMS=host' : `needs linux-x64-gnu; this is ${host}`);
  assert.equal(buildError, null, buildError);
  if (results['linux-x64-gnu']) {
    const gnu = results['linux-x64-gnu'];
    assert.deepEqual(check('linux-x64-musl', gnu), [
      `npm installed ${pkg.name}, ${pkg.name}-linux-x64-gnu`,
      'glibc at run time: ' + gnu.cjs.glibc,
      `addon loaded: ${JSON.stringify(gnu.cjs.addon)}`,
    ]);
  }
  // linux-x64-gnu's runner (this Node) given the arm64 package: npm with --cpu=arm64 installs it, Node cannot load it.
  assert.throws(() => smoke('linux-arm64-gnu', packages, { runAs: 'linux-x64-gnu' }), /NATIVE_BINDING_MISSING|wrong ELF class|cannot open shared object|exited 1/);
});

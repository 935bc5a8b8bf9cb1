#!/usr/bin/env node
// `npm run package`: the npm packages a release publishes, the napi-rs way, as tarballs in target/packages/:
//   - genesys-tenants-<platform>-<version>.tgz for every platform packed: the addon and the emulator from
//     target/dist/<platform>/ (written by `npm run build`, `npm run build -- --linux`, or a release runner);
//   - genesys-tenants-<version>.tgz: the JS, the generated loader and typings, no binary, with
//     `optionalDependencies` on exactly the platform packages packed, at exactly this version (what
//     `napi prepublish` adds at publish time; the checkout's package.json does not list them, so `npm install`
//     here never asks the registry for packages that are built elsewhere).
//
// It refuses — packs nothing and says why, for every binary at once — unless each binary is what a release
// ships: a build record (target/dist/<platform>/build-info.json) from the release toolchain (cargo-zigbuild
// on Linux), made at this commit with no uncommitted change to the Rust sources, files unchanged since (sha256),
// and, measured from the files themselves (scripts/binary-check.js): the platform's format and machine,
// glibc ≤ 2.17 for gnu, no glibc at all for musl, stripped. The main package's files must be committed too.
//
//   --platforms <p,…|all|linux|host>  what to pack (default: every platform with a build in target/dist/);
//                               `all` is every package under npm/ (a missing build is refused), `linux` the
//                               four Linux ones (`npm run package:linux` builds them first).
//   --local                     pack this working tree's build for a local test (the consumer tests): skips
//                               the commit, toolchain and glibc-baseline checks. Never publish its tarballs.
// GENESYS_TENANTS_DIST and GENESYS_TENANTS_PACKAGES move target/dist and target/packages (for the tests).
// Prints the tarballs' paths as JSON on stdout.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { platformTriple } = require('../lib/platform.js');
const { problems, sha256 } = require('./binary-check.js');
const toolchain = require('./toolchain.js');

const root = path.resolve(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const dist = process.env.GENESYS_TENANTS_DIST || path.join(root, 'target', 'dist');
const out = process.env.GENESYS_TENANTS_PACKAGES || path.join(root, 'target', 'packages');
const stage = path.join(out, '.stage');
const host = platformTriple();

function fail(message) {
  console.error(`genesys-tenants package: ${message}`);
  process.exit(1);
}

function npm(args, cwd) {
  const [cmd, full, opts] = toolchain.npmCommand(args);
  const r = spawnSync(cmd, full, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], ...opts });
  if (r.error || r.status !== 0) fail(`npm ${args.join(' ')} failed in ${cwd}`);
  return r.stdout;
}

/** The platform packages under npm/, keyed by platform; each must carry the main package's version. */
function declaredPackages() {
  const found = {};
  for (const d of fs.readdirSync(path.join(root, 'npm'))) {
    const p = JSON.parse(fs.readFileSync(path.join(root, 'npm', d, 'package.json'), 'utf8'));
    if (p.name !== `${pkg.name}-${d}`) fail(`npm/${d}/package.json is named ${p.name}, expected ${pkg.name}-${d}`);
    if (p.version !== pkg.version) fail(`npm/${d}/package.json has version ${p.version}, the package has ${pkg.version}: run \`npx napi version\``);
    found[d] = p;
  }
  return found;
}

function requested(declared) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--platforms');
  const value = at >= 0 ? args[at + 1] : null;
  if (at >= 0 && !value) fail('--platforms needs a value: all, host, or a comma-separated list');
  if (value === 'all') return Object.keys(declared).sort();
  if (value === 'host') return [host];
  if (value === 'linux') return toolchain.LINUX;
  if (value) return value.split(',').filter(Boolean);
  const built = fs.existsSync(dist) ? fs.readdirSync(dist).filter((d) => fs.existsSync(path.join(dist, d, 'build-info.json'))) : [];
  if (!built.length) fail(`nothing is built in ${dist}: run \`npm run build\` (this machine) or \`npm run build -- --linux\` first`);
  return built.sort();
}

/** Every reason the build of `platform` in dist/ must not be packed; empty when it may. */
function refusals(platform, declared, { local, git }) {
  const where = path.join(dist, platform);
  const infoFile = path.join(where, 'build-info.json');
  if (!declared[platform]) return [`no npm/${platform} package is declared`];
  if (!fs.existsSync(infoFile)) return [`no build record (${path.relative(root, infoFile)}): run \`npm run build\`${platform === host ? '' : ` -- --target ${platform}`}`];
  const info = JSON.parse(fs.readFileSync(infoFile, 'utf8'));
  const why = [];
  if (info.platform !== platform) why.push(`its build record is for ${info.platform}`);
  const files = declared[platform].files;
  for (const f of files) {
    const file = path.join(where, f);
    if (!fs.existsSync(file)) {
      why.push(`${f} is missing`);
      continue;
    }
    if (!info.files || info.files[f] !== sha256(file)) why.push(`${f} is not the file its build record describes (changed since the build)`);
    const issues = problems(platform, file);
    why.push(...(local ? issues.filter((m) => / is (for|elf|macho|pe|unknown)/.test(m)) : issues));
  }
  if (local) return why;
  if (!info.release) why.push(`it is a local-only build (${info.toolchain}${info.localOnly ? `: ${info.localOnly}` : ''}), not the release toolchain`);
  if (platform.startsWith('linux-') && info.toolchain !== 'cargo-zigbuild') why.push(`it was built with ${info.toolchain}, not cargo-zigbuild`);
  if (platform.endsWith('-gnu') && info.glibcBaseline !== toolchain.GLIBC_BASELINE) why.push(`its build record names glibc ${info.glibcBaseline}, not ${toolchain.GLIBC_BASELINE}`);
  if (!git) why.push('this is not a git checkout, so the commit it was built from cannot be checked');
  else if (info.commit !== git.commit) why.push(`it was built from commit ${String(info.commit).slice(0, 12)}, this checkout is at ${git.commit.slice(0, 12)}: rebuild it`);
  if (info.dirty !== false) why.push('it was built with uncommitted changes to the Rust sources');
  return why;
}

/** The main package's own files (JS, loader, typings) must be what this commit has, for a release. */
function uncommittedMainFiles() {
  const r = spawnSync('git', ['status', '--porcelain', '--', 'lib', 'index.js', 'index.d.ts', 'package.json', 'npm'], { cwd: root, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'git status failed';
}

function main() {
  const local = process.argv.includes('--local');
  const declared = declaredPackages();
  const platforms = requested(declared);
  const git = toolchain.gitState();
  const refused = [];
  for (const p of platforms) for (const why of refusals(p, declared, { local, git })) refused.push(`${p}: ${why}`);
  if (!local) {
    const dirtyMain = uncommittedMainFiles();
    if (dirtyMain) refused.push(`main package: uncommitted changes in what it ships:\n    ${dirtyMain.split('\n').join('\n    ')}`);
  }
  if (refused.length) {
    fail(`refusing to pack (a release ships only release builds of this commit; --local packs a working tree for a local test):\n  - ${refused.join('\n  - ')}`);
  }

  fs.rmSync(stage, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  for (const f of fs.readdirSync(out)) if (f.endsWith('.tgz')) fs.rmSync(path.join(out, f));

  // The platform packages: package.json, README, and the two binaries from dist/.
  const dirs = {};
  for (const p of platforms) {
    const dir = path.join(stage, p);
    fs.mkdirSync(dir, { recursive: true });
    for (const f of ['package.json', 'README.md']) {
      if (fs.existsSync(path.join(root, 'npm', p, f))) fs.copyFileSync(path.join(root, 'npm', p, f), path.join(dir, f));
    }
    for (const f of declared[p].files) {
      fs.copyFileSync(path.join(dist, p, f), path.join(dir, f));
      fs.chmodSync(path.join(dir, f), 0o755);
    }
    dirs[p] = dir;
  }

  // The main package: what `files` selects, minus the binaries the platform packages carry.
  const listed = JSON.parse(npm(['pack', '--dry-run', '--json', '--ignore-scripts'], root))[0].files.map((f) => f.path);
  const binaries = new Set(Object.values(declared).flatMap((p) => p.files));
  const mainDir = path.join(stage, 'main');
  for (const file of listed) {
    if (binaries.has(file) || file === 'package.json') continue;
    fs.mkdirSync(path.dirname(path.join(mainDir, file)), { recursive: true });
    fs.copyFileSync(path.join(root, file), path.join(mainDir, file));
  }
  const published = { ...pkg, optionalDependencies: {} };
  for (const p of platforms) published.optionalDependencies[declared[p].name] = pkg.version;
  // A registry install never builds: the binary comes from the platform package.
  delete published.scripts;
  delete published.devDependencies;
  fs.writeFileSync(path.join(mainDir, 'package.json'), `${JSON.stringify(published, null, 2)}\n`);

  const pack = (dir) => path.join(out, JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', out], dir))[0].filename);
  const result = { main: pack(mainDir), platforms: {}, triple: host, local };
  for (const p of platforms) result.platforms[p] = pack(dirs[p]);
  // This machine's package, under the name the consumer tests read.
  if (result.platforms[host]) result.platform = result.platforms[host];
  fs.rmSync(stage, { recursive: true, force: true });
  console.log(JSON.stringify(result, null, 2));
}

main();

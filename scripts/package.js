#!/usr/bin/env node
// `npm run package`: the npm packages a release publishes, the napi-rs way, as tarballs in target/packages/:
//   - genesys-tenants-<version>.tgz: the JS, the generated loader and typings, no binary, with
//     `optionalDependencies` on every platform package at exactly this version (what `napi prepublish`
//     adds at publish time; the checkout's package.json does not list them, so `npm install` here never
//     asks the registry for packages that are built elsewhere);
//   - genesys-tenants-<triple>-<version>.tgz for this machine's platform: the addon and the emulator
//     from `npm run build` (the other platforms' packages are declared under npm/ and built by CI there).
// Prints the tarballs' paths as JSON on stdout. Fails when the platform packages' versions differ from the
// main package's, or when the build is missing.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { platformTriple } = require('../lib/platform.js');

const root = path.resolve(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const stage = path.join(root, 'target', 'package');
const out = path.join(root, 'target', 'packages');
const triple = platformTriple();

function fail(message) {
  console.error(`genesys-tenants package: ${message}`);
  process.exit(1);
}

function npm(args, cwd) {
  const r = spawnSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.error || r.status !== 0) fail(`npm ${args.join(' ')} failed in ${cwd}`);
  return r.stdout;
}

/** The platform packages under npm/, keyed by triple; each must carry the main package's version. */
function platformPackages() {
  const dirs = fs.readdirSync(path.join(root, 'npm'));
  const found = {};
  for (const d of dirs) {
    const p = JSON.parse(fs.readFileSync(path.join(root, 'npm', d, 'package.json'), 'utf8'));
    if (p.name !== `${pkg.name}-${d}`) fail(`npm/${d}/package.json is named ${p.name}, expected ${pkg.name}-${d}`);
    if (p.version !== pkg.version) fail(`npm/${d}/package.json has version ${p.version}, the package has ${pkg.version}: run \`npx napi version\``);
    found[d] = p;
  }
  return found;
}

function main() {
  const platforms = platformPackages();
  const own = platforms[triple];
  if (!own) fail(`no npm/${triple} package is declared for this machine's platform`);
  for (const file of own.files) {
    if (!fs.existsSync(path.join(root, file))) fail(`${file} is missing: run \`npm run build\` first`);
  }
  fs.rmSync(stage, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  for (const f of fs.readdirSync(out)) if (f.endsWith('.tgz')) fs.rmSync(path.join(out, f));

  // The platform package: its package.json and the two binaries.
  const platformDir = path.join(stage, triple);
  fs.mkdirSync(platformDir, { recursive: true });
  fs.copyFileSync(path.join(root, 'npm', triple, 'package.json'), path.join(platformDir, 'package.json'));
  for (const file of own.files) {
    fs.copyFileSync(path.join(root, file), path.join(platformDir, file));
    fs.chmodSync(path.join(platformDir, file), 0o755);
  }

  // The main package: what `files` selects, minus the binaries the platform packages carry.
  const listed = JSON.parse(npm(['pack', '--dry-run', '--json', '--ignore-scripts'], root))[0].files.map((f) => f.path);
  const binaries = new Set(Object.values(platforms).flatMap((p) => p.files));
  const mainDir = path.join(stage, 'main');
  for (const file of listed) {
    if (binaries.has(file) || file === 'package.json') continue;
    fs.mkdirSync(path.dirname(path.join(mainDir, file)), { recursive: true });
    fs.copyFileSync(path.join(root, file), path.join(mainDir, file));
  }
  const published = { ...pkg, optionalDependencies: {} };
  for (const d of Object.keys(platforms).sort()) published.optionalDependencies[platforms[d].name] = pkg.version;
  // A registry install never builds: the binary comes from the platform package.
  delete published.scripts;
  delete published.devDependencies;
  fs.writeFileSync(path.join(mainDir, 'package.json'), `${JSON.stringify(published, null, 2)}\n`);

  const tarballs = [mainDir, platformDir].map((dir) => {
    const [info] = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', out], dir));
    return path.join(out, info.filename);
  });
  console.log(JSON.stringify({ main: tarballs[0], platform: tarballs[1], triple }, null, 2));
}

main();

// The package as a consumer gets it (issue 16): `npm run package` packs the main package and this
// platform's package the way a release publishes them; they are installed offline into a scratch project
// outside this checkout, which then loads them from CommonJS, ESM, strict TypeScript and Jest, starts the
// emulator through `genesys-tenants/testing`, and runs the CLI. Nothing here reads the checkout's lib/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync, renameSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { root } from './helpers.mjs';

let dir;
let packages;

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: dir, encoding: 'utf8', timeout: 120_000, ...opts });
  if (r.error) throw r.error;
  return r;
}

function ok(r, what) {
  assert.equal(r.status, 0, `${what} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r;
}

before(() => {
  // --local: this working tree's build of this machine's platform (the release checks are platforms-release.test.mjs's).
  const packed = spawnSync(process.execPath, [path.join(root, 'scripts', 'package.js'), '--local', '--platforms', 'host'], { cwd: root, encoding: 'utf8' });
  assert.equal(packed.status, 0, packed.stderr);
  packages = JSON.parse(packed.stdout);
  dir = mkdtempSync(path.join(tmpdir(), 'genesys-tenants-consumer-'));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  ok(run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error', packages.main, packages.platform]), 'npm install');
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const CJS = `
const { TenantOrchestrator, isGenesysTenantsError } = require('genesys-tenants');
const { startEmulator } = require('genesys-tenants/testing');
async function main() {
  const emu = await startEmulator();
  const o = new TenantOrchestrator(emu.options());
  try {
    const ids = await o.initialize();
    const me = await o.request('acme', { path: '/api/v2/organizations/me' });
    let refused;
    try {
      await o.request('globex', { method: 'POST', path: '/api/v2/users/search', body: { query: [{ type: 'MATCH_ALL' }] } });
    } catch (e) {
      refused = isGenesysTenantsError(e) && e.code === 'PERMISSION_MISSING' ? e.missingPermissions : e;
    }
    console.log(JSON.stringify({ ids, org: me.body.name, refused }));
  } finally {
    await o.close();
    await emu.stop();
  }
}
main().catch((e) => { console.error(e); process.exitCode = 1; });
`;

test('CommonJS: require() loads the addon from the platform package and the emulator starts', () => {
  writeFileSync(path.join(dir, 'cjs.js'), CJS);
  const out = JSON.parse(ok(run(process.execPath, ['cjs.js']), 'cjs.js').stdout);
  assert.deepEqual(out, {
    ids: ['acme', 'acme-corp', 'globex', 'initech', 'umbrella'],
    org: 'Acme EU',
    refused: ['directory:user:view'],
  });
  // The binary came from the platform package, not from a copy in the main one.
  assert.ok(!existsSync(path.join(dir, 'node_modules', 'genesys-tenants', 'genesys-emulator')));
  assert.ok(existsSync(path.join(dir, 'node_modules', `genesys-tenants-${packages.triple}`, 'genesys-emulator')));
});

test('ESM: import works, with the testing entry', () => {
  writeFileSync(
    path.join(dir, 'esm.mjs'),
    `import { TenantOrchestrator, ErrorCodes } from 'genesys-tenants';
import { startEmulator } from 'genesys-tenants/testing';
const emu = await startEmulator({ world: { orgs: [{ id: 'o1', name: 'Org One', region: 'mypurecloud.ie', users: 3 }], clients: [{ tenantId: 't1', clientId: 'c1', orgId: 'o1', permissions: ['directory:user:view'] }] } });
const o = new TenantOrchestrator(emu.options());
await o.initialize();
const all = await o.fetchAll('t1', { path: '/api/v2/users' }, { timeoutMs: 30000 });
console.log(JSON.stringify({ users: all.entities.length, codes: ErrorCodes.includes('ABORTED') }));
await o.close();
await emu.stop();
`,
  );
  assert.deepEqual(JSON.parse(ok(run(process.execPath, ['esm.mjs']), 'esm.mjs').stdout), { users: 3, codes: true });
});

test('strict TypeScript: the bundled typings compile with tsc --noEmit (no SDK installed, skipLibCheck off)', () => {
  writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', types: [], skipLibCheck: false },
      files: ['app.ts'],
    }),
  );
  writeFileSync(
    path.join(dir, 'app.ts'),
    `import { TenantOrchestrator, isGenesysTenantsError, type GenesysTenantsError } from 'genesys-tenants';
import { startEmulator } from 'genesys-tenants/testing';
export async function main(): Promise<string[]> {
  const emu = await startEmulator();
  const o = new TenantOrchestrator(emu.options({ preflight: 'warn' }));
  await o.initialize();
  try {
    const r = await o.request<{ name: string }>('acme', { path: '/api/v2/organizations/me', timeoutMs: 5000 });
    return [r.body.name];
  } catch (e) {
    if (isGenesysTenantsError(e) && e.code === 'PERMISSION_MISSING') return e.missingPermissions;
    const other: unknown = e;
    void (other as GenesysTenantsError);
    throw e;
  } finally {
    await o.close();
    await emu.stop();
  }
}
`,
  );
  ok(run(path.join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json']), 'tsc');
});

test('Jest: a suite starts the emulator through genesys-tenants/testing and leaves no open handle', () => {
  mkdirSync(path.join(dir, '__tests__'), { recursive: true });
  writeFileSync(
    path.join(dir, '__tests__', 'tenants.test.js'),
    `const { TenantOrchestrator } = require('genesys-tenants');
const { startEmulator } = require('genesys-tenants/testing');
let emu;
let o;
beforeAll(async () => {
  emu = await startEmulator();
  o = new TenantOrchestrator(emu.options());
  await o.initialize();
});
afterAll(async () => {
  await o.close();
  await emu.stop();
});
test('request() answers from the emulator', async () => {
  const res = await o.request('acme-corp', { path: '/api/v2/routing/queues', query: { pageSize: 5 } });
  expect(res.status).toBe(200);
  expect(res.body.entities).toHaveLength(5);
  const counters = await emu.control('GET', 'counters/' + (await emu.tenants()).find((t) => t.tenantId === 'acme-corp').clientId);
  expect(counters.tokenRequests).toBe(1);
});
`,
  );
  const r = run(path.join(root, 'node_modules', '.bin', 'jest'), ['--rootDir', dir, '--ci', '--detectOpenHandles'], { env: { ...process.env, CI: 'true' } });
  const out = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.status, 0, out);
  assert.match(out, /Tests:\s+1 passed, 1 total/);
  assert.doesNotMatch(out, /open handle/i);
});

test('the CLI runs from the installed package: --version, emulator', async () => {
  const cli = path.join(dir, 'node_modules', '.bin', 'genesys-tenants');
  const version = ok(run(cli, ['--version']), '--version').stdout.trim();
  assert.equal(version, JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version);
  const emu = spawn(cli, ['emulator', '--port', '0'], { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise((resolve, reject) => {
    createInterface({ input: emu.stdout }).once('line', resolve);
    emu.once('exit', (code) => reject(new Error(`emulator exited ${code}`)));
  });
  const info = JSON.parse(line);
  const res = await fetch(`${info.url}/api/v1/genesys/tenants`, { headers: { 'X-Service-Token': info.configServiceToken } });
  assert.equal(res.status, 200);
  const exited = new Promise((resolve) => emu.once('exit', resolve));
  emu.kill('SIGTERM');
  await exited;
});

test('without the platform package, require() says which package is missing and what to do', () => {
  const pkgDir = path.join(dir, 'node_modules', `genesys-tenants-${packages.triple}`);
  const aside = `${pkgDir}.aside`;
  renameSync(pkgDir, aside);
  try {
    const r = run(process.execPath, ['-e', "try { require('genesys-tenants') } catch (e) { console.log(JSON.stringify({ code: e.code, name: e.name, message: e.message, packageName: e.packageName })) }"]);
    const e = JSON.parse(ok(r, 'node -e').stdout);
    assert.equal(e.code, 'NATIVE_BINDING_MISSING');
    assert.equal(e.name, 'GenesysTenantsError');
    assert.equal(e.packageName, `genesys-tenants-${packages.triple}`);
    assert.match(e.message, new RegExp(`no native binding loaded for ${packages.triple}`));
    assert.match(e.message, /optional dependencies/);
    assert.match(e.message, /rustup\.rs/);
    // The testing entry needs no addon and says where the emulator should have been.
    const t = run(process.execPath, ['-e', "require('genesys-tenants/testing').startEmulator().catch((e) => console.log(e.code))"]);
    assert.equal(ok(t, 'startEmulator').stdout.trim(), 'EMULATOR_MISSING');
  } finally {
    renameSync(aside, pkgDir);
  }
});

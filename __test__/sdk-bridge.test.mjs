// The official SDK through getTenantClient(): its HTTP goes through the Rust pipeline.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TenantOrchestrator } from '../lib/index.mjs';
import { startEmulator } from './helpers.mjs';

const require = createRequire(import.meta.url);
const platformClient = require('purecloud-platform-client-v2');
const INTERVAL = '2024-01-01T00:00:00.000Z/2024-01-08T00:00:00.000Z';

let emu;
let o;
let tenants;
before(async () => {
  emu = await startEmulator();
  tenants = Object.fromEntries((await emu.tenants()).map((t) => [t.tenantId, t]));
  o = new TenantOrchestrator(emu.options());
  await o.initialize();
});
after(async () => {
  await o?.close();
  await emu?.stop();
});

test('UsersApi pages to the end through the pipeline', async () => {
  const client = o.getTenantClient('acme-corp');
  assert.ok(client instanceof platformClient.ApiClientClass);
  assert.equal(o.getTenantClient('acme-corp'), client, 'one client per tenant');
  const users = new platformClient.UsersApi(client);
  const ids = new Set();
  for (let page = 1; ; page++) {
    const res = await users.getUsers({ pageSize: 250, pageNumber: page });
    for (const u of res.entities) ids.add(u.id);
    if (!res.nextUri) break;
  }
  assert.equal(ids.size, 1234);
  const before = await emu.counters('acme-corp');
  assert.equal(before.tokenRequests, 1, 'the pipeline logged in once; the SDK never did');
});

test('two tenants in different regions never cross', async () => {
  const [eu, de] = await Promise.all([
    new platformClient.OrganizationApi(o.getTenantClient('acme')).getOrganizationsMe(),
    new platformClient.OrganizationApi(o.getTenantClient('globex')).getOrganizationsMe(),
  ]);
  assert.equal(eu.name, 'Acme EU');
  assert.equal(de.name, 'Globex');
  assert.notEqual(o.getTenantClient('acme'), o.getTenantClient('globex'));
});

test('a 403 keeps the SDK shape and gains our code', async () => {
  const err = await new platformClient.UsersApi(o.getTenantClient('globex')).postUsersSearch({ query: [{ type: 'MATCH_ALL' }] }).then(
    () => null,
    (e) => e,
  );
  // Default mode: the SDK rejects with the response data.
  assert.equal(err.code, 'PERMISSION_MISSING');
  assert.equal(err.genesysCode, 'missing.any.permissions');
  assert.deepEqual(err.missingPermissions, ['directory:user:view']);
  assert.equal(err.status, 403);
  assert.equal(err.tenantId, 'globex');
});

test('extended responses work too', async () => {
  const client = o.getTenantClient('initech');
  client.setReturnExtendedResponses(true);
  try {
    const ok = await new platformClient.OrganizationApi(client).getOrganizationsMe();
    assert.equal(ok.status, 200);
    assert.equal(ok.body.name, 'Initech');
    const err = await new platformClient.UsersApi(client).getUsers().then(() => null, (e) => e);
    assert.equal(err.status, 403);
    assert.equal(err.body.code, 'SCOPE_MISSING');
    assert.deepEqual(err.body.missingScopes, ['users', 'users:readonly']);
    assert.equal(err.body.mode, 'ANY');
    assert.equal(err.body.genesysCode, 'app.not.authorized.for.scope');
    assert.equal(err.error.code, 'SCOPE_MISSING');
  } finally {
    client.setReturnExtendedResponses(false);
  }
});

test('a 429 storm is absorbed', async () => {
  await emu.control('PATCH', `clients/${tenants.umbrella.clientId}`, { rateLimit: { limit: 5, windowSeconds: 1 } });
  const api = new platformClient.OrganizationApi(o.getTenantClient('umbrella'));
  const results = await Promise.all(Array.from({ length: 12 }, () => api.getOrganizationsMe()));
  assert.equal(results.length, 12);
  assert.ok(results.every((r) => r.name === 'Umbrella'));
});

test('a 401 after secret rotation is absorbed', async () => {
  const api = new platformClient.OrganizationApi(o.getTenantClient('acme'));
  await api.getOrganizationsMe();
  await emu.control('POST', `clients/${tenants.acme.clientId}/secret`, {});
  await emu.control('POST', `clients/${tenants.acme.clientId}/revoke`, {});
  const org = await api.getOrganizationsMe();
  assert.equal(org.name, 'Acme EU');
});

test('AnalyticsApi details query through the bridge', async () => {
  const res = await new platformClient.AnalyticsApi(o.getTenantClient('acme-corp')).postAnalyticsConversationsDetailsQuery({
    interval: INTERVAL,
    paging: { pageSize: 50, pageNumber: 1 },
  });
  assert.equal(res.totalHits, 437);
  assert.equal(res.conversations.length, 50);
});

test('1,000 tenants: one SDK client each, no MaxListenersExceededWarning', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gt-sdk-'));
  const file = path.join(dir, 'tenants.json');
  const many = Array.from({ length: 1000 }, (_, i) => ({ tenantId: `t${i}`, clientId: `c${i}`, clientSecret: `s${i}`, region: 'eu-west-1' }));
  writeFileSync(file, JSON.stringify(many));
  const warnings = [];
  const onWarning = (w) => warnings.push(w.name);
  process.on('warning', onWarning);
  const big = new TenantOrchestrator({ configFile: file, gateway: emu.gateway });
  await big.initialize();
  global.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const clients = many.map((t) => big.getTenantClient(t.tenantId));
  global.gc?.();
  const perClient = (process.memoryUsage().heapUsed - heap0) / clients.length;
  await new Promise((r) => setTimeout(r, 100));
  process.off('warning', onWarning);
  assert.equal(new Set(clients).size, 1000);
  assert.ok(!warnings.includes('MaxListenersExceededWarning'), warnings.join(','));
  console.log(`# heap per SDK client: ${(perClient / 1024).toFixed(1)} KiB`);
  await big.close();
});

test('without the SDK installed, the package loads and getTenantClient says so', async () => {
  const { spawnSync } = await import('node:child_process');
  const script = `
    const Module = require('module');
    const resolve = Module._resolveFilename;
    Module._resolveFilename = function (request, ...rest) {
      if (request === 'purecloud-platform-client-v2') { const e = new Error("Cannot find module '" + request + "'"); e.code = 'MODULE_NOT_FOUND'; throw e; }
      return resolve.call(this, request, ...rest);
    };
    const { TenantOrchestrator } = require(${JSON.stringify(path.resolve('lib/index.js'))});
    (async () => {
      const o = new TenantOrchestrator(${JSON.stringify(emu.options())});
      await o.initialize();
      const me = await o.request('acme', { path: '/api/v2/organizations/me' });
      try { o.getTenantClient('acme'); console.log('no error'); }
      catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message, status: me.status })); }
      await o.close();
    })();`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
  const out = JSON.parse(r.stdout.trim());
  assert.equal(out.code, 'SDK_NOT_INSTALLED');
  assert.match(out.message, /npm install purecloud-platform-client-v2/);
  assert.equal(out.status, 200, 'everything else works without the SDK');
});

// The addon through the package entry, against the emulator binary.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { TenantOrchestrator, ErrorCodes } from '../lib/index.mjs';
import { startEmulator, root } from './helpers.mjs';

let emu;
before(async () => {
  emu = await startEmulator();
});
after(async () => {
  await emu?.stop();
});

const FIVE = ['acme-corp', 'acme', 'globex', 'initech', 'umbrella'];

test('options are checked and the bad one is named', () => {
  assert.throws(() => new TenantOrchestrator({}), (e) => e.code === 'INVALID_OPTIONS' && e.option === 'configEndpoint');
  assert.throws(
    () => new TenantOrchestrator({ configEndpoint: 'http://127.0.0.1:1', maxRetries: 'three' }),
    (e) => e.code === 'INVALID_OPTIONS' && e.option === 'maxRetries' && e instanceof Error,
  );
  assert.throws(() => new TenantOrchestrator({ configEndpoint: 'http://127.0.0.1:1', colour: 1 }), (e) => e.option === 'colour');
  assert.ok(ErrorCodes.includes('PERMISSION_MISSING'));
});

test('an unreachable config service fails initialize() fast with CONFIG_UNAVAILABLE', async () => {
  const o = new TenantOrchestrator({ configEndpoint: 'http://127.0.0.1:1', gateway: emu.gateway });
  const t0 = Date.now();
  await assert.rejects(o.initialize(), (e) => e.code === 'CONFIG_UNAVAILABLE' && typeof e.reason === 'string');
  assert.ok(Date.now() - t0 < 5000);
  await assert.rejects(o.getAccessToken('acme'), (e) => e.code === 'NOT_INITIALIZED');
  await o.close();
});

test('5 tenants x 25 concurrent cold calls make exactly 5 token requests', async () => {
  await emu.control('POST', 'reset', {});
  const o = new TenantOrchestrator(emu.options());
  const ids = await o.initialize();
  for (const t of FIVE) assert.ok(ids.includes(t), `${t} in ${ids}`);
  for (let wave = 0; wave < 2; wave++) {
    const tokens = await Promise.all(FIVE.flatMap((t) => Array.from({ length: 25 }, () => o.getAccessToken(t))));
    assert.equal(new Set(tokens).size, 5);
    for (const t of FIVE) assert.equal((await emu.counters(t)).tokenRequests, 1, `${t} wave ${wave}`);
  }
  await o.close();
});

test('typed errors carry code and fields; secrets never leak into them or events', async () => {
  const o = new TenantOrchestrator(emu.options());
  const seen = [];
  const off = o.onEvent((e) => seen.push(e));
  await o.initialize();
  const err = await o
    .request('globex', { method: 'POST', path: '/api/v2/users/search', body: { query: [{ type: 'MATCH_ALL' }] } })
    .then(() => null, (e) => e);
  assert.ok(err instanceof Error);
  assert.equal(err.code, 'PERMISSION_MISSING');
  assert.deepEqual(err.missingPermissions, ['directory:user:view']);
  assert.equal(err.mode, 'ANY');
  assert.equal(err.status, 403);
  assert.equal(err.tenantId, 'globex');
  assert.match(err.message, /directory:user:view/);
  assert.ok(err.correlationId);
  await assert.rejects(o.getAccessToken('nobody'), (e) => e.code === 'UNKNOWN_TENANT' && e.tenantId === 'nobody');
  const token = await o.getAccessToken('acme');
  await new Promise((r) => setTimeout(r, 50));
  off();
  assert.ok(seen.some((e) => e.type === 'token.acquired' && e.tenantId === 'acme'));
  const captured = JSON.stringify(seen) + JSON.stringify(err) + err.message + JSON.stringify(o.stats());
  for (const t of await emu.tenants()) assert.ok(!captured.includes(t.clientSecret), 'secret leaked');
  assert.ok(!captured.includes(token), 'token leaked');
  await o.close();
});

test('fetchAll returns every user once; paginate walks analytics pages', async () => {
  const o = new TenantOrchestrator(emu.options());
  await o.initialize();
  const all = await o.fetchAll('acme-corp', { path: '/api/v2/users' }, { pageSize: 100 });
  assert.equal(all.entities.length, 1234);
  assert.equal(all.totalCount, 1234);
  assert.equal(all.pages, 13);
  assert.equal(new Set(all.entities.map((u) => u.id)).size, 1234);
  const conversations = new Set();
  let pages = 0;
  for await (const page of o.paginate('acme-corp', {
    method: 'POST',
    path: '/api/v2/analytics/conversations/details/query',
    body: { interval: '2024-01-01T00:00:00.000Z/2024-01-08T00:00:00.000Z' },
  })) {
    pages++;
    for (const c of page.items) conversations.add(c.conversationId);
  }
  assert.equal(conversations.size, 437);
  assert.equal(pages, 5);
  await assert.rejects(o.fetchAll('acme-corp', { path: '/api/v2/users' }, { maxPages: 2 }), (e) => e.code === 'TOO_MANY_PAGES');
  await assert.rejects(o.request('acme', { path: 42 }), (e) => e.code === 'INVALID_OPTIONS' && e.option === 'path');
  await o.close();
});

test('close() stops everything: calls reject with CLOSED and the process exits by itself', async () => {
  const o = new TenantOrchestrator(emu.options());
  await o.initialize();
  await o.close();
  await assert.rejects(o.getAccessToken('acme'), (e) => e.code === 'CLOSED');

  const script = `
    const { TenantOrchestrator } = require(${JSON.stringify(root + '/lib/index.js')});
    (async () => {
      const o = new TenantOrchestrator(${JSON.stringify(emu.options({ configPollIntervalMs: 100 }))});
      o.onEvent(() => {});
      await o.initialize();
      await o.request('acme', { path: '/api/v2/organizations/me' });
      await o.close();
      console.log('closed');
    })().catch((e) => { console.error(e); process.exit(3); });
  `;
  const r = spawnSync(process.execPath, ['-e', script], { timeout: 10_000, encoding: 'utf8' });
  assert.equal(r.error, undefined, 'the child did not exit by itself within 10 s');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /closed/);
});

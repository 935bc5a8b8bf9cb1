// The tutorial-compatible helpers against the emulator: fetchTenantConfig,
// executeWithScopeValidation, fetchWithPaginationAndRetry, and the tutorial's complete example.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { inspect } from 'node:util';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  TenantOrchestrator,
  fetchTenantConfig,
  executeWithScopeValidation,
  fetchWithPaginationAndRetry,
} from '../lib/index.mjs';
import { startEmulator, root } from './helpers.mjs';

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

/** An official-SDK client of the caller's own (no pipeline), logged in against the emulator. */
async function rawClient(tenantId) {
  const client = new platformClient.ApiClientClass();
  client.config.live_reload_config = false;
  client.setGateway({ host: '127.0.0.1', port: emu.port, protocol: 'http' });
  await client.loginClientCredentialsGrant(tenants[tenantId].clientId, tenants[tenantId].clientSecret);
  return client;
}

const rejection = (p) => p.then(() => assert.fail('expected a rejection'), (e) => e);

describe('fetchTenantConfig', () => {
  test('returns the valid entries, sorted, with the secret present but never printed', async () => {
    const list = await fetchTenantConfig(emu.url, { configServiceToken: emu.configServiceToken });
    assert.deepEqual(list.map((t) => t.tenantId), ['acme', 'acme-corp', 'globex', 'initech', 'umbrella']);
    const acme = list[0];
    assert.equal(acme.clientId, tenants.acme.clientId);
    assert.equal(acme.clientSecret, tenants.acme.clientSecret);
    assert.equal(acme.environment, 'mypurecloud.ie');
    assert.deepEqual(acme.scopes, acme.requiredScopes);
    assert.ok(!JSON.stringify(list).includes(tenants.acme.clientSecret), 'JSON.stringify leaves the secret out');
    assert.ok(!inspect(list, { depth: 5 }).includes(tenants.acme.clientSecret), 'console.log leaves the secret out');
    assert.deepEqual({ ...acme }.clientSecret, undefined, 'spreading an entry drops the secret too');
    assert.deepEqual(list.invalid, []);
  });

  test('reports invalid entries beside the valid ones', async () => {
    const doc = await emu.tenants();
    await emu.control('PUT', 'config-service/tenants', [
      ...doc,
      { tenantId: 'no-secret', clientId: 'x' },
      { tenantId: 'far-away', clientId: 'x', clientSecret: 'y', region: 'evil.example.com' },
    ]);
    try {
      const list = await fetchTenantConfig(emu.url, { configServiceToken: emu.configServiceToken });
      assert.equal(list.length, 5);
      const byId = Object.fromEntries(list.invalid.map((e) => [e.tenantId, e]));
      assert.equal(byId['no-secret'].code, 'TENANT_INVALID');
      assert.equal(byId['no-secret'].field, 'clientSecret');
      assert.equal(byId['far-away'].code, 'HOST_NOT_ALLOWED');
      assert.equal(byId['far-away'].host, 'evil.example.com');
    } finally {
      await emu.control('DELETE', 'config-service/tenants');
    }
  });

  test('an unreadable service or a wrong token is CONFIG_UNAVAILABLE; bad arguments are INVALID_OPTIONS', async () => {
    const wrongToken = await rejection(fetchTenantConfig(emu.url, { configServiceToken: 'nope' }));
    assert.equal(wrongToken.code, 'CONFIG_UNAVAILABLE');
    assert.match(wrongToken.reason, /HTTP 401/);
    const refused = await rejection(fetchTenantConfig('http://127.0.0.1:9', { configTimeoutMs: 1000 }));
    assert.equal(refused.code, 'CONFIG_UNAVAILABLE');
    await emu.control('PUT', 'config-service', { mode: 'nonArray' });
    try {
      const notArray = await rejection(fetchTenantConfig(emu.url, { configServiceToken: emu.configServiceToken }));
      assert.equal(notArray.code, 'CONFIG_UNAVAILABLE');
      assert.match(notArray.reason, /JSON array/);
    } finally {
      await emu.control('PUT', 'config-service', { mode: 'ok' });
    }
    assert.equal((await rejection(fetchTenantConfig(42))).code, 'INVALID_OPTIONS');
    const unknown = await rejection(fetchTenantConfig(emu.url, { pollEvery: 5 }));
    assert.equal(unknown.code, 'INVALID_OPTIONS');
    assert.equal(unknown.option, 'pollEvery');
  });

  test('reads a config file given as an options object', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gt-tut-'));
    const file = path.join(dir, 'tenants.json');
    writeFileSync(file, JSON.stringify([{ tenantId: 'f', clientId: 'c', clientSecret: 's', region: 'eu-central-1' }]));
    const [entry] = await fetchTenantConfig({ configFile: file });
    assert.equal(entry.environment, 'mypurecloud.de');
    assert.equal(entry.rotationIntervalMs, null);
  });
});

describe('executeWithScopeValidation', () => {
  test('resolves with what the call resolves with', async () => {
    const client = o.getTenantClient('acme');
    const org = await executeWithScopeValidation(client, () => new platformClient.OrganizationApi(client).getOrganizationsMe(), ['organization:readonly']);
    assert.equal(org.name, 'Acme EU');
  });

  test('a missing permission through getTenantClient becomes PERMISSION_MISSING, an Error', async () => {
    const client = o.getTenantClient('globex');
    const err = await rejection(
      executeWithScopeValidation(client, () => new platformClient.UsersApi(client).postUsersSearch({ query: [{ type: 'MATCH_ALL' }] }), ['users:readonly']),
    );
    assert.ok(err instanceof Error);
    assert.equal(err.code, 'PERMISSION_MISSING');
    assert.deepEqual(err.missingPermissions, ['directory:user:view']);
    assert.equal(err.mode, 'ANY');
    assert.equal(err.tenantId, 'globex');
    assert.equal(err.genesysCode, 'missing.any.permissions');
  });

  test('a missing scope the server names becomes SCOPE_MISSING, in extended mode too', async () => {
    const client = o.getTenantClient('initech');
    const call = () => new platformClient.UsersApi(client).getUsers();
    const err = await rejection(executeWithScopeValidation(client, call, []));
    assert.equal(err.code, 'SCOPE_MISSING');
    assert.deepEqual(err.missingScopes, ['users', 'users:readonly']);
    assert.equal(err.mode, 'ANY');
    assert.equal(err.preflight, false);
    client.setReturnExtendedResponses(true);
    try {
      const ext = await rejection(executeWithScopeValidation(client, call, []));
      assert.equal(ext.code, 'SCOPE_MISSING');
      assert.deepEqual(ext.missingScopes, ['users', 'users:readonly']);
    } finally {
      client.setReturnExtendedResponses(false);
    }
  });

  test("an SDK client of the caller's own: the server's body is classified by the core", async () => {
    const client = await rawClient('globex');
    const call = () => new platformClient.UsersApi(client).postUsersSearch({ query: [{ type: 'MATCH_ALL' }] });
    const err = await rejection(executeWithScopeValidation(client, call, ['users:readonly']));
    assert.ok(err instanceof Error);
    assert.equal(err.code, 'PERMISSION_MISSING');
    assert.deepEqual(err.missingPermissions, ['directory:user:view']);
    assert.equal(err.mode, 'ANY');
    assert.equal(err.tenantId, undefined, 'no tenant is known for a foreign client');
    assert.match(err.message, /^the OAuth client is missing permission directory:user:view: grant it/);
    assert.equal(err.cause.code, 'missing.any.permissions', 'the SDK rejection is kept as the cause');

    client.setReturnExtendedResponses(true);
    const ext = await rejection(executeWithScopeValidation(client, call, []));
    assert.equal(ext.code, 'PERMISSION_MISSING');
    assert.equal(ext.correlationId, ext.cause.headers['inin-correlation-id']);

    const notFound = await rejection(executeWithScopeValidation(client, () => new platformClient.UsersApi(client).getUser('no-such-user'), []));
    assert.equal(notFound.code, 'UPSTREAM_ERROR');
    assert.equal(notFound.status, 404);
  });

  test('scopes the tenant does not declare fail before any request', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gt-tut-'));
    const file = path.join(dir, 'tenants.json');
    const t = tenants.acme;
    writeFileSync(file, JSON.stringify([{ ...t, requiredScopes: ['organization:readonly', 'users'] }]));
    const scoped = new TenantOrchestrator({ configFile: file, gateway: emu.gateway });
    await scoped.initialize();
    try {
      const client = scoped.getTenantClient('acme');
      let calls = 0;
      const before = (await emu.counters('acme')).apiCallsTotal;
      const err = await rejection(
        executeWithScopeValidation(client, () => calls++, ['users:readonly', 'analytics:readonly', 'routing', 'analytics:readonly']),
      );
      assert.equal(err.code, 'SCOPE_MISSING');
      assert.equal(err.preflight, true);
      assert.deepEqual(err.missingScopes, ['analytics:readonly', 'routing'], '`users` covers users:readonly; no repeats');
      assert.equal(err.tenantId, 'acme');
      assert.equal(calls, 0, 'the call was not made');
      assert.equal((await emu.counters('acme')).apiCallsTotal, before);
      const org = await executeWithScopeValidation(client, () => new platformClient.OrganizationApi(client).getOrganizationsMe(), ['organization:readonly']);
      assert.equal(org.name, 'Acme EU');
    } finally {
      await scoped.close();
    }
  });

  test('bad arguments are INVALID_OPTIONS; errors of the caller pass through unchanged', async () => {
    assert.equal((await rejection(executeWithScopeValidation(null, 'nope', []))).code, 'INVALID_OPTIONS');
    assert.equal((await rejection(executeWithScopeValidation(null, () => 1, 'users'))).option, 'requiredScopes');
    const mine = new RangeError('mine');
    assert.equal(await rejection(executeWithScopeValidation(null, () => Promise.reject(mine), [])), mine);
  });
});

describe('fetchWithPaginationAndRetry', () => {
  test('every user through getTenantClient, exactly once each', async () => {
    const users = new platformClient.UsersApi(o.getTenantClient('acme-corp'));
    const calls = [];
    const all = await fetchWithPaginationAndRetry((n) => {
      calls.push(n);
      return users.getUsers({ pageSize: 100, pageNumber: n });
    }, 3);
    assert.equal(all.length, 1234);
    assert.equal(new Set(all.map((u) => u.id)).size, 1234);
    assert.deepEqual(calls, Array.from({ length: 13 }, (_, i) => i + 1), 'pageCount ends the listing: no extra call');
  });

  test('analytics details pages until totalHits', async () => {
    const analytics = new platformClient.AnalyticsApi(o.getTenantClient('acme-corp'));
    const all = await fetchWithPaginationAndRetry((n) => analytics.postAnalyticsConversationsDetailsQuery({ interval: INTERVAL, paging: { pageSize: 100, pageNumber: n } }));
    assert.equal(all.length, 437);
    assert.equal(new Set(all.map((c) => c.conversationId)).size, 437);
  });

  test('a details job read by cursor, through the official SDK', async () => {
    const analytics = new platformClient.AnalyticsApi(o.getTenantClient('acme-corp'));
    const { jobId } = await analytics.postAnalyticsConversationsDetailsJobs({ interval: INTERVAL });
    for (let i = 0; (await analytics.getAnalyticsConversationsDetailsJob(jobId)).state !== 'FULFILLED'; i++) {
      assert.ok(i < 100, 'job fulfilled within 10 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    const cursors = [];
    const all = await fetchWithPaginationAndRetry((n, { cursor }) => {
      cursors.push(cursor);
      return analytics.getAnalyticsConversationsDetailsJobResults(jobId, { pageSize: 100, ...(cursor ? { cursor } : {}) });
    });
    assert.equal(all.length, 437);
    assert.equal(new Set(all.map((c) => c.conversationId)).size, 437);
    assert.equal(cursors[0], undefined);
    assert.ok(cursors.slice(1).every((c) => typeof c === 'string' && c.length > 0));
  });

  test("429s on an SDK client of the caller's own are waited out (Retry-After), nothing lost", async () => {
    await emu.control('PATCH', `clients/${tenants.acme.clientId}`, { rateLimit: { limit: 3, windowSeconds: 1 } });
    try {
      const users = new platformClient.UsersApi(await rawClient('acme'));
      const before = await emu.counters('acme');
      const started = Date.now();
      const all = await fetchWithPaginationAndRetry((n) => users.getUsers({ pageSize: 5, pageNumber: n }), 5);
      const after = await emu.counters('acme');
      assert.equal(all.length, 50);
      assert.equal(new Set(all.map((u) => u.id)).size, 50);
      const throttled = (after.apiCalls['429'] || 0) - (before.apiCalls['429'] || 0);
      assert.ok(throttled >= 1, 'the budget of 3 per second was exceeded and answered 429');
      assert.ok(throttled <= 8, `waiting Retry-After keeps 429s few (saw ${throttled})`);
      assert.ok(Date.now() - started >= 2000, '10 pages at 3 per second take at least 2 s');
    } finally {
      await emu.control('PATCH', `clients/${tenants.acme.clientId}`, { rateLimit: { limit: 300, windowSeconds: 60 } });
    }
  });

  test('a page that keeps failing rejects with what was fetched, never a partial success', async () => {
    const users = new platformClient.UsersApi(await rawClient('acme'));
    let attempts = 0;
    try {
      const err = await rejection(
        fetchWithPaginationAndRetry(async (n) => {
          if (n === 2) {
            if (attempts++ === 0) await emu.control('POST', 'faults', { path: '/api/v2/users', status: 503, count: 10 });
          }
          return users.getUsers({ pageSize: 10, pageNumber: n });
        }, 2),
      );
      assert.equal(err.code, 'UPSTREAM_ERROR');
      assert.equal(err.status, 503);
      assert.equal(attempts, 3, 'one try and two retries');
      assert.equal(err.pagesFetched, 1);
      assert.equal(err.partialEntities.length, 10);
    } finally {
      await emu.control('DELETE', 'faults');
    }
  });

  test('cursor and nextUri listings, stuck cursors, non-listings, maxPages and bad arguments', async () => {
    const byCursor = await fetchWithPaginationAndRetry(async (n, { cursor }) =>
      cursor === 'c2' ? { entities: [3], cursor: '' } : cursor === 'c1' ? { entities: [2], cursor: 'c2' } : { entities: [1], cursor: 'c1' },
    );
    assert.deepEqual(byCursor, [1, 2, 3]);
    const byUri = await fetchWithPaginationAndRetry(async (n, { nextUri }) => (nextUri ? { entities: ['b'] } : { entities: ['a'], nextUri: '/api/v2/x?after=1' }));
    assert.deepEqual(byUri, ['a', 'b']);
    const stuck = await rejection(fetchWithPaginationAndRetry(async () => ({ entities: [1], cursor: 'same' })));
    assert.equal(stuck.code, 'UPSTREAM_ERROR');
    assert.deepEqual(stuck.partialEntities, [1], 'the repeated page is not counted twice');
    const single = await rejection(fetchWithPaginationAndRetry(async () => ({ id: 'u1', name: 'a user, not a page' })));
    assert.equal(single.code, 'INVALID_OPTIONS');
    assert.deepEqual(await fetchWithPaginationAndRetry(async () => ({})), [], 'an empty analytics page ends the listing');
    const runaway = await rejection(fetchWithPaginationAndRetry(async (n) => ({ entities: [n], pageCount: 1e6 }), 3, { maxPages: 5, tenantId: 'x' }));
    assert.equal(runaway.code, 'TOO_MANY_PAGES');
    assert.equal(runaway.tenantId, 'x');
    assert.deepEqual(runaway.partialEntities, [1, 2, 3, 4, 5]);
    const nested = await rejection(
      fetchWithPaginationAndRetry(async (n) => {
        if (n === 2) await fetchWithPaginationAndRetry(async () => ({ entities: [1], cursor: 'same' }));
        return { entities: ['outer'], pageCount: 3 };
      }),
    );
    assert.equal(nested.code, 'UPSTREAM_ERROR');
    assert.deepEqual(nested.partialEntities, ['outer'], 'the outer listing says what it had fetched');
    assert.equal((await rejection(fetchWithPaginationAndRetry(async () => ({}), -1))).option, 'maxRetries');
    assert.equal((await rejection(fetchWithPaginationAndRetry('x'))).option, 'apiCall');
  });
});

test("the tutorial's complete example, adapted only by its imports, runs against the emulator", () => {
  const r = spawnSync(process.execPath, [path.join(root, 'examples', 'tutorial-complete-example.mjs')], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, CONFIG_ENDPOINT: emu.url, CONFIG_SERVICE_TOKEN: emu.configServiceToken, GENESYS_TENANTS_GATEWAY: emu.url },
  });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines[0], 'Loaded 5 tenant configurations');
  const byId = Object.fromEntries(lines.slice(1).map((l) => JSON.parse(l)).map((x) => [x.tenantId, x]));
  assert.deepEqual(byId['acme-corp'], { ok: true, tenantId: 'acme-corp', organization: 'Acme Corp', users: 1234, conversations: 437 });
  assert.deepEqual(byId.acme, { ok: true, tenantId: 'acme', organization: 'Acme EU', users: 50, conversations: 0 });
  assert.equal(byId.globex.code, 'PERMISSION_MISSING');
  assert.deepEqual(byId.globex.missingPermissions, ['analytics:conversationDetail:view', 'analytics:agentConversationDetail:view']);
  assert.equal(byId.initech.code, 'SCOPE_MISSING');
  assert.deepEqual(byId.initech.missingScopes, ['users', 'users:readonly']);
  assert.equal(byId.umbrella.ok, true);
  assert.ok(!r.stdout.includes(tenants.acme.clientSecret), 'no secret is printed');
});

test('GENESYS_TENANTS_GATEWAY must be a URL without a path', () => {
  const r = spawnSync(process.execPath, ['-e', `
    const { TenantOrchestrator } = require(${JSON.stringify(path.join(root, 'lib', 'index.js'))});
    try { new TenantOrchestrator('http://127.0.0.1:1'); console.log('accepted'); }
    catch (e) { console.log(e.code + ' ' + e.option); }`], { encoding: 'utf8', env: { ...process.env, GENESYS_TENANTS_GATEWAY: 'http://127.0.0.1:1/api' } });
  assert.equal(r.stdout.trim(), 'INVALID_OPTIONS GENESYS_TENANTS_GATEWAY');
});

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
  test("a Map keyed by tenantId, as the tutorial builds it, the secret present but never printed", async () => {
    const map = await fetchTenantConfig(emu.url, { configServiceToken: emu.configServiceToken });
    assert.ok(map instanceof Map);
    assert.deepEqual([...map.keys()], ['acme', 'acme-corp', 'globex', 'initech', 'umbrella']);
    const seen = [];
    for (const [tenantId, config] of map) seen.push([tenantId, config.clientId]); // the tutorial's loop
    assert.equal(seen.length, 5);
    const acme = map.get('acme');
    assert.deepEqual(Object.keys(acme), ['tenantId', 'clientId', 'domainPrefix', 'scopes', 'rotationIntervalMs', 'environment']);
    assert.equal(acme.clientId, tenants.acme.clientId);
    assert.equal(acme.clientSecret, tenants.acme.clientSecret);
    assert.equal(acme.domainPrefix, tenants.acme.domainPrefix);
    assert.equal(acme.environment, 'mypurecloud.ie');
    assert.deepEqual(acme.scopes, []);
    assert.equal(acme.rotationIntervalMs, 3600000, "the tutorial's default when the entry names none");
    assert.ok(!JSON.stringify([...map]).includes(tenants.acme.clientSecret), 'JSON.stringify leaves the secret out');
    assert.ok(!inspect(map, { depth: 5 }).includes(tenants.acme.clientSecret), 'console.log leaves the secret out');
    assert.deepEqual({ ...acme }.clientSecret, undefined, 'spreading an entry drops the secret too');
    assert.deepEqual(map.invalid, []);
  });

  test('reports invalid entries beside the valid ones', async () => {
    const doc = await emu.tenants();
    await emu.control('PUT', 'config-service/tenants', [
      ...doc,
      { tenantId: 'no-secret', clientId: 'x' },
      { tenantId: 'far-away', clientId: 'x', clientSecret: 'y', region: 'evil.example.com' },
    ]);
    try {
      const map = await fetchTenantConfig(emu.url, { configServiceToken: emu.configServiceToken });
      assert.equal(map.size, 5);
      const byId = Object.fromEntries(map.invalid.map((e) => [e.tenantId, e]));
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
    writeFileSync(file, JSON.stringify([{ tenantId: 'f', clientId: 'c', clientSecret: 's', region: 'eu-central-1', rotationIntervalMs: 7200000 }]));
    const entry = (await fetchTenantConfig({ configFile: file })).get('f');
    assert.equal(entry.environment, 'mypurecloud.de');
    assert.equal(entry.rotationIntervalMs, 7200000);
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
    const { entities, totalCount } = await fetchWithPaginationAndRetry((nextPage) => {
      calls.push(nextPage);
      // The SDK sends a null parameter as an empty one (`pageNumber=`), which the API refuses: say 1.
      return users.getUsers({ pageSize: 100, pageNumber: nextPage ?? 1 });
    }, 3);
    assert.equal(totalCount, 1234);
    assert.equal(new Set(entities.map((u) => u.id)).size, 1234);
    assert.deepEqual(calls, [null, ...Array.from({ length: 12 }, (_, i) => i + 2)], 'null first, then the page numbers; pageCount ends it: no extra call');
  });

  test('analytics details pages until totalHits', async () => {
    const analytics = new platformClient.AnalyticsApi(o.getTenantClient('acme-corp'));
    const { entities } = await fetchWithPaginationAndRetry((n) => analytics.postAnalyticsConversationsDetailsQuery({ interval: INTERVAL, paging: { pageSize: 100, pageNumber: n ?? 1 } }));
    assert.equal(entities.length, 437);
    assert.equal(new Set(entities.map((c) => c.conversationId)).size, 437);
  });

  test('a details job read by cursor, through the official SDK', async () => {
    const analytics = new platformClient.AnalyticsApi(o.getTenantClient('acme-corp'));
    const { jobId } = await analytics.postAnalyticsConversationsDetailsJobs({ interval: INTERVAL });
    for (let i = 0; (await analytics.getAnalyticsConversationsDetailsJob(jobId)).state !== 'FULFILLED'; i++) {
      assert.ok(i < 100, 'job fulfilled within 10 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    const cursors = [];
    const { entities } = await fetchWithPaginationAndRetry((cursor, { kind }) => {
      cursors.push([kind, cursor]);
      return analytics.getAnalyticsConversationsDetailsJobResults(jobId, { pageSize: 100, ...(cursor ? { cursor } : {}) });
    });
    assert.equal(entities.length, 437);
    assert.equal(new Set(entities.map((c) => c.conversationId)).size, 437);
    assert.deepEqual(cursors[0], [null, null]);
    assert.ok(cursors.slice(1).every(([kind, c]) => kind === 'cursor' && typeof c === 'string' && c.length > 0));
  });

  test("429s on an SDK client of the caller's own are waited out (Retry-After), nothing lost", async () => {
    await emu.control('PATCH', `clients/${tenants.acme.clientId}`, { rateLimit: { limit: 3, windowSeconds: 1 } });
    try {
      const users = new platformClient.UsersApi(await rawClient('acme'));
      const before = await emu.counters('acme');
      const started = Date.now();
      const { entities: all } = await fetchWithPaginationAndRetry((n) => users.getUsers({ pageSize: 5, pageNumber: n ?? 1 }), 5);
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
          return users.getUsers({ pageSize: 10, pageNumber: n ?? 1 });
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
    const byCursor = await fetchWithPaginationAndRetry(async (cursor) =>
      cursor === 'c2' ? { entities: [3], cursor: '' } : cursor === 'c1' ? { entities: [2], cursor: 'c2' } : { entities: [1], cursor: 'c1' },
    );
    assert.deepEqual(byCursor, { entities: [1, 2, 3], totalCount: 3 });
    const byUri = await fetchWithPaginationAndRetry(async (nextUri, { kind }) => (kind === 'nextUri' ? { entities: ['b'] } : { entities: ['a'], nextUri: '/api/v2/x?after=1' }));
    assert.deepEqual(byUri.entities, ['a', 'b']);
    // The tutorial's own field: a search page's nextPage is the next token.
    const tokens = [];
    const byNextPage = await fetchWithPaginationAndRetry(async (token) => {
      tokens.push(token);
      return { body: token ? { results: ['y'] } : { results: ['x'], nextPage: 'q64-page-2' } };
    });
    assert.deepEqual([byNextPage.entities, tokens], [['x', 'y'], [null, 'q64-page-2']]);
    const stuck = await rejection(fetchWithPaginationAndRetry(async () => ({ entities: [1], cursor: 'same' })));
    assert.equal(stuck.code, 'UPSTREAM_ERROR');
    assert.deepEqual(stuck.partialEntities, [1], 'the repeated page is not counted twice');
    const single = await rejection(fetchWithPaginationAndRetry(async () => ({ id: 'u1', name: 'a user, not a page' })));
    assert.equal(single.code, 'INVALID_OPTIONS');
    assert.deepEqual(await fetchWithPaginationAndRetry(async () => ({})), { entities: [], totalCount: 0 }, 'an empty analytics page ends the listing');
    const runaway = await rejection(fetchWithPaginationAndRetry(async (n) => ({ entities: [n ?? 1], pageCount: 1e6 }), 3, { maxPages: 5, tenantId: 'x' }));
    assert.equal(runaway.code, 'TOO_MANY_PAGES');
    assert.equal(runaway.tenantId, 'x');
    assert.deepEqual(runaway.partialEntities, [1, 2, 3, 4, 5]);
    const nested = await rejection(
      fetchWithPaginationAndRetry(async (n) => {
        if (n === 2) await fetchWithPaginationAndRetry(async (c) => ({ entities: [1], cursor: c ? c : 'same' }));
        return { entities: ['outer'], pageCount: 3 };
      }),
    );
    assert.equal(nested.code, 'UPSTREAM_ERROR');
    assert.deepEqual(nested.partialEntities, ['outer'], 'the outer listing says what it had fetched');
    assert.equal((await rejection(fetchWithPaginationAndRetry(async () => ({}), -1))).option, 'maxRetries');
    assert.equal((await rejection(fetchWithPaginationAndRetry('x'))).option, 'apiCall');
  });
});

describe("the tutorial's orchestrator surface, on the tutorial's config payload", () => {
  // The tutorial's payload: no region, its scope names, rotationIntervalMs.
  let t;
  let events;
  before(async () => {
    const doc = await emu.tenants();
    const payload = doc.map(({ tenantId, clientId, clientSecret, domainPrefix }) => ({
      tenantId, clientId, clientSecret, domainPrefix, requiredScopes: ['user:read', 'analytics:report:read'], rotationIntervalMs: 7200000,
    }));
    await emu.control('PUT', 'config-service/tenants', payload);
    t = new TenantOrchestrator(emu.options());
    events = [];
    t.onEvent((e) => events.push(e));
    await t.initialize();
  });
  after(async () => {
    await t?.close();
    await emu.control('DELETE', 'config-service/tenants');
  });

  test('tenantConfigs is a live, read-only Map with the secret not enumerable', async () => {
    const configs = t.tenantConfigs;
    assert.ok(configs instanceof Map);
    assert.equal(configs.size, 5);
    const ids = [];
    for (const [tenantId, config] of configs) {
      ids.push(tenantId);
      assert.equal(config.rotationIntervalMs, 7200000);
      assert.deepEqual(config.scopes, ['user:read', 'analytics:report:read']);
    }
    assert.deepEqual(ids, ['acme', 'acme-corp', 'globex', 'initech', 'umbrella']);
    const acme = configs.get('acme');
    assert.equal(acme.clientSecret, tenants.acme.clientSecret);
    assert.ok(!JSON.stringify(acme).includes(tenants.acme.clientSecret) && !inspect(configs).includes(tenants.acme.clientSecret));
    assert.ok(Object.isFrozen(acme));
    assert.throws(() => configs.set('x', {}), TypeError);
    assert.throws(() => configs.delete('acme'), TypeError);
    assert.equal(configs.get('nobody'), undefined);
    assert.equal(configs.has('umbrella'), true);
    // Live: a config change shows without asking the view again.
    const doc = await emu.tenants();
    await emu.control('PUT', 'config-service/tenants', doc.filter((x) => x.tenantId !== 'umbrella').map(({ tenantId, clientId, clientSecret, domainPrefix }) => ({ tenantId, clientId, clientSecret, domainPrefix })));
    await t.reloadConfig();
    assert.equal(configs.has('umbrella'), false);
    assert.equal(configs.get('acme').rotationIntervalMs, 3600000);
    const payload = doc.map(({ tenantId, clientId, clientSecret, domainPrefix }) => ({ tenantId, clientId, clientSecret, domainPrefix, requiredScopes: ['user:read', 'analytics:report:read'], rotationIntervalMs: 7200000 }));
    await emu.control('PUT', 'config-service/tenants', payload);
    await t.reloadConfig();
    assert.equal(configs.size, 5);
  });

  test('credentialManager.rotateCredentials(domainPrefix) rotates exactly that tenant: acme-corp is untouched when acme rotates', async () => {
    await t.getAccessToken('acme');
    await t.getAccessToken('acme-corp');
    const before = { acme: (await emu.counters('acme')).tokenRequests, corp: (await emu.counters('acme-corp')).tokenRequests };
    const result = await t.credentialManager.rotateCredentials('acme');
    assert.deepEqual(result, { rotated: ['acme'], failed: [] });
    assert.equal((await emu.counters('acme')).tokenRequests, before.acme + 1);
    assert.equal((await emu.counters('acme-corp')).tokenRequests, before.corp, 'no prefix match');
    assert.deepEqual(await t.credentialManager.rotateCredentials('acm'), { rotated: [], failed: [] });
    const config = t.tenantConfigs.get('globex');
    assert.equal(await t.credentialManager.getGenesysClient(config), t.getTenantClient('globex'), 'the same client, no second cache');
    assert.equal(await t.credentialManager.fetchAccessToken(config), await t.getAccessToken('globex'));
    const byClient = { clientId: config.clientId, clientSecret: config.clientSecret, domainPrefix: 'globex', scopes: [] };
    assert.equal(await t.credentialManager.fetchAccessToken(byClient), await t.getAccessToken('globex'), 'a tutorial credentials object without tenantId');
    await assert.rejects(t.credentialManager.fetchAccessToken({ clientId: 'nobody' }), (e) => e.code === 'UNKNOWN_TENANT');
  });

  test('scheduleRotation(tenantId, config) forces rotations on the core scheduler', async () => {
    const seen = events.length;
    t.scheduleRotation('umbrella', { rotationIntervalMs: 1000 });
    const deadline = Date.now() + 5000;
    while (!events.slice(seen).some((e) => e.type === 'credentials.rotated' && e.tenantId === 'umbrella' && e.reason === 'scheduled')) {
      assert.ok(Date.now() < deadline, 'a scheduled rotation within 5 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    t.scheduleRotation('umbrella', null); // back to its config's 2 h
    assert.throws(() => t.scheduleRotation('umbrella', { rotationIntervalMs: 5 }), (e) => e.code === 'INVALID_OPTIONS');
    assert.throws(() => t.scheduleRotation('nobody', { rotationIntervalMs: 5000 }), (e) => e.code === 'UNKNOWN_TENANT');
  });

  test('gc.api.<name>Api: every SDK API class, created once, resolving to { status, headers, body }', async () => {
    const gc = await t.getTenantClient('acme-corp');
    const usersApi = gc.api.usersApi;
    assert.equal(gc.api.usersApi, usersApi, 'created once');
    assert.ok(gc.api.analyticsApi && gc.api.oauthApi && gc.api.routingApi);
    assert.equal(gc.api.noSuchApi, undefined);
    const users = await usersApi.getUsers({ pageSize: 1 });
    assert.equal(users.status, 200);
    assert.equal(users.body.total, 1234, "read as the tutorial reads it: users.body.total");
    assert.ok(users.headers['inin-correlation-id']);
    // The default-mode client is untouched: plain SDK use still resolves to the body.
    const plain = await new platformClient.UsersApi(gc).getUsers({ pageSize: 1 });
    assert.equal(plain.total, 1234);
    // The tutorial's call, which the real SDK lacks, names the nearest real methods.
    const err = await rejection(usersApi.postUsersQuery({ body: { pageSize: 25 } }));
    assert.equal(err.code, 'UNKNOWN_METHOD');
    assert.equal(err.api, 'UsersApi');
    assert.equal(err.method, 'postUsersQuery');
    assert.ok(err.suggestions.includes('postUsersSearch') && err.suggestions.includes('getUsersQuery'), err.suggestions);
    assert.match(err.message, /UsersApi\.postUsersQuery does not exist in the official SDK/);
    // A 429 on a page of a client.api listing is absorbed by the pipeline, nothing lost.
    await emu.control('POST', 'faults', { method: 'GET', path: '/api/v2/users', status: 429, count: 1, retryAfterSeconds: 1 });
    const all = await fetchWithPaginationAndRetry((n) => usersApi.getUsers({ pageSize: 500, pageNumber: n ?? 1 }), 3);
    assert.equal(new Set(all.entities.map((u) => u.id)).size, 1234);
    assert.equal(all.totalCount, 1234);
  });

  test('the tutorial scope names are served, and config.unknown-scopes names the real ones', async () => {
    const gc = await t.getTenantClient('acme-corp');
    const q = await executeWithScopeValidation(gc, () => gc.api.analyticsApi.postAnalyticsConversationsDetailsQuery({ interval: INTERVAL }), ['analytics:report:read']);
    assert.equal(q.body.totalHits, 437);
    const e = events.find((x) => x.type === 'config.unknown-scopes' && x.tenantId === 'acme-corp');
    assert.deepEqual(e.suggestions, { 'user:read': ['users:readonly'], 'analytics:report:read': ['analytics:readonly'] });
  });
});

function runExample(file) {
  return spawnSync(process.execPath, [path.join(root, 'examples', file)], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, CONFIG_SERVICE_URL: emu.url, CONFIG_SERVICE_TOKEN: emu.configServiceToken, GENESYS_TENANTS_GATEWAY: emu.url },
  });
}

test("the tutorial's complete example, verbatim but for its imports: the clear error for postUsersQuery, and it exits without close()", () => {
  const started = Date.now();
  const r = runExample('tutorial-complete-example.mjs');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.signal, null, 'exited by itself, not killed by the timeout');
  assert.ok(Date.now() - started < 20_000);
  assert.equal(r.stdout, '');
  assert.equal(
    r.stderr.trim(),
    'Execution failed: UsersApi.postUsersQuery does not exist in the official SDK (purecloud-platform-client-v2); the nearest methods are getUsersQuery, postUsers, postUsersSearch',
  );
});

test('the same program with postUsersSearch prints the user count', () => {
  const r = runExample('tutorial-complete-example-fixed.mjs');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.signal, null);
  assert.equal(r.stdout.trim(), 'Fetched 1234 users for acme-corp');
  assert.equal(r.stderr, '');
});

test("a multi-tenant report in the tutorial's pattern runs against the emulator", () => {
  const r = spawnSync(process.execPath, [path.join(root, 'examples', 'multi-tenant-report.mjs')], {
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

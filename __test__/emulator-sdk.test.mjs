// The emulator is faithful enough for the official SDK (purecloud-platform-client-v2) to work
// against it unmodified: login, paging, 403/429/401 shapes as the SDK surfaces them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { startEmulator } from './helpers.mjs';

const require = createRequire(import.meta.url);
const platformClient = require('purecloud-platform-client-v2');
const INTERVAL = '2024-01-01T00:00:00.000Z/2024-01-08T00:00:00.000Z';

let emu;
let tenants;
before(async () => {
  emu = await startEmulator();
  tenants = Object.fromEntries((await emu.tenants()).map((t) => [t.tenantId, t]));
});
after(async () => {
  await emu?.stop();
});

async function sdkClient(tenantId, { extended = false } = {}) {
  const client = new platformClient.ApiClientClass();
  client.config.live_reload_config = false;
  client.setGateway({ host: '127.0.0.1', port: emu.port, protocol: 'http' });
  if (extended) client.setReturnExtendedResponses(true);
  const t = tenants[tenantId];
  const auth = await client.loginClientCredentialsGrant(t.clientId, t.clientSecret);
  return { client, auth };
}

test('login and organization', async () => {
  const { client, auth } = await sdkClient('acme-corp');
  assert.ok(auth.accessToken);
  assert.ok(auth.tokenExpiryTime > Date.now() + 86_000_000, 'expires_in is the client lifetime (24 h)');
  const org = await new platformClient.OrganizationApi(client).getOrganizationsMe();
  assert.equal(org.name, 'Acme Corp');
});

test('users paged to the end with consistent total, pageCount and nextUri', async () => {
  const { client } = await sdkClient('acme-corp');
  const users = new platformClient.UsersApi(client);
  const ids = new Set();
  let page = 1;
  let pageCount;
  for (;;) {
    const res = await users.getUsers({ pageSize: 100, pageNumber: page });
    assert.equal(res.total, 1234);
    pageCount ??= res.pageCount;
    assert.equal(res.pageCount, 13);
    for (const u of res.entities) ids.add(u.id);
    if (page < pageCount) assert.match(res.nextUri, new RegExp(`pageNumber=${page + 1}`));
    else assert.equal(res.nextUri, undefined);
    if (!res.nextUri) break;
    page++;
  }
  assert.equal(page, 13);
  assert.equal(ids.size, 1234);
});

test('a 403 names the missing permission', async () => {
  const { client } = await sdkClient('globex');
  const err = await new platformClient.UsersApi(client).postUsersSearch({ query: [{ type: 'MATCH_ALL' }] }).then(
    () => null,
    (e) => e,
  );
  // Default mode: the SDK rejects with the parsed error body.
  assert.equal(err.status, 403);
  assert.equal(err.code, 'missing.any.permissions');
  assert.match(err.message, /directory:user:view/);
  assert.equal(err.messageParams.permissions, 'directory:user:view');
});

test('scope enforcement answers 403 in the shape Genesys sends (and the older one on request)', async () => {
  const { client } = await sdkClient('initech', { extended: true });
  const res = await new platformClient.UsersApi(client).getUsers().then(() => null, (e) => e);
  assert.equal(res.status, 403);
  assert.equal(res.body.code, 'app.not.authorized.for.scope');
  assert.equal(res.body.message, 'App not authorized to use scope [users, users:readonly]');
  assert.equal(res.body.messageParams, undefined);
  assert.equal(res.headers['www-authenticate'], undefined);
  await emu.control('PUT', 'scope-errors', { shape: 'legacy' });
  try {
    const old = await new platformClient.UsersApi(client).getUsers().then(() => null, (e) => e);
    assert.equal(old.body.code, 'missing.scopes');
    assert.match(old.headers['www-authenticate'], /insufficient_scope.*users:readonly/);
  } finally {
    await emu.control('PUT', 'scope-errors', { shape: 'genesys' });
  }
  const org = await new platformClient.OrganizationApi(client).getOrganizationsMe();
  assert.equal(org.body.name, 'Initech');
});

test('a 429 carries Retry-After and the rate-limit headers', async () => {
  await emu.control('PATCH', `clients/${tenants.acme.clientId}`, { rateLimit: { limit: 3, windowSeconds: 60 } });
  const { client } = await sdkClient('acme', { extended: true });
  const api = new platformClient.OrganizationApi(client);
  for (let i = 1; i <= 3; i++) {
    const ok = await api.getOrganizationsMe();
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['inin-ratelimit-count'], String(i));
    assert.equal(ok.headers['inin-ratelimit-allowed'], '3');
  }
  const res = await api.getOrganizationsMe().then(() => null, (e) => e);
  assert.equal(res.status, 429);
  assert.equal(res.body.code, 'too.many.requests.retry.after');
  const retryAfter = Number(res.headers['retry-after']);
  assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${res.headers['retry-after']}`);
  assert.ok(res.headers['inin-correlation-id']);
  await emu.control('PATCH', `clients/${tenants.acme.clientId}`, { rateLimit: { limit: 300, windowSeconds: 60 } });
});

test('a wrong secret is 401 invalid_client; a bogus bearer is 401 bad.credentials', async () => {
  const client = new platformClient.ApiClientClass();
  client.config.live_reload_config = false;
  client.setGateway({ host: '127.0.0.1', port: emu.port, protocol: 'http' });
  const err = await client.loginClientCredentialsGrant(tenants.acme.clientId, 'wrong-secret').then(() => null, (e) => e);
  assert.equal(err.response.status, 401);
  assert.equal(err.response.data.error, 'invalid_client');
  client.setAccessToken('bogus');
  const e2 = await new platformClient.OrganizationApi(client).getOrganizationsMe().then(() => null, (e) => e);
  assert.equal(e2.status, 401);
  assert.equal(e2.code, 'bad.credentials');
});

test('analytics: details query paged to the end, and a details job', async () => {
  const { client } = await sdkClient('acme-corp');
  const analytics = new platformClient.AnalyticsApi(client);
  const seen = new Set();
  for (let page = 1; ; page++) {
    const res = await analytics.postAnalyticsConversationsDetailsQuery({ interval: INTERVAL, paging: { pageSize: 100, pageNumber: page } });
    assert.equal(res.totalHits, 437);
    if (!res.conversations) break;
    for (const c of res.conversations) seen.add(c.conversationId);
  }
  assert.equal(seen.size, 437);

  const { jobId } = await analytics.postAnalyticsConversationsDetailsJobs({ interval: INTERVAL });
  let state;
  for (let i = 0; i < 50 && state !== 'FULFILLED'; i++) {
    ({ state } = await analytics.getAnalyticsConversationsDetailsJob(jobId));
    if (state !== 'FULFILLED') await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(state, 'FULFILLED');
  const fromJob = new Set();
  let cursor;
  do {
    const res = await analytics.getAnalyticsConversationsDetailsJobResults(jobId, { cursor, pageSize: 200 });
    for (const c of res.conversations) fromJob.add(c.conversationId);
    cursor = res.cursor;
  } while (cursor);
  assert.deepEqual([...fromJob].sort(), [...seen].sort());
});

// Staged credentials through the package (issue 18, part 2): a pending client in the `credentials[]` shape is
// tested and promoted with no failed call, a failing one is reported and never used, and stats() says which is which.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TenantOrchestrator } from '../lib/index.mjs';
import { startEmulator } from './helpers.mjs';

let emu;
before(async () => {
  emu = await startEmulator();
});
after(async () => {
  await emu?.stop();
});

const TENANT = 'acme';

/** Serves the world's document with the tenant's entry moved to `credentials[]`, current plus `pending`. */
let world;
async function stage(pending) {
  world ??= JSON.stringify(await emu.tenants());
  const doc = JSON.parse(world);
  const t = doc.find((x) => x.tenantId === TENANT);
  t.credentials = [{ clientId: t.clientId, clientSecret: t.clientSecret, stage: 'current' }, { ...pending, stage: 'pending' }];
  delete t.clientId;
  delete t.clientSecret;
  await emu.control('PUT', 'config-service/tenants', doc);
}

function nextEvent(o, type, ms = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${type} within ${ms} ms`));
    }, ms);
    const off = o.onEvent((e) => {
      if (e.type === type && e.tenantId === TENANT) {
        clearTimeout(timer);
        off();
        resolve(e);
      }
    });
  });
}

test('a failing pending client is reported and never used; a working one is promoted with no failed call', async (t) => {
  const o = new TenantOrchestrator(emu.options());
  t.after(() => o.close());
  await o.initialize();
  const current = await emu.clientId(TENANT);
  await o.request(TENANT, { path: '/api/v2/organizations/me' });
  const second = await emu.control('POST', 'clients', { like: current });

  const failed = nextEvent(o, 'credentials.pending-failed');
  await stage({ clientId: second.clientId, clientSecret: 'wrong-secret' });
  await o.reloadConfig();
  const f = await failed;
  assert.deepEqual([f.clientId, f.step, f.status, f.tested], [second.clientId, 'token', 401, 'here']);
  assert.equal((await o.request(TENANT, { path: '/api/v2/organizations/me' })).status, 200);
  let s = o.stats().tenants[TENANT];
  assert.deepEqual([s.clientId, s.pendingClientId], [current, second.clientId]);
  assert.equal((await emu.control('GET', `counters/${second.clientId}`)).apiCallsTotal, 0, 'never called with it');

  // Calls keep flowing while the right secret is staged, tested and promoted.
  let stop = false;
  const errors = [];
  const load = (async () => {
    while (!stop) {
      await o.request(TENANT, { path: '/api/v2/organizations/me' }).catch((e) => errors.push(e));
      await new Promise((r) => setTimeout(r, 40));
    }
  })();
  const promoted = nextEvent(o, 'credentials.promoted');
  await stage({ clientId: second.clientId, clientSecret: second.secret });
  await o.reloadConfig();
  const p = await promoted;
  await new Promise((r) => setTimeout(r, 300));
  stop = true;
  await load;
  assert.deepEqual(errors, []);
  assert.deepEqual([p.clientId, p.previousClientId, p.tested], [second.clientId, current, 'here']);
  s = o.stats().tenants[TENANT];
  assert.deepEqual([s.clientId, s.promotedFrom, s.pendingClientId], [second.clientId, current, undefined]);
  const counted = await emu.control('GET', `counters/${second.clientId}`);
  assert.equal(counted.tokenRequests, 2, 'the refused request and the tested one, nothing more');
  assert.ok(counted.apiCallsTotal > 1, 'calls after the promotion use the new client');
});

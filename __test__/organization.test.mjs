// A tenant pinned to its organization, through the package and the CLI (issue 26, part 3): an
// unpinned entry's hint spends nothing in its first minute, another organization's client under
// a pinned entry rejects with ORGANIZATION_MISMATCH, and doctor shows each tenant's organization and
// flags the mismatch.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TenantOrchestrator, isGenesysTenantsError } from '../lib/index.mjs';
import { startEmulator, runCli } from './helpers.mjs';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let emu;
let world;
before(async () => {
  emu = await startEmulator();
  world = await emu.tenants();
});
after(async () => {
  await emu?.stop();
});

const cli = (args, env = {}, timeoutMs = 60_000) => runCli(args, env, timeoutMs);

/** acme's entry holding globex's client, pinned to acme's organization. */
async function pasteGlobexUnderAcme(acmeOrg) {
  const doc = structuredClone(world);
  const acme = doc.find((t) => t.tenantId === 'acme');
  const globex = doc.find((t) => t.tenantId === 'globex');
  Object.assign(acme, { clientId: globex.clientId, clientSecret: globex.clientSecret, organizationId: acmeOrg });
  await emu.control('PUT', 'config-service/tenants', doc);
  return globex.clientId;
}

let orgs = {};

test('an unpinned entry spends nothing on its hint during its first minute', async () => {
  // The one-time config.unpinned lookup waits a minute after the first token (crates/core/tests/organization.rs
  // covers the hint itself): a short-lived process or a tight budget pays nothing for it.
  const o = new TenantOrchestrator(emu.options());
  const seen = [];
  o.onEvent((e) => e.type === 'config.unpinned' && seen.push(e));
  try {
    await o.initialize();
    const before = (await emu.counters('acme')).apiCallsTotal;
    for (const id of ['acme', 'globex']) orgs[id] = (await o.request(id, { path: '/api/v2/organizations/me' })).body.id;
    await o.request('acme', { path: '/api/v2/organizations/me' });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await emu.counters('acme')).apiCallsTotal, before + 2, 'two calls, no lookup');
    assert.deepEqual(seen, []);
  } finally {
    await o.close();
  }
  assert.match(orgs.acme, UUID);
  assert.notEqual(orgs.acme, orgs.globex);
});

test("another organization's client under a pinned entry rejects with ORGANIZATION_MISMATCH", async () => {
  const globexClient = await pasteGlobexUnderAcme(orgs.acme);
  const o = new TenantOrchestrator(emu.options());
  try {
    await o.initialize();
    const before = (await emu.control('GET', `counters/${globexClient}`)).apiCallsTotal;
    const err = await o.request('acme', { path: '/api/v2/organizations/me' }).catch((e) => e);
    assert.ok(isGenesysTenantsError(err));
    assert.equal(err.code, 'ORGANIZATION_MISMATCH', err.message);
    assert.equal(err.tenantId, 'acme');
    assert.equal(err.clientId, globexClient);
    assert.equal(err.expectedOrganizationId, orgs.acme);
    assert.equal(err.actualOrganizationId, orgs.globex);
    await assert.rejects(o.getAccessToken('acme'), { code: 'ORGANIZATION_MISMATCH' });
    assert.equal((await emu.control('GET', `counters/${globexClient}`)).apiCallsTotal, before + 1, 'only the check was sent with its token');
    assert.equal((await o.request('globex', { path: '/api/v2/organizations/me' })).status, 200, 'the other tenants work');
  } finally {
    await o.close();
    await emu.control('PUT', 'config-service/tenants', world);
  }
});

test('doctor shows each tenant\'s organization and flags the mismatch', async () => {
  await pasteGlobexUnderAcme(orgs.acme);
  try {
    const r = await cli(['doctor', '--config-endpoint', emu.url, '--gateway', emu.url, '--json'], { CONFIG_SERVICE_TOKEN: emu.configServiceToken });
    assert.equal(r.code, 1, r.out + r.err);
    const report = JSON.parse(r.out);
    const acme = report.tenants.find((t) => t.tenantId === 'acme');
    const globex = report.tenants.find((t) => t.tenantId === 'globex');
    assert.deepEqual(acme.organization, { id: orgs.globex, expected: orgs.acme });
    assert.equal(acme.problems[0].code, 'ORGANIZATION_MISMATCH');
    assert.match(acme.problems[0].fix, new RegExp(`belongs to organization ${orgs.globex}, not ${orgs.acme}`));
    assert.equal(globex.organization.id, orgs.globex);
    assert.deepEqual(globex.problems, []);
    const table = await cli(['doctor', '--config-endpoint', emu.url, '--gateway', emu.url], { CONFIG_SERVICE_TOKEN: emu.configServiceToken });
    assert.match(table.out, /tenant\s+region\s+organization\s+token/);
    assert.match(table.out, new RegExp(`acme\\s+\\S+\\s+${orgs.globex} \\(pinned: ${orgs.acme}\\)\\s+ORGANIZATION_MISMATCH`));
  } finally {
    await emu.control('PUT', 'config-service/tenants', world);
  }
});

// Token pools (issue 27, item 3) through the package: the tokensPerTenant option and entry field, their
// typed errors, and a pool's token requests and stats, counted by the emulator.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TenantOrchestrator } from '../lib/index.mjs';
import { startEmulator } from './helpers.mjs';

let emu;
before(async () => {
  emu = await startEmulator();
});
after(async () => {
  await emu?.stop();
});

const burst = (o, tenant, n) => Promise.all(Array.from({ length: n }, () => o.request(tenant, { path: '/api/v2/organizations/me' })));

test('tokensPerTenant out of 1–20 is INVALID_OPTIONS naming it', () => {
  for (const bad of [0, 21, 2.5, -1]) {
    assert.throws(() => new TenantOrchestrator(emu.options({ tokensPerTenant: bad })), (e) => e.code === 'INVALID_OPTIONS' && e.option === 'tokensPerTenant', String(bad));
  }
});

test('a pool of 3: a cold burst of 60 costs 3 token requests; stats show the 3 slots; getAccessToken is slot 0', async () => {
  // A round trip as to a real region: the burst's calls are in flight together however loaded the machine.
  await emu.control('POST', 'faults', { method: 'GET', path: '/api/v2/organizations/me', status: 0, latencyMs: 20 });
  const o = new TenantOrchestrator(emu.options({ tokensPerTenant: 3 }));
  await o.initialize();
  try {
    const before = (await emu.counters('acme')).tokenRequests;
    await burst(o, 'acme', 60);
    assert.equal((await emu.counters('acme')).tokenRequests - before, 3);
    const { slots } = o.stats().tenants.acme;
    assert.deepEqual(slots.map((s) => [s.slot, s.state]), [[0, 'valid'], [1, 'valid'], [2, 'valid']]);
    assert.equal(slots.reduce((n, s) => n + s.attempts, 0), 60);
    assert.equal(typeof (await o.getAccessToken('acme')), 'string');
    assert.equal((await emu.counters('acme')).tokenRequests - before, 3, 'getAccessToken takes slot 0: no request');
    assert.equal(o.metrics().tenants.acme.tokenSlots, 3);
    assert.equal(o.stats().tenants['acme-corp'].slots.length, 3, 'every tenant takes the option');
  } finally {
    await o.close();
  }
});

test('an entry\'s tokensPerTenant overrides the option for that tenant; a bad one is TENANT_INVALID for that entry only', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gt-pools-'));
  try {
    const tenants = await emu.tenants();
    const entry = (id, extra) => ({ ...tenants.find((t) => t.tenantId === id), ...extra });
    const file = path.join(dir, 'tenants.json');
    writeFileSync(file, JSON.stringify([entry('acme', { tokensPerTenant: 2 }), entry('globex', { tokensPerTenant: 50 }), entry('acme-corp', {})]));
    const o = new TenantOrchestrator({ configFile: file, gateway: emu.gateway });
    await o.initialize();
    try {
      await burst(o, 'acme', 20);
      await burst(o, 'acme-corp', 5);
      const s = o.stats().tenants;
      assert.equal(s.acme.slots.length, 2);
      assert.equal(s['acme-corp'].slots, undefined, 'the option (1) for the others');
      assert.equal(s.globex.valid, false);
      assert.equal(s.globex.error.code, 'TENANT_INVALID');
      await assert.rejects(o.request('globex', { path: '/api/v2/organizations/me' }), (e) => e.code === 'TENANT_INVALID' && e.field === 'tokensPerTenant');
    } finally {
      await o.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

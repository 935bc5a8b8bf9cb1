// maxInFlightPerToken (issue 27, fairness): how many of one token's calls are past their turn at once.
// The emulator's latency fault is the gate: it holds every call on the server, where its maxConcurrency
// counts them. Counts, no timing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TenantOrchestrator } from '../lib/index.mjs';
import { startEmulator } from './helpers.mjs';

let emu;
before(async () => {
  emu = await startEmulator();
  // A budget that never binds: only the cap limits what is in flight.
  await emu.control('PATCH', `clients/${await emu.clientId('acme')}`, { rateLimit: { limit: 1_000_000, windowSeconds: 60 } });
});
after(async () => {
  await emu?.stop();
});

/** The most of `n` concurrent request()s of acme held on the server at once, with `extra` options. */
async function peak(extra, n) {
  const o = new TenantOrchestrator(emu.options(extra));
  await o.initialize();
  try {
    // Every token's limiter learns the budget first, so no cold probe goes alone behind the gate.
    await Promise.all(Array.from({ length: 8 }, () => o.request('acme', { path: '/api/v2/organizations/me' })));
    await emu.control('POST', 'reset', {}); // counters and faults only
    await emu.control('POST', 'faults', { method: 'GET', path: '/api/v2/users', status: 0, latencyMs: 400 });
    const calls = Array.from({ length: n }, (_, i) => o.request('acme', { path: '/api/v2/users', query: { pageSize: 1, pageNumber: i + 1 } }));
    for (const r of await Promise.all(calls)) assert.equal(r.status, 200);
    const c = await emu.counters('acme');
    assert.equal(c.apiCallsTotal, n);
    return c.maxConcurrency;
  } finally {
    await o.close();
    await emu.control('DELETE', 'faults');
  }
}

test('maxInFlightPerToken that is not a whole number from 1 to 10000 is INVALID_OPTIONS naming it', () => {
  for (const bad of [0, -1, 1.5, 'x', 10_001, 1e300, true]) {
    assert.throws(
      () => new TenantOrchestrator(emu.options({ maxInFlightPerToken: bad })),
      (e) => e.code === 'INVALID_OPTIONS' && e.option === 'maxInFlightPerToken' && e.message.includes('maxInFlightPerToken'),
      String(bad),
    );
  }
  for (const good of [1, 10_000]) new TenantOrchestrator(emu.options({ maxInFlightPerToken: good }));
});

test('maxInFlightPerToken 4: N concurrent calls of one tenant reach min(N, 4) at the server', async () => {
  assert.equal(await peak({ maxInFlightPerToken: 4 }, 3), 3);
  assert.equal(await peak({ maxInFlightPerToken: 4 }, 12), 4);
});

test('by default the cap is 32: min(N, 32) at the server', async () => {
  assert.equal(await peak({}, 20), 20);
  assert.equal(await peak({}, 64), 32);
});

test('the cap is per token: a pool of 2 tokens with maxInFlightPerToken 4 has 8 at the server', async () => {
  assert.equal(await peak({ maxInFlightPerToken: 4, tokensPerTenant: 2 }, 20), 8);
});

// metrics() and metricsText() (issue 18, part 3): the numbers equal the emulator's counts, and the text
// is well-formed Prometheus exposition (every sample line parses; HELP and TYPE once per family).
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

const SAMPLE = /^([a-z_]+)(\{([a-z]+="(?:[^"\\\n]|\\.)*"(?:,[a-z]+="(?:[^"\\\n]|\\.)*")*)\})? (-?[0-9.e+]+|\+Inf|NaN)$/;

test('metrics after a scripted run equal the emulator\'s counts, in JSON and in the Prometheus text', async () => {
  const o = new TenantOrchestrator(emu.options());
  await o.initialize();
  try {
    for (let i = 0; i < 4; i++) await o.request('acme-corp', { path: '/api/v2/organizations/me' });
    await assert.rejects(o.request('acme-corp', { path: '/api/v2/no/such/thing' }));
    const m = o.metrics();
    const t = m.tenants['acme-corp'];
    const counted = await emu.counters('acme-corp');
    const ok = t.calls.OK;
    assert.equal(ok, 4);
    const failedOutcomes = Object.entries(t.calls).filter(([k]) => k !== 'OK');
    assert.equal(failedOutcomes.length, 1, JSON.stringify(t.calls));
    assert.equal(t.latency.count, 5);
    assert.equal(t.tokenRequests, counted.tokenRequests);
    assert.equal(m.configReads >= 1, true);

    const text = o.metricsText();
    const families = new Map();
    for (const line of text.split('\n').filter(Boolean)) {
      if (line.startsWith('# ')) {
        const [, kind, name] = line.split(' ');
        const f = families.get(name) ?? {};
        assert.ok(!f[kind], `${kind} twice for ${name}`);
        families.set(name, { ...f, [kind]: true });
        continue;
      }
      assert.match(line, SAMPLE, line);
    }
    for (const [name, f] of families) assert.ok(f.HELP && f.TYPE, name);

    // metricsTextAsync() (issue 27, item 5): the same text, gathered and rendered off Node's thread.
    const pending = o.metricsTextAsync();
    assert.ok(pending instanceof Promise);
    assert.equal(await pending, text);
    assert.ok(text.includes(`genesys_tenants_calls_total{tenant="acme-corp",outcome="OK"} 4\n`));
    assert.ok(text.includes(`genesys_tenants_calls_total{tenant="acme-corp",outcome="${failedOutcomes[0][0]}"} 1\n`));
    assert.ok(text.includes(`genesys_tenants_token_requests_total{tenant="acme-corp"} ${counted.tokenRequests}\n`));
    assert.ok(!text.includes('/api/v2'), 'no path in any label');
  } finally {
    await o.close();
  }
});

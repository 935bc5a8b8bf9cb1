'use strict';
// A cached getAccessToken() at concurrency 1, in-process and in Redis shared mode (127.0.0.1:6379).
const { TenantOrchestrator } = require('../../lib/index.js');
const native = require('../../index.js');
const { toWire } = require('../../lib/wire.js');
const { startEmulator } = require('../lib/emulator.js');
const { cell, latency } = require('../lib/measure.js');

module.exports = async function tokens({ runs, latencyCalls }) {
  const emu = await startEmulator();
  const rows = [];
  try {
    for (const [label, extra] of [
      ['in-process', {}],
      ['shared mode (Redis)', { redisUrl: 'redis://127.0.0.1:6379', encryptionKey: 'b2'.repeat(32), redisKeyPrefix: `bench-${process.pid}:` }],
    ]) {
      const o = new TenantOrchestrator({ configEndpoint: emu.url, configServiceToken: emu.configServiceToken, gateway: emu.gateway, ...extra });
      await o.initialize();
      const p50 = [];
      for (let r = 0; r < runs; r++) p50.push((await latency(() => o.getAccessToken('acme-corp'), latencyCalls * 10)).p50 * 1000);
      rows.push(`| ${label} | ${cell(p50, (x) => x.toFixed(2))} µs |`);
      await o.close();
    }
    // The native async method alone: the same lookup, but a round trip through the addon's runtime
    // (JS thread → tokio worker → JS thread) — what every request() pays on top of its HTTP.
    const raw = new native.NativeOrchestrator(toWire({ configEndpoint: emu.url, configServiceToken: emu.configServiceToken, gateway: emu.gateway }));
    await raw.initialize();
    const hop = [];
    for (let r = 0; r < runs; r++) hop.push((await latency(() => raw.getAccessToken('acme-corp'), latencyCalls * 10)).p50 * 1000);
    rows.push(`| through the runtime (the async path alone, for comparison) | ${cell(hop, (x) => x.toFixed(2))} µs |`);
    await raw.close();
  } finally {
    await emu.stop();
  }
  const markdown = `## Cached tokens

\`getAccessToken()\` for a tenant whose token is cached and not yet due for refresh, ${latencyCalls * 10} sequential calls; ${runs} runs,
p50 median (min–max).

| mode | p50 |
|---|---|
${rows.join('\n')}

A fresh cached token is read on Node's thread without a hop to the addon's runtime; the last row is that hop (the
lookup itself is 150 ns, see the criterion table). In shared mode the token is served from the process's own
slot exactly as in-process; Redis is read only when the local token is absent, expired or due for refresh.
`;
  return { markdown, verdicts: [] };
};

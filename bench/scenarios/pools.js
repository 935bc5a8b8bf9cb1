'use strict';
// Token pools (issue 27, item 3): one tenant over one token's budget. The emulator limits each token to
// 20 requests per 2 s (a fixed window per token, as Genesys counts); 64 concurrent loops call for a fixed
// time through `tokensPerTenant: 1` and `tokensPerTenant: 4`, side by side in each run (a fresh
// orchestrator, so fresh tokens and windows). Throughput is the calls that resolved before the deadline;
// 429s and token requests come from the emulator's counters.
const { TenantOrchestrator } = require('../../lib/index.js');
const { startEmulator } = require('../lib/emulator.js');
const { median, cell, totalStatus } = require('../lib/measure.js');

const LIMIT = 20;
const WINDOW_S = 2;
const DURATION_MS = 10_000;
const CONCURRENCY = 64;
const PATH = '/api/v2/organizations/me';
const POOLS = [1, 4];

async function tokenRequests(emu, clientId) {
  return (await emu.control('GET', `counters/${clientId}`)).tokenRequests ?? 0;
}

async function measure(emu, clientId, tokensPerTenant) {
  const o = new TenantOrchestrator({ ...emu.options(), tokensPerTenant });
  await o.initialize();
  const [before429, beforeTokens] = [await totalStatus(emu, 429), await tokenRequests(emu, clientId)];
  const end = Date.now() + DURATION_MS;
  let served = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < end) {
        try {
          await o.request('acme', { path: PATH });
          if (Date.now() <= end) served++;
        } catch {
          failed++;
        }
      }
    }),
  );
  const r = {
    perSecond: (served * 1000) / DURATION_MS,
    throttled: (await totalStatus(emu, 429)) - before429,
    tokens: (await tokenRequests(emu, clientId)) - beforeTokens,
    failed,
  };
  await o.close();
  return r;
}

module.exports = async function pools({ runs }) {
  const emu = await startEmulator();
  const acme = (await emu.tenants()).find((t) => t.tenantId === 'acme');
  await emu.control('PATCH', `clients/${acme.clientId}`, { rateLimit: { limit: LIMIT, windowSeconds: WINDOW_S } });
  const results = POOLS.map(() => ({ perSecond: [], throttled: [], tokens: [], failed: [] }));
  try {
    for (let r = 0; r < runs; r++) {
      for (const [i, n] of POOLS.entries()) {
        const m = await measure(emu, acme.clientId, n);
        for (const k of Object.keys(results[i])) results[i][k].push(m[k]);
      }
      process.stderr.write(`  pools: run ${r + 1}/${runs}\n`);
    }
  } finally {
    await emu.stop();
  }
  const base = median(results[0].perSecond);
  const int = (x) => String(Math.round(x));
  const rows = POOLS.map((n, i) => {
    const r = results[i];
    return `| \`tokensPerTenant: ${n}\` | ${cell(r.perSecond, (x) => x.toFixed(1))} | ${(median(r.perSecond) / base).toFixed(2)} | ${cell(r.throttled, int)} | ${cell(r.failed, int)} | ${cell(r.tokens, int)} |`;
  });
  const ratio = median(results[1].perSecond) / base;
  const markdown = `## Token pools: one tenant over one token's budget

The emulator limits each token to ${LIMIT} requests per ${WINDOW_S} s (${(LIMIT / WINDOW_S).toFixed(0)} calls/s, a fixed window
per token, as Genesys counts per token); ${CONCURRENCY} concurrent loops call one tenant for ${DURATION_MS / 1000} s, once through
one token and once through a pool of ${POOLS[1]} (a fresh orchestrator each time, so fresh tokens and windows), side by
side in each of ${runs} runs; median (min–max). Served: calls that resolved before the deadline, per second. 429s and
token requests are the emulator's counts.

| client | served calls/s | ÷ one token | 429s provoked | calls failed | token requests |
|---|---|---|---|---|---|
${rows.join('\n')}

A pool of ${POOLS[1]} serves **${ratio.toFixed(2)}×** one token's throughput with the same number of 429s: each token keeps its own
window, and the calls go to the token with room. It costs ${POOLS[1]} token requests instead of one (and ${POOLS[1]} per refresh and
per rotation), against Genesys's token-creation limit; limits not counted per token are not multiplied
([docs/token-pools.md](../docs/token-pools.md)).
`;
  const ok = ratio >= 3.5 && results.every((r) => median(r.throttled) === 0 && r.failed.every((f) => f === 0)) && median(results[1].tokens) === POOLS[1];
  return { markdown, verdicts: [[`token pool of ${POOLS[1]}: ≥ 3.5× one token's throughput over its budget, no 429, none failed, ${POOLS[1]} token requests`, ok]] };
};

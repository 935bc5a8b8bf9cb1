'use strict';
// Noisy neighbour: an interactive tenant's sequential calls, alone and beside a heavy tenant's bulk
// listing of 10,000 calls (a fetchAll of 10,000 pages, and 10,000 request()s at once), in one process.
// The heavy tenant is held by its own rate limit as in reality (300 a minute per token): its first
// window's worth goes at once, the rest waits in its limiter. The question is whether the heavy
// tenant's calls — in flight or waiting — delay the interactive tenant's. Each run uses fresh
// orchestrators (a fresh token, so a fresh server window for the heavy tenant); the heavy job is
// aborted once the interactive calls are done.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { TenantOrchestrator } = require('../../lib/index.js');
const { startEmulator } = require('../lib/emulator.js');
const { median, cell, latency, totalStatus } = require('../lib/measure.js');

const HEAVY_CALLS = 10_000;
const HEAVY_LIMIT = { limit: 300, windowSeconds: 60 };
// Within what inin-ratelimit-allowed may say (the core ignores values above 10^7).
const GENEROUS = { limit: 1_000_000, windowSeconds: 60 };
const INTERACTIVE_CALLS = Number(process.env.BENCH_FAIRNESS_CALLS || 1000);
const GOAL = 1.2;

function world() {
  const w = {
    orgs: [
      { id: 'org-small', name: 'Small Org', region: 'mypurecloud.ie', users: 5, queues: 1 },
      { id: 'org-big', name: 'Big Org', region: 'mypurecloud.com', users: HEAVY_CALLS, queues: 1 },
    ],
    clients: [
      { tenantId: 'interactive', clientId: 'client-interactive', orgId: 'org-small', permissions: [], rateLimit: GENEROUS, tokenRateLimit: GENEROUS },
      { tenantId: 'heavy', clientId: 'client-heavy', orgId: 'org-big', permissions: [], rateLimit: HEAVY_LIMIT, tokenRateLimit: GENEROUS },
    ],
    rateLimitHeaders: true,
  };
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gt-bench-fair-')), 'world.json');
  fs.writeFileSync(file, JSON.stringify(w));
  return file;
}

const page = (n) => ({ path: '/api/v2/users', query: { pageSize: '1', pageNumber: String(n) } });

// The heavy jobs: each starts its calls and returns a promise that settles once they are all over
// (they are ended by closing the orchestrator: CLOSED).
const JOBS = {
  fetchAll: (o) => o.fetchAll('heavy', { path: '/api/v2/users' }, { pageSize: 1, maxPages: HEAVY_CALLS }).catch(() => {}),
  bulk: (o) => Promise.allSettled(Array.from({ length: HEAVY_CALLS }, (_, i) => o.request('heavy', page(i + 1)))),
};

const interactive = (o) => latency(() => o.request('interactive', { path: '/api/v2/organizations/me' }), INTERACTIVE_CALLS);

/** The interactive tenant's latency alone, or during the heavy job's first window and after it. */
async function one(emu, job) {
  const o = new TenantOrchestrator({ configEndpoint: emu.url, configServiceToken: emu.configServiceToken, gateway: emu.gateway });
  await o.initialize();
  await o.getAccessToken('interactive');
  await o.getAccessToken('heavy');
  if (!job) {
    const alone = await interactive(o);
    await o.close();
    return { alone };
  }
  const heavy = job(o);
  const burst = await interactive(o);
  // Its first window spent, the heavy tenant's other calls wait in its limiter (bounded: 30 s).
  const spent = Date.now() + 30_000;
  while ((o.stats().tenants.heavy?.succeeded ?? 0) < HEAVY_LIMIT.limit && Date.now() < spent) await new Promise((r) => setTimeout(r, 10));
  const waiting = await interactive(o);
  const served = o.stats().tenants.heavy?.succeeded ?? 0;
  await o.close();
  await heavy;
  return { burst, waiting, served };
}

module.exports = async function fairness({ runs }) {
  const emu = await startEmulator(['--world', world()]);
  const rows = ['alone', 'fetchAll.burst', 'fetchAll.waiting', 'bulk.burst', 'bulk.waiting'];
  const res = Object.fromEntries(rows.map((n) => [n, { p50: [], p99: [], served: [], throttled: [] }]));
  const put = (key, lat, served, throttled) => {
    res[key].p50.push(lat.p50);
    res[key].p99.push(lat.p99);
    res[key].served.push(served);
    res[key].throttled.push(throttled);
  };
  try {
    for (let r = 0; r < runs; r++) {
      put('alone', (await one(emu, null)).alone, 0, 0);
      for (const name of Object.keys(JOBS)) {
        const before = await totalStatus(emu, 429);
        const m = await one(emu, JOBS[name]);
        const throttled = (await totalStatus(emu, 429)) - before;
        put(`${name}.burst`, m.burst, m.served, throttled);
        put(`${name}.waiting`, m.waiting, m.served, throttled);
      }
      process.stderr.write(`  fairness: run ${r + 1}/${runs}\n`);
    }
  } finally {
    await emu.stop();
  }
  const alone = median(res.alone.p99);
  const ms = (x) => x.toFixed(3);
  const int = (x) => String(Math.round(x));
  const n = HEAVY_CALLS.toLocaleString('en');
  const label = {
    alone: 'alone',
    'fetchAll.burst': `beside a \`fetchAll()\` of ${n} pages: its first window going out`,
    'fetchAll.waiting': `beside it: its other calls waiting in its limiter`,
    'bulk.burst': `beside ${n} \`request()\`s at once: their first window going out`,
    'bulk.waiting': `beside them: the other calls waiting in the limiter`,
  };
  const table = rows.map((k) => {
    const x = res[k];
    const heavy = k === 'alone' ? '— | —' : `${cell(x.served, int)} | ${cell(x.throttled, int)}`;
    return `| ${label[k]} | ${cell(x.p50, ms)} ms | ${cell(x.p99, ms)} ms | ${(median(x.p99) / alone).toFixed(2)} | ${heavy} |`;
  });
  const markdown = `## Fairness: a noisy neighbour

An interactive tenant's ${INTERACTIVE_CALLS} sequential calls (\`GET /api/v2/organizations/me\`, after 50 warm-up calls), alone and beside
a heavy tenant's listing of ${n} calls in the same process (pages of one user: one \`fetchAll()\`, or ${n}
\`request()\`s at once). The heavy tenant is held by its own rate limit as in reality, ${HEAVY_LIMIT.limit} per ${HEAVY_LIMIT.windowSeconds} s: its first window
goes out at once (the interactive calls measured from its start), then the rest waits in its limiter (measured again
once ${HEAVY_LIMIT.limit} were served). Fresh orchestrators each run (a fresh token: a fresh window); the heavy job is ended by
\`close()\`. ${runs} runs, median (min–max). The emulator shares the machine (2 cores): the heavy calls it serves cost
the interactive ones CPU whatever the client does.

| interactive tenant's calls | p50 | p99 | p99 ÷ alone | heavy calls served | 429s |
|---|---|---|---|---|---|
${table.join('\n')}
`;
  const ratio = (k) => median(res[k].p99) / alone;
  return {
    markdown,
    verdicts: [
      [`noisy neighbour: the interactive tenant's p99 while a ${n}-call listing waits in its limiter ≤ ${GOAL}× alone`, Math.max(ratio('fetchAll.waiting'), ratio('bulk.waiting')) <= GOAL],
      [`noisy neighbour: the interactive tenant's p99 while the listing's first window goes out ≤ ${GOAL}× alone`, Math.max(ratio('fetchAll.burst'), ratio('bulk.burst')) <= GOAL],
    ],
  };
};

'use strict';
// Rate-limit goodput: 100 concurrent calls on a token limited to 20 requests per 2 s. The fastest
// possible is 8 s (five windows, the last opening at 8 s); what matters is how close a client gets
// without losing calls and how many 429s it provokes on the way.
const platformClient = require('purecloud-platform-client-v2');
const { TenantOrchestrator } = require('../../lib/index.js');
const tutorial = require('../tutorial-pattern.js');
const { startEmulator } = require('../lib/emulator.js');
const { median, cell, timed, totalStatus } = require('../lib/measure.js');
const { SINGLE_REDIS, replicas, startCluster } = require('../lib/replicas.js');

const CALLS = 100;
const LIMIT = 20;
const WINDOW_S = 2;
const MINIMUM_MS = (Math.ceil(CALLS / LIMIT) - 1) * WINDOW_S * 1000;
const PATH = '/api/v2/organizations/me';
// BENCH_GOODPUT=headers,retry-after,tutorial,single,cluster,single-retry-after runs only those rows (with BENCH_ONLY=goodput).
const PICK = process.env.BENCH_GOODPUT ? process.env.BENCH_GOODPUT.split(',') : null;

// Shared mode: 3 replica processes share the token and its budget, 33 calls each (99 calls: the same
// five windows, so the same minimum).
const REPLICAS = 3;
const PER_REPLICA = 33;

async function measureShared(emu, redisUrl, run) {
  const before = await totalStatus(emu, 429);
  const options = {
    configEndpoint: emu.url,
    configServiceToken: emu.configServiceToken,
    gateway: emu.gateway,
    redisUrl,
    encryptionKey: 'c3'.repeat(32),
    // A fresh prefix, so a fresh shared token and a fresh server window.
    redisKeyPrefix: `bench-goodput-${process.pid}-${run}-${Math.random().toString(36).slice(2, 8)}:`,
  };
  const { results, failed } = await replicas(REPLICAS, { options, tenants: ['acme'], perTenant: PER_REPLICA, mode: 'request' });
  return { ms: Math.max(...results.map((r) => r.ms)), failed, throttled: (await totalStatus(emu, 429)) - before };
}

async function measure(emu, run) {
  const before = await totalStatus(emu, 429);
  let failed = 0;
  const { ms } = await timed(() => Promise.all(Array.from({ length: CALLS }, () => run().catch(() => failed++))));
  return { ms, failed, throttled: (await totalStatus(emu, 429)) - before };
}

module.exports = async function goodput({ runs }) {
  const emu = await startEmulator();
  const acme = (await emu.tenants()).find((t) => t.tenantId === 'acme');
  await emu.control('PATCH', `clients/${acme.clientId}`, { rateLimit: { limit: LIMIT, windowSeconds: WINDOW_S } });
  const all = [
    ['genesys-tenants request(), inin-ratelimit headers present', true, 'ours', 'headers'],
    ['genesys-tenants request(), only Retry-After (headers removed)', false, 'ours', 'retry-after'],
    ['tutorial pattern (no 429 handling on plain calls)', true, 'tutorial', 'tutorial'],
    [`${REPLICAS} processes × ${PER_REPLICA} calls, Redis shared mode, one Redis`, true, 'single', 'single'],
    [`${REPLICAS} processes × ${PER_REPLICA} calls, Redis shared mode, 3-master Redis Cluster`, true, 'cluster', 'cluster'],
    [`${REPLICAS} processes × ${PER_REPLICA} calls, one Redis, only Retry-After (headers removed)`, false, 'single', 'single-retry-after'],
  ];
  const cases = all.filter(([, , , key]) => !PICK || PICK.includes(key));
  const cluster = cases.some(([, , who]) => who === 'cluster') ? await startCluster() : { url: null, stop() {} };
  const results = cases.map(() => ({ ms: [], failed: [], throttled: [] }));
  try {
    for (let r = 0; r < runs; r++) {
      for (const [i, [, headers, who]] of cases.entries()) {
        await emu.control('PUT', 'rate-limit-headers', { enabled: headers });
        // A fresh client each run: a new token, so a fresh server window.
        let m;
        if (who === 'single' || who === 'cluster') {
          m = await measureShared(emu, who === 'single' ? SINGLE_REDIS : cluster.url, r);
        } else if (who === 'ours') {
          const o = new TenantOrchestrator({ configEndpoint: emu.url, configServiceToken: emu.configServiceToken, gateway: emu.gateway });
          await o.initialize();
          await o.getAccessToken('acme');
          m = await measure(emu, () => o.request('acme', { path: PATH }));
          await o.close();
        } else {
          const t = new tutorial.TenantOrchestrator({ configEndpoint: emu.url, configServiceToken: emu.configServiceToken, gateway: { host: '127.0.0.1', port: emu.port, protocol: 'http' } });
          await t.initialize();
          const client = await t.getTenantClient('acme');
          const api = new platformClient.OrganizationApi(client);
          m = await measure(emu, () => tutorial.executeWithScopeValidation(client, () => api.getOrganizationsMe(), []));
          t.close();
          // Let the window the tutorial burned pass before the next contender.
          await new Promise((res) => setTimeout(res, WINDOW_S * 1000 + 100));
        }
        results[i].ms.push(m.ms);
        results[i].failed.push(m.failed);
        results[i].throttled.push(m.throttled);
      }
      process.stderr.write(`  goodput: run ${r + 1}/${runs}\n`);
    }
  } finally {
    await emu.control('PUT', 'rate-limit-headers', { enabled: true });
    await emu.stop();
    cluster.stop();
  }
  const int = (x) => String(Math.round(x));
  const rows = cases.map(([name], i) => {
    const r = results[i];
    const ratio = median(r.ms) / MINIMUM_MS;
    return `| ${name} | ${cell(r.ms.map((x) => x / 1000), (x) => x.toFixed(2))} s | ${ratio.toFixed(2)} | ${cell(r.throttled, int)} | ${cell(r.failed, int)} |`;
  });
  const row = (key) => results[cases.findIndex((c) => c[3] === key)];
  const markdown = `## Rate-limit goodput

${CALLS} concurrent calls on a token the emulator limits to ${LIMIT} requests per ${WINDOW_S} s (a fixed window, as Genesys
counts); the theoretical minimum is ${(MINIMUM_MS / 1000).toFixed(0)} s. A fresh orchestrator (so a fresh token and window)
each run; ${runs} runs, median (min–max). The shared-mode rows run ${REPLICAS} replica processes on one token (their time
is the slowest replica's, from a common start), which share its budget through one fixed window in Redis: they
burst up to what the window allows (before, a GCRA paced one call every window ÷ limit: 1.28×). Without the headers the
budget can only be learned from a 429: until then a burst ramps up (in flight at most what the server has admitted
so far, doubling each round trip), so the first 429 comes back with at most about one window's worth in flight; its
hold stops the rest, and the calls admitted before it cap the next windows (in shared mode each replica ramps on its
own, and the shared window counts the first window's 429s to learn the budget every replica then goes by).

| client | time | ÷ minimum | 429s provoked | calls failed |
|---|---|---|---|---|
${rows.join('\n')}
`;
  const ok = (r, ratio, n429) => median(r.ms) / MINIMUM_MS <= ratio && median(r.throttled) <= n429 && r.failed.every((f) => f === 0);
  // Without headers the budget can only be learned from 429s: the goal is one window's worth at most.
  const verdicts = [
    ['headers', 'goodput with inin-ratelimit headers: ≤ 1.1× the minimum, ≤ 5 429s, none failed', 1.1, 5],
    ['retry-after', `goodput with only Retry-After: ≤ 1.05× the minimum, ≤ ${LIMIT} 429s (one window), none failed`, 1.05, LIMIT],
    ['single', `goodput of ${REPLICAS} processes over Redis: ≤ 1.05× the minimum, ≤ 5 429s, none failed`, 1.05, 5],
    ['cluster', `goodput of ${REPLICAS} processes over a Redis Cluster: ≤ 1.05× the minimum, ≤ 5 429s, none failed`, 1.05, 5],
    ['single-retry-after', `goodput of ${REPLICAS} processes over Redis, only Retry-After: ≤ 1.1× the minimum, ≤ ${LIMIT} 429s (one window), none failed`, 1.1, LIMIT],
  ]
    .filter(([key]) => row(key))
    .map(([key, what, ratio, n429]) => [what, ok(row(key), ratio, n429)]);
  return { markdown, verdicts };
};

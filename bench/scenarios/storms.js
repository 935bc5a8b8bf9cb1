'use strict';
// Cold token storms: many concurrent first calls per tenant. Target: exactly one token request per
// tenant — in one process, and across processes sharing Redis.
const { TenantOrchestrator } = require('../../lib/index.js');
const tutorial = require('../tutorial-pattern.js');
const { startEmulator } = require('../lib/emulator.js');
const { bigWorld } = require('../lib/worlds.js');
const { median, cell, totalCounter } = require('../lib/measure.js');
const { SINGLE_REDIS, replicas, startCluster } = require('../lib/replicas.js');

async function tokenRequests(emu, fn) {
  const before = await totalCounter(emu, 'tokenRequests');
  await fn();
  return (await totalCounter(emu, 'tokenRequests')) - before;
}

async function ours(emu, ids, perTenant) {
  const o = new TenantOrchestrator({ configEndpoint: emu.url, configServiceToken: emu.configServiceToken, gateway: emu.gateway });
  await o.initialize();
  try {
    return await tokenRequests(emu, () => Promise.all(ids.flatMap((id) => Array.from({ length: perTenant }, () => o.getAccessToken(id)))));
  } finally {
    await o.close();
  }
}

async function tutorialPattern(emu, ids, perTenant) {
  const gateway = { host: '127.0.0.1', port: emu.port, protocol: 'http' };
  const t = new tutorial.TenantOrchestrator({ configEndpoint: emu.url, configServiceToken: emu.configServiceToken, gateway });
  await t.initialize();
  try {
    return await tokenRequests(emu, () => Promise.all(ids.flatMap((id) => Array.from({ length: perTenant }, () => t.getTenantClient(id)))));
  } finally {
    t.close();
  }
}

async function sharedStorm(emu, ids, processes, perTenant, run, redisUrl) {
  const options = {
    configEndpoint: emu.url,
    configServiceToken: emu.configServiceToken,
    gateway: emu.gateway,
    redisUrl,
    encryptionKey: 'b2'.repeat(32),
    redisKeyPrefix: `bench-storm-${process.pid}-${run}:`,
  };
  return tokenRequests(emu, async () => {
    const { failed, errors } = await replicas(processes, { options, tenants: ids, perTenant, mode: 'token' });
    if (failed) throw new Error(`shared storm: ${failed} calls failed: ${errors.join('; ')}`);
  });
}

module.exports = async function storms({ runs }) {
  const demo = await startEmulator();
  const big = await startEmulator(['--world', bigWorld({ tenants: 100, users: 10 })]);
  const demoIds = (await demo.tenants()).map((t) => t.tenantId);
  const bigIds = (await big.tenants()).map((t) => t.tenantId).filter((id) => id.startsWith('t'));
  const cluster = await startCluster();
  const rows = { ours5: [], tut5: [], ours100: [], tut100: [], redis: [], cluster: [] };
  try {
    for (let run = 0; run < runs; run++) {
      rows.ours5.push(await ours(demo, demoIds, 25));
      rows.tut5.push(await tutorialPattern(demo, demoIds, 25));
      rows.ours100.push(await ours(big, bigIds, 10));
      rows.tut100.push(await tutorialPattern(big, bigIds, 10));
      rows.redis.push(await sharedStorm(big, bigIds.slice(0, 20), 4, 5, run, SINGLE_REDIS));
      rows.cluster.push(await sharedStorm(big, bigIds.slice(20, 40), 4, 5, run, cluster.url));
      process.stderr.write(`  storms: run ${run + 1}/${runs}\n`);
    }
  } finally {
    await demo.stop();
    await big.stop();
    cluster.stop();
  }
  const n = (xs) => cell(xs, (x) => String(Math.round(x)));
  const markdown = `## Cold token storms

Concurrent first calls for tenants with no token yet; the count is the emulator's token requests. ${runs} runs,
median (min–max).

| storm | target | genesys-tenants | tutorial pattern |
|---|---|---|---|
| ${demoIds.length} tenants × 25 concurrent, one process | ${demoIds.length} | ${n(rows.ours5)} | ${n(rows.tut5)} |
| 100 tenants × 10 concurrent, one process | 100 | ${n(rows.ours100)} | ${n(rows.tut100)} |
| 4 processes × 20 tenants × 5 concurrent, Redis shared mode | 20 | ${n(rows.redis)} | — (no shared store) |
| the same on a 3-master Redis Cluster | 20 | ${n(rows.cluster)} | — (no shared store) |

The tutorial pattern's cache is filled only after a login returns, so every concurrent caller of a cold tenant logs
in; Genesys rate-limits token creation, so a cold start of a busy service can be refused outright.
`;
  const exact = (xs, want) => xs.every((x) => x === want);
  const verdicts = [
    [`cold storm ${demoIds.length} tenants × 25: one token request per tenant`, exact(rows.ours5, demoIds.length)],
    ['cold storm 100 tenants × 10: one token request per tenant', exact(rows.ours100, 100)],
    ['cold storm 4 processes × 20 tenants over Redis: one token request per tenant', exact(rows.redis, 20)],
    ['cold storm 4 processes × 20 tenants over a Redis Cluster: one token request per tenant', exact(rows.cluster, 20)],
  ];
  return { markdown, verdicts, medians: { tut5: median(rows.tut5) } };
};

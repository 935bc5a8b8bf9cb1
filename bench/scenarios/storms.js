'use strict';
// Cold token storms: many concurrent first calls per tenant. Target: exactly one token request per
// tenant — in one process, and across processes sharing Redis.
const { spawn } = require('node:child_process');
const path = require('node:path');
const { TenantOrchestrator } = require('../../lib/index.js');
const tutorial = require('../tutorial-pattern.js');
const { startEmulator } = require('../../lib/cli/emulator.js');
const { bigWorld } = require('../lib/worlds.js');
const { median, cell, totalCounter, yes } = require('../lib/measure.js');

const CHILD = path.join(__dirname, '..', '..', '__test__', 'fixtures', 'shared-child.cjs');

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

function child(job) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CHILD], { env: { ...process.env, GENESYS_CHILD: JSON.stringify(job) }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.stdout.on('data', (d) => (out += d));
    p.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`storm child exited with ${code}`));
      resolve(JSON.parse(out.trim().split('\n').pop()));
    });
  });
}

async function sharedStorm(emu, ids, processes, perTenant, run) {
  const options = {
    configEndpoint: emu.url,
    configServiceToken: emu.configServiceToken,
    gateway: emu.gateway,
    redisUrl: 'redis://127.0.0.1:6379',
    encryptionKey: 'b2'.repeat(32),
    redisKeyPrefix: `bench-storm-${process.pid}-${run}:`,
  };
  // Every process starts its storm at the same moment, after all have initialized.
  const startAt = Date.now() + 1500;
  return tokenRequests(emu, async () => {
    const results = await Promise.all(Array.from({ length: processes }, () => child({ options, tenants: ids, perTenant, mode: 'token', startAt })));
    const failed = results.reduce((n, r) => n + r.failed, 0);
    if (failed) throw new Error(`shared storm: ${failed} calls failed: ${results.flatMap((r) => r.errors).join('; ')}`);
  });
}

module.exports = async function storms({ runs }) {
  const demo = await startEmulator();
  const big = await startEmulator(['--world', bigWorld({ tenants: 100, users: 10 })]);
  const demoIds = (await demo.tenants()).map((t) => t.tenantId);
  const bigIds = (await big.tenants()).map((t) => t.tenantId).filter((id) => id.startsWith('t'));
  const rows = { ours5: [], tut5: [], ours100: [], tut100: [], redis: [] };
  try {
    for (let run = 0; run < runs; run++) {
      rows.ours5.push(await ours(demo, demoIds, 25));
      rows.tut5.push(await tutorialPattern(demo, demoIds, 25));
      rows.ours100.push(await ours(big, bigIds, 10));
      rows.tut100.push(await tutorialPattern(big, bigIds, 10));
      rows.redis.push(await sharedStorm(big, bigIds.slice(0, 20), 4, 5, run));
      process.stderr.write(`  storms: run ${run + 1}/${runs}\n`);
    }
  } finally {
    await demo.stop();
    await big.stop();
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

The tutorial pattern's cache is filled only after a login returns, so every concurrent caller of a cold tenant logs
in; Genesys rate-limits token creation, so a cold start of a busy service can be refused outright.
`;
  const exact = (xs, want) => xs.every((x) => x === want);
  const verdicts = [
    [`cold storm ${demoIds.length} tenants × 25: one token request per tenant`, exact(rows.ours5, demoIds.length)],
    ['cold storm 100 tenants × 10: one token request per tenant', exact(rows.ours100, 100)],
    ['cold storm 4 processes × 20 tenants over Redis: one token request per tenant', exact(rows.redis, 20)],
  ];
  return { markdown, verdicts, medians: { tut5: median(rows.tut5) } };
};

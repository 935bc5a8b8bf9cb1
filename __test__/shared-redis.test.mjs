// Shared mode with several OS processes as replicas: each proof runs on one Redis (127.0.0.1:6379) and
// again on a 3-master Redis Cluster started here.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startEmulator, root } from './helpers.mjs';
import { startRedisCluster } from './redis-servers.mjs';

const CHILD = path.join(root, '__test__', 'fixtures', 'shared-child.cjs');
const KEY = 'a1'.repeat(32);
const REDIS = 'redis://127.0.0.1:6379';
const dir = mkdtempSync(path.join(os.tmpdir(), 'gt-shared-'));

let emu;
let world;
let cluster;
before(async () => {
  cluster = await startRedisCluster({ masters: 3 });
  // 20 tenants in one org: enough for the storm, cheap to generate.
  world = {
    orgs: [{ id: 'org-shared', name: 'Shared Org', region: 'mypurecloud.com', users: 5, queues: 1 }],
    clients: Array.from({ length: 20 }, (_, i) => ({
      tenantId: `tenant-${String(i).padStart(2, '0')}`,
      clientId: `client-${i}`,
      orgId: 'org-shared',
      permissions: ['directory:user:view'],
    })),
  };
  const file = path.join(dir, 'world.json');
  writeFileSync(file, JSON.stringify(world));
  emu = await startEmulator(['--world', file]);
});
after(async () => {
  await emu?.stop();
  cluster?.stop();
});

const prefix = () => `gt-jstest-${process.pid}-${Math.random().toString(36).slice(2, 8)}:`;

function child(job) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CHILD], { env: { ...process.env, GENESYS_CHILD: JSON.stringify(job) }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('exit', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()));
      } catch {
        reject(new Error(`child printed no result: ${out}`));
      }
    });
    p.proc = p;
  });
}

async function tokenRequests() {
  const c = await emu.control('GET', 'counters');
  return Object.values(c.clients).reduce((n, k) => n + k.tokenRequests, 0);
}

function redisCli(args, port = 6379) {
  return spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8' });
}

// The two deployments every proof runs on.
const backends = [
  {
    name: 'one Redis',
    url: () => REDIS,
    scan: (pattern) => redisCli(['--scan', '--pattern', pattern]).stdout.split('\n').filter(Boolean).map((key) => ({ key, port: 6379 })),
  },
  { name: 'Redis Cluster (3 masters)', url: () => cluster.url, scan: (pattern) => cluster.scan(pattern) },
];

for (const backend of backends) {
  describe(backend.name, () => {
    const options = (extra = {}) => ({ ...emu.options(), redisUrl: backend.url(), encryptionKey: KEY, ...extra });

    test('4 processes x 20 tenants x 10 concurrent calls: exactly 20 token requests, nothing in clear in Redis', async () => {
      await emu.control('POST', 'reset', { world: true });
      const redisKeyPrefix = prefix();
      const tenants = world.clients.map((c) => c.tenantId);
      const startAt = Date.now() + 1500;
      const results = await Promise.all(
        Array.from({ length: 4 }, () => child({ options: options({ redisKeyPrefix }), tenants, perTenant: 10, mode: 'token', startAt })),
      );
      for (const r of results) assert.equal(r.failed, 0, JSON.stringify(r.errors ?? r.fatal));
      assert.equal(results.reduce((n, r) => n + r.ok, 0), 800);
      assert.equal(await tokenRequests(), 20);
      // Every replica saw the same token per tenant.
      assert.equal(new Set(results.flatMap((r) => r.tokens)).size, 20);
      for (const r of results) assert.equal(r.store.mode, 'shared', JSON.stringify(r.store));

      const keys = backend.scan(`${redisKeyPrefix}*`);
      assert.ok(keys.length >= 20, `keys: ${keys.length}`);
      if (backend.url() !== REDIS) assert.equal(new Set(keys.map((k) => k.port)).size, 3, 'the tenants live on every master');
      const secrets = (await emu.tenants()).map((t) => t.clientSecret);
      const tokens = results.flatMap((r) => r.tokens);
      for (const { key, port } of keys) {
        const dump = redisCli(['--no-raw', 'GET', key], port).stdout + redisCli(['DUMP', key], port).stdout + key;
        for (const s of [...secrets, ...tokens]) assert.ok(!dump.includes(s), `plaintext secret or token under ${key}`);
      }
      for (const { key, port } of keys) redisCli(['DEL', key], port);
    });

    test('a replica killed while holding the refresh lease: another gets a token within the lease time', async () => {
      await emu.control('POST', 'reset', { world: true });
      const redisKeyPrefix = prefix();
      // The first token request hangs 5 s, so its holder dies with the lease.
      await emu.control('POST', 'faults', { path: '/oauth/token', status: 0, latencyMs: 5000, count: 1 });
      const holder = spawn(process.execPath, [CHILD], {
        env: {
          ...process.env,
          GENESYS_CHILD: JSON.stringify({ options: options({ redisKeyPrefix, redisLeaseMs: 1500 }), tenants: ['tenant-00'], perTenant: 1, mode: 'token' }),
        },
        stdio: 'ignore',
      });
      await new Promise((r) => setTimeout(r, 800));
      holder.kill('SIGKILL');
      const t0 = Date.now();
      const r = await child({ options: options({ redisKeyPrefix, redisLeaseMs: 1500 }), tenants: ['tenant-00'], perTenant: 5, mode: 'token' });
      assert.equal(r.failed, 0, JSON.stringify(r.errors ?? r.fatal));
      assert.ok(Date.now() - t0 < 1500 + 2500, `took ${Date.now() - t0} ms`);
      await emu.control('DELETE', 'faults');
    });

    test('3 processes sharing one token limited to 20 per 2 s, one Retry-After: 3 — no replica sends during the pause', async (t) => {
      await emu.control('POST', 'reset', { world: true });
      await emu.control('PATCH', 'clients/client-5', { rateLimit: { limit: 20, windowSeconds: 2 } });
      // The first API call of the run meets a 429 asking for 3 s.
      await emu.control('POST', 'faults', { path: '/api/v2/organizations/me', status: 429, retryAfterSeconds: 3, count: 1 });
      const redisKeyPrefix = prefix();
      const startAt = Date.now() + 1500;
      const results = await Promise.all(
        Array.from({ length: 3 }, () => child({ options: options({ redisKeyPrefix }), tenants: ['tenant-05'], perTenant: 50, mode: 'request', startAt })),
      );
      for (const r of results) assert.equal(r.failed, 0, JSON.stringify(r.errors ?? r.fatal));
      const c = await emu.control('GET', 'counters/client-5');
      t.diagnostic(`429s ${c.apiCalls['429'] ?? 0}; arrivals (ms after the injected 429, status): ${JSON.stringify(c.recentCalls.slice(0, 60).map(([at, s]) => [at - c.recentCalls[0][0], s]))}`);
      assert.equal(c.apiCalls['200'], 150);
      assert.ok((c.apiCalls['429'] ?? 0) <= 1 + 5, `429s: ${c.apiCalls['429']}`);
      assert.equal(c.tokenRequests, 1);
      const [first, ...rest] = c.recentCalls;
      assert.equal(first[1], 429, 'the injected 429 came first');
      // The three replicas' first calls go out together; the shared window lets the two whose first
      // answers were 200s burst at once (up to the window's budget), so calls that left before the
      // 429's replica could write the pause reach the server with it. Once it is written (well within
      // 250 ms), nothing is sent until it ends.
      const GRACE = 250;
      const beforeKnown = rest.filter(([at]) => at < first[0] + GRACE);
      assert.ok(beforeKnown.length <= 20, `at most the window's budget left before the pause was known: ${beforeKnown.length}`);
      const inPause = rest.filter(([at]) => at >= first[0] + GRACE && at < first[0] + 3000 - 50);
      assert.deepEqual(inPause, [], 'nothing was sent by any replica inside the 3 s pause once it was known');
      assert.ok(rest.length >= 150);
      await emu.control('DELETE', 'faults');
    });
  });
}

async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function startRedis(port) {
  const r = spawnSync('redis-server', ['--daemonize', 'yes', '--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  for (let i = 0; i < 50; i++) {
    if (redisCli(['ping'], port).stdout.includes('PONG')) return;
    spawnSync('sleep', ['0.1']);
  }
  throw new Error('redis did not start');
}

test('a Redis Cluster master killed mid-run (3 masters, 3 replicas): no call of 2 replica processes fails', async () => {
  await emu.control('POST', 'reset', { world: true });
  const failover = await startRedisCluster({ masters: 3, replicas: 1 });
  try {
    const redisKeyPrefix = prefix();
    const tenants = ['tenant-01', 'tenant-02', 'tenant-03'];
    // This test is about the failover, not the rate limit: two replicas at full speed send ~290 calls a
    // tenant in 9 s, and while the store fails over each paces by its own in-process budget, so with
    // Genesys's 300 a minute one 429 could hold a tenant past the run. Give the tokens room.
    for (const t of tenants) await emu.control('PATCH', `clients/client-${Number(t.slice(-2))}`, { rateLimit: { limit: 6000, windowSeconds: 60 } });
    const job = {
      options: { ...emu.options(), redisUrl: failover.url, encryptionKey: KEY, redisKeyPrefix, rateLimitPerMinute: 6000 },
      tenants,
      durationMs: 9000,
      intervalMs: 20,
      mode: 'request',
    };
    const flows = [child(job), child(job)];
    const hex = (s) => Buffer.from(s).toString('hex');
    const victim = failover.masterOf(`${redisKeyPrefix}{${hex('tenant-01')}}`);
    await new Promise((r) => setTimeout(r, 2000));
    failover.kill(victim);
    const results = await Promise.all(flows);
    for (const r of results) {
      assert.equal(r.failed, 0, JSON.stringify(r.errors ?? r.fatal));
      assert.ok(r.ok > 100, `${r.ok} calls`);
      assert.ok(r.events.includes('store.unavailable') && r.events.includes('store.available'), `the failover was met and recovered: ${r.events}`);
    }
    await failover.waitOk();
    assert.notEqual(failover.masterOf(`${redisKeyPrefix}{${hex('tenant-01')}}`), victim, 'a replica took over');
  } finally {
    failover.stop();
  }
});

test('one Redis stopped mid-run and restarted: no call fails', async () => {
  await emu.control('POST', 'reset', { world: true });
  const port = await freePort();
  startRedis(port);
  const flow = child({
    options: { ...emu.options(), redisUrl: `redis://127.0.0.1:${port}`, encryptionKey: KEY, redisKeyPrefix: prefix() },
    tenants: ['tenant-01', 'tenant-02'],
    durationMs: 3000,
    intervalMs: 20,
    mode: 'request',
  });
  await new Promise((r) => setTimeout(r, 800));
  redisCli(['shutdown', 'nosave'], port);
  await new Promise((r) => setTimeout(r, 1000));
  startRedis(port);
  const r = await flow;
  redisCli(['shutdown', 'nosave'], port);
  assert.equal(r.failed, 0, JSON.stringify(r.errors ?? r.fatal));
  assert.ok(r.ok > 50);
  assert.ok(r.events.includes('store.unavailable'), 'the outage was reported');
});

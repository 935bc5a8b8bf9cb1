// Shared mode over a real Redis, with several OS processes as replicas.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startEmulator, root } from './helpers.mjs';

const CHILD = path.join(root, '__test__', 'fixtures', 'shared-child.cjs');
const KEY = 'a1'.repeat(32);
const REDIS = 'redis://127.0.0.1:6379';
const dir = mkdtempSync(path.join(os.tmpdir(), 'gt-shared-'));

let emu;
let world;
before(async () => {
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

function options(extra = {}) {
  return { ...emu.options(), redisUrl: REDIS, encryptionKey: KEY, ...extra };
}

function redisCli(args, port = 6379) {
  return spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8' });
}

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

  const keys = redisCli(['--scan', '--pattern', `${redisKeyPrefix}*`]).stdout.split('\n').filter(Boolean);
  assert.ok(keys.length >= 20, `keys: ${keys.length}`);
  const secrets = (await emu.tenants()).map((t) => t.clientSecret);
  const tokens = results.flatMap((r) => r.tokens);
  for (const k of keys) {
    const dump = redisCli(['--no-raw', 'GET', k]).stdout + redisCli(['DUMP', k]).stdout + k;
    for (const s of [...secrets, ...tokens]) assert.ok(!dump.includes(s), `plaintext secret or token under ${k}`);
  }
  redisCli(['DEL', ...keys]);
});

test('a replica killed while holding the refresh lease: another gets a token within the lease time', async () => {
  await emu.control('POST', 'reset', { world: true });
  const redisKeyPrefix = prefix();
  // The first token request hangs 5 s, so its holder dies with the lease.
  await emu.control('POST', 'faults', { path: '/oauth/token', status: 0, latencyMs: 5000, count: 1 });
  const holder = spawn(process.execPath, [CHILD], {
    env: { ...process.env, GENESYS_CHILD: JSON.stringify({ options: options({ redisKeyPrefix, redisLeaseMs: 1500 }), tenants: ['tenant-00'], perTenant: 1, mode: 'token' }) },
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

test('Redis stopped mid-run and restarted: no call fails', async () => {
  await emu.control('POST', 'reset', { world: true });
  const port = await freePort();
  startRedis(port);
  const flow = child({
    options: options({ redisUrl: `redis://127.0.0.1:${port}`, redisKeyPrefix: prefix() }),
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

test('3 processes sharing one token limited to 20 per 2 s: 150 calls complete with few 429s', async () => {
  await emu.control('POST', 'reset', { world: true });
  await emu.control('PATCH', 'clients/client-5', { rateLimit: { limit: 20, windowSeconds: 2 } });
  const redisKeyPrefix = prefix();
  const results = await Promise.all(
    Array.from({ length: 3 }, () => child({ options: options({ redisKeyPrefix }), tenants: ['tenant-05'], perTenant: 50, mode: 'request' })),
  );
  for (const r of results) assert.equal(r.failed, 0, JSON.stringify(r.errors ?? r.fatal));
  const c = await emu.control('GET', 'counters/client-5');
  assert.equal(c.apiCalls['200'], 150);
  assert.ok((c.apiCalls['429'] ?? 0) <= 5, `429s: ${c.apiCalls['429']}`);
  assert.equal(c.tokenRequests, 1);
});

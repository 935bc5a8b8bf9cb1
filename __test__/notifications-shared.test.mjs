// Shared mode of the Notifications API with three OS processes on one Redis (127.0.0.1:6379): each
// tenant's channels are opened once — by the replica holding its lease — and every replica receives every
// event (through the tenant's Redis stream). The in-process proofs, with a holder that leaves, are in
// crates/core/tests/notifications.rs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { startEmulator, root } from './helpers.mjs';

const CHILD = path.join(root, '__test__', 'fixtures', 'notifications-child.cjs');

let emu;
before(async () => {
  emu = await startEmulator();
});
after(async () => {
  await emu?.stop();
});

/** A child replica: `ready` resolves on its first line, `result` on its last. Killed after 90 s. */
function replica(job) {
  const p = spawn(process.execPath, [CHILD], { env: { ...process.env, GENESYS_CHILD: JSON.stringify(job) }, stdio: ['ignore', 'pipe', 'inherit'] });
  const timer = setTimeout(() => p.kill('SIGKILL'), 90_000);
  const lines = [];
  const waiters = [];
  const wake = () => waiters.splice(0).forEach((w) => w());
  readline.createInterface({ input: p.stdout }).on('line', (l) => {
    lines.push(JSON.parse(l));
    wake();
  });
  p.once('exit', wake);
  const next = (n) =>
    new Promise((resolve, reject) => {
      const check = () => {
        if (lines.length >= n) resolve(lines[n - 1]);
        else if (p.exitCode !== null || p.signalCode !== null) reject(new Error(`child exited after ${JSON.stringify(lines)}`));
        else waiters.push(check);
      };
      check();
    });
  return { ready: next(1), result: next(2).finally(() => clearTimeout(timer)) };
}

test('3 replicas on Redis open each tenant\'s channels once and all receive every event', async () => {
  const tenants = ['acme-corp', 'acme', 'globex'];
  const topic = 'v2.users.00000000-0000-4000-8000-000000000042.presence';
  const options = emu.options({
    redisUrl: 'redis://127.0.0.1:6379',
    encryptionKey: 'b2'.repeat(32),
    redisKeyPrefix: `gt-ntf-js-${process.pid}-${Math.random().toString(36).slice(2, 8)}:`,
    redisLeaseMs: 1000,
    rateLimitPerMinute: 6000,
  });
  const replicas = [0, 1, 2].map(() => replica({ options, tenants, topic, expect: 1000 }));
  for (const r of replicas) assert.deepEqual(await r.ready, { ready: true });
  const counters = await emu.notifications.counters();
  for (const t of tenants) {
    const clientId = await emu.clientId(t);
    assert.equal(counters.clients[clientId].channelsCreated, 1, `${t}: one channel for three replicas`);
  }
  await emu.notifications.publish(topic, { count: 1000, ratePerSecond: 5000 });
  const results = await Promise.all(replicas.map((r) => r.result));
  const every = Array.from({ length: 1000 }, (_, i) => i + 1);
  for (const r of results) {
    for (const t of tenants) assert.deepEqual(r.seqs[t], every, `${t}: every event once in every replica`);
  }
  assert.equal(results.reduce((n, r) => n + r.opened, 0), tenants.length, 'each tenant\'s channel opened once in the fleet');
  const after = await emu.notifications.counters();
  assert.equal(Object.values(after.clients).reduce((n, c) => n + c.evictions, 0), 0);
});

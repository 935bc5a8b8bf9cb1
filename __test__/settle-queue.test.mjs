// Every Promise the binding returns is settled through one queue per JS environment (src/settle_queue.rs),
// not one libuv handle per call: nothing may be lost or doubled on the way, errors keep their code and
// fields, close() and a worker's termination with calls pending are safe, and the queue keeps the process
// alive exactly while a call is pending.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { TenantOrchestrator } from '../lib/index.mjs';
import { startEmulator, root } from './helpers.mjs';

const native = createRequire(import.meta.url)('../index.js');

const CALLS = 10_000;
const GENEROUS = { limit: 1_000_000, windowSeconds: 60 };
// A tenant held by its own rate limit: 20 calls a second go out, the others wait in its limiter (a window
// short enough that none waits past maxRetryDelayMs and is refused with RATE_LIMITED instead).
const HELD = { limit: 20, windowSeconds: 1 };

let emu;
before(async () => {
  const world = {
    orgs: [{ id: 'org-big', name: 'Big Org', region: 'mypurecloud.com', users: CALLS, queues: 1 }],
    clients: [
      { tenantId: 'bulk', clientId: 'client-bulk', orgId: 'org-big', permissions: [], rateLimit: GENEROUS, tokenRateLimit: GENEROUS },
      { tenantId: 'held', clientId: 'client-held', orgId: 'org-big', permissions: [], rateLimit: HELD, tokenRateLimit: GENEROUS },
    ],
    rateLimitHeaders: true,
  };
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gt-settle-')), 'world.json');
  fs.writeFileSync(file, JSON.stringify(world));
  emu = await startEmulator(['--world', file]);
});
after(async () => {
  await emu?.stop();
});

const page = (n) => ({ path: '/api/v2/users', query: { pageSize: '1', pageNumber: String(n) } });

/** Runs `script` (CommonJS) in a child Node; resolves to spawnSync's result. */
const child = (script, timeout = 60_000) => spawnSync(process.execPath, ['-e', script], { timeout, encoding: 'utf8' });

test('10,000 calls pending at once all settle, each with its own answer', async () => {
  const o = new TenantOrchestrator(emu.options());
  await o.initialize();
  const answers = await Promise.all(Array.from({ length: CALLS }, (_, i) => o.request('bulk', page(i + 1))));
  assert.equal(answers.length, CALLS);
  assert.ok(answers.every((a, i) => a.status === 200 && a.body.pageNumber === i + 1), 'every call has the answer to its own page');
  assert.equal(new Set(answers.map((a) => a.body.entities[0].id)).size, CALLS, 'no answer lost or given twice');
  await o.close();
});

test('thousands of calls finishing at about the same moment all settle', async () => {
  // 5000 timers of the same length end within milliseconds of each other: the queue can hold more than one
  // drain's batch (1024) at once, and what is left waits for the next turn of the event loop.
  const done = [];
  await Promise.all(Array.from({ length: 5000 }, (_, i) => native.sleep(200).then(() => done.push(i))));
  assert.equal(done.length, 5000);
  assert.equal(new Set(done).size, 5000);
});

test('a rejected call carries its code and fields', async () => {
  const o = new TenantOrchestrator(emu.options());
  await o.initialize();
  const [unknown, missing, fine] = await Promise.allSettled([
    o.request('nobody', { path: '/api/v2/organizations/me' }),
    o.request('bulk', { path: '/api/v2/users/no-such-user' }),
    o.request('bulk', page(3)),
  ]);
  assert.equal(unknown.status, 'rejected');
  assert.ok(unknown.reason instanceof Error);
  assert.equal(unknown.reason.name, 'GenesysTenantsError');
  assert.equal(unknown.reason.code, 'UNKNOWN_TENANT');
  assert.equal(unknown.reason.tenantId, 'nobody');
  assert.equal(missing.status, 'rejected');
  assert.equal(missing.reason.code, 'UPSTREAM_ERROR');
  assert.equal(missing.reason.status, 404);
  assert.equal(missing.reason.tenantId, 'bulk');
  assert.equal(missing.reason.body.status, 404, 'the server body crosses as an object');
  assert.equal(fine.status, 'fulfilled');
  assert.equal(fine.value.body.pageNumber, 3);
  await o.close();
});

test('close() with thousands of calls pending rejects every one of them with CLOSED', async () => {
  const o = new TenantOrchestrator(emu.options());
  await o.initialize();
  const n = 3000;
  const calls = Array.from({ length: n }, (_, i) => o.request('held', page(i + 1)));
  const all = Promise.allSettled(calls);
  // Bounded wait for the first window to go out; the rest wait in the limiter.
  const until = Date.now() + 10_000;
  while ((o.stats().tenants.held?.succeeded ?? 0) < HELD.limit && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  await o.close();
  const settled = await all;
  const served = settled.filter((s) => s.status === 'fulfilled');
  const refused = settled.filter((s) => s.status === 'rejected');
  assert.equal(served.length + refused.length, n);
  assert.ok(served.length >= HELD.limit && refused.length >= n - 20 * HELD.limit, `${served.length} served, ${refused.length} refused`);
  assert.ok(served.every((s) => s.value.status === 200));
  assert.deepEqual([...new Set(refused.map((s) => s.reason.code))], ['CLOSED']);
  assert.ok(refused.every((s) => s.reason instanceof Error && s.reason.name === 'GenesysTenantsError'));
});

test('a worker terminated with calls pending does not take the process down', () => {
  const script = `
    const { Worker } = require('node:worker_threads');
    const { TenantOrchestrator } = require(${JSON.stringify(root + '/lib/index.js')});
    const options = ${JSON.stringify(emu.options())};
    const inWorker = \`
      const { parentPort, workerData } = require('node:worker_threads');
      const { TenantOrchestrator } = require(\${JSON.stringify(${JSON.stringify(root + '/lib/index.js')})});
      const native = require(\${JSON.stringify(${JSON.stringify(root + '/index.js')})});
      (async () => {
        const o = new TenantOrchestrator(workerData);
        await o.initialize();
        await o.request('bulk', { path: '/api/v2/organizations/me' });
        // Calls that finish while the worker goes away, calls held in the limiter, and sleeps.
        for (let i = 1; i <= 500; i++) o.request('bulk', { path: '/api/v2/users', query: { pageSize: '1', pageNumber: String(i) } }).catch(() => {});
        for (let i = 1; i <= 500; i++) o.request('held', { path: '/api/v2/organizations/me' }).catch(() => {});
        for (let i = 0; i < 500; i++) native.sleep(i % 50);
        parentPort.postMessage('pending');
      })();
    \`;
    (async () => {
      for (let round = 0; round < 3; round++) {
        const w = new Worker(inWorker, { eval: true, workerData: options });
        await new Promise((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
        });
        await w.terminate();
      }
      // The runtime threads finish the dead workers' calls now; this thread's calls are unaffected.
      await new Promise((r) => setTimeout(r, 300));
      const o = new TenantOrchestrator(options);
      await o.initialize();
      const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => o.request('bulk', { path: '/api/v2/users', query: { pageSize: '1', pageNumber: String(i + 1) } })));
      if (!answers.every((a, i) => a.body.pageNumber === i + 1)) throw new Error('wrong answers after the workers');
      await o.close();
      console.log('survived');
    })().catch((e) => { console.error(e); process.exit(3); });
  `;
  const r = child(script);
  assert.equal(r.error, undefined, 'the child did not finish within 60 s');
  assert.equal(r.signal, null, `the child died of ${r.signal}: ${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /survived/);
});

test('a process whose calls all settled exits by itself; a pending call keeps it alive until it settles', () => {
  const script = `
    const { TenantOrchestrator } = require(${JSON.stringify(root + '/lib/index.js')});
    const native = require(${JSON.stringify(root + '/index.js')});
    (async () => {
      const o = new TenantOrchestrator(${JSON.stringify(emu.options())});
      await o.initialize();
      await Promise.all(Array.from({ length: 100 }, (_, i) => o.request('bulk', { path: '/api/v2/users', query: { pageSize: '1', pageNumber: String(i + 1) } })));
      await o.request('nobody', { path: '/api/v2/organizations/me' }).catch((e) => console.log(e.code));
      console.log('settled');
      // Nothing else holds the event loop: only this call, pending for 300 ms, keeps the process alive.
      native.sleep(300).then(() => console.log('slept'));
    })().catch((e) => { console.error(e); process.exit(3); });
  `;
  const r = child(script, 20_000);
  assert.equal(r.error, undefined, 'the child did not exit by itself within 20 s');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), ['UNKNOWN_TENANT', 'settled', 'slept']);
});

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

/**
 * Shared-mode options on the emulator: one Redis, a key prefix of this test's own, a short lease; `extra` on top.
 */
function sharedOptions(extra = {}) {
  return emu.options({
    redisUrl: 'redis://127.0.0.1:6379',
    encryptionKey: 'b2'.repeat(32),
    redisKeyPrefix: `gt-ntf-js-${process.pid}-${Math.random().toString(36).slice(2, 8)}:`,
    redisLeaseMs: 1000,
    rateLimitPerMinute: 6000,
    ...extra,
  });
}

/** The sequence numbers subscription `sub` of a stepped replica has received, polled until `n` came (about 10 s at most). */
async function seqsOf(stepper, sub, n) {
  let seqs = [];
  for (let i = 0; i < 500 && seqs.length < n; i++) {
    seqs = (await stepper.ask({ op: 'seqs', sub })).seqs;
    await new Promise((r) => setTimeout(r, 20));
  }
  return seqs;
}

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
  return { ready: next(1), result: next(2).finally(() => clearTimeout(timer)), kill: () => p.kill('SIGKILL') };
}

test('3 replicas on Redis open each tenant\'s channels once and all receive every event', async () => {
  const tenants = ['acme-corp', 'acme', 'globex'];
  const topic = 'v2.users.00000000-0000-4000-8000-000000000042.presence';
  const options = sharedOptions();
  const replicas = [0, 1, 2].map(() => replica({ options, tenants, topic, expect: 1000 }));
  for (const r of replicas) assert.deepEqual(await r.ready, { ready: true });
  const counters = await emu.notifications.counters();
  for (const t of tenants) {
    const clientId = await emu.clientId(t);
    assert.equal(counters.clients[clientId].channelsCreated, 1, `${t}: one channel for three replicas`);
  }
  await emu.notifications.publish(topic, { count: 1000, ratePerSecond: 5000 });
  // Still one channel per tenant while the events flow (a replica that closes later hands its lease over).
  const during = await emu.notifications.counters();
  for (const t of tenants) assert.equal(during.clients[await emu.clientId(t)].channelsCreated, 1, t);
  const results = await Promise.all(replicas.map((r) => r.result));
  const every = Array.from({ length: 1000 }, (_, i) => i + 1);
  for (const r of results) {
    for (const t of tenants) assert.deepEqual(r.seqs[t], every, `${t}: every event once in every replica`);
  }
  const after = await emu.notifications.counters();
  assert.equal(Object.values(after.clients).reduce((n, c) => n + c.evictions, 0), 0);
});

test('a holder that dies (SIGKILL) is replaced when its lease lapses; the others keep receiving', async () => {
  const tenant = 'acme';
  const topic = 'v2.users.00000000-0000-4000-8000-000000000043.presence';
  const options = sharedOptions();
  const clientId = await emu.clientId(tenant);
  const created = async () => (await emu.notifications.counters()).clients[clientId]?.channelsCreated ?? 0;
  const before = await created();
  // The first replica takes the lease; the other two join it.
  const holder = replica({ options, tenants: [tenant], topic, expect: 500 });
  await holder.ready;
  const others = [0, 1].map(() => replica({ options, tenants: [tenant], topic, expect: 500 }));
  for (const r of others) await r.ready;
  assert.equal(await created(), before + 1);
  holder.kill();
  await holder.result.catch(() => {});
  // Its socket is gone at once; its lease lapses within redisLeaseMs and another replica opens the channel again.
  const end = Date.now() + 30_000;
  for (;;) {
    const c = await emu.notifications.counters();
    const live = c.channels.filter((ch) => ch.clientId === clientId && ch.connected && ch.topics === 1);
    if ((await created()) === before + 2 && live.length === 1) break;
    assert.ok(Date.now() < end, 'another replica took over');
    await new Promise((r) => setTimeout(r, 20));
  }
  await emu.notifications.publish(topic, { count: 500, ratePerSecond: 5000 });
  const every = Array.from({ length: 500 }, (_, i) => i + 1);
  for (const r of await Promise.all(others.map((o) => o.result))) assert.deepEqual(r.seqs[tenant], every);
});

const STEPS = path.join(root, '__test__', 'fixtures', 'notifications-steps-child.cjs');

/** A child replica driven over stdin: `ask(cmd)` resolves to its answer line. Killed after 90 s. */
function stepped(options) {
  const p = spawn(process.execPath, [STEPS], { env: { ...process.env, GENESYS_CHILD: JSON.stringify({ options }) }, stdio: ['pipe', 'pipe', 'inherit'] });
  const timer = setTimeout(() => p.kill('SIGKILL'), 90_000);
  p.once('exit', () => clearTimeout(timer));
  const waiting = [];
  readline.createInterface({ input: p.stdout }).on('line', (l) => waiting.shift()?.(JSON.parse(l)));
  const answer = () => new Promise((resolve) => waiting.push(resolve));
  const ready = answer();
  return {
    ready,
    ask(cmd) {
      const a = answer();
      p.stdin.write(`${JSON.stringify(cmd)}\n`);
      return a;
    },
    kill: () => p.kill('SIGKILL'),
  };
}

test('a budget refusal on the holder rejects the asking replica\'s subscribe() at once, as in process (2 processes)', async () => {
  const topic = (i) => `v2.users.00000000-0000-4000-8000-${String(i).padStart(12, '0')}.presence`;
  const budget = { channelBudget: 1 };
  const options = sharedOptions({
    requestTimeoutMs: 20_000,
    notifications: budget,
  });
  const tenant = 'globex';
  const clientId = await emu.clientId(tenant);
  const created = async () => (await emu.notifications.counters()).clients[clientId]?.channelsCreated ?? 0;
  const mine = Array.from({ length: 999 }, (_, i) => topic(i));

  // The same refusal in process: 999 topics, then 2 more, on a budget of one channel.
  const { TenantOrchestrator } = await import('../lib/index.mjs');
  const local = new TenantOrchestrator(emu.options({ notifications: budget }));
  await local.initialize();
  const held = await local.subscribe(tenant, mine, () => {});
  const inProcess = await local.subscribe(tenant, [topic(1000), topic(1001)], () => {}).then(
    () => assert.fail('in process: refused'),
    (e) => ({ ...e, code: e.code, message: e.message }),
  );
  await held.close();
  await local.close();
  assert.equal(inProcess.code, 'INVALID_OPTIONS');

  const before = await created();
  const a = stepped(options);
  const b = stepped(options);
  try {
    assert.deepEqual(await a.ready, { ready: true });
    assert.equal((await a.ask({ op: 'subscribe', tenant, topics: mine })).ok, true, 'the first replica holds the lease and 999 topics');
    assert.deepEqual(await b.ready, { ready: true });
    const refused = await b.ask({ op: 'subscribe', tenant, topics: [topic(1000), topic(1001)] });
    assert.deepEqual(refused.error, inProcess, 'the same code, fields and message as in process');
    assert.ok(refused.ms < 20_000, `rejected before requestTimeoutMs (${refused.ms} ms)`);
    // Nothing of the refused call stayed in the fleet's topics: one more topic fits and its events arrive.
    const ok = await b.ask({ op: 'subscribe', tenant, topics: [topic(1000)] });
    assert.equal(ok.ok, true);
    await emu.notifications.publish(topic(1000), { count: 10 });
    const seqs = await seqsOf(b, ok.sub, 10);
    assert.deepEqual(seqs, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(await created(), before + 1, 'one channel for the fleet (1,000 topics)');
    // Who holds the channels: the first replica (1), not the second (0).
    const [na, nb] = [(await a.ask({ op: 'stats', tenant })).notifications, (await b.ask({ op: 'stats', tenant })).notifications];
    assert.deepEqual([na.holder, na.channels, nb.holder, nb.channels], [1, 1, 0, 0]);
    assert.deepEqual(await b.ask({ op: 'close' }), { closed: true });
    assert.deepEqual(await a.ask({ op: 'close' }), { closed: true });
  } finally {
    a.kill();
    b.kill();
  }
});

test('two add()s from one replica in the same poll: the holder applies them in order, refusing only the one that does not fit (2 processes)', async () => {
  const topic = (i) => `v2.users.00000000-0000-4000-8001-${String(i).padStart(12, '0')}.presence`;
  const budget = { channelBudget: 1 };
  const options = sharedOptions({
    requestTimeoutMs: 20_000,
    notifications: budget,
  });
  const tenant = 'acme';
  const mine = Array.from({ length: 997 }, (_, i) => topic(i));
  const five = Array.from({ length: 5 }, (_, i) => topic(2000 + i));

  // In process: 997 + 1 topics (998), then add(1) passes and add(5) is refused.
  const { TenantOrchestrator } = await import('../lib/index.mjs');
  const local = new TenantOrchestrator(emu.options({ notifications: budget }));
  await local.initialize();
  const held = await local.subscribe(tenant, mine, () => {});
  const second = await local.subscribe(tenant, [topic(999)], () => {});
  const inProcess = await Promise.all(
    [[topic(1000)], five].map((t) => second.add(t).then(() => ({ ok: true }), (e) => ({ error: { ...e, code: e.code, message: e.message } }))),
  );
  await second.close();
  await held.close();
  await local.close();
  assert.equal(inProcess[0].ok, true);
  assert.equal(inProcess[1].error.code, 'INVALID_OPTIONS');

  const a = stepped(options);
  const b = stepped(options);
  try {
    assert.deepEqual(await a.ready, { ready: true });
    assert.equal((await a.ask({ op: 'subscribe', tenant, topics: mine })).ok, true, 'the first replica holds the lease and 997 topics');
    assert.deepEqual(await b.ready, { ready: true });
    const sub = await b.ask({ op: 'subscribe', tenant, topics: [topic(999)] });
    assert.equal(sub.ok, true, '998 topics');
    const { results } = await b.ask({ op: 'calls', sub: sub.sub, calls: [{ op: 'add', topics: [topic(1000)] }, { op: 'add', topics: five }] });
    // The count in the message is 1,004 (998 + 1 + 5) when the core received the calls in the order they were made,
    // 1,003 when the binding handed them over the other way round (two calls in one tick race there, in process too).
    const count = (r) => JSON.parse(JSON.stringify(r).replace(/\b100[34] topics/g, 'N topics'));
    assert.deepEqual(count(results), count(inProcess), 'the first add() resolves, the second rejects as in process');
    await emu.notifications.publish(topic(1000), { count: 10 });
    const seqs = await seqsOf(b, sub.sub, 10);
    assert.deepEqual(seqs, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "the first add()'s topic's events arrive");
    const [na, nb] = [(await a.ask({ op: 'stats', tenant })).notifications, (await b.ask({ op: 'stats', tenant })).notifications];
    assert.deepEqual([na.holder, nb.holder], [1, 0], 'the first replica holds the channels');
    assert.deepEqual(await b.ask({ op: 'close' }), { closed: true });
    assert.deepEqual(await a.ask({ op: 'close' }), { closed: true });
  } finally {
    a.kill();
    b.kill();
  }
});

test('a remove() the holder\'s REST call fails rejects on the asking replica with the in-process error (2 processes)', async () => {
  const topic = (i) => `v2.users.00000000-0000-4000-8002-${String(i).padStart(12, '0')}.presence`;
  const options = sharedOptions({
    requestTimeoutMs: 20_000,
  });
  const tenant = 'acme-corp';
  // The next PUT of a channel's subscriptions fails (400), once.
  const fault = () => emu.control('POST', 'faults', { method: 'PUT', path: '/api/v2/notifications/channels/*', status: 400, count: 1 });
  const outcome = (p) => p.then(() => ({ ok: true }), (e) => ({ error: { ...e, code: e.code, message: e.message } }));
  // Each answer has its own correlation id: compared without it.
  const same = ({ error }) => {
    const { correlationId, body, ...rest } = error ?? {};
    return { ...rest, body: body && { ...body, contextId: typeof body.contextId }, correlationId: typeof correlationId };
  };

  // In process: two subscriptions on one channel, the second's remove() fails with the REST call.
  const { TenantOrchestrator } = await import('../lib/index.mjs');
  const local = new TenantOrchestrator(emu.options());
  await local.initialize();
  const held = await local.subscribe(tenant, [topic(1), topic(2)], () => {});
  const second = await local.subscribe(tenant, [topic(3)], () => {});
  await fault();
  const inProcess = await outcome(second.remove([topic(3)]));
  await second.close();
  await held.close();
  await local.close();
  assert.ok(inProcess.error?.code, `in process: the remove() fails (${JSON.stringify(inProcess)})`);

  const a = stepped(options);
  const b = stepped(options);
  try {
    assert.deepEqual(await a.ready, { ready: true });
    assert.equal((await a.ask({ op: 'subscribe', tenant, topics: [topic(1), topic(2)] })).ok, true, 'the first replica holds the lease');
    assert.deepEqual(await b.ready, { ready: true });
    const sub = await b.ask({ op: 'subscribe', tenant, topics: [topic(3)] });
    assert.equal(sub.ok, true);
    await fault();
    const t0 = Date.now();
    const { results } = await b.ask({ op: 'calls', sub: sub.sub, calls: [{ op: 'remove', topics: [topic(3)] }] });
    assert.ok(results[0].error, `rejected (${JSON.stringify(results)})`);
    assert.deepEqual(same(results[0]), same(inProcess), 'the same code, fields and message as in process');
    assert.ok(Date.now() - t0 < 20_000, 'rejected before requestTimeoutMs');
    // The replica keeps going: a later add() resolves.
    const { results: later } = await b.ask({ op: 'calls', sub: sub.sub, calls: [{ op: 'add', topics: [topic(4)] }] });
    assert.deepEqual(later, [{ ok: true }]);
    assert.deepEqual(await b.ask({ op: 'close' }), { closed: true });
    assert.deepEqual(await a.ask({ op: 'close' }), { closed: true });
  } finally {
    a.kill();
    b.kill();
  }
});

// o.subscribe() and o.events() against the emulator's Notifications API: every event once with its
// tenant through a socket_closing, add/remove, an iterator that a `break` or a signal closes, close()
// settling what is pending, typed errors. The channel manager's own proofs (10,000 events through
// moves, killed and silenced sockets, the budget) are crates/core/tests/notifications.rs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TenantOrchestrator, EventKinds } from '../lib/index.mjs';
import { startEmulator } from './helpers.mjs';

let emu;
before(async () => {
  emu = await startEmulator();
});
after(async () => {
  await emu?.stop();
});

const topic = (i) => `v2.users.00000000-0000-4000-8000-${String(i).padStart(12, '0')}.presence`;

async function orchestrator(extra = {}) {
  const o = new TenantOrchestrator(emu.options({ rateLimitPerMinute: 6000, ...extra }));
  await o.initialize();
  return o;
}

/** Polls `check` every 20 ms; fails after 30 s (a bound, not a threshold). */
async function until(what, check) {
  const end = Date.now() + 30_000;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function channelsOf(tenantId) {
  const clientId = await emu.clientId(tenantId);
  return (await emu.notifications.counters()).channels.filter((c) => c.clientId === clientId);
}

test('the event kinds include the notifications ones', () => {
  for (const k of ['notifications.channel-opened', 'notifications.channel-moved', 'notifications.channel-lost', 'notifications.dropped']) {
    assert.ok(EventKinds.includes(k), k);
  }
});

test('subscribe(): every event once, with its tenant, through a socket_closing', async () => {
  const o = await orchestrator();
  const seen = { acme: [], globex: [] };
  const moved = [];
  o.onEvent((e) => e.type === 'notifications.channel-moved' && moved.push(e));
  const handles = [];
  for (const t of Object.keys(seen)) {
    handles.push(await o.subscribe(t, [topic(1)], (e) => seen[t].push(e)));
  }
  const [first] = await channelsOf('acme');
  await emu.notifications.publish(topic(1), { count: 2000, ratePerSecond: 2000, background: true });
  await until('a few events', () => seen.acme.length >= 300);
  await emu.notifications.socketClosing({ channelId: first.id }, { graceMs: 2000 });
  await until('2,000 events each', () => seen.acme.length >= 2000 && seen.globex.length >= 2000);
  await new Promise((r) => setTimeout(r, 300)); // room for a duplicate to show
  for (const [t, events] of Object.entries(seen)) {
    const sorted = events.map((e) => e.eventBody.seq).sort((a, b) => a - b);
    assert.deepEqual(sorted, Array.from({ length: 2000 }, (_, i) => i + 1), `${t}: 0 lost, 0 duplicated`);
    assert.deepEqual(Object.keys(events[0]).sort(), ['eventBody', 'metadata', 'tenantId', 'topicName']);
    assert.ok(events.every((e) => e.tenantId === t && e.topicName === topic(1) && typeof e.metadata.CorrelationId === 'string'));
  }
  assert.equal(moved.length, 1);
  assert.equal(moved[0].tenantId, 'acme');
  assert.equal(moved[0].fromChannelId, first.id);
  assert.equal(moved[0].reason, 'socket-closing');
  assert.equal(handles[0].dropped, 0);
  await o.close();
});

test('add() and remove() change what the server sends; close() releases the topics', async () => {
  const o = await orchestrator();
  const got = [];
  const h = await o.subscribe('acme-corp', [topic(1)], (e) => got.push(e.topicName));
  await h.add([topic(2), topic(3)]);
  assert.deepEqual((await channelsOf('acme-corp')).map((c) => c.topics), [3]);
  await h.remove([topic(1)]);
  assert.deepEqual((await channelsOf('acme-corp')).map((c) => c.topics), [2]);
  await emu.notifications.publish(topic(1), { count: 5 });
  await emu.notifications.publish(topic(3), { count: 5 });
  await until('5 events', () => got.length >= 5);
  assert.deepEqual(got, Array(5).fill(topic(3)));
  await h.close();
  await h.close();
  await until('the channel closed', async () => (await emu.notifications.counters()).liveSockets === 0);
  await assert.rejects(h.add([topic(4)]), (e) => e.code === 'CLOSED');
  await o.close();
});

test('events(): an async iterator; break closes it', async () => {
  const o = await orchestrator();
  const it = o.events('globex', [topic(9)]);
  await until('subscribed', async () => (await channelsOf('globex')).some((c) => c.topics === 1 && c.connected));
  await emu.notifications.publish(topic(9), { count: 500, ratePerSecond: 5000, background: true });
  const seqs = [];
  for await (const e of it) {
    seqs.push(e.eventBody.seq);
    if (seqs.length === 300) break;
  }
  assert.deepEqual(seqs, Array.from({ length: 300 }, (_, i) => i + 1));
  await until('the socket closed', async () => (await emu.notifications.counters()).liveSockets === 0);
  assert.deepEqual(await it.next(), { done: true, value: undefined });
  await o.close();
});

test('a signal closes a subscription and an iterator; an aborted one never starts', async () => {
  const o = await orchestrator();
  const ac = new AbortController();
  const it = o.events('acme', [topic(1)], { signal: ac.signal });
  const pending = it.next();
  await o.subscribe('acme', [topic(2)], () => {}, { signal: ac.signal });
  await until('two topics', async () => (await channelsOf('acme')).some((c) => c.topics === 2));
  ac.abort();
  assert.deepEqual(await pending, { done: true, value: undefined });
  await until('the socket closed', async () => (await emu.notifications.counters()).liveSockets === 0);
  await assert.rejects(o.subscribe('acme', [topic(1)], () => {}, { signal: ac.signal }), (e) => e.code === 'ABORTED');
  await assert.rejects(o.events('acme', [topic(1)], { signal: ac.signal }).next(), (e) => e.code === 'ABORTED');
  await o.close();
});

test('close() settles every pending iterator and closes every socket', async () => {
  const o = await orchestrator();
  const its = ['acme-corp', 'acme', 'globex'].map((t, i) => o.events(t, [topic(i)]));
  const pending = its.map((it) => it.next());
  await until('three sockets', async () => (await emu.notifications.counters()).liveSockets === 3);
  await o.close();
  for (const p of pending) assert.deepEqual(await p, { done: true, value: undefined });
  await until('no socket', async () => (await emu.notifications.counters()).liveSockets === 0);
  await assert.rejects(o.subscribe('acme', [topic(1)], () => {}), (e) => e.code === 'CLOSED');
});

test('typed errors: bad arguments, the channel budget, a connectUri on another host', async () => {
  assert.throws(
    () => new TenantOrchestrator(emu.options({ notifications: { channelBudget: 20 } })),
    (e) => e.code === 'INVALID_OPTIONS' && e.option === 'notifications.channelBudget',
  );
  assert.throws(() => new TenantOrchestrator(emu.options({ notifications: { colour: 1 } })), (e) => e.code === 'INVALID_OPTIONS');
  const o = await orchestrator({ notifications: { channelBudget: 1 } });
  await assert.rejects(o.subscribe('acme', 'v2.users.x.presence', () => {}), (e) => e.code === 'INVALID_OPTIONS' && e.option === 'topics');
  await assert.rejects(o.subscribe('acme', [topic(1)]), (e) => e.code === 'INVALID_OPTIONS' && e.option === 'onEvent');
  await assert.rejects(o.subscribe('acme', ['bad topic'], () => {}), (e) => e.code === 'INVALID_OPTIONS' && e.option === 'topics[0]');
  await assert.rejects(o.subscribe('nobody', [topic(1)], () => {}), (e) => e.code === 'UNKNOWN_TENANT');
  const many = Array.from({ length: 1001 }, (_, i) => topic(i));
  await assert.rejects(o.subscribe('acme', many, () => {}), (e) => e.code === 'INVALID_OPTIONS' && e.option === 'topics');
  await emu.notifications.settings({ connectUriBase: 'ws://127.0.0.2:9' });
  try {
    await assert.rejects(o.subscribe('acme', [topic(1)], () => {}), (e) => e.code === 'HOST_NOT_ALLOWED' && e.tenantId === 'acme');
    assert.equal((await emu.notifications.counters()).liveSockets, 0);
  } finally {
    await emu.notifications.settings({ connectUriBase: null });
  }
  await o.close();
});

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
  for (const k of ['notifications.channel-opened', 'notifications.channel-moved', 'notifications.channel-renewed', 'notifications.channel-lost', 'notifications.dropped']) {
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

test('stats(), metrics(), metricsText() and OpenTelemetry: exact figures after 1,000 events and one socket_closing', async () => {
  const { createRequire } = await import('node:module');
  const require = createRequire(import.meta.url);
  const { MeterProvider, MetricReader } = require('@opentelemetry/sdk-metrics');
  const o = await orchestrator();
  assert.equal(o.stats().tenants.globex.notifications, undefined, 'no figures before a subscription');
  const seqs = [];
  const h = await o.subscribe('globex', [topic(60)], (e) => seqs.push(e.eventBody.seq));
  // The live one (channels of earlier tests stay on the server until they expire).
  const first = (await channelsOf('globex')).find((c) => c.connected && c.topics === 1);
  await emu.notifications.publish(topic(60), { count: 1000, ratePerSecond: 1000, background: true });
  await until('a few events', () => seqs.length >= 200);
  await emu.notifications.socketClosing({ channelId: first.id }, { graceMs: 2000 });
  await until('1,000 events', () => seqs.length >= 1000);
  // Moved, and the old socket drained and closed: one socket again.
  await until('the move', () => o.stats().tenants.globex.notifications.moves === 1);
  await until('one socket', () => o.stats().tenants.globex.notifications.sockets === 1);
  assert.deepEqual([...seqs].sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i + 1), '0 lost, 0 doubled');
  const n = o.stats().tenants.globex.notifications;
  const { duplicates } = n;
  assert.deepEqual(n, {
    channels: 1,
    sockets: 1,
    channelsCreated: 2,
    connections: 2,
    delivered: 1000,
    dropped: 0,
    duplicates,
    moves: 1,
    renewals: 0,
    lost: 0,
    rebuilds: 0,
    holder: 1,
  });
  assert.deepEqual(o.metrics().tenants.globex.notifications, n);
  assert.equal(o.metrics().tenants.acme.notifications, undefined, 'a tenant that never subscribed has none');
  const text = o.metricsText();
  assert.match(text, /^# TYPE genesys_tenants_notification_channels gauge$/m);
  assert.match(text, /^genesys_tenants_notification_events_delivered_total\{tenant="globex"\} 1000$/m);
  assert.match(text, /^genesys_tenants_notification_channel_moves_total\{tenant="globex"\} 1$/m);
  assert.match(text, /^genesys_tenants_notification_sockets\{tenant="globex"\} 1$/m);
  assert.match(text, /^genesys_tenants_notification_holder\{tenant="globex"\} 1$/m);
  assert.doesNotMatch(text, /notification_[a-z_]+\{tenant="acme"\}/);
  assert.equal(o.metrics().notificationFigures.length, Object.keys(n).length, 'one figure per field');

  class TestReader extends MetricReader {
    async onForceFlush() {}
    async onShutdown() {}
  }
  const reader = new TestReader();
  const mp = new MeterProvider({ readers: [reader] });
  const unregister = o.registerOpenTelemetryMetrics(mp.getMeter('test'));
  const { resourceMetrics } = await reader.collect();
  const got = {};
  for (const sm of resourceMetrics.scopeMetrics) for (const m of sm.metrics) got[m.descriptor.name] = m;
  const at = (name) => got[name].dataPoints.find((p) => p.attributes['genesys.tenant.id'] === 'globex')?.value;
  assert.equal(at('genesys_tenants.notification.events.delivered'), 1000);
  assert.equal(at('genesys_tenants.notification.channel.moves'), 1);
  assert.equal(at('genesys_tenants.notification.channels'), 1);
  assert.equal(at('genesys_tenants.notification.events.dropped'), 0);
  assert.equal(got['genesys_tenants.notification.events.delivered'].descriptor.unit, '{event}');
  unregister();
  await mp.shutdown();
  await h.close();
  await o.close();
});

test('a slow consumer: dropped counts exactly what a full queue lost', async () => {
  const o = await orchestrator({ notifications: { queueSize: 10 } });
  const it = o.events('acme-corp', [topic(61)]);
  await until('subscribed', async () => (await channelsOf('acme-corp')).some((c) => c.topics === 1 && c.connected));
  await emu.notifications.publish(topic(61), { count: 50 });
  await until('50 events', () => o.stats().tenants['acme-corp'].notifications?.delivered === 50);
  const n = o.metrics().tenants['acme-corp'].notifications;
  assert.equal(n.dropped, 40, 'a queue of 10, nobody reading, 50 events');
  assert.match(o.metricsText(), /^genesys_tenants_notification_events_dropped_total\{tenant="acme-corp"\} 40$/m);
  const first = await it.next();
  assert.equal(first.value.eventBody.seq, 41, 'the oldest were dropped');
  assert.equal(it.dropped, 40);
  await it.return();
  await o.close();
});

// The emulator's Notifications API as the official SDK (purecloud-platform-client-v2) drives it: its
// NotificationsApi creates, lists and probes channels and manages subscriptions; a WebSocket client
// (./ws-client.mjs, see there why not `ws` or Node's flag) receives heartbeats, a pong, events published
// through the emulator's control call, and the socket_closing warning.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { startEmulator } from './helpers.mjs';
import { connect } from './ws-client.mjs';

const require = createRequire(import.meta.url);
const platformClient = require('purecloud-platform-client-v2');

const HEARTBEAT = { topicName: 'channel.metadata', eventBody: { message: 'WebSocket Heartbeat' } };
const PONG = { topicName: 'channel.metadata', eventBody: { message: 'pong' } };

let emu;
before(async () => {
  emu = await startEmulator();
  await emu.notifications.settings({ heartbeatMs: 100 });
});
after(async () => {
  await emu?.stop();
});

/** `api` answers bodies; `ext` (extended responses) rejects with `{ status, body }`, which a HEAD's 404
 * needs: without a body the SDK rejects with nothing. */
async function notificationsApi(tenantId) {
  const t = (await emu.tenants()).find((x) => x.tenantId === tenantId);
  const sdk = async (extended) => {
    const client = new platformClient.ApiClientClass();
    client.config.live_reload_config = false;
    client.setGateway({ host: '127.0.0.1', port: emu.port, protocol: 'http' });
    if (extended) client.setReturnExtendedResponses(true);
    await client.loginClientCredentialsGrant(t.clientId, t.clientSecret);
    return new platformClient.NotificationsApi(client);
  };
  return { api: await sdk(false), ext: await sdk(true), clientId: t.clientId };
}

/** The next frame that is not a heartbeat, parsed when it is text. */
async function nextNonHeartbeat(ws) {
  for (let i = 0; i < 1000; i++) {
    const m = await ws.next();
    if (m.type !== 'text') return m;
    const v = JSON.parse(m.data);
    if (v.eventBody?.message !== 'WebSocket Heartbeat') return v;
  }
  throw new Error('only heartbeats');
}

test('the SDK manages a channel and its subscriptions; a socket receives what is published', async () => {
  const { api, ext } = await notificationsApi('acme-corp');
  const channel = await api.postNotificationsChannels();
  assert.match(channel.id, /^streaming-0-[0-9a-f]{32}$/);
  assert.equal(channel.connectUri, `ws://127.0.0.1:${emu.port}/channels/${channel.id}`);
  assert.ok(Date.parse(channel.expires) > Date.now() + 23 * 3600_000, 'expires in 24 h');

  const topic = 'v2.users.7f1c0c3e-0000-4000-8000-000000000001.presence';
  const put = await api.putNotificationsChannelSubscriptions(channel.id, [{ id: topic }]);
  assert.deepEqual(put.entities, [{ id: topic }]);
  const added = await api.postNotificationsChannelSubscriptions(channel.id, [{ id: 'v2.routing.queues.q1.conversations' }]);
  assert.deepEqual(added.entities.map((t) => t.id).sort(), ['v2.routing.queues.q1.conversations', topic]);
  await api.deleteNotificationsChannelSubscriptions(channel.id);
  assert.deepEqual((await api.getNotificationsChannelSubscriptions(channel.id)).entities, []);
  await api.putNotificationsChannelSubscriptions(channel.id, [{ id: topic }]);
  assert.deepEqual((await api.getNotificationsChannelSubscriptions(channel.id)).entities, [{ id: topic }]);

  const listed = await api.getNotificationsChannels({ includechannels: 'oauthclient' });
  assert.ok(listed.entities.some((c) => c.id === channel.id && c.connectUri === channel.connectUri));
  // HEAD: 200 while the channel exists, 404 for an unknown one.
  assert.equal((await ext.headNotificationsChannel(channel.id)).status, 200);
  await assert.rejects(ext.headNotificationsChannel('streaming-0-nope'), (e) => e.status === 404);

  const ws = await connect(channel.connectUri);
  try {
    assert.deepEqual(JSON.parse((await ws.next()).data), HEARTBEAT);
    ws.send(JSON.stringify({ message: 'ping' }));
    assert.deepEqual(await nextNonHeartbeat(ws), PONG);

    const published = await emu.notifications.publish(topic, { count: 3, eventBody: { presenceDefinition: { systemPresence: 'Available' } } });
    assert.equal(published.queued, 3);
    const correlationIds = new Set();
    for (let seq = 1; seq <= 3; seq++) {
      const ev = await nextNonHeartbeat(ws);
      assert.equal(ev.topicName, topic);
      assert.deepEqual(ev.eventBody, { presenceDefinition: { systemPresence: 'Available' }, seq });
      correlationIds.add(ev.metadata.CorrelationId);
    }
    assert.equal(correlationIds.size, 3);

    assert.deepEqual(await emu.notifications.socketClosing({ channelId: channel.id }, { graceMs: 100 }), { channels: 1, sockets: 1 });
    assert.deepEqual(await nextNonHeartbeat(ws), { topicName: 'v2.system.socket_closing', eventBody: { message: 'Socket is closing' } });
    assert.deepEqual(await nextNonHeartbeat(ws), { type: 'close', code: 1000, reason: 'socket closing' });
  } finally {
    ws.destroy();
  }
  const counters = await emu.notifications.counters();
  assert.equal(counters.channels.find((c) => c.id === channel.id).delivered, 3);
});

test('the SDK sees the 1,000-topic limit as a 400 and the 21st channel evicts the least recently used', async () => {
  const { api, ext, clientId } = await notificationsApi('acme');
  const first = await api.postNotificationsChannels();
  const topics = Array.from({ length: 1001 }, (_, i) => ({ id: `v2.users.${i}.presence` }));
  await assert.rejects(ext.putNotificationsChannelSubscriptions(first.id, topics), (e) => {
    assert.equal(e.status, 400);
    assert.equal(e.body.code, 'notification.subscription.limit');
    return true;
  });
  assert.equal((await api.putNotificationsChannelSubscriptions(first.id, topics.slice(0, 1000))).entities.length, 1000);

  for (let i = 0; i < 20; i++) await api.postNotificationsChannels();
  const listed = await api.getNotificationsChannels({ includechannels: 'oauthclient' });
  assert.equal(listed.entities.length, 20);
  assert.ok(!listed.entities.some((c) => c.id === first.id));
  await assert.rejects(api.getNotificationsChannelSubscriptions(first.id), (e) => e.status === 404 && e.code === 'not.found');
  const counters = await emu.notifications.counters();
  assert.deepEqual(counters.clients[clientId], {
    channelsCreated: 21, evictions: 1, expired: 0, subscriptionCalls: 3, topicLimitRefusals: 1, tokenDeaths: 0,
  });
});

test('a killed socket ends without a close frame; an unknown channel refuses the handshake', async () => {
  const { api } = await notificationsApi('acme-corp');
  const channel = await api.postNotificationsChannels();
  const ws = await connect(channel.connectUri);
  try {
    assert.deepEqual(await emu.notifications.kill({ channelId: channel.id }), { channels: 1, sockets: 1 });
    assert.deepEqual(await nextNonHeartbeat(ws), { type: 'end' });
  } finally {
    ws.destroy();
  }
  await assert.rejects(connect(channel.connectUri.replace(channel.id, 'streaming-0-nope')), (e) => e.status === 404);
  assert.throws(() => emu.notifications.kill({}), (e) => e.code === 'INVALID_OPTIONS');
});

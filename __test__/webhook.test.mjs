// The rotation webhook (issue 18, part 1): signed deliveries over real HTTP, every refusal, the CLI's
// signed test delivery checked against an independent HMAC, and fan-out to 3 replica processes over Redis.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { TenantOrchestrator } from '../lib/index.mjs';
import { startEmulator, root } from './helpers.mjs';

const SECRET = 'whsec-test-0123456789abcdef';
const HEADER = 'x-genesys-tenants-signature';
const CHILD = path.join(root, '__test__', 'fixtures', 'shared-child.cjs');
const CLI = path.join(root, 'lib', 'cli', 'index.js');

let emu;
before(async () => {
  emu = await startEmulator();
});
after(async () => {
  await emu?.stop();
});

// The documented scheme, computed here with node:crypto — not with the package's own code.
function sign(body, t = Math.floor(Date.now() / 1000), secret = SECRET) {
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${body}`).digest('hex')}`;
}

async function serve(handler) {
  const server = http.createServer(handler);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}/hooks/rotate`, close: () => new Promise((r) => server.close(r)) };
}

async function post(url, body, headers = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: res.status, body: await res.json() };
}

function rotated(o, tenantId) {
  return new Promise((resolve) => {
    const off = o.onEvent((e) => {
      if ((e.type === 'credentials.rotated' || e.type === 'rotation.failed') && e.tenantId === tenantId) {
        off();
        resolve(e);
      }
    });
  });
}

test('a signed delivery is accepted once (202) and rotates; every other delivery is refused with its reason', async () => {
  const o = new TenantOrchestrator(emu.options());
  await o.initialize();
  const server = await serve(o.rotationWebhook({ secret: SECRET }));
  try {
    const before = await o.getAccessToken('acme');
    const requests = (await emu.counters('acme')).tokenRequests;
    const body = JSON.stringify({ tenantId: 'acme' });
    const signature = sign(body);
    const done = rotated(o, 'acme');
    const ok = await post(server.url, body, { [HEADER]: signature });
    assert.equal(ok.status, 202);
    assert.deepEqual(ok.body, { accepted: true, tenants: ['acme'], rotating: 1, unknown: [] });
    assert.equal((await done).type, 'credentials.rotated');
    assert.notEqual(await o.getAccessToken('acme'), before, 'a new token');
    assert.equal((await emu.counters('acme')).tokenRequests, requests + 1);

    const refusals = [
      ['the same delivery again', body, { [HEADER]: signature }, 401, 'replayed'],
      ['no signature', body, {}, 401, 'unsigned'],
      ['a malformed signature', body, { [HEADER]: 'sha256=abc' }, 401, 'unsigned'],
      ['another secret', body, { [HEADER]: sign(body, undefined, 'another-secret-0123456') }, 401, 'bad-signature'],
      ['a changed body', JSON.stringify({ tenantId: 'globex' }), { [HEADER]: signature }, 401, 'bad-signature'],
      ['ten minutes old', body, { [HEADER]: sign(body, Math.floor(Date.now() / 1000) - 600) }, 401, 'stale'],
      ['not a shape we take', '{"tenant":"acme"}', { [HEADER]: sign('{"tenant":"acme"}') }, 400, 'bad-body'],
      ['all: false', '{"all":false}', { [HEADER]: sign('{"all":false}') }, 400, 'bad-body'],
    ];
    for (const [what, b, headers, status, error] of refusals) {
      const r = await post(server.url, b, headers);
      assert.equal(r.status, status, what);
      assert.equal(r.body.error, error, what);
      assert.equal(r.body.accepted, false, what);
      assert.ok(!JSON.stringify(r.body).includes(SECRET), what);
    }
    // 1 MiB, streamed: cut off after the limit, 413, and the connection closed.
    const big = JSON.stringify({ tenantIds: ['x'.repeat(1 << 20)] });
    const r = await post(server.url, big, { [HEADER]: sign(big) }).catch((e) => ({ status: 'reset', error: e }));
    assert.ok(r.status === 413 || r.status === 'reset', JSON.stringify(r.status));
    if (r.status === 413) assert.equal(r.body.error, 'too-large');
    await new Promise((res) => setTimeout(res, 200));
    assert.equal((await emu.counters('acme')).tokenRequests, requests + 1, 'no refused delivery rotated anything');
  } finally {
    await server.close();
    await o.close();
  }
});

test('a body already parsed by a framework is refused (400): the signature covers the raw bytes', async () => {
  const o = new TenantOrchestrator(emu.options());
  const handler = o.rotationWebhook({ secret: SECRET });
  const server = await serve((req, res) => {
    req.on('data', () => {});
    req.on('end', () => {
      req.body = { tenantId: 'acme' }; // what express.json() leaves
      handler(req, res);
    });
  });
  try {
    const body = JSON.stringify({ tenantId: 'acme' });
    const r = await post(server.url, body, { [HEADER]: sign(body) });
    assert.equal(r.status, 400);
    assert.match(r.body.message, /raw body/);
  } finally {
    await server.close();
    await o.close();
  }
});

test('bad webhook options are INVALID_OPTIONS naming them', () => {
  const o = new TenantOrchestrator(emu.options());
  const invalid = (option) => (e) => e.code === 'INVALID_OPTIONS' && e.option === option;
  assert.throws(() => o.rotationWebhook({}), invalid('secret'));
  assert.throws(() => o.rotationWebhook({ secret: 'short' }), invalid('secret'));
  assert.throws(() => o.rotationWebhook({ secret: SECRET, toleranceMs: 10 }), invalid('toleranceMs'));
  assert.throws(() => o.rotationWebhook({ secret: SECRET, colour: 'red' }), invalid('colour'));
  o.close();
});

test('genesys-tenants webhook sign prints the header the documented scheme gives, and a curl line', () => {
  const r = spawnSync(process.execPath, [CLI, 'webhook', 'sign', '--tenant', 'acme,globex', '--timestamp', '1700000000', '--url', 'http://127.0.0.1:1/h'], {
    env: { ...process.env, GENESYS_TENANTS_WEBHOOK_SECRET: SECRET },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const [header, body, curl] = r.stdout.trim().split('\n');
  assert.equal(body, '{"tenantIds":["acme","globex"]}');
  assert.equal(header, `${HEADER}: ${sign(body, 1700000000)}`);
  assert.match(curl, /^curl -sS -X POST 'http:\/\/127\.0\.0\.1:1\/h'/);
  assert.ok(!r.stdout.includes(SECRET), 'the secret is never printed');
  const usage = spawnSync(process.execPath, [CLI, 'webhook', 'sign', '--tenant', 'a', '--all', '--secret', SECRET], { encoding: 'utf8' });
  assert.equal(usage.status, 2);
});

test('shared mode: one delivery to one replica rotates once for 3 replica processes (fan-out over Redis), and is refused by another', async () => {
  await emu.control('POST', 'reset', { world: true });
  const prefix = `gt-webhook-${process.pid}-${Math.random().toString(36).slice(2, 8)}:`;
  const options = { ...emu.options(), redisUrl: 'redis://127.0.0.1:6379', encryptionKey: 'd4'.repeat(32), redisKeyPrefix: prefix };
  const receiver = new TenantOrchestrator(options);
  const other = new TenantOrchestrator(options);
  await receiver.initialize();
  await other.initialize();
  const server = await serve(receiver.rotationWebhook({ secret: SECRET }));
  const otherServer = await serve(other.rotationWebhook({ secret: SECRET }));
  const children = [];
  try {
    const first = await receiver.getAccessToken('acme');
    const job = JSON.stringify({ options, tenants: ['acme'], mode: 'await-rotation', waitMs: 15000 });
    const results = [];
    const ready = [];
    for (let i = 0; i < 3; i++) {
      const p = spawn(process.execPath, [CHILD], { env: { ...process.env, GENESYS_CHILD: job }, stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(p);
      let out = '';
      ready.push(new Promise((r) => p.stdout.on('data', (d) => (out += d).includes('ready') && r())));
      results.push(new Promise((r) => p.on('exit', () => r(JSON.parse(out.trim().split('\n').pop())))));
    }
    await Promise.all(ready);
    assert.equal((await emu.counters('acme')).tokenRequests, 1, 'one shared token for 5 replicas');

    const body = JSON.stringify({ tenantId: 'acme' });
    const signature = sign(body);
    assert.equal((await post(server.url, body, { [HEADER]: signature })).status, 202);
    // A load balancer's retry of the same delivery, to another replica.
    const replay = await post(otherServer.url, body, { [HEADER]: signature });
    assert.equal(replay.status, 401);
    assert.equal(replay.body.error, 'replayed');

    const heard = await Promise.all(results);
    const renewed = await receiver.getAccessToken('acme');
    assert.notEqual(renewed, first);
    for (const h of heard) {
      assert.equal(h.reason, 'peer', JSON.stringify(h));
      assert.equal(h.before, first);
      assert.equal(h.after, renewed, 'every replica uses the one new token');
    }
    assert.equal((await emu.counters('acme')).tokenRequests, 2, 'one rotation for all of them');
  } finally {
    for (const p of children) p.kill('SIGKILL');
    await server.close();
    await otherServer.close();
    await receiver.close();
    await other.close();
  }
});

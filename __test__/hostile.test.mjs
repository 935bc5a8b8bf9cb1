// Hostile input from JS callers and servers (issue 12): options JSON cannot carry, inherited
// properties, `__proto__` as data, and the tutorial helper's waits under a huge Retry-After.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TenantOrchestrator, fetchWithPaginationAndRetry } from '../lib/index.mjs';
import { startEmulator } from './helpers.mjs';

let emu;
before(async () => {
  emu = await startEmulator();
});
after(async () => {
  await emu?.stop();
});

const invalid = (option) => (e) => e.code === 'INVALID_OPTIONS' && e.option === option;

test('numbers JSON cannot carry are INVALID_OPTIONS naming the option, nested ones too', () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    assert.throws(() => new TenantOrchestrator(emu.options({ maxRetries: bad })), invalid('maxRetries'), String(bad));
  }
  assert.throws(() => new TenantOrchestrator(emu.options({ gateway: { host: '127.0.0.1', port: NaN } })), invalid('gateway.port'));
  assert.throws(() => new TenantOrchestrator(emu.options({ allowedHosts: ['a.example', () => 1] })), invalid('allowedHosts[1]'));
  assert.throws(() => new TenantOrchestrator(emu.options({ maxRetries: 10n })), invalid('maxRetries'));
  const loop = emu.options();
  loop.gateway.self = loop.gateway;
  assert.throws(() => new TenantOrchestrator(loop), invalid('gateway.self'));
});

test('Redis URLs and TLS material from JS: a bad one is INVALID_OPTIONS naming it, a key never shown', () => {
  const KEY = 'a1'.repeat(32);
  const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  const cases = [
    [{ redisUrl: 'http://127.0.0.1:6379' }, 'redisUrl'],
    [{ redisUrl: 'rediss://127.0.0.1:6380/#insecure' }, 'redisUrl'],
    [{ redisUrl: 'redis+cluster://127.0.0.1:7000?addr=evil.example/x:1' }, 'redisUrl'],
    [{ redisUrl: 'redis+cluster://127.0.0.1:7000/2' }, 'redisUrl'],
    [{ redisUrl: 'redis://127.0.0.1:6379', redisTls: { ca: PEM } }, 'redisTls'],
    [{ redisUrl: 'rediss://127.0.0.1:6380', redisTls: { ca: '/etc/redis/ca.pem' } }, 'redisTls.ca'],
    [{ redisUrl: 'rediss://127.0.0.1:6380', redisTls: { cert: PEM } }, 'redisTls.key'],
    [{ redisUrl: 'rediss://127.0.0.1:6380', redisTls: { cert: PEM, key: 'my-private-key-material' } }, 'redisTls.key'],
    [{ redisUrl: 'rediss://127.0.0.1:6380', redisTls: { servername: 'redis.internal' } }, 'redisTls.servername'],
    // Looks like PEM, is not a certificate: the redis crate refuses it, and the option named is still redisTls.
    [{ redisUrl: 'rediss://127.0.0.1:6380', redisTls: { cert: PEM, key: '-----BEGIN PRIVATE KEY-----\nmy-private-key-material\n-----END PRIVATE KEY-----\n' } }, 'redisTls'],
  ];
  for (const [extra, option] of cases) {
    assert.throws(
      () => new TenantOrchestrator(emu.options({ encryptionKey: KEY, ...extra })),
      (e) => invalid(option)(e) && !JSON.stringify({ ...e, message: e.message }).includes('my-private-key-material'),
      JSON.stringify(extra),
    );
  }
  // The good forms construct (nothing connects before use).
  for (const redisUrl of ['rediss://u:p@127.0.0.1:6380', 'redis+cluster://127.0.0.1:7000?addr=127.0.0.1:7001', 'rediss+cluster://127.0.0.1:7000']) {
    new TenantOrchestrator(emu.options({ encryptionKey: KEY, redisUrl })).close();
  }
});

test('inherited properties are never read as options', async () => {
  const proto = { colour: 'red', maxRetries: 'not a number', configFile: '/etc/passwd' };
  const options = Object.assign(Object.create(proto), emu.options());
  const o = new TenantOrchestrator(options); // neither the unknown nor the bad inherited option is seen
  await o.initialize();
  await o.close();
});

test('a tenant id "__proto__" is data: an own key of stats().tenants, no prototype replaced', async () => {
  const tenants = await emu.tenants();
  const acme = tenants.find((t) => t.tenantId === 'acme');
  await emu.control('PUT', 'config-service/tenants', [...tenants, { ...acme, tenantId: '__proto__' }]);
  try {
    const o = new TenantOrchestrator(emu.options());
    const ids = await o.initialize();
    assert.ok(ids.includes('__proto__'));
    const stats = o.stats();
    assert.ok(Object.hasOwn(stats.tenants, '__proto__'));
    assert.equal(Object.getPrototypeOf(stats.tenants), Object.prototype);
    assert.equal(stats.tenants.__proto__.valid, true);
    assert.equal(typeof (await o.getAccessToken('__proto__')), 'string');
    await o.close();
  } finally {
    await emu.control('DELETE', 'config-service/tenants');
  }
});

test('a server body with a "__proto__" key stays data on the error', async () => {
  const o = new TenantOrchestrator(emu.options());
  await o.initialize();
  const body = JSON.parse('{"code":"bad.request","status":400,"message":"no","__proto__":{"polluted":true}}');
  await emu.control('POST', 'faults', { method: 'GET', path: '/api/v2/users', status: 400, count: 1, body });
  await assert.rejects(o.request('acme', { path: '/api/v2/users' }), (e) => {
    assert.equal(e.code, 'UPSTREAM_ERROR');
    assert.ok(Object.hasOwn(e.body, '__proto__'));
    assert.equal(e.body.polluted, undefined);
    return true;
  });
  await assert.rejects(o.fetchAll('acme', { path: '/api/v2/users' }, { pageSize: NaN }), invalid('pageSize'));
  await o.close();
});

test('fetchWithPaginationAndRetry never sleeps past its budget', async () => {
  const throttled = (seconds) => Object.assign(new Error('429'), { response: { status: 429, headers: { 'retry-after': String(seconds) }, data: { code: 'too.many.requests', status: 429 } } });
  let calls = 0;
  const t0 = Date.now();
  await assert.rejects(
    fetchWithPaginationAndRetry(async (page) => {
      calls += 1;
      if (calls === 1) return { status: 200, headers: {}, body: { entities: [{ id: 'a' }], pageCount: 2 } };
      throw throttled(3600);
    }),
    (e) => e.code === 'RATE_LIMITED' && e.retryAfterMs === 3_600_000 && e.partialEntities.length === 1,
  );
  assert.ok(Date.now() - t0 < 2000, `failed fast, not after an hour (${Date.now() - t0} ms)`);
  assert.equal(calls, 2, 'no retry into a wait beyond the budget');
  // Within the budget, the wait is honoured.
  let n = 0;
  const r = await fetchWithPaginationAndRetry(async () => {
    n += 1;
    if (n === 1) throw throttled(1);
    return { status: 200, headers: {}, body: { entities: [{ id: 'b' }] } };
  }, 3, { maxRetryDelayMs: 5000 });
  assert.deepEqual(r.entities ?? r, [{ id: 'b' }]);
});

test('the CLI never prints credentials from a config endpoint URL', async () => {
  const { spawnSync } = await import('node:child_process');
  const { root } = await import('./helpers.mjs');
  const r = spawnSync(process.execPath, ['lib/cli/index.js', 'doctor', '--config-endpoint', 'http://svc:hunter2-cli-pw@127.0.0.1:1'], { cwd: root, encoding: 'utf8' });
  const out = r.stdout + r.stderr;
  assert.match(out, /CONFIG_UNAVAILABLE/);
  assert.match(out, /http:\/\/127\.0\.0\.1:1\//);
  assert.doesNotMatch(out, /hunter2/);
});

// Proxies and private CAs through the package (issue 26): the environment's HTTP_PROXY no longer takes
// the config service or the API on loopback (it did: initialize() failed with the proxy's 502), the
// `proxy` option sends traffic through a proxy that records it, a 407 is PROXY_AUTH_FAILED without the
// password, and the new options are checked like every other.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { TenantOrchestrator } from '../lib/index.mjs';
import { startEmulator } from './helpers.mjs';

let emu;
before(async () => {
  emu = await startEmulator();
});
after(async () => {
  await emu?.stop();
});

const TENANT = 'acme';

/**
 * A forward proxy on 127.0.0.1:0 for plain http (absolute form): records each request line and its
 * Proxy-Authorization; answers 407 unless it carries `require`; forwards to `upstreamPort` otherwise,
 * one request per connection. With `refuseAll`, answers 502 to everything (a proxy that cannot reach
 * the target, as in the issue's report).
 */
async function startProxy({ upstreamPort, require, refuseAll = false }) {
  const seen = [];
  const server = net.createServer((client) => {
    let head = Buffer.alloc(0);
    const onData = (chunk) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      client.off('data', onData);
      const text = head.subarray(0, end).toString('latin1');
      const rest = head.subarray(end + 4);
      const [line, ...headerLines] = text.split('\r\n');
      const headers = headerLines.map((h) => [h.slice(0, h.indexOf(':')).trim().toLowerCase(), h.slice(h.indexOf(':') + 1).trim()]);
      const auth = headers.find(([k]) => k === 'proxy-authorization')?.[1];
      seen.push({ line, auth });
      if (refuseAll) return client.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      if (require && auth !== require) {
        return client.end('HTTP/1.1 407 Proxy Authentication Required\r\nproxy-authenticate: Basic realm="t"\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      }
      const [method, target] = line.split(' ');
      const url = new URL(target);
      const kept = headers.filter(([k]) => !['proxy-authorization', 'proxy-connection', 'connection'].includes(k));
      const up = net.connect(upstreamPort, '127.0.0.1', () => {
        up.write(`${method} ${url.pathname}${url.search} HTTP/1.1\r\n${kept.map(([k, v]) => `${k}: ${v}\r\n`).join('')}connection: close\r\n\r\n`);
        up.write(rest);
        client.pipe(up);
        up.pipe(client);
      });
      up.on('error', () => client.destroy());
    };
    client.on('data', onData);
    client.on('error', () => {});
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: server.address().port, seen, close: () => new Promise((resolve) => server.close(resolve)) };
}

function withEnv(vars, fn) {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const port = () => Number(new URL(emu.options().configEndpoint).port);

test('HTTP_PROXY in the environment leaves the config service and the API on loopback alone', async () => {
  const proxy = await startProxy({ refuseAll: true });
  const url = `http://127.0.0.1:${proxy.port}`;
  // Read once, at construction: the variables may be gone by the first call.
  const o = withEnv({ HTTP_PROXY: url, HTTPS_PROXY: url, http_proxy: url, ALL_PROXY: url }, () => new TenantOrchestrator(emu.options()));
  try {
    await o.initialize();
    const r = await o.request(TENANT, { path: '/api/v2/organizations/me' });
    assert.equal(r.status, 200);
    assert.deepEqual(proxy.seen, [], 'nothing went to the proxy');
  } finally {
    await o.close();
    await proxy.close();
  }
});

test('the proxy option sends the config service, login and API through the proxy, with its credentials', async () => {
  const require = `Basic ${Buffer.from('svc:s3cret-proxy-pw').toString('base64')}`;
  const proxy = await startProxy({ upstreamPort: port(), require });
  const o = new TenantOrchestrator(emu.options({ proxy: { url: `http://svc:s3cret-proxy-pw@127.0.0.1:${proxy.port}`, proxyLoopback: true } }));
  try {
    await o.initialize();
    assert.equal((await o.request(TENANT, { path: '/api/v2/organizations/me' })).status, 200);
    const lines = proxy.seen.map((s) => s.line.replace(/:\d+\//, ':P/'));
    assert.deepEqual(lines, [
      'GET http://127.0.0.1:P/api/v1/genesys/tenants HTTP/1.1',
      'POST http://127.0.0.1:P/oauth/token HTTP/1.1',
      'GET http://127.0.0.1:P/api/v2/organizations/me HTTP/1.1',
    ]);
    assert.ok(proxy.seen.every((s) => s.auth === require));
  } finally {
    await o.close();
    await proxy.close();
  }
});

test('a 407 rejects with PROXY_AUTH_FAILED naming the proxy, and the password appears nowhere', async () => {
  const proxy = await startProxy({ upstreamPort: port(), require: 'Basic nobody-has-this' });
  const events = [];
  // The config service behind the proxy: initialize() names the proxy that refused.
  const o2 = new TenantOrchestrator(
    emu.options({ configTimeoutMs: 1000, proxy: { url: `http://svc:wr0ng-proxy-pw@127.0.0.1:${proxy.port}`, proxyLoopback: true } }),
  );
  o2.onEvent((e) => events.push(e));
  try {
    await assert.rejects(o2.initialize(), (e) => e.code === 'CONFIG_UNAVAILABLE' && e.reason.includes(`http://127.0.0.1:${proxy.port}`) && e.reason.includes('407'));
  } finally {
    await o2.close();
  }
  // The API behind the proxy, the config service direct: a gateway on `localhost` is another host to noProxy.
  const o4 = new TenantOrchestrator(
    emu.options({
      gateway: { protocol: 'http', host: 'localhost', port: port() },
      proxy: { url: `http://svc:wr0ng-proxy-pw@127.0.0.1:${proxy.port}`, proxyLoopback: true, noProxy: [`127.0.0.1:${port()}`] },
    }),
  );
  o4.onEvent((e) => events.push(e));
  let err;
  try {
    await o4.initialize();
    err = await o4.request(TENANT, { path: '/api/v2/organizations/me' }).catch((e) => e);
  } finally {
    await o4.close();
    await proxy.close();
  }
  assert.equal(err.code, 'PROXY_AUTH_FAILED', err.message);
  assert.equal(err.name, 'GenesysTenantsError');
  assert.equal(err.proxy, `http://127.0.0.1:${proxy.port}`);
  assert.equal(err.status, 407);
  assert.equal(err.tenantId, TENANT);
  const printed = JSON.stringify({ message: err.message, err, events, stack: err.stack });
  for (const secret of ['wr0ng-proxy-pw', Buffer.from('svc:wr0ng-proxy-pw').toString('base64')]) {
    assert.ok(!printed.includes(secret), `${secret} leaked`);
  }
  assert.ok(events.some((e) => e.type === 'token.failed' && e.code === 'PROXY_AUTH_FAILED'));
});

test('proxy and caCerts are checked like every option, NODE_EXTRA_CA_CERTS at construction', () => {
  const invalid = (options, option) =>
    assert.throws(() => new TenantOrchestrator(emu.options(options)), (e) => e.code === 'INVALID_OPTIONS' && e.option === option && !e.message.includes('hunter2'));
  invalid({ proxy: true }, 'proxy');
  invalid({ proxy: 'http://u:hunter2@p:1' }, 'proxy');
  invalid({ proxy: { url: 'socks5://u:hunter2@p:1080' } }, 'proxy.url');
  invalid({ proxy: { url: 'http://p:1', colour: 'red' } }, 'proxy.colour');
  invalid({ proxy: { url: 'http://p:1', noProxy: ['ok.example', 'not a/host'] } }, 'proxy.noProxy[1]');
  invalid({ caCerts: '/etc/ssl/certs/corp.pem' }, 'caCerts');
  assert.throws(
    () => withEnv({ NODE_EXTRA_CA_CERTS: '/nonexistent/corp-ca.pem' }, () => new TenantOrchestrator(emu.options())),
    (e) => e.code === 'INVALID_OPTIONS' && e.option === 'NODE_EXTRA_CA_CERTS' && e.reason.includes('/nonexistent/corp-ca.pem'),
  );
  assert.throws(
    () => withEnv({ HTTPS_PROXY: 'socks5://u:hunter2@p:1080' }, () => new TenantOrchestrator(emu.options())),
    (e) => e.code === 'INVALID_OPTIONS' && e.option === 'HTTPS_PROXY' && !e.message.includes('hunter2'),
  );
  // proxy: false ignores an unusable environment.
  withEnv({ HTTPS_PROXY: 'socks5://p:1080' }, () => new TenantOrchestrator(emu.options({ proxy: false })));
});

// Hostile input on the JS surfaces (issue 23, items 2, 6 and 11): secrets that no inspect option can
// print, webhook refusals that close their connection, and startEmulator options that cannot work
// refused at start. (Item 8, the CLI, is in cli.test.mjs.)
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import util from 'node:util';
import { TenantOrchestrator, fetchTenantConfig } from '../lib/index.mjs';
import { startEmulator } from './helpers.mjs';

const require = createRequire(import.meta.url);
const testing = require('../lib/testing.js');
const { MAX_BODY } = require('../lib/webhook.js');

let emu;
let o;
let secrets;
before(async () => {
  emu = await startEmulator();
  secrets = (await emu.tenants()).map((t) => t.clientSecret);
  assert.equal(secrets.length, 5);
  for (const s of secrets) assert.ok(typeof s === 'string' && s.length >= 16, 'the world gives every tenant a real secret');
  o = new TenantOrchestrator(emu.options());
  await o.initialize();
});
after(async () => {
  await o?.close();
  await emu?.stop();
});

/** Fails naming `how` when `text` holds any tenant's secret. */
function assertNoSecret(text, how) {
  for (const s of secrets) assert.ok(!String(text).includes(s), `${how} printed a clientSecret`);
}

/** Every combination of the inspect options that reveal more than the default. */
function* inspectOptions() {
  for (const showHidden of [false, true])
    for (const getters of [false, true, 'get', 'set'])
      for (const depth of [2, Infinity])
        for (const showProxy of [false, true])
          for (const customInspect of [true, false]) yield { showHidden, getters, depth, showProxy, customInspect, breakLength: Infinity, maxArrayLength: Infinity, maxStringLength: Infinity };
}

describe('item 2: clientSecret readable on access, printable by no means', () => {
  test('a config from o.tenantConfigs and from fetchTenantConfig still gives config.clientSecret', async () => {
    const byId = Object.fromEntries((await emu.tenants()).map((t) => [t.tenantId, t.clientSecret]));
    for (const [id, config] of o.tenantConfigs) assert.equal(config.clientSecret, byId[id], id);
    const fetched = await fetchTenantConfig(emu.url, { configServiceToken: emu.configServiceToken });
    for (const [id, config] of fetched) assert.equal(config.clientSecret, byId[id], id);
    const acme = o.tenantConfigs.get('acme');
    assert.deepEqual(Object.keys(acme), ['tenantId', 'clientId', 'domainPrefix', 'scopes', 'rotationIntervalMs', 'environment']);
    assert.ok(Object.isFrozen(acme));
    assert.deepEqual(acme.requiredScopes, acme.scopes, 'the alias still reads');
    const { clientSecret, ...rest } = acme; // the tutorial destructures too
    assert.equal(clientSecret, byId.acme);
    assert.equal(rest.clientSecret, undefined);
  });

  test('no inspect option, console.log format, JSON, descriptor or structuredClone prints a secret (o, tenantConfigs, fetchTenantConfig, getTenantClient)', async () => {
    const fetched = await fetchTenantConfig(emu.url, { configServiceToken: emu.configServiceToken });
    const client = o.getTenantClient('acme');
    const surfaces = {
      o,
      'o.tenantConfigs': o.tenantConfigs,
      "o.tenantConfigs.get('acme')": o.tenantConfigs.get('acme'),
      '[...o.tenantConfigs]': [...o.tenantConfigs],
      'o.credentialManager': o.credentialManager,
      fetchTenantConfig: fetched,
      "fetchTenantConfig.get('acme')": fetched.get('acme'),
      'getTenantClient()': client,
      'getTenantClient().api.usersApi': client.api.usersApi,
      'getTenantClient().api': client.api,
    };
    let combos = 0;
    for (const [name, value] of Object.entries(surfaces)) {
      for (const opts of inspectOptions()) {
        assertNoSecret(util.inspect(value, opts), `util.inspect(${name}, ${util.inspect(opts)})`);
        combos++;
      }
      for (const f of ['%s', '%o', '%O', '%j']) assertNoSecret(util.format(f, value), `console.log('${f}', ${name})`);
      assertNoSecret(util.format(value), `console.log(${name})`);
      let json = '';
      try {
        json = JSON.stringify(value);
      } catch {
        // circular (the SDK client): JSON.stringify cannot print it at all
      }
      assertNoSecret(json, `JSON.stringify(${name})`);
    }
    assert.equal(combos, 10 * 64);
    for (const [name, config] of [['tenantConfigs', o.tenantConfigs.get('acme')], ['fetchTenantConfig', fetched.get('acme')]]) {
      const descriptors = Object.getOwnPropertyDescriptors(config);
      assertNoSecret(util.inspect(descriptors, { showHidden: true, getters: true, depth: Infinity }), `getOwnPropertyDescriptors(${name})`);
      for (const d of Object.values(descriptors)) assert.equal(d.get, undefined, `${name}: no own getter to call`);
      assertNoSecret(Reflect.ownKeys(config).map((k) => String(config[k])).join(' '), `own keys of ${name}`);
      const clone = structuredClone(config);
      assert.equal(clone.clientSecret, undefined, `structuredClone(${name}) carries no secret`);
      assertNoSecret(util.inspect(clone, { showHidden: true, getters: true, depth: Infinity }), `structuredClone(${name})`);
      assertNoSecret(util.inspect(structuredClone([...fetched]), { showHidden: true, depth: Infinity }), 'structuredClone(fetchTenantConfig entries)');
      // The class the secret hides in: inspecting its prototype (and calling its getter off an instance) gives nothing.
      const proto = Object.getPrototypeOf(config);
      assertNoSecret(util.inspect(proto, { showHidden: true, getters: true, depth: Infinity }), `the prototype of ${name}`);
      assertNoSecret(util.inspect(proto.constructor, { showHidden: true, getters: true, depth: Infinity }), `the class of ${name}`);
    }
  });
});

describe('item 6: a refused, too-large or timed-out webhook delivery closes its connection', () => {
  const SECRET = 'whsec-hostile-0123456789abcdef';
  const sign = (body, t = Math.floor(Date.now() / 1000)) => `t=${t},v1=${createHmac('sha256', SECRET).update(`${t}.${body}`).digest('hex')}`;
  let server;
  let port;
  before(async () => {
    server = http.createServer(o.rotationWebhook({ secret: SECRET }));
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    port = server.address().port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  /**
   * A raw HTTP/1.1 client on 127.0.0.1: sends `head`, then `body` (a string, or a function called with
   * the socket to trickle it). Resolves when the server closes the socket or `waitMs` after the
   * response's first byte, to `{ response, responseAtMs, closedAtMs }` (closedAtMs null: still open).
   */
  function exchange(head, body, waitMs) {
    return new Promise((resolve, reject) => {
      const t0 = Date.now();
      const socket = net.connect(port, '127.0.0.1');
      let response = '';
      let responseAtMs = null;
      let settled = false;
      let timer;
      let overall;
      const finish = (closed) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearTimeout(overall);
        if (typeof body === 'function') body.stop?.();
        resolve({ response, responseAtMs, closedAtMs: closed ? Date.now() - t0 : null });
        socket.destroy();
      };
      socket.setEncoding('latin1');
      socket.on('data', (d) => {
        if (responseAtMs === null) {
          responseAtMs = Date.now() - t0;
          timer = setTimeout(() => finish(false), waitMs);
        }
        response += d;
      });
      socket.on('end', () => finish(true));
      socket.on('close', () => finish(true));
      socket.on('error', (e) => (e.code === 'ECONNRESET' || e.code === 'EPIPE' ? finish(true) : reject(e)));
      // Every exchange is bounded, whatever the server does.
      overall = setTimeout(() => finish(false), 20_000);
      socket.on('connect', () => {
        socket.write(head);
        if (typeof body === 'function') body(socket);
        else socket.write(body);
      });
    });
  }

  const headFor = (body, signature, length = Buffer.byteLength(body)) =>
    `POST /hooks/rotate HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\ncontent-type: application/json\r\nx-genesys-tenants-signature: ${signature}\r\ncontent-length: ${length}\r\n\r\n`;

  test('a sender trickling its body gets its 400 at the deadline and the server closes the socket', { timeout: 30_000 }, async () => {
    const body = JSON.stringify({ tenantId: 'acme', pad: 'x'.repeat(200) });
    let interval;
    const trickle = (socket) => {
      let i = 0;
      // One byte every 500 ms: the whole body would take well over a minute.
      interval = setInterval(() => {
        if (!socket.destroyed && i < body.length) socket.write(body[i++]);
      }, 500);
    };
    trickle.stop = () => clearInterval(interval);
    const r = await exchange(headFor(body, sign(body)), trickle, 5_000);
    assert.match(r.response, /^HTTP\/1\.1 400 /, r.response);
    assert.match(r.response, /"bad-request"/);
    assert.ok(r.responseAtMs >= 9_000 && r.responseAtMs < 12_000, `the 400 at the 10 s deadline (${r.responseAtMs} ms)`);
    assert.notEqual(r.closedAtMs, null, 'the server closed the slow sender\'s socket (it was still open 5 s after the 400)');
    assert.ok(r.closedAtMs - r.responseAtMs < 2_000, `closed right after the 400 (${r.closedAtMs - r.responseAtMs} ms)`);
    assert.match(r.response, /\r\nconnection: close\r\n/i, 'the 400 says the connection closes');
  });

  test('a refused delivery (bad signature, 401) on a keep-alive connection is closed after its answer', async () => {
    const body = JSON.stringify({ tenantId: 'acme' });
    const r = await exchange(headFor(body, 't=1,v1=00'), body, 3_000);
    assert.match(r.response, /^HTTP\/1\.1 401 /, r.response);
    assert.notEqual(r.closedAtMs, null, 'the refused sender\'s socket was left open');
    assert.ok(r.closedAtMs - r.responseAtMs < 2_000);
    assert.match(r.response, /\r\nconnection: close\r\n/i);
  });

  test('a body over the limit (413) is cut off and its connection closed, the answer delivered first', async () => {
    const body = 'x'.repeat(MAX_BODY + 1);
    const r = await exchange(headFor(body, sign(body)), body, 3_000);
    assert.match(r.response, /^HTTP\/1\.1 413 /, r.response);
    assert.notEqual(r.closedAtMs, null);
    assert.match(r.response, /\r\nconnection: close\r\n/i);
  });

  test('an accepted delivery (202) keeps its keep-alive connection', async () => {
    const body = JSON.stringify({ tenantId: 'initech' });
    const r = await exchange(headFor(body, sign(body)), body, 1_000);
    assert.match(r.response, /^HTTP\/1\.1 202 /, r.response);
    assert.doesNotMatch(r.response, /\r\nconnection: close\r\n/i);
    assert.equal(r.closedAtMs, null, 'an accepted sender may send its next delivery on the same connection');
  });
});

describe('item 11: startEmulator refuses, at start, options that cannot work', () => {
  /** The rejection of startEmulator(options), which must come before any emulator is started. */
  async function refusal(options) {
    const t0 = Date.now();
    const err = await testing.startEmulator(options).then(
      async (emulator) => {
        await emulator.stop();
        assert.fail(`startEmulator(${util.inspect(options)}) started an emulator`);
      },
      (e) => e,
    );
    assert.ok(Date.now() - t0 < 1_000, 'refused at once, not after a failed start');
    return err;
  }

  test('a token that is not a header value (newline, NUL, non-ASCII, edge spaces, over 4096 chars) or that the binary takes for a flag', async () => {
    const bad = ['a\nb', 'a\r\nX-Injected: 1', 'a\0b', 'tab\there', ' lead', 'trail ', 'caf\u00e9', 'x'.repeat(4097), '--help', '-h'];
    for (const token of bad) {
      const err = await refusal({ token });
      assert.equal(err.code, 'INVALID_OPTIONS', `${JSON.stringify(token)}: ${err.message}`);
      assert.equal(err.option, 'token');
      assert.equal(err.name, 'GenesysTenantsError');
      if (!token.startsWith('-')) assert.ok(!err.message.includes(token), 'the message names the rule, not the value');
    }
  });

  test('a valid unusual token works end to end: tenants() answers with it', async () => {
    const token = 'svc token_01.~!$%&*+=?@^|/:,;';
    const e = await testing.startEmulator({ token });
    try {
      assert.equal(e.configServiceToken, token);
      assert.equal((await e.tenants()).length, 5);
    } finally {
      await e.stop();
    }
  });

  test('ports that cannot work, a world that cannot be read or serialised', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gt-hostile-'));
    const circular = { orgs: [], clients: [] };
    circular.self = circular;
    const cases = [
      [{ port: 41234, configPort: 41234 }, 'configPort'],
      [{ port: -1 }, 'port'],
      [{ port: 65536 }, 'port'],
      [{ port: 80.5 }, 'port'],
      [{ port: '8080' }, 'port'],
      [{ configPort: NaN }, 'configPort'],
      [{ world: '' }, 'world'],
      [{ world: 'a\0b.json' }, 'world'],
      [{ world: path.join(dir, 'missing.json') }, 'world'],
      [{ world: dir }, 'world'],
      [{ world: circular }, 'world'],
      [{ world: { orgs: [], clients: [], n: 1n } }, 'world'],
      [{ startTimeoutMs: 0 }, 'startTimeoutMs'],
      [{ startTimeoutMs: Infinity }, 'startTimeoutMs'],
      [{ tokn: 'x' }, 'tokn'],
    ];
    const tmpBefore = fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('genesys-emulator-')).length;
    for (const [options, option] of cases) {
      const err = await refusal(options);
      assert.equal(err.code, 'INVALID_OPTIONS', `${util.inspect(options, { depth: 0 })}: ${err.code} ${err.message}`);
      assert.equal(err.option, option, err.message);
    }
    assert.equal(fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('genesys-emulator-')).length, tmpBefore, 'no temp world left behind');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a world file whose name looks like a flag is still read as a file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gt-hostile-'));
    const cwd = process.cwd();
    fs.writeFileSync(path.join(dir, '--help'), JSON.stringify({
      orgs: [{ id: 'org-x', name: 'X', region: 'mypurecloud.ie' }],
      clients: [{ tenantId: 'x', clientId: 'client-x', orgId: 'org-x' }],
    }));
    process.chdir(dir);
    let e;
    try {
      e = await testing.startEmulator({ world: '--help' });
    } finally {
      process.chdir(cwd);
    }
    try {
      assert.deepEqual((await e.tenants()).map((t) => t.tenantId), ['x']);
    } finally {
      await e.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

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

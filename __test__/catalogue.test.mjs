// The generated operation catalogue against the installed official SDK, the 403 shapes Genesys
// sends through every surface, and a tenant configured with the tutorial's scope names.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { TenantOrchestrator, explainOperation, catalogueSource, executeWithScopeValidation } from '../lib/index.mjs';
import { execFile } from 'node:child_process';
import { sdkOperations, sdkVersion, shapeKey, build, readOpenApi, OUTPUT } from '../scripts/gen-catalogue.mjs';
import { startEmulator } from './helpers.mjs';

const require = createRequire(import.meta.url);
const native = require('../index.js');
const CLI = new URL('../lib/cli/index.js', import.meta.url).pathname;

// Genesys's wording of missing.division.permissions in the published definition: no permission named.
const DIVISION_403 = { message: 'At least one of the required division permissions is missing', code: 'missing.division.permissions', status: 403 };

test('the catalogue has every operation of the installed SDK, and the definition\'s others flagged (regenerate after bumping it)', () => {
  const data = JSON.parse(readFileSync(OUTPUT, 'utf8'));
  const sdk = sdkOperations();
  assert.equal(data.sdk, `purecloud-platform-client-v2@${sdkVersion()}`, 'generated from the pinned SDK');
  assert.equal(catalogueSource(), data.sdk, 'the addon carries the committed data');
  // By shape: the SDK and the definition may name one slot differently.
  const inSdk = new Set(data.ops.filter((op) => op[7] === 1).map(([m, p]) => shapeKey(m, p)));
  const missing = [...sdk.keys()].map((k) => shapeKey(...k.split(' '))).filter((k) => !inSdk.has(k));
  assert.deepEqual(missing, [], `operations of the SDK the catalogue lacks: run scripts/gen-catalogue.mjs`);
  assert.equal(inSdk.size, sdk.size, 'in-SDK 1 exactly for the SDK\'s operations');
  assert.ok(sdk.size > 3000);
  assert.equal(data.ops.length - sdk.size, data.counts.definitionOnly);
  assert.equal(new Set(data.ops.map(([m, p]) => shapeKey(m, p))).size, data.ops.length, 'one entry per method and shape');
  // Every entry is reachable through the addon's lookup — by its template and by a concrete path of
  // its shape — with the data's requirements.
  const S = data.strings;
  for (const [method, template, sdkMethod, mode, perms, scopes, safe, listed] of data.ops) {
    let n = 0;
    const concrete = template.replace(/\{[^}/]*\}/g, () => `v${++n}-0b1c`);
    for (const path of [template, concrete]) {
      const op = explainOperation(method, path);
      assert.equal(op.template, template, `${method} ${path}`);
      assert.equal(op.sdkMethod, sdkMethod);
      assert.equal(op.permissions.mode, mode === '?' ? 'UNKNOWN' : mode);
      assert.deepEqual(op.permissions.list, perms.map((i) => S[i]));
      assert.deepEqual(op.scopes, scopes && scopes.map((i) => S[i]));
      assert.equal(op.replaySafe, safe === 1);
      assert.equal(op.inSdk, listed === 1);
    }
  }
  // What is still unknown, and why, as the Rust tests pin it.
  assert.deepEqual(
    [data.counts.operations, data.counts.scopesUnknown, data.counts.permissionsUnknown, data.counts.definitionOnly],
    [3356, 176, 41, 41],
  );
});

test('the generator joins its sources by path shape, reads long YAML keys, and refuses ambiguity', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gen-catalogue-'));
  try {
    // The layout of api-evangelist/genesys openapi/*.yml: a path too long for a plain key is written
    // "? path" / ": method:"; the operation before it must not take its scopes.
    writeFileSync(
      path.join(dir, 'x.yml'),
      [
        'paths:',
        '  /api/v2/a/{aId}:',
        '    patch:',
        '      security:',
        '      - PureCloud OAuth:',
        '        - a',
        '      x-purecloud-method-name: patchA',
        '  ? /api/v2/a/{aId}/versions/{version}',
        '  : get:',
        '      security:',
        '      - PureCloud OAuth:',
        '        - a',
        '        - a:readonly',
        '    delete:',
        '      security:',
        '      - PureCloud OAuth:',
        '        - a',
        '      x-purecloud-method-name: deleteAVersion',
        '  /api/v2/guest:',
        '    get:',
        '      security:',
        '      - Guest Chat JWT: []',
        'definitions:',
        '  Thing:',
        '    type: object',
        '',
      ].join('\n'),
    );
    const openapi = readOpenApi(dir);
    assert.deepEqual([...openapi.keys()].sort(), ['DELETE /api/v2/a/{aId}/versions/{version}', 'GET /api/v2/a/{aId}/versions/{version}', 'GET /api/v2/guest', 'PATCH /api/v2/a/{aId}']);
    const sdk = new Map([
      ['PATCH /api/v2/a/{id}', ['patchA']],
      ['GET /api/v2/a/{id}/versions/{v}', ['getAVersion']],
      ['GET /api/v2/guest', ['getGuest']],
    ]);
    const docs = new Map([['PATCH /api/v2/a/{theId}', { mode: 'ALL', permissions: ['a:thing:edit'] }]]);
    const { ops, strings } = build(sdk, docs, openapi);
    const rows = ops.map(([m, t, name, mode, perms, scopes, , inSdk]) => [m, t, name, mode, perms.map((i) => strings[i]), scopes && scopes.map((i) => strings[i]), inSdk]);
    // Sorted by template: the SDK's where it has the operation, else the definition's.
    assert.deepEqual(rows, [
      ['DELETE', '/api/v2/a/{aId}/versions/{version}', 'deleteAVersion', 'NONE', [], ['a'], 0],
      ['PATCH', '/api/v2/a/{id}', 'patchA', 'ALL', ['a:thing:edit'], ['a'], 1],
      ['GET', '/api/v2/a/{id}/versions/{v}', 'getAVersion', 'NONE', [], ['a', 'a:readonly'], 1],
      ['GET', '/api/v2/guest', 'getGuest', 'NONE', [], [], 1],
    ]);
    assert.throws(() => build(new Map([['GET /api/v2/x/{a}', ['f']], ['GET /api/v2/x/{b}', ['g']]]), new Map(), new Map()), /same shape/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('explain knows the two operations a pre-flight sample missed', async () => {
  const settings = explainOperation('DELETE', '/api/v2/webchat/settings');
  assert.deepEqual(
    [settings.inSdk, settings.sdkMethod, settings.scopes, settings.permissions],
    [false, 'deleteWebchatSettings', ['web-chat'], { mode: 'ANY', list: ['webchat:deployment:delete'] }],
  );
  const version = explainOperation('GET', '/api/v2/socialmedia/topics/t-1/dataingestionrules/facebook/r-1/versions/2');
  assert.equal(version.template, '/api/v2/socialmedia/topics/{topicId}/dataingestionrules/facebook/{facebookIngestionRuleId}/versions/{dataIngestionRuleVersion}');
  assert.deepEqual(version.scopes, ['social-media', 'social-media:readonly']);
  assert.equal(version.inSdk, true);
  const out = await new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, 'explain', 'DELETE', '/api/v2/webchat/settings'], { timeout: 60_000 }, (e, stdout) => (e ? reject(e) : resolve(stdout)));
  });
  assert.match(out, /^DELETE \/api\/v2\/webchat\/settings {2}\(not in purecloud-platform-client-v2@262\.0\.0; the API definition names it deleteWebchatSettings\)$/m);
  assert.match(out, /scopes\s+web-chat$/m);
});

test('classifyHttpError reads the 403 bodies Genesys sends', () => {
  const scope = native.classifyHttpError('acme', 403, JSON.stringify({ message: 'App not authorized to use scope [users:readonly, users]', code: 'app.not.authorized.for.scope', status: 403 }), { 'inin-correlation-id': 'c-9' });
  assert.equal(scope.code, 'SCOPE_MISSING');
  assert.deepEqual(scope.missingScopes, ['users:readonly', 'users']);
  assert.equal(scope.mode, 'ANY');
  assert.equal(scope.status, 403);
  assert.equal(scope.correlationId, 'c-9');
  assert.equal(scope.preflight, false);
  assert.match(scope.message, /any one suffices/);
  const division = native.classifyHttpError('acme', 403, JSON.stringify({ code: 'missing.division.permission', status: 403, message: "Unable to perform the requested action. You are missing the following permission 'routing:queue:edit' in the provided division(s)." }), {});
  assert.equal(division.code, 'PERMISSION_MISSING');
  assert.deepEqual(division.missingPermissions, ['routing:queue:edit']);
  assert.equal(division.mode, 'ALL');
  assert.equal(division.permissionsFrom, 'server');
  const other = native.classifyHttpError('acme', 403, JSON.stringify({ code: 'not.authorized', message: 'You are not authorized to perform the requested action.' }), {});
  assert.equal(other.code, 'UPSTREAM_ERROR');
  // Names nothing, and outside the pipeline no operation is known: nothing to name it by.
  const plural = native.classifyHttpError('acme', 403, JSON.stringify(DIVISION_403), {});
  assert.equal(plural.code, 'UPSTREAM_ERROR');
});

let emu;
before(async () => {
  emu = await startEmulator();
});
after(async () => {
  await emu?.stop();
});


test("a 403 that names no permission: PERMISSION_MISSING with the catalogue's permissions, said to come from it", async () => {
  await emu.control('POST', 'faults', { method: 'GET', path: '/api/v2/routing/queues/*', status: 403, body: DIVISION_403 });
  const o = new TenantOrchestrator(emu.options());
  try {
    await o.initialize();
    await assert.rejects(o.request('acme-corp', { path: '/api/v2/routing/queues/q-1' }), (e) => {
      assert.equal(e.code, 'PERMISSION_MISSING');
      assert.deepEqual(e.missingPermissions, ['routing:queue:view']);
      assert.equal(e.mode, 'ALL');
      assert.equal(e.permissionsFrom, 'catalogue');
      assert.equal(e.status, 403);
      assert.deepEqual(e.body, DIVISION_403);
      assert.match(e.message, /named none: this is what the operation catalogue lists for GET \/api\/v2\/routing\/queues\/\{queueId\}/);
      return true;
    });
    // Through the official SDK too: its rejection carries the same fields.
    const platformClient = require('purecloud-platform-client-v2');
    const err = await new platformClient.RoutingApi(o.getTenantClient('acme-corp')).getRoutingQueue('q-1').then(() => null, (e) => e);
    assert.equal(err.code, 'PERMISSION_MISSING');
    assert.equal(err.genesysCode, 'missing.division.permissions');
    assert.deepEqual(err.missingPermissions, ['routing:queue:view']);
    assert.equal(err.permissionsFrom, 'catalogue');
  } finally {
    await o.close();
    await emu.control('DELETE', 'faults');
  }
});

test("a tenant configured with the tutorial's scope names is served, and told the real names", async () => {
  const tenants = await emu.tenants();
  const acme = tenants.find((t) => t.tenantId === 'acme-corp');
  // The tutorial's payload: no region, its scope names, rotationIntervalMs.
  const tutorialEntry = { tenantId: 'acme-corp', clientId: acme.clientId, clientSecret: acme.clientSecret, domainPrefix: 'acme-corp', requiredScopes: ['user:read', 'analytics:report:read'], rotationIntervalMs: 7200000 };
  await emu.control('PUT', 'config-service/tenants', [tutorialEntry]);
  try {
    const o = new TenantOrchestrator(emu.options());
    const events = [];
    o.onEvent((e) => events.push(e));
    await o.initialize();
    const users = await o.request('acme-corp', { path: '/api/v2/users', query: { pageSize: 1 } });
    assert.equal(users.body.total, 1234);
    const q = await o.request('acme-corp', { method: 'POST', path: '/api/v2/analytics/conversations/details/query', body: { interval: '2024-01-01T00:00:00.000Z/2024-01-08T00:00:00.000Z' } });
    assert.equal(q.body.totalHits, 437);
    o.assertScopes('acme-corp', ['user:read']);
    const client = o.getTenantClient('acme-corp');
    const platformClient = require('purecloud-platform-client-v2');
    const org = await executeWithScopeValidation(client, () => new platformClient.OrganizationApi(client).getOrganizationsMe(), ['organization:read']);
    assert.equal(org.name, 'Acme Corp');
    await new Promise((r) => setTimeout(r, 50));
    const unknown = events.find((e) => e.type === 'config.unknown-scopes' && e.tenantId === 'acme-corp');
    assert.ok(unknown, JSON.stringify(events.map((e) => e.type)));
    assert.deepEqual(unknown.unknown, ['user:read', 'analytics:report:read']);
    assert.deepEqual(unknown.suggestions, { 'user:read': ['users:readonly'], 'analytics:report:read': ['analytics:readonly'] });
    assert.match(unknown.message, /user:read → users:readonly/);
    await o.close();
  } finally {
    await emu.control('DELETE', 'config-service/tenants');
  }
});

test('pre-flight with real scope names: any accepted scope is enough, none of them is refused before sending', async () => {
  const tenants = await emu.tenants();
  const acme = tenants.find((t) => t.tenantId === 'acme');
  await emu.control('PUT', 'config-service/tenants', [{ ...acme, requiredScopes: ['analytics:readonly', 'user-basic-info'] }]);
  try {
    const o = new TenantOrchestrator(emu.options());
    await o.initialize();
    // A read-only scope suffices for an analytics job; tokens/me needs user-basic-info.
    const job = await o.request('acme', { method: 'POST', path: '/api/v2/analytics/conversations/details/jobs', body: { interval: '2024-01-01T00:00:00.000Z/2024-01-08T00:00:00.000Z' } });
    assert.ok(job.body.jobId);
    await o.request('acme', { path: '/api/v2/tokens/me' });
    const before = (await emu.counters('acme')).apiCallsTotal;
    await assert.rejects(o.request('acme', { path: '/api/v2/users' }), (e) => {
      assert.equal(e.code, 'SCOPE_MISSING');
      assert.equal(e.preflight, true);
      assert.deepEqual(e.missingScopes, ['users', 'users:readonly']);
      assert.equal(e.mode, 'ANY');
      return true;
    });
    // The two a pre-flight sample let through (issue 23): refused before sending too.
    for (const [method, path, accepted] of [
      ['DELETE', '/api/v2/webchat/settings', ['web-chat']],
      ['GET', '/api/v2/socialmedia/topics/t-1/dataingestionrules/facebook/r-1/versions/2', ['social-media', 'social-media:readonly']],
    ]) {
      await assert.rejects(o.request('acme', { method, path }), (e) => {
        assert.deepEqual([e.code, e.preflight, e.missingScopes, e.mode], ['SCOPE_MISSING', true, accepted, 'ANY'], `${method} ${path}`);
        return true;
      });
    }
    assert.equal((await emu.counters('acme')).apiCallsTotal, before, 'refused before sending');
    await o.close();
  } finally {
    await emu.control('DELETE', 'config-service/tenants');
  }
});

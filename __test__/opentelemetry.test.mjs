// OpenTelemetry (issue 28): spans from the core's record of each call, with the real SDK
// (@opentelemetry/sdk-trace-base's InMemorySpanExporter, the OTLP/HTTP exporter to a local receiver),
// traceparent out, OTel metrics, and nothing loaded when @opentelemetry/api is absent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { TenantOrchestrator } from '../lib/index.mjs';
import { startEmulator, root } from './helpers.mjs';

const require = createRequire(import.meta.url);
const api = require('@opentelemetry/api');
const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');
const { MeterProvider, MetricReader } = require('@opentelemetry/sdk-metrics');
const platformClient = require('purecloud-platform-client-v2');

const TENANT = 'acme-corp';
let emu;
let exporter;
let provider;
let tracer;
let secret;
let userIds;
const open = [];

function orchestrator(extra = {}) {
  const o = new TenantOrchestrator(emu.options({ openTelemetry: { tracerProvider: provider }, ...extra }));
  open.push(o);
  return o;
}

/** Runs `fn` inside an active span named `caller`; resolves to [its result or error, the caller span]. */
function asCaller(fn) {
  return tracer.startActiveSpan('caller', async (span) => {
    try {
      return [await fn().catch((e) => e), span];
    } finally {
      span.end();
    }
  });
}

const parentOf = (s) => s.parentSpanContext?.spanId;
const childrenOf = (spans, s) => spans.filter((c) => parentOf(c) === s.spanContext().spanId);
const us = ([sec, ns]) => sec * 1e6 + ns / 1e3;
const inside = (child, parent) => us(child.startTime) >= us(parent.startTime) && us(child.endTime) <= us(parent.endTime);

before(async () => {
  emu = await startEmulator();
  const tenants = await emu.tenants();
  secret = tenants.find((t) => t.tenantId === TENANT).clientSecret;
  assert.ok(secret && secret.length > 8);
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  exporter = new InMemorySpanExporter();
  provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  tracer = provider.getTracer('test');
  const plain = new TenantOrchestrator(emu.options());
  open.push(plain);
  await plain.initialize();
  userIds = (await plain.request(TENANT, { path: '/api/v2/users', query: { pageSize: 3 } })).body.entities.map((u) => u.id);
  assert.equal(userIds.length, 3);
});

after(async () => {
  for (const o of open) await o.close();
  await emu?.stop();
  api.context.disable();
});

test('a call that met a 429 and a 401: one span, its attempts and token waits inside, under the caller', async () => {
  exporter.reset();
  const o = orchestrator();
  await o.initialize();
  const id = userIds[0];
  await emu.control('POST', 'faults', { method: 'GET', path: `/api/v2/users/${id}`, status: 429, count: 1, retryAfterSeconds: 1 });
  await emu.control('POST', 'faults', { method: 'GET', path: `/api/v2/users/${id}`, status: 401, count: 1 });
  const [res, caller] = await asCaller(() => o.request(TENANT, { path: `/api/v2/users/${id}` }));
  assert.equal(res.status, 200);
  assert.equal(res.trace, undefined, 'the record never reaches the caller');
  const spans = exporter.getFinishedSpans();
  const calls = spans.filter((s) => parentOf(s) === caller.spanContext().spanId);
  assert.equal(calls.length, 1, 'one span for the call');
  const call = calls[0];
  assert.equal(call.name, 'GET /api/v2/users/{userId}');
  assert.equal(call.kind, api.SpanKind.CLIENT);
  assert.equal(call.spanContext().traceId, caller.spanContext().traceId);
  const { 'genesys.ratelimit.hold_ms': hold, ...attrs } = call.attributes;
  assert.deepEqual(attrs, {
    'genesys.tenant.id': TENANT,
    'http.request.method': 'GET',
    'url.template': '/api/v2/users/{userId}',
    'server.address': '127.0.0.1',
    'server.port': emu.gateway.port,
    'http.response.status_code': 200,
    'genesys.retry.count': 2,
    'genesys.token.cache': 'miss',
  });
  assert.ok(hold >= 1000, `the 429's Retry-After: 1 held the call (${hold} ms)`);
  assert.equal(call.status.code, api.SpanStatusCode.UNSET);

  const children = childrenOf(spans, call);
  const attempts = children.filter((s) => s.name.includes(' attempt '));
  assert.deepEqual(
    attempts.map((a) => [a.name, a.kind, a.attributes['http.response.status_code'], a.attributes['http.request.resend_count'], a.attributes['error.type']]),
    [
      ['GET /api/v2/users/{userId} attempt 1', api.SpanKind.CLIENT, 429, undefined, '429'],
      ['GET /api/v2/users/{userId} attempt 2', api.SpanKind.CLIENT, 401, 1, '401'],
      ['GET /api/v2/users/{userId} attempt 3', api.SpanKind.CLIENT, 200, 2, undefined],
    ],
  );
  assert.equal(attempts[0].attributes['genesys.ratelimit.hold_ms'], hold);
  assert.equal(attempts[1].attributes['genesys.token.refreshed'], true);
  assert.equal(attempts[0].attributes['genesys.token.refreshed'], undefined);
  const tokens = children.filter((s) => s.name === 'genesys.token');
  assert.deepEqual(
    tokens.map((t) => [t.attributes['genesys.token.cache'], t.attributes['genesys.token.joined']]),
    [
      ['miss', false],
      ['miss', false],
    ],
    'the first token fetched and a new one after the 401 (the cached one for the second attempt is no span)',
  );
  for (const s of children) assert.ok(inside(s, call), `${s.name} lies inside the call's span`);
  assert.ok(inside(tokens[0], attempts[0]) && inside(tokens[1], attempts[2]), 'each token is waited for inside its attempt');
  assert.equal(spans.length, children.length + 2, 'nothing else was traced (the call, its children, the caller)');
  assert.equal((await emu.counters(TENANT)).tokenRequests >= 2, true);

  // No secret, token or id-bearing path anywhere in the spans.
  const token = await o.getAccessToken(TENANT);
  const text = JSON.stringify(exporter.getFinishedSpans().map((s) => ({ n: s.name, a: s.attributes, e: s.events, st: s.status, l: s.links })));
  for (const needle of [token, secret, id, `/api/v2/users/${id}`]) assert.ok(!text.includes(needle), 'nothing secret or id-bearing in a span');
});

test('a call answered at once with a cached token is one span, no children; a no-op tracer asks for no record', async () => {
  exporter.reset();
  const o = orchestrator();
  await o.initialize();
  await o.getAccessToken(TENANT);
  exporter.reset();
  const [, caller] = await asCaller(() => o.request(TENANT, { path: '/api/v2/organizations/me' }));
  const spans = exporter.getFinishedSpans();
  assert.deepEqual(
    spans.map((s) => [s.name, parentOf(s) === caller.spanContext().spanId]),
    [
      ['GET /api/v2/organizations/me', true],
      ['caller', false],
    ],
  );
  assert.equal(spans[0].attributes['genesys.token.cache'], 'hit');
  assert.equal(spans[0].attributes['genesys.retry.count'], 0);

  // With no SDK registered the API's tracer records nothing: the call goes untraced, and still works.
  const noop = new TenantOrchestrator(emu.options({ openTelemetry: { tracerProvider: new api.ProxyTracerProvider() } }));
  open.push(noop);
  await noop.initialize();
  assert.equal((await noop.request(TENANT, { path: '/api/v2/organizations/me' })).status, 200);
  await noop.request('no-such-tenant', { path: '/x' }).then(
    () => assert.fail('resolved'),
    (e) => assert.equal(e.trace, undefined),
  );
});

test('error.type is the rejection code; the span is an error; the record is taken off the error', async () => {
  exporter.reset();
  const o = orchestrator();
  await o.initialize();
  await emu.control('POST', 'faults', { method: 'GET', path: `/api/v2/users/${userIds[1]}`, status: 404, count: 1 });
  const [err, caller] = await asCaller(() => o.request(TENANT, { path: `/api/v2/users/${userIds[1]}` }));
  assert.ok(err instanceof Error && typeof err.code === 'string');
  assert.equal(err.trace, undefined);
  assert.ok(!('trace' in err));
  const [call] = exporter.getFinishedSpans().filter((s) => parentOf(s) === caller.spanContext().spanId);
  assert.equal(call.attributes['error.type'], err.code);
  assert.equal(call.attributes['http.response.status_code'], 404);
  assert.equal(call.status.code, api.SpanStatusCode.ERROR);
  assert.equal(call.status.message, undefined, 'no server text in the status');
  assert.equal(call.events.length, 0);

  // A call cut short by its timeoutMs: the span ends with TIMEOUT and keeps what the request got to (its template).
  exporter.reset();
  const slow = await emu.control('POST', 'faults', { method: 'GET', path: `/api/v2/users/${userIds[2]}`, status: 0, latencyMs: 5000 });
  const [late, caller3] = await asCaller(() => o.request(TENANT, { path: `/api/v2/users/${userIds[2]}`, timeoutMs: 200 }));
  await emu.control('DELETE', `faults/${slow.id}`);
  assert.equal(late.code, 'TIMEOUT');
  const [cut] = exporter.getFinishedSpans().filter((s) => parentOf(s) === caller3.spanContext().spanId);
  assert.equal(cut.name, 'GET /api/v2/users/{userId}');
  assert.equal(cut.attributes['error.type'], 'TIMEOUT');
  assert.equal(cut.attributes['url.template'], '/api/v2/users/{userId}');
  assert.equal(cut.attributes['http.response.status_code'], undefined, 'no answer came');

  // A call refused before anything is sent still ends its span with the code.
  exporter.reset();
  const [bad, caller2] = await asCaller(() => o.request('no-such-tenant', { path: '/api/v2/users' }));
  const [span] = exporter.getFinishedSpans().filter((s) => parentOf(s) === caller2.spanContext().spanId);
  assert.equal(span.attributes['error.type'], bad.code);
});

test('getAccessToken(): a fetch is a span under the caller; a token read from the cache is none', async () => {
  exporter.reset();
  const o = orchestrator();
  await o.initialize();
  const [, c1] = await asCaller(() => o.getAccessToken(TENANT));
  const [token, c2] = await asCaller(() => o.getAccessToken(TENANT));
  const spans = exporter.getFinishedSpans();
  const [first] = spans.filter((s) => parentOf(s) === c1.spanContext().spanId);
  assert.equal(first.name, 'genesys.getAccessToken');
  assert.equal(first.kind, api.SpanKind.CLIENT);
  assert.deepEqual([first.attributes['genesys.token.cache'], first.attributes['genesys.token.joined']], ['miss', false]);
  assert.equal(spans.filter((s) => parentOf(s) === c2.spanContext().spanId).length, 0, 'the cached read made no span');
  assert.ok(!JSON.stringify(spans.map((s) => s.attributes)).includes(token));
});

test('fetchAll(): one span, a child per page; paginate(): a span per page', async () => {
  exporter.reset();
  const o = orchestrator();
  await o.initialize();
  const [all, c1] = await asCaller(() => o.fetchAll(TENANT, { path: '/api/v2/users' }, { pageSize: 100 }));
  assert.equal(all.entities.length, 1234);
  let spans = exporter.getFinishedSpans();
  const [listing] = spans.filter((s) => parentOf(s) === c1.spanContext().spanId);
  assert.equal(listing.name, 'genesys.fetchAll');
  assert.equal(listing.attributes['genesys.request.count'], 13);
  assert.equal(listing.attributes['url.template'], '/api/v2/users');
  const pages = childrenOf(spans, listing).filter((s) => s.name === 'GET /api/v2/users');
  assert.equal(pages.length, 13);
  for (const p of pages) assert.equal(p.attributes['http.response.status_code'], 200);

  exporter.reset();
  const [, c2] = await asCaller(async () => {
    let n = 0;
    for await (const page of o.paginate(TENANT, { path: '/api/v2/users' }, { pageSize: 500 })) n += page.items.length;
    return n;
  });
  spans = exporter.getFinishedSpans();
  const pageSpans = spans.filter((s) => parentOf(s) === c2.spanContext().spanId);
  assert.deepEqual(
    pageSpans.map((s) => s.name),
    ['GET /api/v2/users', 'GET /api/v2/users', 'GET /api/v2/users'],
    'three pages of 500, no span for the end of the listing',
  );
});

test('the official SDK through getTenantClient() is traced the same way', async () => {
  exporter.reset();
  const o = orchestrator();
  await o.initialize();
  const users = new platformClient.UsersApi(o.getTenantClient(TENANT));
  const [user, caller] = await asCaller(() => users.getUser(userIds[2]));
  assert.equal(user.id, userIds[2]);
  const spans = exporter.getFinishedSpans();
  const [call] = spans.filter((s) => parentOf(s) === caller.spanContext().spanId);
  assert.equal(call.name, 'GET /api/v2/users/{userId}');
  assert.equal(call.attributes['url.template'], '/api/v2/users/{userId}');
  assert.equal(call.attributes['http.response.status_code'], 200);
  assert.ok(!JSON.stringify(spans.map((s) => [s.name, s.attributes])).includes(userIds[2]));
});

/** A recording forwarder in front of the emulator: every request's method, path and trace headers. */
async function forwarder() {
  const seen = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method, path: req.url.split('?')[0], traceparent: req.headers.traceparent, tracestate: req.headers.tracestate });
      const up = http.request(
        { host: '127.0.0.1', port: emu.gateway.port, method: req.method, path: req.url, headers: { ...req.headers, host: `127.0.0.1:${emu.gateway.port}` } },
        (r) => {
          res.writeHead(r.statusCode, r.headers);
          r.pipe(res);
        },
      );
      up.end(Buffer.concat(chunks));
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { seen, port: server.address().port, close: () => new Promise((r) => server.close(r)) };
}

test('propagateContext: traceparent/tracestate on API requests only, off by default', async () => {
  const fwd = await forwarder();
  try {
    const url = `http://127.0.0.1:${fwd.port}`;
    const via = { configEndpoint: url, gateway: { protocol: 'http', host: '127.0.0.1', port: fwd.port } };
    exporter.reset();
    const o = orchestrator({ ...via, openTelemetry: { tracerProvider: provider, propagateContext: true } });
    await o.initialize();
    // An incoming request's context, with a vendor's tracestate.
    const remote = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1, isRemote: true, traceState: api.createTraceState('vendor=x') };
    await api.context.with(api.trace.setSpanContext(api.context.active(), remote), () => o.request(TENANT, { path: '/api/v2/organizations/me' }));
    const [call] = exporter.getFinishedSpans().filter((s) => s.name === 'GET /api/v2/organizations/me');
    const sc = call.spanContext();
    assert.equal(sc.traceId, 'a'.repeat(32));
    assert.equal(parentOf(call), 'b'.repeat(16));
    const api1 = fwd.seen.filter((r) => r.path === '/api/v2/organizations/me');
    assert.equal(api1.length, 1);
    assert.equal(api1[0].traceparent, `00-${sc.traceId}-${sc.spanId}-01`);
    assert.equal(api1[0].tracestate, 'vendor=x');
    const others = fwd.seen.filter((r) => !r.path.startsWith('/api/v2/'));
    assert.ok(others.some((r) => r.path.includes('oauth/token')), 'the token request went through the forwarder');
    assert.ok(others.some((r) => r.path.startsWith('/api/v1/genesys/tenants')), 'the config read went through the forwarder');
    for (const r of others) assert.equal(r.traceparent, undefined, `no traceparent to ${r.method} ${r.path}`);

    // Off by default, even with tracing on.
    fwd.seen.length = 0;
    const quiet = orchestrator(via);
    await quiet.initialize();
    await quiet.request(TENANT, { path: '/api/v2/organizations/me' });
    assert.ok(fwd.seen.length >= 2);
    for (const r of fwd.seen) assert.equal(r.traceparent, undefined);
  } finally {
    await fwd.close();
  }
});

test('propagateContext: each paginate() page sends its own page span\'s traceparent, to the API only', async () => {
  const fwd = await forwarder();
  try {
    const url = `http://127.0.0.1:${fwd.port}`;
    const via = { configEndpoint: url, gateway: { protocol: 'http', host: '127.0.0.1', port: fwd.port } };
    const o = orchestrator({ ...via, openTelemetry: { tracerProvider: provider, propagateContext: true } });
    await o.initialize();
    fwd.seen.length = 0;
    exporter.reset();
    const [n, caller] = await asCaller(async () => {
      let items = 0;
      for await (const page of o.paginate(TENANT, { path: '/api/v2/users' }, { pageSize: 500 })) items += page.items.length;
      return items;
    });
    assert.equal(n, 1234);
    const pages = exporter.getFinishedSpans().filter((s) => parentOf(s) === caller.spanContext().spanId);
    assert.equal(pages.length, 3, 'three pages of 500, no span for the end of the listing');
    const sent = fwd.seen.filter((r) => r.path === '/api/v2/users');
    assert.equal(sent.length, 3);
    // Each page's request carries its own page span's context, in order: not the first page's, not the caller's.
    assert.deepEqual(
      sent.map((r) => r.traceparent),
      pages.map((s) => `00-${s.spanContext().traceId}-${s.spanContext().spanId}-01`),
    );
    assert.equal(new Set(sent.map((r) => r.traceparent)).size, 3);
    for (const r of fwd.seen.filter((x) => !x.path.startsWith('/api/v2/'))) assert.equal(r.traceparent, undefined, `no traceparent to ${r.method} ${r.path}`);

    // A traceparent the caller gave the listing wins on every page; off by default, nothing is sent.
    fwd.seen.length = 0;
    const mine = `00-${'c'.repeat(32)}-${'d'.repeat(16)}-01`;
    for await (const page of o.paginate(TENANT, { path: '/api/v2/users', headers: { traceparent: mine } }, { pageSize: 500 })) assert.ok(page.items.length);
    assert.deepEqual(
      fwd.seen.filter((r) => r.path === '/api/v2/users').map((r) => r.traceparent),
      [mine, mine, mine],
    );
    fwd.seen.length = 0;
    const quiet = orchestrator(via);
    await quiet.initialize();
    for await (const page of quiet.paginate(TENANT, { path: '/api/v2/users' }, { pageSize: 500 })) assert.ok(page.items.length);
    assert.ok(fwd.seen.some((r) => r.path === '/api/v2/users'));
    for (const r of fwd.seen) assert.equal(r.traceparent, undefined);
  } finally {
    await fwd.close();
  }
});

test('an OTLP/HTTP exporter sends the spans as JSON to a local receiver', async () => {
  const bodies = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      bodies.push({ url: req.url, type: req.headers['content-type'], body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const otlp = new OTLPTraceExporter({ url: `http://127.0.0.1:${server.address().port}/v1/traces` });
  const p = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(otlp)] });
  try {
    const o = orchestrator({ openTelemetry: { tracerProvider: p } });
    await o.initialize();
    await o.request(TENANT, { path: `/api/v2/users/${userIds[0]}` });
    const token = await o.getAccessToken(TENANT);
    await p.forceFlush();
    assert.ok(bodies.length >= 1);
    assert.equal(bodies[0].url, '/v1/traces');
    assert.match(bodies[0].type, /application\/json/);
    const spans = bodies.flatMap((b) => JSON.parse(b.body).resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => ({ ...s, scope: ss.scope.name })))));
    const call = spans.find((s) => s.name === 'GET /api/v2/users/{userId}');
    assert.ok(call, 'the call span arrived');
    assert.equal(call.scope, 'genesys-tenants');
    const attr = Object.fromEntries(call.attributes.map((a) => [a.key, Object.values(a.value)[0]]));
    assert.equal(attr['url.template'], '/api/v2/users/{userId}');
    assert.equal(attr['genesys.tenant.id'], TENANT);
    assert.ok(spans.some((s) => s.name === 'genesys.token'));
    const all = bodies.map((b) => b.body).join('');
    for (const needle of [token, secret, userIds[0]]) assert.ok(!all.includes(needle));
  } finally {
    await p.shutdown();
    await new Promise((r) => server.close(r));
  }
});

test('options: a wrong openTelemetry is INVALID_OPTIONS naming it', () => {
  const codeOf = (extra) => {
    try {
      new TenantOrchestrator(emu.options(extra)).close();
      return null;
    } catch (e) {
      return [e.code, e.option];
    }
  };
  assert.deepEqual(codeOf({ openTelemetry: 'yes' }), ['INVALID_OPTIONS', 'openTelemetry']);
  assert.deepEqual(codeOf({ openTelemetry: { colour: 1 } }), ['INVALID_OPTIONS', 'openTelemetry.colour']);
  assert.deepEqual(codeOf({ openTelemetry: { propagateContext: 'yes' } }), ['INVALID_OPTIONS', 'openTelemetry.propagateContext']);
  assert.deepEqual(codeOf({ openTelemetry: { tracerProvider: {} } }), ['INVALID_OPTIONS', 'openTelemetry.tracerProvider']);
  assert.equal(codeOf({ openTelemetry: true }), null);
  assert.equal(codeOf({ openTelemetry: false }), null);
});

class TestReader extends MetricReader {
  async onForceFlush() {}
  async onShutdown() {}
}

test('registerOpenTelemetryMetrics(meter): the figures of metrics(), removed by the function it returns', async () => {
  const o = new TenantOrchestrator(emu.options());
  open.push(o);
  await o.initialize();
  for (let i = 0; i < 3; i++) await o.request(TENANT, { path: '/api/v2/organizations/me' });
  await o.request(TENANT, { path: '/api/v2/nothing-here' }).catch(() => null);
  const reader = new TestReader();
  const mp = new MeterProvider({ readers: [reader] });
  const unregister = o.registerOpenTelemetryMetrics(mp.getMeter('test'));
  const points = async () => {
    const { resourceMetrics } = await reader.collect();
    const out = {};
    for (const sm of resourceMetrics.scopeMetrics) for (const m of sm.metrics) out[m.descriptor.name] = m.dataPoints;
    return out;
  };
  const got = await points();
  const m = o.metrics().tenants[TENANT];
  const pick = (name, attrs) => got[name].find((p) => Object.entries(attrs).every(([k, v]) => p.attributes[k] === v))?.value;
  assert.equal(pick('genesys_tenants.calls', { 'genesys.tenant.id': TENANT, outcome: 'OK' }), m.calls.OK);
  for (const [outcome, n] of Object.entries(m.calls)) assert.equal(pick('genesys_tenants.calls', { 'genesys.tenant.id': TENANT, outcome }), n);
  assert.equal(pick('genesys_tenants.call.duration.count', { 'genesys.tenant.id': TENANT }), m.latency.count);
  assert.equal(pick('genesys_tenants.call.duration.bucket', { 'genesys.tenant.id': TENANT, le: '+Inf' }), m.latency.count);
  assert.equal(pick('genesys_tenants.token.requests', { 'genesys.tenant.id': TENANT }), m.tokenRequests);
  assert.equal(pick('genesys_tenants.tenant.valid', { 'genesys.tenant.id': TENANT }), 1);
  assert.equal(pick('genesys_tenants.config.reads', {}), o.metrics().configReads);
  unregister();
  unregister();
  // Removed: the core is no longer read (a cumulative reader keeps the last values, which stop moving).
  await o.request(TENANT, { path: '/api/v2/organizations/me' });
  assert.equal(o.metrics().tenants[TENANT].calls.OK, m.calls.OK + 1);
  const after = await points();
  const calls = (after['genesys_tenants.calls'] ?? []).find((p) => p.attributes.outcome === 'OK' && p.attributes['genesys.tenant.id'] === TENANT);
  assert.ok(calls === undefined || calls.value === m.calls.OK, 'no new reading once removed');
  assert.throws(() => o.registerOpenTelemetryMetrics({}), { code: 'INVALID_OPTIONS', option: 'meter' });
  await mp.shutdown();
});

test('without @opentelemetry/api: nothing loaded, calls work, openTelemetry: true is a no-op', () => {
  // A child process in which @opentelemetry/* cannot be resolved, and every attempt to is counted.
  const script = `
    const Module = require('node:module');
    const tried = [];
    const resolve = Module._resolveFilename;
    Module._resolveFilename = function (request, ...rest) {
      if (request.startsWith('@opentelemetry/')) {
        tried.push(request);
        const e = new Error("Cannot find module '" + request + "'");
        e.code = 'MODULE_NOT_FOUND';
        throw e;
      }
      return resolve.call(this, request, ...rest);
    };
    const { TenantOrchestrator } = require(${JSON.stringify(path.join(root, 'lib', 'index.js'))});
    (async () => {
      const out = {};
      for (const [name, extra] of [['default', {}], ['requested', { openTelemetry: true }]]) {
        const o = new TenantOrchestrator({ ...${JSON.stringify(emu.options())}, ...extra });
        await o.initialize();
        const r = await o.request('${TENANT}', { path: '/api/v2/organizations/me' });
        const t = await o.getAccessToken('${TENANT}');
        await o.close();
        out[name] = {
          status: r.status,
          token: typeof t,
          tried: tried.length,
          otelFiles: Object.keys(require.cache).filter((k) => k.includes('opentelemetry')).length,
          ourOtel: Object.keys(require.cache).some((k) => k.endsWith('otel.js')),
        };
      }
      console.log(JSON.stringify(out));
    })().catch((e) => { console.error(e); process.exit(1); });
  `;
  const r = spawnSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop());
  assert.deepEqual(out.default, { status: 200, token: 'string', tried: 0, otelFiles: 0, ourOtel: false });
  assert.deepEqual(out.requested, { status: 200, token: 'string', tried: 1, otelFiles: 0, ourOtel: true });
});

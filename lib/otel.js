'use strict';
// OpenTelemetry for the package (docs/opentelemetry.md). lib/index.js requires this file only when the
// `openTelemetry` option asks, and this file requires `@opentelemetry/api` only then: with the option off,
// or the package not installed (then tracing is a no-op, as OpenTelemetry's API is without an SDK),
// nothing is loaded and every call takes its untraced path.
//
// The spans are made after the fact from the core's record of the call (crates/core/src/trace.rs), which
// crosses once, with the result or on the rejection: the call's span is started when the call is made (so
// its context can go out as `traceparent`) and ended at the record's end; each HTTP request, attempt and
// token wait becomes a child with the times the core measured. No attribute carries a secret, a token or a
// concrete path: the path is the catalogue's template (`/api/v2/users/{userId}`), or absent.
const { invalidOption } = require('./error-codes.js');

const SCOPE = 'genesys-tenants';
const METHODS = new Set(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE']);

/** `@opentelemetry/api`, or null when it is not installed. */
function loadApi() {
  try {
    return require('@opentelemetry/api');
  } catch (e) {
    if (e && e.code === 'MODULE_NOT_FOUND' && String(e.message).includes('@opentelemetry/api')) return null;
    throw e;
  }
}

/**
 * The options split for the two sides: `wire` crosses to the core (which checks `openTelemetry` like every
 * option: `true`, `false` or `{ propagateContext? }`), `config` is what this layer acts on, or null (off).
 * `tracerProvider` is a JS object, checked here and kept out of the wire.
 */
function splitOptions(opts) {
  if (opts === null || typeof opts !== 'object' || !Object.hasOwn(opts, 'openTelemetry')) return { wire: opts, config: null };
  const ot = opts.openTelemetry;
  if (ot === undefined || ot === null || ot === false) return { wire: { ...opts, openTelemetry: undefined }, config: null };
  if (ot === true) return { wire: opts, config: { tracerProvider: null, propagateContext: false } };
  if (typeof ot !== 'object' || Array.isArray(ot)) return { wire: opts, config: null }; // the core names the fault
  const { tracerProvider, ...rest } = ot;
  if (tracerProvider !== undefined && tracerProvider !== null && (typeof tracerProvider !== 'object' || typeof tracerProvider.getTracer !== 'function')) {
    throw invalidOption('openTelemetry.tracerProvider', 'must be an OpenTelemetry TracerProvider (an object with getTracer())');
  }
  return { wire: { ...opts, openTelemetry: rest }, config: { tracerProvider: tracerProvider ?? null, propagateContext: rest.propagateContext === true } };
}

/** A `Tracing` for `config`, or null when `@opentelemetry/api` is not installed. */
function createTracing(config) {
  const api = loadApi();
  return api ? new Tracing(api, config) : null;
}

const hr = (us) => [Math.floor(us / 1e6), Math.round(us % 1e6) * 1000];
const nowUs = () => Date.now() * 1000;

function method(m) {
  const up = String(m || 'GET').toUpperCase();
  return METHODS.has(up) ? up : '_OTHER';
}

function spanName(r) {
  return r.urlTemplate ? `${method(r.method)} ${r.urlTemplate}` : method(r.method);
}

/** The attributes of one HTTP request of the call (semantic conventions for HTTP client spans). */
function requestAttributes(r) {
  const a = { 'http.request.method': method(r.method) };
  if (r.urlTemplate) a['url.template'] = r.urlTemplate;
  if (r.serverAddress) a['server.address'] = r.serverAddress;
  if (r.serverPort != null) a['server.port'] = r.serverPort;
  if (r.status != null) a['http.response.status_code'] = r.status;
  if (r.errorCode) a['error.type'] = r.errorCode;
  a['genesys.retry.count'] = r.retries;
  a['genesys.ratelimit.hold_ms'] = r.holdMs;
  if (r.tokens.length) a['genesys.token.cache'] = r.tokens.some((t) => t.cache === 'miss') ? 'miss' : 'hit';
  return a;
}

/** The same, summed over the requests of a call that made several (a listing's pages, an analytics job). */
function callAttributes(requests) {
  if (requests.length === 1) return requestAttributes(requests[0]);
  const a = requests.length ? { ...requestAttributes(requests[0]) } : {};
  delete a['http.response.status_code'];
  delete a['error.type'];
  a['genesys.retry.count'] = requests.reduce((n, r) => n + r.retries, 0);
  a['genesys.ratelimit.hold_ms'] = requests.reduce((n, r) => n + r.holdMs, 0);
  a['genesys.request.count'] = requests.length;
  const tokens = requests.flatMap((r) => r.tokens);
  if (tokens.length) a['genesys.token.cache'] = tokens.some((t) => t.cache === 'miss') ? 'miss' : 'hit';
  else delete a['genesys.token.cache'];
  return a;
}

// The record leaves out fields that are none, false, zero or empty (trace.rs): put the defaults back.
const fullToken = (t) => ({ joined: false, ...t });
const fullRequest = (r) => ({ retries: 0, holdMs: 0, ...r, attempts: r.attempts ?? [], tokens: (r.tokens ?? []).map(fullToken) });

/** The record a traced call's rejection carries (`err.trace`, JSON text), taken off the error. */
function takeRecord(err) {
  if (!err || typeof err !== 'object' || typeof err.trace !== 'string') return null;
  const text = err.trace;
  delete err.trace;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

class Tracing {
  #api;
  #tracer;
  #propagate;

  constructor(api, { tracerProvider, propagateContext }) {
    this.#api = api;
    const provider = tracerProvider ?? api.trace.getTracerProvider();
    this.#tracer = provider.getTracer(SCOPE, require('../package.json').version);
    this.#propagate = propagateContext;
  }

  /**
   * Starts a call's span (kind CLIENT) under the context active now. `recording` false (no SDK registered,
   * or sampled out): the call needs no record and takes the untraced path; its context may still go out.
   */
  begin(name, tenantId, attributes = {}) {
    const api = this.#api;
    const parent = api.context.active();
    const startUs = nowUs();
    const span = this.#tracer.startSpan(
      name,
      { kind: api.SpanKind.CLIENT, startTime: hr(startUs), attributes: { 'genesys.tenant.id': String(tenantId), ...attributes } },
      parent,
    );
    return { span, ctx: api.trace.setSpan(parent, span), startUs, tenantId: String(tenantId), recording: span.isRecording() };
  }

  /**
   * `init` with the call span's `traceparent` / `tracestate` among its headers when `propagateContext`
   * is on (API requests only: the core never copies a request's headers to the login host or the
   * config service). A header the caller set wins.
   */
  withContext(call, init) {
    if (!this.#propagate || init === null || typeof init !== 'object' || Array.isArray(init)) return init;
    const given = init.headers;
    if (given !== undefined && given !== null && (typeof given !== 'object' || Array.isArray(given))) return init; // the core names the fault
    const sc = call.span.spanContext();
    if (!this.#api.trace.isSpanContextValid(sc)) return init;
    const headers = { ...(given ?? {}) };
    const has = (name) => Object.keys(headers).some((k) => k.toLowerCase() === name);
    if (!has('traceparent')) {
      headers.traceparent = `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
      const state = sc.traceState?.serialize();
      if (state && !has('tracestate')) headers.tracestate = state;
    }
    return { ...init, headers };
  }

  /**
   * Settles a traced native call: `pending` resolves to `{ trace, response }` JSON text or rejects with
   * the record on the error (`trace`, taken off here). Ends the call's span; resolves to the response.
   */
  async finish(call, pending) {
    let out;
    try {
      out = JSON.parse(await pending);
    } catch (err) {
      this.end(call, takeRecord(err), err);
      throw err;
    }
    this.end(call, out.trace, null);
    return out.response;
  }

  /**
   * Settles one traced page of `paginate()` (`pending` as for `finish`): its span is made after the fact,
   * under the context active now, from its first request's start — none for the end of the listing, which
   * sends nothing.
   */
  async page(tenantId, pending) {
    const api = this.#api;
    const parent = api.context.active();
    const make = (record, err) => {
      const requests = record?.requests ?? [];
      if (!requests.length && !err) return;
      const startUs = requests.length ? Math.min(...requests.map((r) => r.startUs)) : nowUs();
      const span = this.#tracer.startSpan(
        'genesys.page',
        { kind: api.SpanKind.CLIENT, startTime: hr(startUs), attributes: { 'genesys.tenant.id': String(tenantId) } },
        parent,
      );
      this.end({ span, ctx: api.trace.setSpan(parent, span), startUs, tenantId: String(tenantId) }, record, err);
    };
    let out;
    try {
      out = JSON.parse(await pending);
    } catch (err) {
      make(takeRecord(err), err);
      throw err;
    }
    make(out.trace, null);
    return out.response;
  }

  /** Ends a call's span from its record (`null`: none came) and `err` (the rejection, if any). */
  end(call, record, err) {
    const { span } = call;
    const requests = (record?.requests ?? []).map(fullRequest);
    const tokens = (record?.tokens ?? []).map(fullToken);
    const attributes = callAttributes(requests);
    if (requests.length === 1) span.updateName(spanName(requests[0]));
    if (tokens.length) {
      attributes['genesys.token.cache'] = tokens.some((t) => t.cache === 'miss') ? 'miss' : 'hit';
      attributes['genesys.token.joined'] = tokens.some((t) => t.joined);
    }
    if (err) attributes['error.type'] = typeof err.code === 'string' ? err.code : 'Error';
    span.setAttributes(attributes);
    if (err) span.setStatus({ code: this.#api.SpanStatusCode.ERROR });
    if (requests.length === 1) this.#children(call.ctx, requests[0], call.tenantId);
    else for (const r of requests) this.#request(call.ctx, r, call.tenantId);
    for (const t of tokens) this.#token(call.ctx, t, call.tenantId);
    const last = Math.max(0, ...requests.map((r) => r.endUs), ...tokens.map((t) => t.endUs));
    span.end(hr(Math.max(nowUs(), last)));
  }

  /** One HTTP request of a call that made several: its own CLIENT span, its attempts under it. */
  #request(ctx, r, tenantId) {
    const api = this.#api;
    const span = this.#tracer.startSpan(
      spanName(r),
      { kind: api.SpanKind.CLIENT, startTime: hr(r.startUs), attributes: { 'genesys.tenant.id': tenantId, ...requestAttributes(r) } },
      ctx,
    );
    if (r.errorCode) span.setStatus({ code: api.SpanStatusCode.ERROR });
    this.#children(api.trace.setSpan(ctx, span), r, tenantId);
    span.end(hr(r.endUs));
  }

  /**
   * A request's attempts and token waits, under `ctx`. A request answered at its first attempt has no attempt
   * span (the request's span is that attempt), and a token served from the cache no span (the request says
   * `genesys.token.cache`): the common call costs one span.
   */
  #children(ctx, r, tenantId) {
    const api = this.#api;
    if (r.attempts.length > 1) r.attempts.forEach((a, i) => {
      const attributes = { 'genesys.tenant.id': tenantId, 'http.request.method': method(r.method) };
      if (r.urlTemplate) attributes['url.template'] = r.urlTemplate;
      if (r.serverAddress) attributes['server.address'] = r.serverAddress;
      if (r.serverPort != null) attributes['server.port'] = r.serverPort;
      if (a.status != null) attributes['http.response.status_code'] = a.status;
      if (i > 0) attributes['http.request.resend_count'] = i;
      if (a.holdMs) attributes['genesys.ratelimit.hold_ms'] = a.holdMs;
      if (a.tokenRefreshed) attributes['genesys.token.refreshed'] = true;
      const failed = a.lost ?? (a.status >= 400 ? String(a.status) : null);
      if (failed) attributes['error.type'] = failed;
      const span = this.#tracer.startSpan(`${spanName(r)} attempt ${i + 1}`, { kind: api.SpanKind.CLIENT, startTime: hr(a.startUs), attributes }, ctx);
      if (failed) span.setStatus({ code: api.SpanStatusCode.ERROR });
      span.end(hr(Math.max(a.endUs, a.startUs)));
    });
    for (const t of r.tokens) if (t.cache !== 'hit' || t.errorCode) this.#token(ctx, t, tenantId);
  }

  /** One wait for a token (INTERNAL: the login request itself is the token manager's, shared by its waiters). */
  #token(ctx, t, tenantId) {
    const api = this.#api;
    const attributes = { 'genesys.tenant.id': tenantId, 'genesys.token.cache': t.cache, 'genesys.token.joined': t.joined };
    if (t.errorCode) attributes['error.type'] = t.errorCode;
    const span = this.#tracer.startSpan('genesys.token', { kind: api.SpanKind.INTERNAL, startTime: hr(t.startUs), attributes }, ctx);
    if (t.errorCode) span.setStatus({ code: api.SpanStatusCode.ERROR });
    span.end(hr(Math.max(t.endUs, t.startUs)));
  }
}

/**
 * Observable instruments on `meter` (an OpenTelemetry `Meter`) reading `readMetrics()` — the figures of
 * `o.metrics()`, read once per collection for all of them. Returns the function that removes them. The API
 * has no asynchronous histogram: the call duration is given as its cumulative buckets (`le`), sum and count.
 */
function registerMetrics(meter, readMetrics) {
  if (meter === null || typeof meter !== 'object' || typeof meter.createObservableCounter !== 'function' || typeof meter.addBatchObservableCallback !== 'function') {
    throw invalidOption('meter', 'must be an OpenTelemetry Meter (e.g. metrics.getMeter(\'my-service\') or a MeterProvider\'s getMeter())');
  }
  const counter = (name, unit, description) => meter.createObservableCounter(name, { unit, description });
  const gauge = (name, unit, description) => meter.createObservableGauge(name, { unit, description });
  const i = {
    calls: counter('genesys_tenants.calls', '{call}', 'Calls through the pipeline by outcome (OK or an error code)'),
    durationBucket: counter('genesys_tenants.call.duration.bucket', '{call}', 'Calls that took at most `le` seconds (cumulative)'),
    durationSum: counter('genesys_tenants.call.duration.sum', 's', 'Total time of the calls, retries and waits included'),
    durationCount: counter('genesys_tenants.call.duration.count', '{call}', 'Calls timed'),
    retries: counter('genesys_tenants.retries', '{retry}', 'Retries (401 refresh, 429, 5xx, transport)'),
    throttled: counter('genesys_tenants.throttled', '{response}', '429 answers received'),
    held: counter('genesys_tenants.held', 's', 'Time this process held the tenant\'s calls for its own 429s'),
    limiterWait: counter('genesys_tenants.limiter_wait', 's', 'Time calls waited for the client-side budget'),
    tokenRequests: counter('genesys_tenants.token.requests', '{request}', 'OAuth token requests'),
    tokenFailures: counter('genesys_tenants.token.failures', '{request}', 'OAuth token requests that failed'),
    tokensAcquired: counter('genesys_tenants.tokens.acquired', '{token}', 'Tokens obtained'),
    rotations: counter('genesys_tenants.rotations', '{rotation}', 'Credential rotations'),
    valid: gauge('genesys_tenants.tenant.valid', '1', '1 when the tenant\'s config entry is usable'),
    configReads: counter('genesys_tenants.config.reads', '{read}', 'Config reads'),
    configNotModified: counter('genesys_tenants.config.not_modified', '{read}', 'Config reads answered 304'),
    configFailures: gauge('genesys_tenants.config.consecutive_failures', '{read}', 'Config reads failed in a row'),
    configFromSnapshot: gauge('genesys_tenants.config.from_snapshot', '1', '1 when the config in use came from the snapshot'),
    storeUp: gauge('genesys_tenants.store.up', '1', '1 when the shared store answers (with redisUrl)'),
    storeFailures: counter('genesys_tenants.store.failures', '{operation}', 'Shared-store operations that failed'),
    storeOutages: counter('genesys_tenants.store.outages', '{outage}', 'Times the shared store went down'),
  };
  const observe = (result) => {
    const m = readMetrics();
    const bounds = m.latencyBucketsSeconds;
    for (const [id, t] of Object.entries(m.tenants)) {
      const tenant = { 'genesys.tenant.id': id };
      for (const [outcome, n] of Object.entries(t.calls)) result.observe(i.calls, n, { ...tenant, outcome });
      t.latency.cumulative.forEach((n, k) => result.observe(i.durationBucket, n, { ...tenant, le: String(bounds[k]) }));
      result.observe(i.durationBucket, t.latency.count, { ...tenant, le: '+Inf' });
      result.observe(i.durationSum, t.latency.sumSeconds, tenant);
      result.observe(i.durationCount, t.latency.count, tenant);
      result.observe(i.retries, t.retries, tenant);
      result.observe(i.throttled, t.throttled, tenant);
      result.observe(i.held, t.heldMs / 1000, tenant);
      result.observe(i.limiterWait, t.limiterWaitMs / 1000, tenant);
      result.observe(i.tokenRequests, t.tokenRequests, tenant);
      result.observe(i.tokenFailures, t.tokenFailures, tenant);
      result.observe(i.tokensAcquired, t.tokensAcquired, tenant);
      result.observe(i.rotations, t.rotations, tenant);
      result.observe(i.valid, t.valid ? 1 : 0, tenant);
    }
    result.observe(i.configReads, m.configReads);
    result.observe(i.configNotModified, m.configNotModified);
    result.observe(i.configFailures, m.configConsecutiveFailures);
    result.observe(i.configFromSnapshot, m.configFromSnapshot ? 1 : 0);
    if (m.storeUp !== null && m.storeUp !== undefined) {
      result.observe(i.storeUp, m.storeUp ? 1 : 0);
      result.observe(i.storeFailures, m.storeFailures);
      result.observe(i.storeOutages, m.storeOutages);
    }
  };
  const list = Object.values(i);
  meter.addBatchObservableCallback(observe, list);
  let removed = false;
  return () => {
    if (removed) return;
    removed = true;
    meter.removeBatchObservableCallback(observe, list);
  };
}

module.exports = { splitOptions, createTracing, loadApi, registerMetrics };

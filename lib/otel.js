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
const NONE = Object.freeze([]);

// The core's record of a call, as it crosses (crates/core/src/trace/wire.rs): arrays in a fixed order,
// absent values null, times in µs after the record's base (µs since the epoch), and only what spans are
// made of: a request's attempts when it made several, its token waits that were not a clean cache hit
// (`tokenCache` sums them all). Read by index: this runs for every traced call on Node's thread, where
// named fields cost a larger text to parse.
//   record  [baseUs, [request…], [token…]]
//   request [start, end, method, urlTemplate, serverAddress, serverPort, status, errorCode, retries, holdMs, [attempt…], [token…], tokenCache]
//   attempt [start, end, status, lost, holdMs, tokenRefreshed]
//   token   [start, end, cache, joined, errorCode]
const REC_BASE = 0;
const REC_REQUESTS = 1;
const REC_TOKENS = 2;
const R_START = 0;
const R_END = 1;
const R_METHOD = 2;
const R_TEMPLATE = 3;
const R_HOST = 4;
const R_PORT = 5;
const R_STATUS = 6;
const R_ERROR = 7;
const R_RETRIES = 8;
const R_HOLD = 9;
const R_ATTEMPTS = 10;
const R_TOKENS = 11;
const R_CACHE = 12;
const A_START = 0;
const A_END = 1;
const A_STATUS = 2;
const A_LOST = 3;
const A_HOLD = 4;
const A_REFRESHED = 5;
const T_START = 0;
const T_END = 1;
const T_CACHE = 2;
const T_JOINED = 3;
const T_ERROR = 4;

/** The method as the conventions name it (the core gives it upper case). */
function method(m) {
  if (METHODS.has(m)) return m;
  const up = String(m || 'GET').toUpperCase();
  return METHODS.has(up) ? up : '_OTHER';
}

function spanName(r) {
  return r[R_TEMPLATE] ? `${method(r[R_METHOD])} ${r[R_TEMPLATE]}` : method(r[R_METHOD]);
}

/** `miss` when any of `tokens` waited for a fetch, `hit` when all came from the cache, undefined for none. */
function tokenCache(tokens) {
  if (!tokens.length) return undefined;
  for (const t of tokens) if (t[T_CACHE] === 'miss') return 'miss';
  return 'hit';
}

/**
 * The attributes of one HTTP request of the call (semantic conventions for HTTP client spans). One shape
 * for every request, absent values undefined (the API leaves those unset): built once per call, cheaply.
 */
function requestAttributes(r) {
  return {
    'http.request.method': method(r[R_METHOD]),
    'url.template': r[R_TEMPLATE] ?? undefined,
    'server.address': r[R_HOST] ?? undefined,
    'server.port': r[R_PORT] ?? undefined,
    'http.response.status_code': r[R_STATUS] ?? undefined,
    'error.type': r[R_ERROR] ?? undefined,
    'genesys.retry.count': r[R_RETRIES],
    'genesys.ratelimit.hold_ms': r[R_HOLD],
    'genesys.token.cache': r[R_CACHE] ?? undefined,
  };
}

/** The same, summed over the requests of a call that made none or several (a listing's pages, an analytics job). */
function callAttributes(requests) {
  if (!requests.length) return {};
  const a = requestAttributes(requests[0]);
  a['http.response.status_code'] = undefined;
  a['error.type'] = undefined;
  let retries = 0;
  let hold = 0;
  let cache;
  for (const r of requests) {
    retries += r[R_RETRIES];
    hold += r[R_HOLD];
    const c = r[R_CACHE];
    if (c && cache !== 'miss') cache = c;
  }
  a['genesys.retry.count'] = retries;
  a['genesys.ratelimit.hold_ms'] = hold;
  a['genesys.token.cache'] = cache;
  a['genesys.request.count'] = requests.length;
  return a;
}

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
  #client;

  constructor(api, { tracerProvider, propagateContext }) {
    this.#api = api;
    const provider = tracerProvider ?? api.trace.getTracerProvider();
    this.#tracer = provider.getTracer(SCOPE, require('../package.json').version);
    this.#propagate = propagateContext;
    this.#client = api.SpanKind.CLIENT;
  }

  /**
   * Starts a call's span (kind CLIENT) under the context active now, with the tenant as its one attribute
   * (a sampler may use it; the rest come with the record). `recording` false (no SDK registered, or
   * sampled out): the call needs no record and takes the untraced path; its context may still go out.
   */
  begin(name, tenantId) {
    const parent = this.#api.context.active();
    const tenant = String(tenantId);
    const span = this.#tracer.startSpan(name, { kind: this.#client, attributes: { 'genesys.tenant.id': tenant } }, parent);
    return { span, parent, tenantId: tenant, recording: span.isRecording() };
  }

  /**
   * The call span's `traceparent` and `tracestate` (null: none) when `propagateContext` is on and the
   * span's context is valid; null otherwise.
   */
  traceHeaders(call) {
    if (!this.#propagate) return null;
    const sc = call.span.spanContext();
    if (!this.#api.trace.isSpanContextValid(sc)) return null;
    const traceparent = `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
    return { traceparent, tracestate: sc.traceState?.serialize() || null };
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
    const out = this.traceHeaders(call);
    if (!out) return init;
    const headers = { ...(given ?? {}) };
    const has = (name) => Object.keys(headers).some((k) => k.toLowerCase() === name);
    if (!has('traceparent')) {
      headers.traceparent = out.traceparent;
      if (out.tracestate && !has('tracestate')) headers.tracestate = out.tracestate;
    }
    return { ...init, headers };
  }

  /**
   * Settles a traced native call: `pending` resolves to `{ trace, response }` JSON text or rejects with
   * the record on the error (`trace`, taken off here). Ends the call's span; resolves to the response.
   */
  finish(call, pending) {
    return pending.then(
      (text) => {
        const out = JSON.parse(text);
        this.end(call, out.trace, null);
        return out.response;
      },
      (err) => {
        this.end(call, takeRecord(err), err);
        throw err;
      },
    );
  }

  /**
   * Settles one traced page of `paginate()` (`pending` as for `finish`): `call` is its span, begun before
   * the page was asked for, or null when the listing had ended (the cursor said so: that `next()` sends
   * nothing and makes no span). A page that made no request (a listing that ended unannounced) leaves
   * its span unended, so never exported.
   */
  page(call, pending) {
    return pending.then(
      (text) => {
        const out = JSON.parse(text);
        if (call && (out.response !== null || out.trace?.[REC_REQUESTS]?.length)) this.end(call, out.trace, null);
        return out.response;
      },
      (err) => {
        const record = takeRecord(err);
        if (call) this.end(call, record, err);
        throw err;
      },
    );
  }

  /** Ends a call's span from its record (`null`: none came) and `err` (the rejection, if any). */
  end(call, record, err) {
    const { span } = call;
    const base = record ? record[REC_BASE] : 0;
    const requests = record ? record[REC_REQUESTS] : NONE;
    const tokens = record ? record[REC_TOKENS] : NONE;
    let attributes;
    let last = 0;
    if (requests.length === 1) {
      const r = requests[0];
      span.updateName(spanName(r));
      attributes = requestAttributes(r);
      last = r[R_END];
    } else {
      attributes = callAttributes(requests);
      for (const r of requests) if (r[R_END] > last) last = r[R_END];
    }
    if (tokens.length) {
      attributes['genesys.token.cache'] = tokenCache(tokens);
      attributes['genesys.token.joined'] = tokens.some((t) => t[T_JOINED]);
      for (const t of tokens) if (t[T_END] > last) last = t[T_END];
    }
    if (err) attributes['error.type'] = typeof err.code === 'string' ? err.code : 'Error';
    span.setAttributes(attributes);
    if (err) span.setStatus({ code: this.#api.SpanStatusCode.ERROR });
    // Children only for what the call span does not say (the common call has none, and no context is made).
    let ctx = null;
    const under = () => (ctx ??= this.#api.trace.setSpan(call.parent, span));
    if (requests.length === 1) {
      if (hasChildren(requests[0])) this.#children(under(), requests[0], base, call.tenantId, attributes);
    } else for (const r of requests) this.#request(under(), r, base, call.tenantId);
    for (const t of tokens) this.#token(under(), t, base, call.tenantId);
    const now = nowUs();
    span.end(hr(record && base + last > now ? base + last : now));
  }

  /** One HTTP request of a call that made several: its own CLIENT span, its attempts under it. */
  #request(ctx, r, base, tenantId) {
    const api = this.#api;
    const attributes = requestAttributes(r);
    const span = this.#tracer.startSpan(spanName(r), { kind: this.#client, startTime: hr(base + r[R_START]), attributes: { 'genesys.tenant.id': tenantId } }, ctx);
    span.setAttributes(attributes);
    if (r[R_ERROR]) span.setStatus({ code: api.SpanStatusCode.ERROR });
    if (hasChildren(r)) this.#children(api.trace.setSpan(ctx, span), r, base, tenantId, attributes);
    span.end(hr(base + r[R_END]));
  }

  /**
   * A request's attempts and token waits, under `ctx` (`req` the request's attributes). A request answered
   * at its first attempt has no attempt span (the request's span is that attempt), and a token served from
   * the cache no span (the request says `genesys.token.cache`): the common call costs one span. The record
   * carries neither (wire.rs).
   */
  #children(ctx, r, base, tenantId, req) {
    const api = this.#api;
    const attempts = r[R_ATTEMPTS];
    if (attempts.length > 1) {
      const name = spanName(r);
      attempts.forEach((a, i) => {
        const start = base + a[A_START];
        const status = a[A_STATUS];
        const failed = a[A_LOST] ?? (status >= 400 ? String(status) : null);
        const attributes = {
          'genesys.tenant.id': tenantId,
          'http.request.method': req['http.request.method'],
          'url.template': req['url.template'],
          'server.address': req['server.address'],
          'server.port': req['server.port'],
          'http.response.status_code': status ?? undefined,
          'http.request.resend_count': i > 0 ? i : undefined,
          'genesys.ratelimit.hold_ms': a[A_HOLD] || undefined,
          'genesys.token.refreshed': a[A_REFRESHED] || undefined,
          'error.type': failed ?? undefined,
        };
        const span = this.#tracer.startSpan(`${name} attempt ${i + 1}`, { kind: this.#client, startTime: hr(start), attributes }, ctx);
        if (failed) span.setStatus({ code: api.SpanStatusCode.ERROR });
        span.end(hr(Math.max(base + a[A_END], start)));
      });
    }
    for (const t of r[R_TOKENS]) this.#token(ctx, t, base, tenantId);
  }

  /** One wait for a token (INTERNAL: the login request itself is the token manager's, shared by its waiters). */
  #token(ctx, t, base, tenantId) {
    const api = this.#api;
    const start = base + t[T_START];
    const attributes = { 'genesys.tenant.id': tenantId, 'genesys.token.cache': t[T_CACHE], 'genesys.token.joined': t[T_JOINED], 'error.type': t[T_ERROR] ?? undefined };
    const span = this.#tracer.startSpan('genesys.token', { kind: api.SpanKind.INTERNAL, startTime: hr(start), attributes }, ctx);
    if (t[T_ERROR]) span.setStatus({ code: api.SpanStatusCode.ERROR });
    span.end(hr(Math.max(base + t[T_END], start)));
  }
}

/** Whether a request has spans under it: several attempts, or a token wait that was not a clean cache hit. */
function hasChildren(r) {
  return r[R_ATTEMPTS].length > 1 || r[R_TOKENS].length > 0;
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
  // Real-time events: the core's one list of figures (names, kinds, units), read once.
  const figures = (readMetrics().notificationFigures ?? []).map((f) => ({
    key: f.key,
    instrument: (f.kind === 'gauge' ? gauge : counter)(`genesys_tenants.${f.name.replaceAll('_', '.')}`, f.unit, f.help.replace(/\.$/, '')),
  }));
  for (const f of figures) i[`notifications.${f.key}`] = f.instrument;
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
      if (t.notifications) for (const f of figures) result.observe(f.instrument, t.notifications[f.key], tenant);
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

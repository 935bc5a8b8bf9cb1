'use strict';
// The package entry: the native orchestrator with a small JS layer for what is JS-shaped
// (event subscription handles, async iterators, the official-SDK bridge).
const native = require('./native.js').loadNative();
const { createTenantClient } = require('./sdk-bridge.js');

const { ErrorCodes, EventKinds, invalidOption, isGenesysTenantsError } = require('./error-codes.js');
const { toWire } = require('./wire.js');
const { takeBounds, withBounds, callSpec } = require('./call-bounds.js');
const { TenantConfigsView } = require('./tutorial/tenant-configs.js');
const { CredentialManager } = require('./tutorial/credential-manager.js');
const tutorial = require('./tutorial/index.js');
const { explainOperation, catalogueSource } = require('./catalogue.js');
const { rotationWebhookHandler } = require('./webhook.js');
const notifications = require('./notifications.js');

/**
 * `options` with `gateway` taken from `GENESYS_TENANTS_GATEWAY` (a URL such as
 * `http://127.0.0.1:8080`) when the caller set none — the way the official SDK's config file
 * `[gateway]` section points an unmodified program at a local emulator or an egress gateway.
 */
function withEnvironmentDefaults(options) {
  const url = process.env.GENESYS_TENANTS_GATEWAY;
  if (!url || options === null || typeof options !== 'object' || options.gateway !== undefined) return options;
  let u;
  try {
    u = new URL(url);
  } catch {
    u = null;
  }
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:') || (u.pathname !== '/' && u.pathname !== '')) {
    throw invalidOption('GENESYS_TENANTS_GATEWAY', `must be an http(s) URL with no path, e.g. http://127.0.0.1:8080 (got ${JSON.stringify(url)})`);
  }
  const gateway = { protocol: u.protocol.slice(0, -1), host: u.hostname.replace(/^\[|\]$/g, '') };
  if (u.port) gateway.port = Number(u.port);
  return { ...options, gateway };
}

class TenantOrchestrator {
  #native;
  // OpenTelemetry (lib/otel.js), or null: off, or `@opentelemetry/api` not installed.
  #tracing = null;
  #gateway;
  #clients = new Map();
  #configs;
  #credentials;

  /**
   * `options` as documented; a string is taken as `{ configEndpoint: string }` (the tutorial's
   * `new TenantOrchestrator(configEndpoint)`).
   */
  constructor(options = {}) {
    let opts = withEnvironmentDefaults(typeof options === 'string' ? { configEndpoint: options } : options);
    let otel = null;
    if (opts !== null && typeof opts === 'object' && opts.openTelemetry !== undefined) {
      // Only now is lib/otel.js (and through it @opentelemetry/api) loaded.
      const split = require('./otel.js').splitOptions(opts);
      opts = split.wire;
      otel = split.config;
    }
    this.#native = new native.NativeOrchestrator(toWire(opts));
    this.#gateway = (opts && opts.gateway) || null;
    if (otel) this.#tracing = require('./otel.js').createTracing(otel);
  }

  /**
   * Throws `SCOPE_MISSING` (`preflight: true`, naming them) when the tenant declares
   * `requiredScopes` in its config and they do not cover `scopes`; `area` covers `area:readonly`.
   */
  assertScopes(tenantId, scopes) {
    const refusal = this.#native.checkScopes(tenantId, scopes);
    if (refusal) throw refusal;
  }

  /**
   * An official-SDK `ApiClientClass` bound to the tenant (one per tenant, cached; rebuilt only
   * when the tenant's region changes). Its HTTP goes through this orchestrator's pipeline, so
   * `new platformClient.UsersApi(client).getUsers()` gets tokens, 401 recovery, 429 backoff,
   * rate limiting and typed errors. Needs `purecloud-platform-client-v2` installed.
   */
  getTenantClient(tenantId) {
    const info = this.#native.tenantInfo(tenantId);
    const cached = this.#clients.get(tenantId);
    if (cached && cached.environment === info.environment) return cached.client;
    const client = createTenantClient(this, tenantId, { environment: info.environment, gateway: this.#gateway });
    this.#clients.set(tenantId, { client, environment: info.environment });
    return client;
  }

  /**
   * The tutorial's `tenantConfigs`: a live, read-only `Map` of tenant id → config object
   * (`{ tenantId, clientId, clientSecret, domainPrefix, scopes, rotationIntervalMs, environment }`,
   * `clientSecret` not enumerable). It reads the current config at every call.
   */
  get tenantConfigs() {
    this.#configs ??= new TenantConfigsView(this.#native);
    return this.#configs;
  }

  /**
   * The tutorial's `credentialManager` — `getGenesysClient(credentials)`, `fetchAccessToken(credentials)`,
   * `rotateCredentials(domainPrefix)` — backed by this orchestrator's core (no second cache).
   */
  get credentialManager() {
    this.#credentials ??= new CredentialManager(this, this.#native);
    return this.#credentials;
  }

  /**
   * The tutorial's `scheduleRotation(tenantId, config)`: forces a rotation of the tenant every
   * `config.rotationIntervalMs`, on the core's one scheduler (no timer that keeps the process alive),
   * until the tenant's config entry changes.
   */
  scheduleRotation(tenantId, config) {
    const ms = config && typeof config === 'object' ? config.rotationIntervalMs : config;
    if (ms !== undefined && ms !== null && typeof ms !== 'number') throw invalidOption('rotationIntervalMs', 'must be a number of milliseconds');
    this.#native.scheduleRotation(tenantId, ms === undefined ? null : ms);
  }

  /** Reads and validates the config, starts the scheduler; resolves to the usable tenant ids. */
  initialize() {
    return this.#native.initialize();
  }

  /** Usable tenant ids, sorted. */
  tenantIds() {
    return this.#native.tenantIds();
  }

  /**
   * A valid access token for the tenant (cached, refreshed ahead of expiry, single-flight).
   * `options`: `{ timeoutMs, signal }`.
   */
  getAccessToken(tenantId, options) {
    let bounds;
    try {
      ({ bounds } = takeBounds(options));
    } catch (e) {
      return Promise.reject(e);
    }
    // A fresh cached token is read on this thread: the round trip through the runtime costs
    // ~40 µs, the read ~1 µs. Anything else (absent, due for refresh, errors, an aborted signal)
    // takes the async path.
    const cached = typeof tenantId === 'string' && !bounds?.signal?.aborted ? this.#native.cachedAccessToken(tenantId) : null;
    // A token read from the cache on this thread makes no span (a microsecond, and no wait): fetches do.
    if (cached !== null) return Promise.resolve(cached);
    const tracing = this.#tracing;
    const span = tracing?.begin('genesys.getAccessToken', tenantId);
    if (!span?.recording) {
      span?.span.end();
      return withBounds(this.#native, bounds, (call) => this.#native.getAccessToken(tenantId, call));
    }
    return tracing.finish(span, withBounds(this.#native, bounds, (call) => this.#native.getAccessToken(tenantId, call), true));
  }

  /** Re-reads the tenant's config and obtains a new token; the old token serves until then. */
  rotateCredentials(tenantId) {
    return this.#native.rotateCredentials(tenantId);
  }

  /**
   * A Node request handler `(req, res)` that rotates credentials when a signed delivery asks
   * (plain `http`, Express, Fastify's `req.raw`/`reply.raw`; it needs the raw body). Throws
   * `INVALID_OPTIONS` for a bad `secret` or `toleranceMs`.
   */
  rotationWebhook(options) {
    const wire = toWire(options);
    this.#native.checkWebhookOptions(wire);
    return rotationWebhookHandler(this.#native, wire);
  }

  /** Re-reads the config now; resolves to `{ added, removed, changed }`. */
  reloadConfig() {
    return this.#native.reloadConfig();
  }

  /**
   * Subscribes to a tenant's notification topics (docs/notifications.md): `onEvent({ topicName, eventBody,
   * metadata, tenantId })` for each event; resolves to a handle `{ add, remove, close, dropped }` once the
   * server has the topics. `signal` closes it.
   */
  subscribe(tenantId, topics, onEvent, options) {
    return notifications.subscribe(this.#native, tenantId, topics, onEvent, options);
  }

  /** A tenant's notification events as an async iterator; leaving the loop (or `signal`) closes it. */
  events(tenantId, topics, options) {
    return notifications.events(this.#native, tenantId, topics, options);
  }

  /** Calls `callback(event)` for every event; returns a function that unsubscribes. */
  onEvent(callback) {
    if (typeof callback !== 'function') {
      throw invalidOption('callback', 'must be a function', 'onEvent(callback): callback must be a function');
    }
    const id = this.#native.subscribe((text) => {
      try {
        callback(JSON.parse(text));
      } catch (e) {
        // A throwing listener must not break event delivery to the others.
        process.nextTick(() => {
          throw e;
        });
      }
    });
    return () => this.#native.unsubscribe(id);
  }

  /**
   * Sends one API call through the pipeline; resolves on 2xx to `{ status, headers, body }`.
   * `request.timeoutMs` bounds the whole call (limiter waits, retries, the token); `request.signal` aborts it.
   */
  async request(tenantId, request) {
    const {
      bounds,
      rest: [init],
    } = takeBounds(request);
    const tracing = this.#tracing;
    const span = tracing?.begin(init?.method ? String(init.method).toUpperCase() : 'GET', tenantId);
    let text;
    try {
      text = JSON.stringify((span ? tracing.withContext(span, init) : init) ?? null);
    } catch (cause) {
      const err = invalidOption('request', `is not serialisable to JSON: ${cause.message}`, `request is not serialisable to JSON: ${cause.message}`);
      span && tracing.end(span, null, err);
      throw err;
    }
    if (!span?.recording) {
      span?.span.end();
      return JSON.parse(await withBounds(this.#native, bounds, (call) => this.#native.requestJson(tenantId, text ?? 'null', call)));
    }
    return tracing.finish(span, withBounds(this.#native, bounds, (call) => this.#native.requestJson(tenantId, text ?? 'null', call), true));
  }

  /** Every item of a listing: `{ entities, totalCount, pages }`. `options.timeoutMs` / `options.signal` bound it all. */
  async fetchAll(tenantId, request, options) {
    const {
      bounds,
      rest: [init, opts],
    } = takeBounds(request, options);
    const tracing = this.#tracing;
    const span = tracing?.begin('genesys.fetchAll', tenantId);
    let req, o;
    try {
      [req, o] = [toWire(span ? tracing.withContext(span, init) : init), toWire(opts)];
    } catch (err) {
      span && tracing.end(span, null, err);
      throw err;
    }
    if (!span?.recording) {
      span?.span.end();
      return JSON.parse(await withBounds(this.#native, bounds, (call) => this.#native.fetchAllJson(tenantId, req, o, call)));
    }
    return tracing.finish(span, withBounds(this.#native, bounds, (call) => this.#native.fetchAllJson(tenantId, req, o, call), true));
  }

  /**
   * Pages of a listing as an async iterator: `for await (const page of o.paginate(...))`.
   * Each page is `{ items, index, total }`. Breaking out of the loop stops fetching.
   * `options.timeoutMs` is a deadline for the whole listing; `options.signal` aborts it.
   */
  paginate(tenantId, request, options) {
    const {
      bounds,
      rest: [init, opts],
    } = takeBounds(request, options);
    const tracing = this.#tracing;
    const [req, o] = [toWire(init), toWire(opts)];
    const call = callSpec(this.#native, bounds, !!tracing);
    let cursor;
    try {
      cursor = this.#native.pageCursor(tenantId, req, o, call.spec);
    } catch (e) {
      call.done();
      throw e;
    }
    const finish = () => {
      cursor.close();
      call.done();
    };
    return {
      [Symbol.asyncIterator]() {
        let done = false;
        return {
          async next() {
            if (done) return { done: true, value: undefined };
            let page;
            try {
              if (tracing && !cursor.isDone()) {
                // Traced: a span per page that sends a request, under the context active at this next();
                // with propagateContext that page's API requests carry its traceparent.
                const span = tracing.begin('genesys.page', tenantId);
                const out = tracing.traceHeaders(span);
                page = await tracing.page(span, cursor.nextJson(out?.traceparent, out?.tracestate));
              } else page = tracing ? await tracing.page(null, cursor.nextJson()) : JSON.parse(await cursor.nextJson());
            } catch (e) {
              // A failed page ends the listing: its call is closed, nothing more is fetched.
              done = true;
              finish();
              throw call.annotate(e);
            }
            if (page === null) {
              done = true;
              finish();
              return { done: true, value: undefined };
            }
            return { done: false, value: page };
          },
          async return() {
            done = true;
            finish();
            return { done: true, value: undefined };
          },
        };
      },
    };
  }

  /** Per-tenant counters and cache state. */
  stats() {
    return JSON.parse(this.#native.statsJson());
  }

  /** Metrics per tenant (calls by outcome, latency histogram, retries, 429s, tokens, rotations), config and store. */
  metrics() {
    return JSON.parse(this.#native.metricsJson());
  }

  /** The same metrics in the Prometheus text exposition format, for a `/metrics` endpoint. */
  metricsText() {
    return this.#native.metricsText();
  }

  /**
   * The same text, gathered and rendered off Node's thread (for many tenants: 10,000 are 16 MiB, tens of ms
   * of blocking for metricsText()); Node's thread only receives the finished string.
   */
  metricsTextAsync() {
    return this.#native.metricsTextAsync();
  }

  /**
   * The figures of `metrics()` as OpenTelemetry observable instruments on `meter` (read from the core at
   * each collection, one read for all); returns a function that removes them. Loads nothing itself.
   */
  registerOpenTelemetryMetrics(meter) {
    return require('./otel.js').registerMetrics(meter, () => this.metrics());
  }

  /** Stops every task; afterwards nothing keeps the event loop alive and calls reject with CLOSED. */
  close() {
    this.#clients.clear();
    return this.#native.close();
  }
}

module.exports = {
  TenantOrchestrator,
  ErrorCodes,
  EventKinds,
  isGenesysTenantsError,
  coreVersion: native.coreVersion,
  explainOperation,
  catalogueSource,
  // The tutorial pattern's helpers, correct (see the README's "Coming from the tutorial").
  fetchTenantConfig: tutorial.fetchTenantConfig,
  executeWithScopeValidation: tutorial.executeWithScopeValidation,
  fetchWithPaginationAndRetry: tutorial.fetchWithPaginationAndRetry,
};

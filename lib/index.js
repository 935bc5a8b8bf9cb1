'use strict';
// The package entry: the native orchestrator with a small JS layer for what is JS-shaped
// (event subscription handles, async iterators, the official-SDK bridge).
const native = require('../index.js');

/** Every `code` an error from this package can carry. */
const ErrorCodes = Object.freeze([
  'UNKNOWN_TENANT',
  'TENANT_INVALID',
  'CONFIG_UNAVAILABLE',
  'HOST_NOT_ALLOWED',
  'AUTH_FAILED',
  'PERMISSION_MISSING',
  'SCOPE_MISSING',
  'RATE_LIMITED',
  'UPSTREAM_ERROR',
  'NETWORK_ERROR',
  'TIMEOUT',
  'CLOSED',
  'NOT_INITIALIZED',
  'INVALID_OPTIONS',
]);

class TenantOrchestrator {
  #native;

  constructor(options = {}) {
    this.#native = new native.NativeOrchestrator(options);
  }

  /** Reads and validates the config, starts the scheduler; resolves to the usable tenant ids. */
  initialize() {
    return this.#native.initialize();
  }

  /** Usable tenant ids, sorted. */
  tenantIds() {
    return this.#native.tenantIds();
  }

  /** A valid access token for the tenant (cached, refreshed ahead of expiry, single-flight). */
  getAccessToken(tenantId) {
    return this.#native.getAccessToken(tenantId);
  }

  /** Re-reads the tenant's config and obtains a new token; the old token serves until then. */
  rotateCredentials(tenantId) {
    return this.#native.rotateCredentials(tenantId);
  }

  /** Re-reads the config now; resolves to `{ added, removed, changed }`. */
  reloadConfig() {
    return this.#native.reloadConfig();
  }

  /** Calls `callback(event)` for every event; returns a function that unsubscribes. */
  onEvent(callback) {
    if (typeof callback !== 'function') {
      const err = new TypeError('onEvent(callback): callback must be a function');
      err.code = 'INVALID_OPTIONS';
      throw err;
    }
    const id = this.#native.subscribe((event) => {
      try {
        callback(event);
      } catch (e) {
        // A throwing listener must not break event delivery to the others.
        process.nextTick(() => {
          throw e;
        });
      }
    });
    return () => this.#native.unsubscribe(id);
  }

  /** Per-tenant counters and cache state. */
  stats() {
    return this.#native.stats();
  }

  /** Stops every task; afterwards nothing keeps the event loop alive and calls reject with CLOSED. */
  close() {
    return this.#native.close();
  }
}

module.exports = { TenantOrchestrator, ErrorCodes, coreVersion: native.coreVersion };

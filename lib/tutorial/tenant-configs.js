'use strict';
// The tutorial's config objects — `{ tenantId, clientId, clientSecret, domainPrefix, scopes,
// rotationIntervalMs, … }` — built one way for `fetchTenantConfig()` and for `o.tenantConfigs`, and
// the live, read-only Map view of an orchestrator's tenants.
const util = require('node:util');

/** The tutorial's default when an entry names no interval (`rotationIntervalMs || 3600000`). */
const TUTORIAL_ROTATION_INTERVAL_MS = 3600000;

/** `value` under `key`, present but out of `console.log` and JSON. */
function hidden(obj, key, value) {
  Object.defineProperty(obj, key, { value, enumerable: false, writable: true, configurable: true });
}

/**
 * One entry as the tutorial builds it, from the core's JSON of a valid tenant. `clientSecret` is a
 * getter over a private field, so `config.clientSecret` reads it while the object has no such
 * property: JSON.stringify, spreading, Object.getOwnPropertyDescriptors and structuredClone never
 * see it, and util.inspect has nothing to show, whatever its options (showHidden, getters, depth,
 * customInspect: false). `requiredScopes`, the tutorial's alias of `scopes`, is present but not
 * enumerable.
 */
class TenantConfig {
  #clientSecret;

  constructor(t) {
    this.tenantId = t.tenantId;
    this.clientId = t.clientId;
    this.domainPrefix = t.domainPrefix ?? undefined;
    this.scopes = t.requiredScopes;
    this.rotationIntervalMs = t.rotationIntervalMs || TUTORIAL_ROTATION_INTERVAL_MS;
    this.environment = t.environment;
    this.#clientSecret = t.clientSecret;
    hidden(this, 'requiredScopes', t.requiredScopes);
  }

  /** The tenant's OAuth client secret (undefined off an entry: the prototype has none). */
  get clientSecret() {
    return #clientSecret in this ? this.#clientSecret : undefined;
  }
}

// util.inspect lists the accessors of a prototype whose constructor it does not know as built in —
// and, with `getters`, calls them — so `{ showHidden: true, getters: true }` would print the secret
// through the getter above. Naming the prototype's constructor `Object` makes an entry the plain
// object it stands for (`config.constructor === Object`), whose prototype inspect leaves alone. The
// hostile-js test checks every inspect option, so a Node that inspects differently fails there.
Object.defineProperty(TenantConfig.prototype, 'constructor', { value: Object, writable: true, enumerable: false, configurable: true });

function tutorialEntry(t) {
  return new TenantConfig(t);
}

function readOnly() {
  throw new TypeError('tenantConfigs is a read-only view of the orchestrator\'s config: change the config service (or call reloadConfig())');
}

/**
 * A `Map` of tenant id → config object that reads the orchestrator's current table at every call
 * (so a config change shows at once), and refuses writes. `native` is the NativeOrchestrator.
 */
class TenantConfigsView extends Map {
  #native;

  constructor(native) {
    super();
    this.#native = native;
  }

  get size() {
    return this.#native.tenantIds().length;
  }

  has(tenantId) {
    return this.get(tenantId) !== undefined;
  }

  get(tenantId) {
    if (typeof tenantId !== 'string') return undefined;
    let text;
    try {
      text = this.#native.tenantConfigJson(tenantId);
    } catch {
      return undefined; // unknown, invalid, or not initialized yet: not in the Map
    }
    return Object.freeze(tutorialEntry(JSON.parse(text)));
  }

  *keys() {
    yield* this.#native.tenantIds();
  }

  *values() {
    for (const [, v] of this.entries()) yield v;
  }

  *entries() {
    for (const id of this.#native.tenantIds()) {
      const v = this.get(id);
      if (v !== undefined) yield [id, v];
    }
  }

  [Symbol.iterator]() {
    return this.entries();
  }

  forEach(callback, thisArg) {
    for (const [k, v] of this.entries()) callback.call(thisArg, v, k, this);
  }

  set() {
    readOnly();
  }

  delete() {
    readOnly();
  }

  clear() {
    readOnly();
  }

  [util.inspect.custom](depth, options, inspect) {
    return `TenantConfigs(${this.size}) ${inspect(Object.fromEntries(this.entries()), options)}`;
  }
}

module.exports = { tutorialEntry, TenantConfig, TenantConfigsView, hidden, TUTORIAL_ROTATION_INTERVAL_MS };

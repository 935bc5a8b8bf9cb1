'use strict';
// The official-SDK bridge: an `ApiClientClass` per tenant whose HTTP goes through the Rust
// pipeline (auth, 401 recovery, 429 backoff, rate limiting, classification), so every
// `new platformClient.XxxApi(client)` works unchanged.

const { packageError } = require('./error-codes.js');

let sdk; // loaded on first use: the SDK is an optional peer dependency

function loadSdk() {
  if (sdk) return sdk;
  try {
    sdk = require('purecloud-platform-client-v2');
  } catch (cause) {
    throw packageError(
      'SDK_NOT_INSTALLED',
      'getTenantClient() needs the official SDK: npm install purecloud-platform-client-v2 (it is an optional peer dependency of genesys-tenants)',
      { cause },
    );
  }
  return sdk;
}

// What an SDK caller sees for an HTTP error: the server's body with our classification on top
// (the Genesys error code stays available as `genesysCode`).
function sdkErrorData(err) {
  const body = err.body && typeof err.body === 'object' && !Array.isArray(err.body) ? { ...err.body } : { message: err.message };
  if (body.code !== undefined) body.genesysCode = body.code;
  body.code = err.code;
  body.status = err.status;
  body.message = err.message;
  for (const k of ['tenantId', 'correlationId', 'missingPermissions', 'mode', 'permissionsFrom', 'missingScopes', 'preflight', 'retryAfterMs']) {
    if (err[k] !== undefined) body[k] = err[k];
  }
  return body;
}

function makeBridgeClass(AbstractHttpClient) {
  return class GenesysTenantsHttpClient extends AbstractHttpClient {
    // Private: inspecting a client (util.inspect with showHidden and getters walks every object it
    // can reach) must not reach the orchestrator, and through it the tenants' config.
    #orchestrator;

    constructor(orchestrator, tenantId) {
      super();
      this.#orchestrator = orchestrator;
      this.tenantId = tenantId;
    }

    enableHooks() {
      // Hooks are applied in request(); nothing to install.
    }

    async request(options) {
      let opts = options;
      if (this.preHook) opts = (await this.preHook(opts)) || opts;
      const url = new URL(opts.url);
      const query = {};
      for (const [k, v] of url.searchParams) query[k] = v;
      for (const [k, v] of Object.entries(opts.params || {})) {
        if (v !== undefined && v !== null) query[k] = v;
      }
      const headers = {};
      for (const [k, v] of Object.entries(opts.headers || {})) {
        if (v !== undefined && v !== null && k.toLowerCase() !== 'authorization') headers[k] = String(v);
      }
      let body = opts.data;
      if (body === undefined || body === null || body === '') body = undefined;
      const method = String(opts.method || 'GET').toUpperCase();
      if (body === undefined && (method === 'GET' || method === 'HEAD' || method === 'DELETE')) delete headers['Content-Type'];
      let res;
      try {
        res = await this.#orchestrator.request(this.tenantId, { method, path: url.pathname, query, headers, body });
      } catch (err) {
        if (typeof err.status === 'number') {
          const data = sdkErrorData(err);
          const responseHeaders = {};
          if (err.correlationId) responseHeaders['inin-correlation-id'] = err.correlationId;
          if (err.retryAfterMs !== undefined) responseHeaders['retry-after'] = String(Math.ceil(err.retryAfterMs / 1000));
          err.response = { status: err.status, statusText: '', headers: responseHeaders, data };
        }
        throw err;
      }
      // callApi resolves `data` when truthy, else `text`: an empty body resolves undefined, as with axios.
      const empty = res.body === null || res.body === '';
      let response = {
        status: res.status,
        statusText: '',
        headers: res.headers,
        data: empty ? '' : res.body,
        text: empty ? undefined : typeof res.body === 'string' ? res.body : undefined,
      };
      if (this.postHook) response = (await this.postHook(response)) || response;
      return response;
    }
  };
}

const bridgeClasses = new WeakMap();
// Which tenant (and orchestrator) a client from getTenantClient() belongs to; a WeakMap keeps it
// off the client object and lets clients be collected.
const boundClients = new WeakMap();

/** `{ orchestrator, tenantId }` for a client made by getTenantClient(), else undefined. */
function boundTenant(client) {
  return client !== null && typeof client === 'object' ? boundClients.get(client) : undefined;
}

/** `client` bound to the tenant: live reload off, its region or the gateway, the bridge. */
function configure(platformClient, client, bridge, { environment, gateway }) {
  // The SDK's per-client config-file watcher can reset a live client's region and gateway, and
  // leaks a listener per client: turn it off first.
  client.config.live_reload_config = false;
  if (gateway) {
    client.setGateway({ host: gateway.host, port: gateway.port, protocol: gateway.protocol || 'https', path_params_login: gateway.pathParamsLogin, path_params_api: gateway.pathParamsApi });
  } else {
    client.setEnvironment(environment);
  }
  client.setHttpClient(bridge);
  // The pipeline signs every request itself; this placeholder only satisfies the SDK's auth step.
  client.setAccessToken('managed-by-genesys-tenants');
  return client;
}

/** Levenshtein distance, for naming the nearest real methods. */
function distance(a, b) {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 0; i < a.length; i++) {
    const cur = [i + 1];
    for (let j = 0; j < b.length; j++) cur.push(Math.min(prev[j] + (a[i] === b[j] ? 0 : 1), prev[j + 1] + 1, cur[j] + 1));
    prev = cur;
  }
  return prev[b.length];
}

const SDK_METHOD = /^(get|post|put|patch|delete|head)[A-Z0-9]/;

/** The `UNKNOWN_METHOD` error for `className.method`, naming the three nearest real methods. */
function unknownMethod(instance, className, method) {
  const names = Object.getOwnPropertyNames(Object.getPrototypeOf(instance)).filter((n) => SDK_METHOD.test(n));
  const nearest = names.map((n) => [distance(method.toLowerCase(), n.toLowerCase()), n]).sort((x, y) => x[0] - y[0] || (x[1] < y[1] ? -1 : 1)).slice(0, 3).map(([, n]) => n);
  return packageError(
    'UNKNOWN_METHOD',
    `${className}.${method} does not exist in the official SDK (purecloud-platform-client-v2); the nearest methods are ${nearest.join(', ')}`,
    { api: className, method, suggestions: nearest },
  );
}

/** `instance` (an SDK API class) whose missing methods reject with `UNKNOWN_METHOD`. */
function guardMethods(instance, className) {
  return new Proxy(instance, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (value !== undefined || typeof prop !== 'string' || !SDK_METHOD.test(prop)) return value;
      return () => Promise.reject(unknownMethod(target, className, prop));
    },
  });
}

/**
 * `client.api`: every API class of the installed SDK by its camel-case name (`usersApi`, `oauthApi`,
 * `analyticsApi`, any case), created once, on a companion client of the same tenant that returns
 * extended responses — `{ status, headers, body }`, as the tutorial reads them (`users.body.total`).
 */
function apiNamespace(platformClient, makeClient) {
  const classes = new Map(Object.keys(platformClient).filter((k) => /Api$/.test(k) && typeof platformClient[k] === 'function').map((k) => [k.toLowerCase(), k]));
  const instances = new Map();
  let extended;
  return new Proxy(Object.create(null), {
    get(_target, prop) {
      const className = typeof prop === 'string' ? classes.get(prop.toLowerCase()) : undefined;
      if (!className) return undefined;
      if (!instances.has(className)) {
        if (!extended) {
          extended = makeClient();
          extended.setReturnExtendedResponses(true);
        }
        instances.set(className, guardMethods(new platformClient[className](extended), className));
      }
      return instances.get(className);
    },
    has(_target, prop) {
      return typeof prop === 'string' && classes.has(prop.toLowerCase());
    },
  });
}

/** An official-SDK client for one tenant, routed through `orchestrator`. */
function createTenantClient(orchestrator, tenantId, where) {
  const platformClient = loadSdk();
  let Bridge = bridgeClasses.get(platformClient.AbstractHttpClient);
  if (!Bridge) {
    Bridge = makeBridgeClass(platformClient.AbstractHttpClient);
    bridgeClasses.set(platformClient.AbstractHttpClient, Bridge);
  }
  const makeClient = () => configure(platformClient, new platformClient.ApiClientClass(), new Bridge(orchestrator, tenantId), where);
  const client = makeClient();
  let api;
  Object.defineProperty(client, 'api', {
    enumerable: false,
    get() {
      api ??= apiNamespace(platformClient, makeClient);
      return api;
    },
  });
  boundClients.set(client, { orchestrator, tenantId });
  return client;
}

module.exports = { createTenantClient, loadSdk, sdkErrorData, boundTenant };

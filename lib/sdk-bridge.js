'use strict';
// The official-SDK bridge: an `ApiClientClass` per tenant whose HTTP goes through the Rust
// pipeline (auth, 401 recovery, 429 backoff, rate limiting, classification), so every
// `new platformClient.XxxApi(client)` works unchanged.

let sdk; // loaded on first use: the SDK is an optional peer dependency

function loadSdk() {
  if (sdk) return sdk;
  try {
    sdk = require('purecloud-platform-client-v2');
  } catch (cause) {
    const err = new Error(
      "getTenantClient() needs the official SDK: npm install purecloud-platform-client-v2 (it is an optional peer dependency of genesys-tenants)",
    );
    err.code = 'SDK_NOT_INSTALLED';
    err.cause = cause;
    throw err;
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
  for (const k of ['tenantId', 'correlationId', 'missingPermissions', 'mode', 'missingScopes', 'preflight', 'retryAfterMs']) {
    if (err[k] !== undefined) body[k] = err[k];
  }
  return body;
}

function makeBridgeClass(AbstractHttpClient) {
  return class GenesysTenantsHttpClient extends AbstractHttpClient {
    constructor(orchestrator, tenantId) {
      super();
      this.orchestrator = orchestrator;
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
        res = await this.orchestrator.request(this.tenantId, { method, path: url.pathname, query, headers, body });
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

/** An official-SDK client for one tenant, routed through `orchestrator`. */
function createTenantClient(orchestrator, tenantId, { environment, gateway }) {
  const platformClient = loadSdk();
  const client = new platformClient.ApiClientClass();
  // The SDK's per-client config-file watcher can reset a live client's region and gateway, and
  // leaks a listener per client: turn it off first.
  client.config.live_reload_config = false;
  if (gateway) {
    client.setGateway({ host: gateway.host, port: gateway.port, protocol: gateway.protocol || 'https', path_params_login: gateway.pathParamsLogin, path_params_api: gateway.pathParamsApi });
  } else {
    client.setEnvironment(environment);
  }
  let Bridge = bridgeClasses.get(platformClient.AbstractHttpClient);
  if (!Bridge) {
    Bridge = makeBridgeClass(platformClient.AbstractHttpClient);
    bridgeClasses.set(platformClient.AbstractHttpClient, Bridge);
  }
  client.setHttpClient(new Bridge(orchestrator, tenantId));
  // The pipeline signs every request itself; this placeholder only satisfies the SDK's auth step.
  client.setAccessToken('managed-by-genesys-tenants');
  boundClients.set(client, { orchestrator, tenantId });
  return client;
}

module.exports = { createTenantClient, loadSdk, sdkErrorData, boundTenant };

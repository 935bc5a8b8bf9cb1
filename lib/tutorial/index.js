'use strict';
// The tutorial pattern's helper names and call signatures — fetchTenantConfig,
// executeWithScopeValidation, fetchWithPaginationAndRetry — with correct behaviour: a validated
// config, errors classified by the Rust core from what the server said, Retry-After honoured,
// waits timed in Rust (immune to fake timers), and never a silent partial result.
const native = require('../native.js').loadNative();
const { boundTenant } = require('../sdk-bridge.js');
const { ErrorCodes, invalidOption, packageError } = require('../error-codes.js');
const { tutorialEntry, hidden } = require('./tenant-configs.js');
const { toWire } = require('../wire.js');

// The core's defaults for the retry budget: one home for them, in Rust.
const DEFAULTS = native.defaultOptions();

// ---------------------------------------------------------------------------------------------
// fetchTenantConfig

/**
 * Reads `GET {configEndpoint}/api/v1/genesys/tenants` once (token from `CONFIG_SERVICE_TOKEN`, 5 s
 * timeout) and validates every entry as the orchestrator does. Resolves, as the tutorial builds it, to a
 * `Map` of tenant id → `{ tenantId, clientId, clientSecret, domainPrefix, scopes, rotationIntervalMs,
 * environment }` (`clientSecret` present but not enumerable, so logging or serialising an entry does not
 * print it; `rotationIntervalMs` is the tutorial's 3600000 when the entry names none). The unusable entries
 * are on the Map's (not enumerable) `invalid` — `[{ tenantId, code, field, reason, message }]` — and
 * `unkeyed`: one bad entry never fails the others. Rejects with `CONFIG_UNAVAILABLE` when the service
 * cannot be read, the document is not an array, or no entry is valid; `INVALID_OPTIONS` for a bad argument.
 */
async function fetchTenantConfig(configEndpoint, options = {}) {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw invalidOption('options', 'must be an object of orchestrator options');
  }
  let opts;
  if (typeof configEndpoint === 'string') opts = { ...options, configEndpoint };
  else if (configEndpoint && typeof configEndpoint === 'object' && !Array.isArray(configEndpoint)) opts = { ...configEndpoint };
  else throw invalidOption('configEndpoint', 'must be the config service base URL (a string) or an options object');
  const doc = JSON.parse(await native.readTenantConfigJson(toWire(opts)));
  const tenants = new Map(doc.tenants.map((t) => [t.tenantId, tutorialEntry(t)]));
  hidden(tenants, 'invalid', doc.invalid);
  hidden(tenants, 'unkeyed', doc.unkeyed);
  return tenants;
}

// ---------------------------------------------------------------------------------------------
// Errors met through the official SDK, in whichever shape it rejects with

const TRANSPORT_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'ECONNABORTED', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND']);
const OUR_CODES = new Set(ErrorCodes);

function isObject(v) {
  return v !== null && typeof v === 'object';
}

function stringHeaders(headers) {
  const out = {};
  if (!isObject(headers)) return out;
  for (const [k, v] of Object.entries(headers)) {
    if (v !== undefined && v !== null) out[k] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}

function bodyText(body) {
  if (body === undefined || body === null) return '';
  if (typeof body === 'string') return body;
  try {
    return JSON.stringify(body);
  } catch {
    return String(body);
  }
}

/** An `Error` of ours rebuilt from the plain object the SDK rejects with for a bridged client. */
function fromBridgedBody(data) {
  const { message, ...fields } = data;
  return packageError(data.code, typeof message === 'string' ? message : data.code, fields);
}

/**
 * This package's error for whatever an SDK call (or any apiCall) rejected with:
 * - our own errors pass through;
 * - the SDK's default-mode rejection (the server's error body) and extended-mode rejection
 *   (`{ status, headers, body, error }`) and raw axios errors (`error.response`) are classified by
 *   the core from the status, body and headers the server sent;
 * - anything else (a transport error, a bug in the caller's function) is returned unchanged.
 */
function toPackageError(e, tenantId) {
  if (!isObject(e)) return e;
  if (e instanceof Error && OUR_CODES.has(e.code)) return e;
  // A client from getTenantClient(): extended mode keeps our error in `error`; default mode
  // rejects with the plain object the bridge made from it.
  if (e.error instanceof Error && OUR_CODES.has(e.error.code)) return e.error;
  if (!(e instanceof Error) && OUR_CODES.has(e.code)) return fromBridgedBody(e);
  const answer = httpAnswer(e);
  if (!answer) return e;
  const err = native.classifyHttpError(tenantId || '', answer.status, bodyText(answer.body), stringHeaders(answer.headers));
  err.cause = e;
  return err;
}

/** `{ status, body, headers }` of an HTTP refusal in any of the SDK's shapes, or null. */
function httpAnswer(e) {
  const r = e.response;
  if (isObject(r) && typeof r.status === 'number') {
    return { status: r.status, headers: r.headers, body: r.data !== undefined && r.data !== '' ? r.data : r.text };
  }
  if (typeof e.status === 'number' && 'headers' in e && ('body' in e || 'text' in e)) {
    return { status: e.status, headers: e.headers, body: e.body !== undefined && e.body !== null ? e.body : e.text };
  }
  // The SDK's default mode rejects with the server's ErrorBody itself.
  if (typeof e.status === 'number' && !(e instanceof Error)) return { status: e.status, headers: {}, body: e };
  return null;
}

// ---------------------------------------------------------------------------------------------
// executeWithScopeValidation

/**
 * Runs `apiCall(client)` — e.g. `() => new platformClient.UsersApi(client).getUsers()` — and turns
 * a refusal into this package's error naming what the server said is missing
 * (`PERMISSION_MISSING` with `missingPermissions` and `mode`, `SCOPE_MISSING` with
 * `missingScopes`), or `RATE_LIMITED` / `UPSTREAM_ERROR`. For a client from `getTenantClient()`
 * whose tenant declares `requiredScopes`, scopes the call needs (`requiredScopes` here) that the
 * tenant does not declare fail first, without a request (`SCOPE_MISSING`, `preflight: true`).
 */
async function executeWithScopeValidation(client, apiCall, requiredScopes = []) {
  if (typeof apiCall !== 'function') throw invalidOption('apiCall', 'must be a function returning a Promise');
  if (!Array.isArray(requiredScopes) || requiredScopes.some((s) => typeof s !== 'string' || s === '')) {
    throw invalidOption('requiredScopes', 'must be an array of scope names, e.g. ["users:readonly"]');
  }
  const bound = boundTenant(client);
  if (bound) {
    bound.orchestrator.assertScopes(bound.tenantId, requiredScopes);
  }
  try {
    return await apiCall(client);
  } catch (e) {
    throw toPackageError(e, bound && bound.tenantId);
  }
}

// ---------------------------------------------------------------------------------------------
// fetchWithPaginationAndRetry

/** The listing page in what `apiCall` resolved to: the SDK's body itself, or `{ status, headers, body }`. */
function pageOf(raw) {
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw) && isObject(raw.body) && !Array.isArray(raw.body)) {
    // `{ status, headers, body }` (extended responses, `client.api.*`), or the tutorial's `{ body }`.
    if (typeof raw.status === 'number' || 'headers' in raw || Object.keys(raw).length === 1) return raw.body;
  }
  return raw;
}

/** What the page-end rules read of a page: its top-level fields, item arrays as `{ length }`. */
function summary(page) {
  if (!isObject(page) || Array.isArray(page)) return page;
  const out = {};
  for (const [k, v] of Object.entries(page)) out[k] = Array.isArray(v) ? { length: v.length } : isObject(v) ? null : v;
  return out;
}

/**
 * How long to wait before sending the page again, or `null` to give up: the pipeline's own retry
 * rules (in Rust) for the error the page failed with. A Node transport error (`ECONNRESET`, …) of a
 * caller's own SDK client counts as a lost answer.
 */
function retryWait(err, retries, waitedMs, maxRetries, budgetMs) {
  if (!isObject(err)) return null;
  const code = TRANSPORT_CODES.has(err.code) ? 'NETWORK_ERROR' : err.code;
  if (typeof code !== 'string') return null;
  return native.retryWait(JSON.stringify({ code, status: err.status, retryAfterMs: err.retryAfterMs }), retries, waitedMs, maxRetries, budgetMs);
}

/**
 * Every item of a listing, fetched page by page: `apiCall(nextToken, { kind, pageNumber })` gets `null`
 * first, then the next page's token — the next page number for page-number listings (`pageCount`,
 * `total`, analytics `totalHits`), the `cursor`, the `nextUri` or a search's `nextPage` — exactly as the
 * core's paginator reads pages (the rules are in Rust). Resolves to `{ entities, totalCount }`.
 * A page that fails with 429 (waits the server's Retry-After), 500/502/503/504 or a transport error is
 * retried up to `maxRetries` times by the pipeline's own retry rules, its waits adding up to at most
 * `options.maxRetryDelayMs` (the orchestrator's default); then the call rejects — with the items fetched so far on
 * `err.partialEntities` and `err.pagesFetched` — never resolving with a partial list.
 * `options.maxPages` (default 1000) stops a runaway listing with `TOO_MANY_PAGES`.
 */
async function fetchWithPaginationAndRetry(apiCall, maxRetries = 3, options = {}) {
  if (typeof apiCall !== 'function') throw invalidOption('apiCall', 'must be a function (nextToken) => Promise<page>');
  if (!Number.isInteger(maxRetries) || maxRetries < 0 || maxRetries > 20) throw invalidOption('maxRetries', 'must be a whole number from 0 to 20');
  if (!isObject(options)) throw invalidOption('options', 'must be an object');
  const maxPages = options.maxPages === undefined ? 1000 : options.maxPages;
  if (!Number.isInteger(maxPages) || maxPages < 1) throw invalidOption('maxPages', 'must be a whole number of at least 1');
  const tenantId = options.tenantId;
  const budgetMs = options.maxRetryDelayMs === undefined ? DEFAULTS.maxRetryDelayMs : options.maxRetryDelayMs;
  if (!Number.isFinite(budgetMs) || budgetMs < 0) throw invalidOption('maxRetryDelayMs', 'must be a number of milliseconds, at least 0');
  let waitedMs = 0;

  const entities = [];
  let pages = 0;
  // The token that led to the page about to be read (null: the first page).
  let next = null;
  const fail = (err) => {
    if (isObject(err)) {
      hidden(err, 'partialEntities', entities.slice());
      hidden(err, 'pagesFetched', pages);
    }
    return err;
  };
  for (;;) {
    if (pages >= maxPages) {
      throw fail(packageError('TOO_MANY_PAGES', `the listing needs more than maxPages=${maxPages} pages; raise maxPages or narrow the query`, tenantId ? { maxPages, tenantId } : { maxPages }));
    }
    let raw;
    for (let attempt = 0; ; attempt++) {
      try {
        raw = await apiCall(next ? next.token : null, { kind: next ? next.kind : null, pageNumber: pages + 1 });
        break;
      } catch (e) {
        const err = toPackageError(e, tenantId);
        const wait = retryWait(err, attempt, waitedMs, maxRetries, budgetMs);
        if (wait === null) throw fail(err);
        waitedMs += wait;
        await native.sleep(wait);
      }
    }
    const page = pageOf(raw);
    const state = { pageNumber: pages + 1, seen: entities.length, [next ? next.kind : 'none']: next ? next.token : null };
    let step;
    try {
      step = JSON.parse(native.pageStep(JSON.stringify(summary(page) ?? null), JSON.stringify(state)));
    } catch (err) {
      throw fail(tenantId && isObject(err) && err.code === 'UPSTREAM_ERROR' ? Object.assign(err, { tenantId }) : err);
    }
    if (step.items) entities.push(...page[step.items]);
    pages += 1;
    if (!step.next) return { entities, totalCount: entities.length };
    next = step.next;
  }
}

module.exports = { fetchTenantConfig, executeWithScopeValidation, fetchWithPaginationAndRetry, toPackageError };

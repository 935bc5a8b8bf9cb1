// Hand-written declarations for the JS layer; the native surface is generated in ../index.d.ts.
import type { ConfigDiff, GatewayOptions, ProxyOptions, RotationWebhookOptions, TenantOrchestratorOptions } from '../index';
// The official SDK is an optional peer dependency: with its typings installed, `SdkApiClient` is its
// `ApiClientClass`; without them the import resolves to nothing and `SdkApiClient` is `any`.
// @ts-ignore -- the optional peer may be absent
import type * as Sdk from 'purecloud-platform-client-v2';

export type { ConfigDiff, GatewayOptions, ProxyOptions, RotationWebhookOptions, TenantOrchestratorOptions };

/**
 * The part of an OpenTelemetry `Meter` (`@opentelemetry/api`) that `registerOpenTelemetryMetrics()` uses; any
 * Meter has it. Typed structurally so these typings need no `@opentelemetry/api` installed.
 */
export interface OpenTelemetryMeter {
  createObservableCounter(name: string, options?: { unit?: string; description?: string }): object;
  createObservableGauge(name: string, options?: { unit?: string; description?: string }): object;
  addBatchObservableCallback(callback: (result: any) => void, observables: object[]): void;
  removeBatchObservableCallback(callback: (result: any) => void, observables: object[]): void;
}

/** One API call (checked by the core: `INVALID_OPTIONS` naming the field). */
export interface ApiRequestInit extends CallBounds {
  /** HTTP method. Default `'GET'`. */
  method?: string;
  /** An API path such as `'/api/v2/users'` (a query is fine); anything else is `INVALID_OPTIONS`. */
  path: string;
  /** Query parameters; arrays repeat the key; `null` values are left out. */
  query?: Record<string, string | number | boolean | null | Array<string | number | boolean>>;
  /** Extra headers; `Authorization` is always the tenant's token. */
  headers?: Record<string, string | number | boolean>;
  /** JSON body (a string with a non-JSON `Content-Type` header is sent as is). */
  body?: unknown;
}

/** How a listing pages. */
export type PageStyle = 'pageNumber' | 'search' | 'analytics' | 'cursor' | 'analyticsJob';

/** How to walk a listing. */
export interface PageOptionsInit extends CallBounds {
  /**
   * Detected from the request when absent (GET → pageNumber, POST …/search → search, POST
   * …/details/query → analytics, POST …/details/jobs → analyticsJob, …/results → cursor).
   */
  style?: PageStyle;
  /** Items per page. Default `100`. */
  pageSize?: number;
  /** Fail with `TOO_MANY_PAGES` rather than fetch more pages than this. Default `1000`. */
  maxPages?: number;
  /** Pages fetched at once once the total is known (`fetchAll`). Default `4`. */
  concurrency?: number;
  /** How long an analytics job may take to be fulfilled. Default `600000`. */
  jobTimeoutMs?: number;
}

/** A 2xx answer. */
export interface ApiResponse<T = unknown> {
  status: number;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  /** Parsed JSON, or text, or null for an empty body. */
  body: T;
}

/** One page of a listing. */
export interface Page<T = unknown> {
  items: T[];
  /** 1-based. */
  index: number;
  /** Total item count, when the server said. */
  total: number | null;
}

/** Everything a listing returned. */
export interface FetchAllResult<T = unknown> {
  entities: T[];
  totalCount: number;
  pages: number;
}

/** Every `code` an error from this package can carry (the core's list; checked by a test). */
export type ErrorCode =
  | 'UNKNOWN_TENANT'
  | 'TENANT_INVALID'
  | 'CONFIG_UNAVAILABLE'
  | 'HOST_NOT_ALLOWED'
  | 'AUTH_FAILED'
  | 'ORGANIZATION_MISMATCH'
  | 'PERMISSION_MISSING'
  | 'SCOPE_MISSING'
  | 'RATE_LIMITED'
  | 'UPSTREAM_ERROR'
  | 'NETWORK_ERROR'
  | 'PROXY_AUTH_FAILED'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'TOO_MANY_PAGES'
  | 'CLOSED'
  | 'NOT_INITIALIZED'
  | 'INVALID_OPTIONS'
  | 'SDK_NOT_INSTALLED'
  | 'UNKNOWN_METHOD';

export declare const ErrorCodes: readonly ErrorCode[];

/** What every error of this package carries. Match on `code`, never on the message. */
export interface GenesysTenantsErrorBase<C extends string = ErrorCode> extends Error {
  name: 'GenesysTenantsError';
  code: C;
  tenantId?: string;
  /** `inin-correlation-id` of the answer, where there was one (quote it to Genesys support). */
  correlationId?: string;
  /** HTTP status, where there was a response. */
  status?: number;
  /** fetchWithPaginationAndRetry: what was fetched before the failure (not enumerable). */
  partialEntities?: unknown[];
  /** fetchWithPaginationAndRetry: pages fetched before the failure (not enumerable). */
  pagesFetched?: number;
  /** The Genesys error code, on errors surfaced through the official SDK. */
  genesysCode?: string;
}

export interface UnknownTenantError extends GenesysTenantsErrorBase<'UNKNOWN_TENANT'> {
  /** The client id, when the tenant was looked up by credentials (`credentialManager`). */
  clientId?: string;
}
export interface TenantInvalidError extends GenesysTenantsErrorBase<'TENANT_INVALID'> {
  tenantId: string;
  /** The offending field, in the config's spelling (`clientSecret`, `region`, …). */
  field: string;
  reason: string;
}
export interface ConfigUnavailableError extends GenesysTenantsErrorBase<'CONFIG_UNAVAILABLE'> {
  reason: string;
}
export interface HostNotAllowedError extends GenesysTenantsErrorBase<'HOST_NOT_ALLOWED'> {
  /** The refused host (or URL origin). */
  host: string;
  reason: string;
}
export interface AuthFailedError extends GenesysTenantsErrorBase<'AUTH_FAILED'> {
  tenantId: string;
  /** The OAuth client id that was rejected (never the secret). */
  clientId: string;
  reason: string;
}
/**
 * The tenant's entry is pinned (`organizationId`) and its OAuth client's token belongs to another
 * organization: nothing was sent with that token but the check (`GET /api/v2/tokens/me`).
 */
export interface OrganizationMismatchError extends GenesysTenantsErrorBase<'ORGANIZATION_MISMATCH'> {
  /** The OAuth client whose token was checked. */
  clientId: string;
  /** The entry's `organizationId`. */
  expectedOrganizationId: string;
  /** The organization the token belongs to. */
  actualOrganizationId: string;
}
export interface PermissionMissingError extends GenesysTenantsErrorBase<'PERMISSION_MISSING'> {
  /**
   * What is missing: exactly what the server said (`permissionsFrom: 'server'`), or — when its 403
   * named none, as `missing.division.permissions` never does — what the operation catalogue lists
   * for the refused operation (`permissionsFrom: 'catalogue'`).
   */
  missingPermissions: string[];
  /** ANY: one of them is enough; ALL: each is needed. */
  mode: 'ANY' | 'ALL';
  /** Who named `missingPermissions`: the server's answer, or the operation catalogue. */
  permissionsFrom: 'server' | 'catalogue';
  status: 403;
  /** The server's error body. */
  body: unknown;
}
export interface ScopeMissingError extends GenesysTenantsErrorBase<'SCOPE_MISSING'> {
  /**
   * The missing OAuth scopes — from the server (`app.not.authorized.for.scope`: the scopes the
   * operation accepts, mode ANY) or from pre-flight.
   */
  missingScopes: string[];
  mode: 'ANY' | 'ALL';
  /** True when refused before sending, from the tenant's declared scopes. */
  preflight: boolean;
  /** The server's error body (absent for a pre-flight refusal). */
  body?: unknown;
}
export interface RateLimitedError extends GenesysTenantsErrorBase<'RATE_LIMITED'> {
  /** How long the server (or the local limiter) asked to wait. */
  retryAfterMs: number;
  status?: 429;
}
export interface UpstreamError extends GenesysTenantsErrorBase<'UPSTREAM_ERROR'> {
  /** The response body (parsed JSON, or text). */
  body?: unknown;
}
export interface NetworkError extends GenesysTenantsErrorBase<'NETWORK_ERROR'> {
  reason?: string;
}
/** The outbound proxy answered 407: it wants credentials, or refused those in its URL. Not retried. */
export interface ProxyAuthFailedError extends GenesysTenantsErrorBase<'PROXY_AUTH_FAILED'> {
  /** The proxy, without its credentials: `'http://proxy.corp:3128'`. */
  proxy: string;
  /** Whether credentials were sent (and refused) or none were. */
  reason: string;
  status: 407;
}
export interface TimeoutError extends GenesysTenantsErrorBase<'TIMEOUT'> {
  /** The deadline that passed: a call's `timeoutMs`, `requestTimeoutMs`, `configTimeoutMs`, … */
  timeoutMs: number;
  /** What timed out. */
  reason: string;
}
export interface AbortedError extends GenesysTenantsErrorBase<'ABORTED'> {
  /** The signal's `reason`. */
  cause?: unknown;
}
export interface TooManyPagesError extends GenesysTenantsErrorBase<'TOO_MANY_PAGES'> {
  /** The limit that was reached. */
  maxPages: number;
}
export interface ClosedError extends GenesysTenantsErrorBase<'CLOSED'> {}
export interface NotInitializedError extends GenesysTenantsErrorBase<'NOT_INITIALIZED'> {}
export interface InvalidOptionsError extends GenesysTenantsErrorBase<'INVALID_OPTIONS'> {
  /** The offending option or argument, as the caller spelled it (`gateway.port`, `timeoutMs`). */
  option: string;
  reason?: string;
}
export interface SdkNotInstalledError extends GenesysTenantsErrorBase<'SDK_NOT_INSTALLED'> {}
export interface UnknownMethodError extends GenesysTenantsErrorBase<'UNKNOWN_METHOD'> {
  /** The SDK API class, e.g. `UsersApi`. */
  api: string;
  /** The method it lacks. */
  method: string;
  /** The nearest real methods. */
  suggestions: string[];
}
/** Thrown by `require('genesys-tenants')` when no native binary loads for this platform. */
export interface NativeBindingMissingError extends GenesysTenantsErrorBase<'NATIVE_BINDING_MISSING'> {
  /** The napi-rs platform, e.g. `linux-x64-gnu`. */
  platform: string;
  /** The platform package the loader looked for, e.g. `genesys-tenants-linux-x64-gnu`. */
  packageName: string;
}

/**
 * An error from this package, discriminated by `code`: after `if (e.code === 'PERMISSION_MISSING')`
 * TypeScript knows `e.missingPermissions` is a `string[]`.
 */
export type GenesysTenantsError =
  | UnknownTenantError
  | TenantInvalidError
  | ConfigUnavailableError
  | HostNotAllowedError
  | AuthFailedError
  | OrganizationMismatchError
  | PermissionMissingError
  | ScopeMissingError
  | RateLimitedError
  | UpstreamError
  | NetworkError
  | ProxyAuthFailedError
  | TimeoutError
  | AbortedError
  | TooManyPagesError
  | ClosedError
  | NotInitializedError
  | InvalidOptionsError
  | SdkNotInstalledError
  | UnknownMethodError
  | NativeBindingMissingError;

/** True for an error of this package (`name === 'GenesysTenantsError'` with a string `code`). */
export declare function isGenesysTenantsError(value: unknown): value is GenesysTenantsError;

/** Bounds on one call. */
export interface CallBounds {
  /**
   * A deadline for the whole call, in milliseconds (1 to 86400000): limiter waits, 429 holds, retries and
   * the token included. When it passes the call rejects with `TIMEOUT` and what was in flight is dropped.
   */
  timeoutMs?: number;
  /** Aborts the call: it rejects with `ABORTED` (`cause`: the signal's reason) and sends nothing more. */
  signal?: AbortSignal;
}

/** Every event `type` the core emits (checked against the core's list by a test). */
export type EventKind =
  | 'config.loaded'
  | 'config.updated'
  | 'config.stale'
  | 'config.invalid'
  | 'config.region-defaulted'
  | 'config.unknown-scopes'
  | 'config.unpinned'
  | 'config.snapshot-used'
  | 'config.snapshot-failed'
  | 'token.acquired'
  | 'token.refreshed'
  | 'token.rejected'
  | 'token.failed'
  | 'token.invalidated'
  | 'credentials.rotated'
  | 'rotation.failed'
  | 'credentials.promoted'
  | 'credentials.pending-failed'
  | 'retry'
  | 'ratelimit.wait'
  | 'preflight.warning'
  | 'store.unavailable'
  | 'store.available'
  | 'events.dropped'
  | 'notifications.channel-opened'
  | 'notifications.channel-moved'
  | 'notifications.channel-renewed'
  | 'notifications.channel-lost'
  | 'notifications.channel-closed'
  | 'notifications.dropped';

export declare const EventKinds: readonly EventKind[];

/** One event: `{ type, tenantId?, at, ...fields }`. */
export interface OrchestratorEvent {
  type: EventKind;
  tenantId?: string;
  /** Unix time in milliseconds. */
  at: number;
  [field: string]: unknown;
}

/** The official SDK's `ApiClientClass` (purecloud-platform-client-v2), or `any` when its typings are not installed. */
// @ts-ignore -- the optional peer may be absent
export type SdkApiClient = typeof Sdk.ApiClient;

/** What `client.api.<apiName>.<method>()` resolves to: the SDK's extended response, as the tutorial reads it. */
export interface SdkExtendedResponse<T = any> {
  status: number;
  headers: Record<string, string>;
  body: T;
}

/**
 * An official-SDK client bound to one tenant (`getTenantClient`): the SDK's `ApiClientClass`, its HTTP
 * through the orchestrator's pipeline, plus `api`: every SDK API class by camel-case name
 * (`client.api.usersApi.getUsers()`), resolving to `{ status, headers, body }`.
 */
export type TenantClient = SdkApiClient & {
  readonly api: Record<string, Record<string, (...args: any[]) => Promise<SdkExtendedResponse>>>;
};

/** One Notifications API event, as Genesys sent it, with the tenant it came from. */
export interface NotificationEvent<T = unknown> {
  /** E.g. `v2.users.{id}.presence`. */
  topicName: string;
  eventBody: T;
  /** Genesys's `metadata` (`CorrelationId`, …); `{}` when it sent none. */
  metadata: Record<string, unknown>;
  tenantId: string;
}

/** A subscription made with `subscribe()`. */
export interface NotificationSubscription {
  readonly tenantId: string;
  /** Events lost to the full queue (`notifications.queueSize`) because `onEvent` fell behind. */
  readonly dropped: number;
  /** Adds topics; resolves once the server has them. */
  add(topics: string[]): Promise<void>;
  /** Removes topics. */
  remove(topics: string[]): Promise<void>;
  /** Ends the subscription (its topics are released); idempotent. */
  close(): Promise<void>;
}

/** What `events()` returns: an async iterator of events; `break` (or `signal`) closes it. */
export interface NotificationEvents<T = unknown> extends AsyncIterableIterator<NotificationEvent<T>> {
  /** Events lost to the full queue so far. */
  readonly dropped: number;
}

export declare class TenantOrchestrator {
  /** A string is taken as `{ configEndpoint }` (the tutorial's `new TenantOrchestrator(configEndpoint)`). */
  constructor(options: TenantOrchestratorOptions | string);
  /**
   * Throws SCOPE_MISSING (`preflight: true`) when the tenant declares `requiredScopes` in its config
   * and they do not cover `scopes` (`area` covers `area:readonly`).
   */
  assertScopes(tenantId: string, scopes: string[]): void;
  /** Reads and validates the config, starts the scheduler; resolves to the usable tenant ids. */
  initialize(): Promise<string[]>;
  /** Usable tenant ids, sorted. */
  tenantIds(): string[];
  /** A valid access token for the tenant (cached, refreshed ahead of expiry, single-flight). */
  getAccessToken(tenantId: string, options?: CallBounds): Promise<string>;
  /** Re-reads the tenant's config and obtains a new token; the old token serves until then. */
  rotateCredentials(tenantId: string): Promise<void>;
  /** Re-reads the config now. */
  reloadConfig(): Promise<ConfigDiff>;
  /**
   * A request handler that rotates credentials when a signed delivery asks (`X-Genesys-Tenants-Signature:
   * t=<unix s>,v1=<hex HMAC-SHA256 of "t.body">`; body `{ tenantId }`, `{ tenantIds }` or `{ all: true }`).
   * Answers 202, 400, 401 or 413 with JSON. Works with plain `http`, Express (`express.raw()`) and Fastify
   * (`req.raw`, `reply.raw`, or a buffer body parser).
   */
  rotationWebhook(options: RotationWebhookOptions): (req: WebhookRequest, res: WebhookResponse) => Promise<void>;
  /** Calls `callback(event)` for every event; returns a function that unsubscribes. */
  onEvent(callback: (event: OrchestratorEvent) => void): () => void;
  /**
   * Subscribes to a tenant's Notifications API topics (docs/notifications.md): resolves once the server has
   * them; `onEvent` receives each event once, moves and reconnections included. `signal` closes it.
   */
  subscribe<T = unknown>(
    tenantId: string,
    topics: string[],
    onEvent: (event: NotificationEvent<T>) => void,
    options?: { signal?: AbortSignal },
  ): Promise<NotificationSubscription>;
  /** A tenant's Notifications API events as an async iterator (subscribed at once); leaving the loop closes it. */
  events<T = unknown>(tenantId: string, topics: string[], options?: { signal?: AbortSignal }): NotificationEvents<T>;
  /**
   * Sends one API call through the pipeline; resolves on 2xx, rejects with a GenesysTenantsError.
   * `request.timeoutMs` / `request.signal` bound the whole call.
   */
  request<T = unknown>(tenantId: string, request: ApiRequestInit): Promise<ApiResponse<T>>;
  /** Every item of a listing. */
  fetchAll<T = unknown>(tenantId: string, request: ApiRequestInit, options?: PageOptionsInit): Promise<FetchAllResult<T>>;
  /**
   * Pages of a listing as an async iterator. `options.timeoutMs` is one deadline for the whole listing;
   * a failed page (or an abort) ends it.
   */
  paginate<T = unknown>(tenantId: string, request: ApiRequestInit, options?: PageOptionsInit): AsyncIterable<Page<T>>;
  /**
   * An official-SDK ApiClient (purecloud-platform-client-v2's ApiClientClass instance) bound to the
   * tenant; its HTTP goes through this orchestrator's pipeline. Cached per tenant. `client.api.usersApi`
   * (any API class, camel case) resolves to `{ status, headers, body }`, as the tutorial reads it.
   */
  getTenantClient(tenantId: string): TenantClient;
  /** The tutorial's `tenantConfigs`: a live, read-only Map of tenant id → config object. */
  readonly tenantConfigs: ReadonlyMap<string, Readonly<TenantConfigEntry>>;
  /** The tutorial's `credentialManager`, backed by this orchestrator's core. */
  readonly credentialManager: CredentialManager;
  /** The tutorial's `scheduleRotation(tenantId, config)`: a forced rotation every `config.rotationIntervalMs`. */
  scheduleRotation(tenantId: string, config: { rotationIntervalMs?: number | null } | number | null): void;
  /** Per-tenant counters and cache state. */
  stats(): {
    tenants: Record<string, Record<string, unknown>>;
    config: Record<string, unknown>;
    closed: boolean;
    initialized: boolean;
  };
  /** Metrics per tenant, config and store (`metricsText()` renders them for Prometheus). */
  metrics(): Metrics;
  /** The metrics in the Prometheus text exposition format (serve it at `/metrics`). */
  metricsText(): string;
  /**
   * The same text, gathered and rendered off Node's thread: for thousands of tenants (10,000 are 16 MiB of text)
   * `metricsText()` blocks Node's thread for tens of ms; here Node's thread only receives the finished string.
   */
  metricsTextAsync(): Promise<string>;
  /**
   * The figures of `metrics()` as OpenTelemetry observable instruments on `meter` (e.g. `metrics.getMeter('svc')`
   * from `@opentelemetry/api`), read from the core at each collection; returns the function that removes them
   * (docs/opentelemetry.md). `INVALID_OPTIONS` (`option: 'meter'`) for anything that is not a Meter.
   */
  registerOpenTelemetryMetrics(meter: OpenTelemetryMeter): () => void;
  /** Stops every task; afterwards nothing keeps the event loop alive and calls reject with CLOSED. */
  close(): Promise<void>;
}

/**
 * What the rotation webhook reads of a request: Node's `http.IncomingMessage` (Express's and Fastify's
 * `req.raw` are one) fits; `body` is a raw Buffer or string when a framework read it already.
 */
export interface WebhookRequest {
  readonly headers: Record<string, string | string[] | undefined>;
  body?: unknown;
}

/** What the rotation webhook writes to: Node's `http.ServerResponse` fits. */
export interface WebhookResponse {
  statusCode: number;
  setHeader(name: string, value: string | number): unknown;
  end(chunk?: string): unknown;
}

/** A latency histogram: `cumulative[i]` observations at or under the i-th bound (seconds: 0.005 … 30). */
export interface HistogramSnapshot {
  cumulative: number[];
  count: number;
  sumSeconds: number;
}

/** One tenant's metrics. */
export interface TenantMetrics {
  /** Calls by outcome: `OK` or an error code. */
  calls: Partial<Record<'OK' | ErrorCode, number>>;
  latency: HistogramSnapshot;
  retries: number;
  throttled: number;
  heldMs: number;
  limiterWaitMs: number;
  tokenRequests: number;
  tokenFailures: number;
  tokensAcquired: number;
  rotations: number;
  valid: boolean;
  /** Tokens in the tenant's pool, for a tenant with more than one (`tokensPerTenant`, docs/token-pools.md). */
  tokenSlots?: number;
  /** Of those, the ones holding a usable token. */
  tokenSlotsValid?: number;
  /** Real-time events, for a tenant that subscribed in this process (docs/notifications.md). */
  notifications?: NotificationStats;
}

/**
 * One tenant's real-time-event figures in this process (in `stats().tenants[id].notifications` and
 * `metrics().tenants[id].notifications`). In shared mode channels and sockets are the holder's (0 elsewhere);
 * events are those delivered to this process's subscriptions.
 */
export interface NotificationStats {
  /** Channels held now. */
  channels: number;
  /** WebSockets connected now (one draining after a move included). */
  sockets: number;
  /** Channels created, moves and rebuilds included. */
  channelsCreated: number;
  /** WebSocket connections made. */
  connections: number;
  /** Events delivered to this process's subscriptions, each once. */
  delivered: number;
  /** Events dropped by a full subscription queue (a slow consumer). */
  dropped: number;
  /** Events seen again (a move's overlap) and not delivered again. */
  duplicates: number;
  /** Channels moved to a new channel (socket_closing, expiry, rotation). */
  moves: number;
  /** Channels renewed in place ahead of their expiry. */
  renewals: number;
  /** Sockets lost (closed unasked, or silent). */
  lost: number;
  /** Lost sockets replaced (reconnected, or a new channel). */
  rebuilds: number;
  /** 1 when this process holds the tenant's channels (in process: always; with `redisUrl`: the one replica holding them, 0 elsewhere). */
  holder: number;
}

/** One real-time-event figure: its key in `NotificationStats`, its metric name, kind, unit and meaning. */
export interface NotificationFigure {
  key: keyof NotificationStats;
  /** After `genesys_tenants_` (Prometheus, `_total` added to a counter) or `genesys_tenants.` (OpenTelemetry, `_` read as `.`). */
  name: string;
  kind: 'counter' | 'gauge';
  unit: string;
  help: string;
}

/** What `metrics()` returns. */
export interface Metrics {
  /** The upper bounds, in seconds, of every latency histogram's buckets (`+Inf` left out). */
  latencyBucketsSeconds: number[];
  /** The real-time-event figures `tenants[id].notifications` carries, named (the one list the Prometheus text and OpenTelemetry use). */
  notificationFigures: NotificationFigure[];
  tenants: Record<string, TenantMetrics>;
  configReads: number;
  configNotModified: number;
  configConsecutiveFailures: number;
  configLastSuccessAt: number | null;
  configFromSnapshot: boolean;
  /** With `redisUrl`: true while shared, false in the in-process fallback. */
  storeUp?: boolean | null;
  storeFailures: number;
  storeOutages: number;
}

export declare function coreVersion(): string;

/** What the operation catalogue says one Platform API operation needs. */
export interface OperationInfo {
  method: string;
  /** The path template, e.g. `/api/v2/users/{userId}`. */
  template: string;
  /** The official SDK's method for it, e.g. `getUser` (when `inSdk` is false: the definition's name for it). */
  sdkMethod: string;
  /** ANY: one of `list`; ALL: every one; NONE: no permission; UNKNOWN: not documented. */
  permissions: { mode: 'ANY' | 'ALL' | 'NONE' | 'UNKNOWN'; list: string[] };
  /** OAuth scopes accepted, any one of them; `[]` none needed; `null` the API definition does not say. */
  scopes: string[] | null;
  /** True when a failed attempt may be sent again (idempotent methods, query and search POSTs). */
  replaySafe: boolean;
  /** False when the pinned SDK has no method for it and only the published API definition lists it. */
  inSdk: boolean;
  /** The SDK release the catalogue was generated from. */
  sdk: string;
}

/** The catalogue's entry for `method path` (a template or a concrete path), or null. */
export declare function explainOperation(method: string, path: string): OperationInfo | null;

/** The SDK release the catalogue was generated from, e.g. `purecloud-platform-client-v2@262.0.0`. */
export declare function catalogueSource(): string;

/** One valid entry of the tenant config, as the tutorial builds it (`fetchTenantConfig`, `tenantConfigs`). */
export interface TenantConfigEntry {
  tenantId: string;
  clientId: string;
  /** Present but not enumerable: `console.log` and `JSON.stringify` do not show it. */
  readonly clientSecret: string;
  domainPrefix?: string;
  /** The declared `requiredScopes` (the tutorial's name for them). */
  scopes: string[];
  /** Alias of `scopes`; not enumerable. */
  readonly requiredScopes: string[];
  /** The configured interval, or the tutorial's 3600000 when the entry names none. */
  rotationIntervalMs: number;
  /** The Genesys environment host the entry resolved to, e.g. `mypurecloud.ie`. */
  environment: string;
}

/** The tutorial's credential manager, backed by the orchestrator's core. */
export interface CredentialManager {
  /** The tenant's official-SDK client (as `getTenantClient`). `credentials`: a config object or a tenant id. */
  getGenesysClient(credentials: Partial<TenantConfigEntry> | string): Promise<TenantClient>;
  /** A valid access token for the tenant, from the core's cache. */
  fetchAccessToken(credentials: Partial<TenantConfigEntry> | string): Promise<string>;
  /** Rotates every tenant whose `domainPrefix` (or id) is exactly this one; never rejects. */
  rotateCredentials(domainPrefix: string): Promise<{ rotated: string[]; failed: { tenantId: string; code?: string; message?: string }[] }>;
}

/** An entry of the config that is unusable, and why. */
export interface InvalidTenantEntry {
  tenantId: string;
  code: 'TENANT_INVALID' | 'HOST_NOT_ALLOWED';
  field?: string;
  host?: string;
  reason: string;
  message: string;
}

/**
 * Reads `GET {configEndpoint}/api/v1/genesys/tenants` once and validates it as the orchestrator does.
 * Resolves to a Map of tenant id → entry, as the tutorial builds it; rejects with CONFIG_UNAVAILABLE when the service cannot
 * be read, the document is not an array, or no entry is valid. A string is the config endpoint;
 * `options` takes the orchestrator's config options (`configServiceToken`, `configTimeoutMs`,
 * `allowedHosts`, `gateway`), or pass one options object (which may name `configFile` instead).
 */
export declare function fetchTenantConfig(
  configEndpoint: string | TenantOrchestratorOptions,
  options?: Omit<TenantOrchestratorOptions, 'configEndpoint' | 'configFile'>,
): Promise<Map<string, TenantConfigEntry> & { readonly invalid: InvalidTenantEntry[]; readonly unkeyed: string[] }>;

/**
 * Runs `apiCall(client)` and turns a refusal into this package's error naming what the server said is
 * missing (PERMISSION_MISSING / SCOPE_MISSING), or RATE_LIMITED / UPSTREAM_ERROR. For a client from
 * `getTenantClient()` whose tenant declares `requiredScopes`, scopes the call needs that the tenant does
 * not declare fail first, without a request (SCOPE_MISSING, `preflight: true`).
 */
export declare function executeWithScopeValidation<T, C = TenantClient>(client: C, apiCall: (client: C) => Promise<T>, requiredScopes?: string[]): Promise<T>;

/** What `fetchWithPaginationAndRetry` hands each call besides the token. */
export interface PageCall {
  /** What the token is: `null` for the first page. */
  kind: 'pageNumber' | 'cursor' | 'nextUri' | 'nextPage' | null;
  /** 1-based number of the page being fetched. */
  pageNumber: number;
}

/**
 * Every item of a listing, fetched page by page with `apiCall(nextToken, call)`: `null` first, then the
 * next page number, `cursor`, `nextUri` or `nextPage` (the core's page-end rules). Retries a page that meets
 * 429 (after the server's Retry-After), 500/502/503/504 or a transport error up to `maxRetries` (default 3)
 * times within `maxRetryDelayMs` of waiting; then rejects with `partialEntities` and `pagesFetched` on the
 * error — never a silent partial result.
 */
export declare function fetchWithPaginationAndRetry<T = unknown>(
  apiCall: (nextToken: number | string | null, call: PageCall) => Promise<any>,
  maxRetries?: number,
  options?: {
    /** Stop with TOO_MANY_PAGES beyond this many pages. Default 1000. */
    maxPages?: number;
    /** Total waiting between retries of one listing. Default: the orchestrator's `maxRetryDelayMs` (60000). */
    maxRetryDelayMs?: number;
    /** Named in errors. */
    tenantId?: string;
  },
): Promise<{ entities: T[]; totalCount: number }>;

// Hand-written declarations for the JS layer; the native surface is generated in ../index.d.ts.
import type { ApiRequestInit, ConfigDiff, GatewayOptions, PageOptionsInit, TenantOrchestratorOptions } from '../index';

export type { ApiRequestInit, ConfigDiff, GatewayOptions, PageOptionsInit, TenantOrchestratorOptions };

/** A 2xx answer. */
export interface ApiResponse<T = any> {
  status: number;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  /** Parsed JSON, or text, or null for an empty body. */
  body: T;
}

/** One page of a listing. */
export interface Page<T = any> {
  items: T[];
  /** 1-based. */
  index: number;
  /** Total item count, when the server said. */
  total: number | null;
}

/** Everything a listing returned. */
export interface FetchAllResult<T = any> {
  entities: T[];
  totalCount: number;
  pages: number;
}

/** Every `code` an error from this package can carry. */
export type ErrorCode =
  | 'UNKNOWN_TENANT'
  | 'TENANT_INVALID'
  | 'CONFIG_UNAVAILABLE'
  | 'HOST_NOT_ALLOWED'
  | 'AUTH_FAILED'
  | 'PERMISSION_MISSING'
  | 'SCOPE_MISSING'
  | 'RATE_LIMITED'
  | 'UPSTREAM_ERROR'
  | 'NETWORK_ERROR'
  | 'TIMEOUT'
  | 'TOO_MANY_PAGES'
  | 'CLOSED'
  | 'NOT_INITIALIZED'
  | 'INVALID_OPTIONS'
  | 'SDK_NOT_INSTALLED';

export declare const ErrorCodes: readonly ErrorCode[];

/** An error from this package: match on `code`, never on the message. */
export interface GenesysTenantsError extends Error {
  code: ErrorCode;
  tenantId?: string;
  correlationId?: string;
  /** HTTP status, where there was a response. */
  status?: number;
  /** PERMISSION_MISSING: exactly what the server said is missing. */
  missingPermissions?: string[];
  /** PERMISSION_MISSING: ANY = one of them is enough; ALL = each is needed. */
  mode?: 'ANY' | 'ALL';
  /** SCOPE_MISSING: the missing OAuth scopes. */
  missingScopes?: string[];
  /** RATE_LIMITED: how long the server asked to wait. */
  retryAfterMs?: number;
  /** UPSTREAM_ERROR: the response body. */
  body?: unknown;
  /** TENANT_INVALID / INVALID_OPTIONS: the offending field or option. */
  field?: string;
  option?: string;
  reason?: string;
}

/** One event: `{ type, tenantId?, at, ...fields }`. */
export interface OrchestratorEvent {
  type:
    | 'config.loaded'
    | 'config.updated'
    | 'config.stale'
    | 'config.invalid'
    | 'config.region-defaulted'
    | 'config.snapshot-used'
    | 'config.snapshot-failed'
    | 'token.acquired'
    | 'token.refreshed'
    | 'token.rejected'
    | 'token.failed'
    | 'token.invalidated'
    | 'credentials.rotated'
    | 'rotation.failed'
    | 'retry'
    | 'ratelimit.wait'
    | 'preflight.warning'
    | 'events.dropped'
    | (string & {});
  tenantId?: string;
  /** Unix time in milliseconds. */
  at: number;
  [field: string]: unknown;
}

export declare class TenantOrchestrator {
  constructor(options: TenantOrchestratorOptions);
  /** Reads and validates the config, starts the scheduler; resolves to the usable tenant ids. */
  initialize(): Promise<string[]>;
  /** Usable tenant ids, sorted. */
  tenantIds(): string[];
  /** A valid access token for the tenant (cached, refreshed ahead of expiry, single-flight). */
  getAccessToken(tenantId: string): Promise<string>;
  /** Re-reads the tenant's config and obtains a new token; the old token serves until then. */
  rotateCredentials(tenantId: string): Promise<void>;
  /** Re-reads the config now. */
  reloadConfig(): Promise<ConfigDiff>;
  /** Calls `callback(event)` for every event; returns a function that unsubscribes. */
  onEvent(callback: (event: OrchestratorEvent) => void): () => void;
  /** Sends one API call through the pipeline; resolves on 2xx, rejects with a GenesysTenantsError. */
  request<T = any>(tenantId: string, request: ApiRequestInit): Promise<ApiResponse<T>>;
  /** Every item of a listing. */
  fetchAll<T = any>(tenantId: string, request: ApiRequestInit, options?: PageOptionsInit): Promise<FetchAllResult<T>>;
  /** Pages of a listing as an async iterator. */
  paginate<T = any>(tenantId: string, request: ApiRequestInit, options?: PageOptionsInit): AsyncIterable<Page<T>>;
  /**
   * An official-SDK ApiClient (purecloud-platform-client-v2's ApiClientClass instance) bound to the
   * tenant; its HTTP goes through this orchestrator's pipeline. Cached per tenant.
   */
  getTenantClient(tenantId: string): any;
  /** Per-tenant counters and cache state. */
  stats(): {
    tenants: Record<string, Record<string, unknown>>;
    config: Record<string, unknown>;
    closed: boolean;
    initialized: boolean;
  };
  /** Stops every task; afterwards nothing keeps the event loop alive and calls reject with CLOSED. */
  close(): Promise<void>;
}

export declare function coreVersion(): string;

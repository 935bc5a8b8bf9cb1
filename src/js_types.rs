//! Types that exist for the generated `index.d.ts`: the options object (documented, with
//! defaults) and result shapes. Conversion itself happens in `options.rs`, field by field.
#![allow(dead_code)]

use napi_derive::napi;

/// Send login and API traffic to one host (the emulator, or a corporate egress gateway), like the
/// official SDK's `setGateway`.
#[napi(object)]
pub struct GatewayOptions {
    /// `'http'` or `'https'`. Default `'https'`. Plain http is only ever allowed here.
    pub protocol: Option<String>,
    /// Host name or IP address, e.g. `'127.0.0.1'`.
    pub host: String,
    /// Port; the scheme's default when absent.
    pub port: Option<u32>,
    /// Path prefix for login traffic (SDK: `path_params_login`).
    pub path_params_login: Option<String>,
    /// Path prefix for API traffic (SDK: `path_params_api`).
    pub path_params_api: Option<String>,
}

/// Options of `new TenantOrchestrator(options)`. Exactly one of `configEndpoint` / `configFile`.
#[napi(object)]
pub struct TenantOrchestratorOptions {
    /// Base URL of the config service; tenants are read from
    /// `GET {configEndpoint}/api/v1/genesys/tenants`. Example: `'https://config.internal:8443'`.
    pub config_endpoint: Option<String>,
    /// Sent as `X-Service-Token`. Default: `process.env.CONFIG_SERVICE_TOKEN`.
    pub config_service_token: Option<String>,
    /// Alternative source: a JSON file holding the same array; re-read when it changes.
    pub config_file: Option<String>,
    /// How often the config is re-read (with `If-None-Match`). Default `30000`.
    pub config_poll_interval_ms: Option<f64>,
    /// Timeout of one config read; `initialize()` gives up after about this. Default `5000`.
    pub config_timeout_ms: Option<f64>,
    /// Last-known-good copy of the config, encrypted with `encryptionKey`; used at start-up when
    /// the config service is unreachable.
    pub snapshot_path: Option<String>,
    /// Route all login and API traffic to one host.
    pub gateway: Option<GatewayOptions>,
    /// Extra environment hosts allowed besides the Genesys regions (https only). Default `[]`.
    pub allowed_hosts: Option<Vec<String>>,
    /// Redis URL (`redis://127.0.0.1:6379`) for the shared store: one token per tenant, one rate
    /// budget per token and rotation fan-out across every replica. Needs `encryptionKey`.
    pub redis_url: Option<String>,
    /// Prefix of every Redis key. Default `'genesys-tenants:'`.
    pub redis_key_prefix: Option<String>,
    /// How long one replica may hold a token-refresh lease; if it dies, another takes over after
    /// this. Default `10000`.
    pub redis_lease_ms: Option<f64>,
    /// 256-bit key (64 hex characters or base64 of 32 bytes) for secrets and tokens at rest.
    pub encryption_key: Option<String>,
    /// Refresh a token when this fraction of its lifetime is left (at least 60 s before expiry,
    /// at most a quarter of the lifetime for short tokens). Default `0.1`.
    pub refresh_ahead_ratio: Option<f64>,
    /// Retries per request (429, 5xx, network) and per token request. Default `4`.
    pub max_retries: Option<u32>,
    /// Longest single wait between retries; a `Retry-After` above it fails fast with
    /// `RATE_LIMITED`. Default `60000`.
    pub max_retry_delay_ms: Option<f64>,
    /// Timeout of one HTTP request. Default `16000` (the official SDK's).
    pub request_timeout_ms: Option<f64>,
    /// Client-side budget per token. Default `300` (Genesys's default per client-credentials
    /// token); refined from `inin-ratelimit-*` headers when the API sends them.
    pub rate_limit_per_minute: Option<u32>,
    /// When a tenant declares `requiredScopes` that do not cover an endpoint: `'enforce'` fails
    /// with `SCOPE_MISSING` before sending, `'warn'` sends and emits `preflight.warning`, `'off'`
    /// skips the check. Default `'enforce'`.
    pub preflight: Option<String>,
}

/// One API call.
#[napi(object)]
pub struct ApiRequestInit {
    /// HTTP method. Default `'GET'`.
    pub method: Option<String>,
    /// A path such as `'/api/v2/users'` (a full URL only on the tenant's own API host).
    pub path: String,
    /// Query parameters; arrays repeat the key; `null` values are left out.
    pub query: Option<serde_json::Map<String, serde_json::Value>>,
    /// Extra headers; `Authorization` is always the tenant's token.
    pub headers: Option<std::collections::HashMap<String, String>>,
    /// JSON body (a string with a non-JSON `Content-Type` header is sent as is).
    pub body: Option<serde_json::Value>,
}

/// How to walk a listing.
#[napi(object)]
pub struct PageOptionsInit {
    /// `'pageNumber' | 'search' | 'analytics' | 'cursor' | 'analyticsJob'`; detected from the
    /// request when absent (GET → pageNumber, POST …/search → search, POST …/details/query →
    /// analytics, POST …/details/jobs → analyticsJob, …/results → cursor).
    pub style: Option<String>,
    /// Items per page. Default `100`.
    pub page_size: Option<u32>,
    /// Fail with `TOO_MANY_PAGES` rather than fetch more pages than this. Default `1000`.
    pub max_pages: Option<u32>,
    /// Pages fetched at once once the total is known (`fetchAll`). Default `4`.
    pub concurrency: Option<u32>,
    /// How long an analytics job may take to be fulfilled. Default `600000`.
    pub job_timeout_ms: Option<f64>,
}

/// What a config reload changed.
#[napi(object)]
pub struct ConfigDiff {
    /// Tenant ids that appeared.
    pub added: Vec<String>,
    /// Tenant ids that disappeared.
    pub removed: Vec<String>,
    /// Tenant ids whose entry changed.
    pub changed: Vec<String>,
}

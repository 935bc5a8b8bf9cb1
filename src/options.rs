//! JS options → core options. One type, [`TenantOrchestratorOptions`]: its doc comments are the
//! generated typings, serde reads it from the JSON text `lib/wire.js` makes (unknown names refused),
//! and [`into_core`] converts it. Every limit is checked once, by the core's `Options::validate`.

use genesys_tenants_core::egress::Gateway;
use genesys_tenants_core::input::{read_text, read_value};
use genesys_tenants_core::network::{ProxyOption, ProxySettings};
use genesys_tenants_core::{Error, Options, PreflightMode, RedisTls, Secret};
use napi_derive::napi;
use serde::Deserialize;
use std::time::Duration;

/// Send login and API traffic to one host (the emulator, or a corporate egress gateway), like the
/// official SDK's `setGateway`.
#[napi(object)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GatewayOptions {
    /// `'http'` or `'https'`. Default `'https'`. Plain http is only ever allowed here.
    #[napi(ts_type = "'http' | 'https'")]
    pub protocol: Option<String>,
    /// Host name or IP address, e.g. `'127.0.0.1'`.
    pub host: String,
    /// Port; the scheme's default when absent.
    pub port: Option<u32>,
    /// Path prefix for login traffic (SDK: `path_params_login`, also accepted).
    #[serde(alias = "path_params_login")]
    pub path_params_login: Option<String>,
    /// Path prefix for API traffic (SDK: `path_params_api`, also accepted).
    #[serde(alias = "path_params_api")]
    pub path_params_api: Option<String>,
}

/// TLS material for a `rediss://` / `rediss+cluster://` `redisUrl`, as PEM text (for example
/// `fs.readFileSync('ca.pem', 'utf8')`). Without it the server is verified against the system's
/// roots. The server's certificate is always checked against the URL's host; there is no switch to
/// turn that off.
#[napi(object)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RedisTlsOptions {
    /// CA certificate(s) that sign the server's certificate (a private CA), instead of the system's roots.
    pub ca: Option<String>,
    /// Client certificate, for mutual TLS (with `key`).
    pub cert: Option<String>,
    /// The client certificate's private key (redacted from every error and event).
    pub key: Option<String>,
}

/// An outbound proxy for the config service, login and API traffic (Redis is never proxied). HTTPS
/// goes through it with `CONNECT`, so TLS runs end to end.
#[napi(object)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProxyOptions {
    /// The proxy: `'http://proxy.corp:3128'`; with credentials `'http://user:password@proxy.corp:3128'`
    /// (sent as `Proxy-Authorization: Basic`, redacted from every error and event); `'https://…'`
    /// for TLS to the proxy itself.
    pub url: String,
    /// Hosts reached directly, in `NO_PROXY`'s syntax: `'config.internal'` (and its subdomains),
    /// `'.corp.example'`, `'host:8443'`, `'10.0.0.0/8'`, `'*'`. Default `[]`.
    pub no_proxy: Option<Vec<String>>,
    /// Send loopback targets (`localhost`, 127.0.0.0/8, `::1`) through the proxy too. Default `false`.
    pub proxy_loopback: Option<bool>,
}

/// The Notifications API's channel manager (`o.subscribe()`, `o.events()`).
#[napi(object)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NotificationsOptions {
    /// Channels each tenant may hold, 1 to 19 (Genesys allows 20 per OAuth client; a move uses one
    /// more for a moment; the rest stays for the customer's own tools). Default `5` (5,000 topics).
    pub channel_budget: Option<f64>,
    /// A socket silent this long (no heartbeat, pong or event) is replaced; a ping is sent after
    /// 40 % of it. 500 to 600000. Default `75000` (2.5 heartbeats of 30 s).
    pub heartbeat_timeout_ms: Option<f64>,
    /// Events held per subscriber, 1 to 1000000; past it the oldest are dropped and counted
    /// (`notifications.dropped`). Default `10000`.
    pub queue_size: Option<f64>,
}

/// Options of `new TenantOrchestrator(options)`. Exactly one of `configEndpoint` / `configFile`.
#[napi(object)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
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
    /// Redis URL for the shared store: one token per tenant, one rate budget per token, one 429
    /// pause and rotation fan-out across every replica. Needs `encryptionKey`. `redis://host:6379`,
    /// `rediss://host:6380` (TLS), `redis://user:password@host` (ACL user; redacted everywhere),
    /// `redis+cluster://host:7000?addr=host2:7001` or `rediss+cluster://…` (Redis Cluster with seed
    /// nodes; a plain URL to a Cluster node is detected too).
    pub redis_url: Option<String>,
    /// Private CA and client certificate for a TLS `redisUrl`.
    pub redis_tls: Option<RedisTlsOptions>,
    /// Prefix of every Redis key. Default `'genesys-tenants:'`.
    pub redis_key_prefix: Option<String>,
    /// How long one replica may hold a token-refresh lease; if it dies, another takes over after
    /// this. Default `10000`.
    pub redis_lease_ms: Option<f64>,
    /// 256-bit key (64 hex characters or base64 of 32 bytes) for secrets and tokens at rest.
    pub encryption_key: Option<String>,
    /// The Notifications API's channel manager: `{ channelBudget, heartbeatTimeoutMs, queueSize }`.
    pub notifications: Option<NotificationsOptions>,
    /// Refresh a token when this fraction of its lifetime is left (at least 60 s before expiry,
    /// at most a quarter of the lifetime for short tokens). Default `0.1`.
    pub refresh_ahead_ratio: Option<f64>,
    /// Retries per request (429, 5xx, network) and per token request. Default `4`.
    pub max_retries: Option<f64>,
    /// Cap on the total time one request (or one token request) spends waiting for retries and
    /// 429 holds; a `Retry-After` beyond what is left fails fast with `RATE_LIMITED`. Default `60000`.
    pub max_retry_delay_ms: Option<f64>,
    /// Timeout of one HTTP request. Default `16000` (the official SDK's).
    pub request_timeout_ms: Option<f64>,
    /// Client-side budget per token. Default `300` (Genesys's default per client-credentials
    /// token); refined from `inin-ratelimit-*` headers when the API sends them.
    pub rate_limit_per_minute: Option<f64>,
    /// Tokens each tenant keeps, each with its own rate budget (Genesys counts its limits per token):
    /// 1 to 20, default `1`. A tenant entry's own `tokensPerTenant` overrides it. Each token is one
    /// more token request at first use and per refresh (docs/token-pools.md).
    pub tokens_per_tenant: Option<f64>,
    /// Most calls of one token past their turn at once (waiting for the rate limiter, in flight, or
    /// between two attempts), the rest queued first come, first served: fairness between tenants.
    /// 1 to 10000, default `32`. Per token: a pool of `tokensPerTenant` tokens has that many times it.
    /// Raise it for a raised Genesys limit, slow endpoints or a gateway; lower it for stricter
    /// fairness (docs/requests.md).
    pub max_in_flight_per_token: Option<f64>,
    /// When a tenant declares `requiredScopes` that do not cover an endpoint: `'enforce'` fails
    /// with `SCOPE_MISSING` before sending, `'warn'` sends and emits `preflight.warning`, `'off'`
    /// skips the check. Default `'enforce'`.
    #[napi(ts_type = "'enforce' | 'warn' | 'off'")]
    pub preflight: Option<String>,
    /// Outbound proxy for the config service, login and API traffic: `{ url, noProxy?, proxyLoopback? }`,
    /// or `false` for none whatever the environment says. Default: the environment's
    /// `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` / `NO_PROXY` (either case), read once here; loopback
    /// hosts are never proxied by it.
    #[napi(ts_type = "ProxyOptions | false")]
    pub proxy: Option<serde_json::Value>,
    /// Extra CA certificates (PEM text, e.g. `fs.readFileSync('corp-ca.pem', 'utf8')`) trusted besides
    /// the system's roots and `NODE_EXTRA_CA_CERTS`, for the config service, login and API hosts and
    /// an https proxy. Default: none.
    pub ca_certs: Option<String>,
    /// OpenTelemetry spans for every call, token wait and retry (docs/opentelemetry.md): `true`, or
    /// `{ tracerProvider?, propagateContext? }`. Needs `@opentelemetry/api` installed (else nothing is
    /// traced and nothing loaded). Default: off.
    #[napi(
        ts_type = "boolean | (OpenTelemetryOptions & { tracerProvider?: { getTracer(name: string, version?: string, options?: object): unknown } })"
    )]
    pub open_telemetry: Option<serde_json::Value>,
}

/// The `openTelemetry` option's object form. The JS layer takes `tracerProvider` (a JS object) off
/// before the options cross; what crosses is checked here like every other option.
#[napi(object)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OpenTelemetryOptions {
    /// Send `traceparent` / `tracestate` of the call's span with each API request (never to the login
    /// host or the config service). Default `false`.
    pub propagate_context: Option<bool>,
}

/// Checks the `openTelemetry` option (`true`, `false` or `{ propagateContext? }`); the JS layer acts on it.
fn check_open_telemetry(v: Option<&serde_json::Value>) -> Result<(), Error> {
    match v {
        None | Some(serde_json::Value::Null) | Some(serde_json::Value::Bool(_)) => Ok(()),
        Some(v @ serde_json::Value::Object(_)) => read_value::<OpenTelemetryOptions>(v).map(|_| ()).map_err(|u| match u.unknown {
            Some(name) => Error::invalid_option(
                &format!("openTelemetry.{name}"),
                "unknown option of openTelemetry; known: tracerProvider, propagateContext",
            ),
            None => Error::invalid_option(&format!("openTelemetry.{}", u.path), format!("has the wrong type: {}", u.reason)),
        }),
        Some(_) => Err(Error::invalid_option(
            "openTelemetry",
            "has the wrong type: expected true, false or an object ({ tracerProvider, propagateContext })",
        )),
    }
}

/// Options of `o.rotationWebhook(options)`.
#[napi(object)]
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RotationWebhookOptions {
    /// The secret shared with the sender (at least 16 characters; e.g. `openssl rand -hex 32`).
    pub secret: String,
    /// How far a delivery's timestamp may be from now, either side. Default `300000` (5 minutes).
    pub tolerance_ms: Option<f64>,
}

/// Reads `rotationWebhook()`'s options from JSON text; a wrong one is `INVALID_OPTIONS` naming it.
pub fn webhook_from_json(text: &str) -> Result<genesys_tenants_core::webhook::WebhookSettings, Error> {
    let js: RotationWebhookOptions = read_text(text).map_err(|u| match u.unknown {
        Some(_) => Error::invalid_option(&u.path, "unknown option of rotationWebhook(); known: secret, toleranceMs"),
        None if u.reason.contains("missing field `secret`") => Error::invalid_option("secret", "is required"),
        None => Error::invalid_option(if u.path == "." { "options" } else { &u.path }, format!("has the wrong type: {}", u.reason)),
    })?;
    genesys_tenants_core::webhook::WebhookSettings::new(Secret::new(js.secret), millis(js.tolerance_ms))
}

/// Reads the options from JSON text; a wrong name or type is `INVALID_OPTIONS` naming it.
pub fn from_json(text: &str, env_token: Option<String>) -> Result<Options, Error> {
    let js: TenantOrchestratorOptions = read_text(text).map_err(|u| match u.unknown {
        Some(_) => Error::invalid_option(
            &u.path,
            format!("unknown option; {}", u.reason.split(", ").nth(1).unwrap_or("see the README for the options")),
        ),
        None if u.path == "." => Error::invalid_option("options", format!("must be an object of options ({})", u.reason)),
        None => Error::invalid_option(&u.path, format!("has the wrong type: {}", u.reason)),
    })?;
    into_core(js, env_token)
}

/// The `proxy` option: absent → the environment's, `false` → none, an object → that proxy.
fn proxy_option(v: Option<serde_json::Value>) -> Result<ProxyOption, Error> {
    match v {
        None | Some(serde_json::Value::Null) => Ok(ProxyOption::Environment),
        Some(serde_json::Value::Bool(false)) => Ok(ProxyOption::Off),
        Some(v @ serde_json::Value::Object(_)) => {
            let p: ProxyOptions = read_value(&v).map_err(|u| match u.unknown {
                Some(name) => {
                    Error::invalid_option(&format!("proxy.{name}"), "unknown option of proxy; known: url, noProxy, proxyLoopback")
                }
                None if u.path == "." => Error::invalid_option("proxy", u.reason),
                None => Error::invalid_option(&format!("proxy.{}", u.path), format!("has the wrong type: {}", u.reason)),
            })?;
            Ok(ProxyOption::Explicit(ProxySettings {
                url: Secret::new(p.url),
                no_proxy: p.no_proxy.unwrap_or_default(),
                proxy_loopback: p.proxy_loopback.unwrap_or(false),
            }))
        }
        Some(other) => {
            let kind = match other {
                serde_json::Value::Bool(_) => "true",
                serde_json::Value::String(_) => "a string",
                serde_json::Value::Number(_) => "a number",
                _ => "an array",
            };
            Err(Error::invalid_option("proxy", format!("has the wrong type: {kind}, expected an object ({{ url, noProxy }}) or false")))
        }
    }
}

/// Milliseconds as a duration (the core checks the range).
fn millis(v: Option<f64>) -> Option<Duration> {
    v.map(|ms| Duration::from_millis(ms.max(0.0).min(u64::MAX as f64) as u64))
}

/// A count: whole, not negative (the core checks the range).
fn count(option: &str, v: Option<f64>) -> Result<Option<u32>, Error> {
    match v {
        None => Ok(None),
        Some(n) if n.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&n) => Ok(Some(n as u32)),
        Some(_) => Err(Error::invalid_option(option, "must be a whole number, at least 0")),
    }
}

/// Converts the constructor's options. `env_token` is `CONFIG_SERVICE_TOKEN` from the environment,
/// the default `configServiceToken`.
pub fn into_core(js: TenantOrchestratorOptions, env_token: Option<String>) -> Result<Options, Error> {
    check_open_telemetry(js.open_telemetry.as_ref())?;
    let mut o = Options::default();
    let d = Options::default();
    o.config_endpoint = js.config_endpoint;
    o.config_service_token = js.config_service_token.or(env_token.filter(|t| !t.is_empty())).map(Secret::new);
    o.config_file = js.config_file.map(Into::into);
    o.config_poll_interval = millis(js.config_poll_interval_ms).unwrap_or(d.config_poll_interval);
    o.config_timeout = millis(js.config_timeout_ms).unwrap_or(d.config_timeout);
    o.snapshot_path = js.snapshot_path.map(Into::into);
    o.gateway = match js.gateway {
        None => None,
        Some(g) => Some(Gateway {
            protocol: g.protocol.unwrap_or_else(|| "https".into()).trim_end_matches(':').to_ascii_lowercase(),
            host: g.host,
            port: match g.port {
                None => None,
                Some(p) => Some(
                    u16::try_from(p)
                        .ok()
                        .filter(|p| *p > 0)
                        .ok_or_else(|| Error::invalid_option("gateway.port", "must be a whole number between 1 and 65535"))?,
                ),
            },
            path_params_login: g.path_params_login,
            path_params_api: g.path_params_api,
        }),
    };
    o.allowed_hosts = js.allowed_hosts.unwrap_or_default();
    o.redis_url = js.redis_url;
    o.redis_tls = js.redis_tls.map(|t| RedisTls { ca: t.ca, cert: t.cert, key: t.key.map(Secret::new) });
    o.redis_lease = millis(js.redis_lease_ms).unwrap_or(d.redis_lease);
    if let Some(p) = js.redis_key_prefix {
        o.redis_key_prefix = p;
    }
    o.encryption_key = js.encryption_key.map(Secret::new);
    o.refresh_ahead_ratio = js.refresh_ahead_ratio.unwrap_or(d.refresh_ahead_ratio);
    o.max_retries = count("maxRetries", js.max_retries)?.unwrap_or(d.max_retries);
    o.max_retry_delay = millis(js.max_retry_delay_ms).unwrap_or(d.max_retry_delay);
    o.request_timeout = millis(js.request_timeout_ms).unwrap_or(d.request_timeout);
    o.rate_limit_per_minute = count("rateLimitPerMinute", js.rate_limit_per_minute)?.unwrap_or(d.rate_limit_per_minute);
    o.tokens_per_tenant = count("tokensPerTenant", js.tokens_per_tenant)?.unwrap_or(d.tokens_per_tenant);
    o.max_in_flight_per_token = count("maxInFlightPerToken", js.max_in_flight_per_token)?.unwrap_or(d.max_in_flight_per_token);
    if let Some(p) = js.preflight {
        o.preflight = PreflightMode::parse(&p).ok_or_else(|| Error::invalid_option("preflight", "must be 'enforce', 'warn' or 'off'"))?;
    }
    o.proxy = proxy_option(js.proxy)?;
    o.ca_certs = js.ca_certs;
    if let Some(n) = js.notifications {
        let d = o.notifications;
        o.notifications.channel_budget = count("notifications.channelBudget", n.channel_budget)?.unwrap_or(d.channel_budget);
        o.notifications.heartbeat_timeout = millis(n.heartbeat_timeout_ms).unwrap_or(d.heartbeat_timeout);
        o.notifications.queue_size = count("notifications.queueSize", n.queue_size)?.map_or(d.queue_size, |q| q as usize);
    }
    o.validate()?;
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn option_of(v: &str) -> String {
        match from_json(v, None) {
            Err(Error::InvalidOptions { option, .. }) => option,
            other => panic!("expected INVALID_OPTIONS, got {other:?}"),
        }
    }

    #[test]
    fn wrong_names_and_types_name_the_option() {
        assert_eq!(option_of(r#""x""#), "options");
        assert_eq!(option_of(r#"{"configEndpoint": 5}"#), "configEndpoint");
        assert_eq!(option_of(r#"{"configEndpoint": "http://x", "maxRetries": "3"}"#), "maxRetries");
        assert_eq!(option_of(r#"{"configEndpoint": "http://x", "maxRetries": 1.5}"#), "maxRetries");
        assert_eq!(option_of(r#"{"configEndpoint": "http://x", "gateway": {"port": 1}}"#), "gateway", "missing field `host`");
        assert_eq!(option_of(r#"{"configEndpoint": "http://x", "gateway": {"host": "h", "port": 70000}}"#), "gateway.port");
        assert_eq!(option_of(r#"{"configEndpoint": "http://x", "gateway": {"host": "h", "colour": 1}}"#), "gateway.colour");
        assert_eq!(option_of(r#"{"configEndpoint": "http://x", "colour": "red"}"#), "colour");
        assert_eq!(option_of(r#"{"configEndpoint": "http://x", "refreshAheadRatio": 1}"#), "refreshAheadRatio");
        assert_eq!(option_of(r#"{"configEndpoint": "http://x", "maxRetries": 101}"#), "maxRetries");
        assert_eq!(option_of(r#"{"configEndpoint": "http://x", "proxy": true}"#), "proxy");
        assert_eq!(option_of(r#"{"configEndpoint": "http://x", "proxy": "http://p:1"}"#), "proxy");
        assert_eq!(option_of(r#"{"configEndpoint": "http://x", "proxy": {}}"#), "proxy");
        assert_eq!(option_of(r#"{"configEndpoint": "http://x", "proxy": {"url": "http://p:1", "colour": 1}}"#), "proxy.colour");
        assert_eq!(option_of(r#"{"configEndpoint": "http://x", "proxy": {"url": 5}}"#), "proxy.url");
        assert_eq!(option_of(r#"{"configEndpoint": "http://x", "proxy": {"url": "socks5://p:1"}}"#), "proxy.url");
        assert_eq!(
            option_of(r#"{"configEndpoint": "http://x", "proxy": {"url": "http://p:1", "noProxy": ["ok", "a/b"]}}"#),
            "proxy.noProxy[1]"
        );
        assert_eq!(option_of(r#"{"configEndpoint": "http://x", "caCerts": "/etc/ssl/ca.pem"}"#), "caCerts");
        for bad in ["0", "-1", "1.5", r#""x""#, "10001", "1e300"] {
            let text = format!(r#"{{"configEndpoint": "http://x", "maxInFlightPerToken": {bad}}}"#);
            assert_eq!(option_of(&text), "maxInFlightPerToken", "{bad}");
        }
        let o = from_json(r#"{"configEndpoint": "http://x", "maxInFlightPerToken": 4}"#, None).unwrap();
        assert_eq!(o.max_in_flight_per_token, 4);
        assert_eq!(from_json(r#"{"configEndpoint": "http://x"}"#, None).unwrap().max_in_flight_per_token, 32);
    }

    #[test]
    fn no_options_error_quotes_the_value_it_was_given() {
        let secret = "whsec_0123456789abcdef";
        let texts = [
            format!(r#""{secret}""#),
            format!(r#"{{"configEndpoint": "http://x", "maxRetries": "{secret}"}}"#),
            format!(r#"{{"configEndpoint": "http://x", "preflight": ["{secret}"]}}"#),
            format!(r#"{{"configEndpoint": "http://x", "gateway": {{"host": "h", "port": "{secret}"}}}}"#),
            format!(r#"{{"configEndpoint": "http://x", "redisTls": "{secret}"}}"#),
            format!(r#"{{"configEndpoint": "http://x", "allowedHosts": ["ok.example", "{secret} x"]}}"#),
            r#"{"configEndpoint": "http://x", "maxRetries": 12345678901234567890123}"#.to_string(),
            format!(r#"{{"configEndpoint": "http://x", "proxy": {{"url": "ftp://u:{secret}@p"}}}}"#),
            format!(r#"{{"configEndpoint": "http://x", "proxy": "http://u:{secret}@p"}}"#),
            format!(r#"{{"configEndpoint": "http://x", "proxy": {{"url": "http://u:{secret}@p:1/path"}}}}"#),
        ];
        for text in texts {
            let e = from_json(&text, None).expect_err(&text);
            let shown = format!("{e} {e:?}");
            assert!(!shown.contains(secret) && !shown.contains("123456789012"), "{shown}");
        }
        let e = webhook_from_json(&format!(r#""{secret}""#)).expect_err("a string");
        assert_eq!(e.to_string(), "invalid option 'options': has the wrong type: a string, expected an object");
        let e = webhook_from_json(&format!(r#"{{"secret": 5, "toleranceMs": "{secret}"}}"#)).expect_err("wrong types");
        assert!(!e.to_string().contains(secret), "{e}");
        assert_eq!(
            genesys_tenants_core::input::value_free(r#"invalid type: string "a, expected b", expected u32"#),
            "a string, expected u32"
        );
        assert_eq!(
            genesys_tenants_core::input::value_free("unknown variant `hunter2`, expected `a` or `b`"),
            "an unknown value, expected `a` or `b`"
        );
    }

    #[test]
    fn env_token_is_the_default_and_sdk_gateway_names_are_read() {
        let o = from_json(r#"{"configEndpoint": "http://x"}"#, Some("t".into())).unwrap();
        assert_eq!(o.config_service_token.unwrap().expose(), "t");
        let o = from_json(r#"{"configEndpoint": "http://x", "configServiceToken": "own"}"#, Some("t".into())).unwrap();
        assert_eq!(o.config_service_token.unwrap().expose(), "own");
        let o = from_json(r#"{"configEndpoint": "http://x", "gateway": {"host": "127.0.0.1", "port": 8080, "protocol": "http", "path_params_api": "gw"}}"#, None).unwrap();
        assert_eq!(o.gateway.unwrap().path_params_api.as_deref(), Some("gw"));
        assert!(matches!(from_json(r#"{"configEndpoint": "http://x"}"#, None).unwrap().proxy, ProxyOption::Environment));
        assert!(matches!(from_json(r#"{"configEndpoint": "http://x", "proxy": false}"#, None).unwrap().proxy, ProxyOption::Off));
        let o =
            from_json(r#"{"configEndpoint": "http://x", "proxy": {"url": "http://u:p@proxy:3128", "noProxy": ["config.internal"]}}"#, None)
                .unwrap();
        match o.proxy {
            ProxyOption::Explicit(p) => {
                assert_eq!((p.no_proxy, p.proxy_loopback), (vec!["config.internal".to_string()], false));
                assert!(!format!("{:?}", p.url).contains("u:p"), "the URL is a secret");
            }
            other => panic!("{other:?}"),
        }
    }
}

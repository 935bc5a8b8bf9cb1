//! Orchestrator options: every knob with its default, checked once by [`Options::validate`].

use crate::egress::Gateway;
use crate::error::{Error, Result};
use crate::network::{Environment, ProxyOption};
use crate::secret::Secret;
use std::path::PathBuf;
use std::time::Duration;

/// Default `configPollIntervalMs`.
pub const DEFAULT_CONFIG_POLL_INTERVAL: Duration = Duration::from_secs(30);
/// Default timeout of one config read (`configTimeoutMs`): `initialize()` fails within about this.
pub const DEFAULT_CONFIG_TIMEOUT: Duration = Duration::from_secs(5);
/// Default `requestTimeoutMs` (the official SDK's default is 16 s).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(16);
/// Default `maxRetries`.
pub const DEFAULT_MAX_RETRIES: u32 = 4;
/// Default `maxRetryDelayMs`: the total waiting one request accepts (a Retry-After beyond it fails fast).
pub const DEFAULT_MAX_RETRY_DELAY: Duration = Duration::from_secs(60);
/// Default `redisKeyPrefix`.
pub const DEFAULT_REDIS_KEY_PREFIX: &str = "genesys-tenants:";
/// Default `refreshAheadRatio`: refresh when 10 % of the lifetime is left (or 60 s, whichever is larger).
pub const DEFAULT_REFRESH_AHEAD_RATIO: f64 = 0.1;
/// Default `redisLeaseMs`: a replica refreshing a token frees its lease after this if it dies.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(10);
/// Default [`Options::organization_hint_delay`]: an unpinned tenant's organization is looked up
/// about a minute after its first token, so its first calls keep their whole budget.
pub const DEFAULT_ORGANIZATION_HINT_DELAY: Duration = Duration::from_secs(60);
/// Default `rateLimitPerMinute`: Genesys's default per client-credentials token.
pub const DEFAULT_RATE_LIMIT_PER_MINUTE: u32 = 300;
/// Default `tokensPerTenant`: one token per tenant (a pool is opt-in, see docs/token-pools.md).
pub const DEFAULT_TOKENS_PER_TENANT: u32 = 1;
/// Most tokens one tenant may keep (`tokensPerTenant`): each costs a token request at first use and
/// per refresh, against the client's token-creation limit.
pub const MAX_TOKENS_PER_TENANT: u32 = 20;
/// Default `maxInFlightPerToken`: at Genesys's round trips (~100 ms) 32 in flight carry ~300 calls a
/// second, 60 times a token's default budget, while a bulk listing still waits its turn.
pub const DEFAULT_MAX_IN_FLIGHT_PER_TOKEN: u32 = 32;
/// Largest `maxInFlightPerToken`: every call past its turn holds a connection and a task; beyond
/// this the cap no longer shares anything.
pub const MAX_IN_FLIGHT_PER_TOKEN: u32 = 10_000;

/// Default `notifications.channelBudget`: channels per tenant (Genesys allows 20 per OAuth client;
/// the rest is left to the customer's own tools, and one more is used for a moment during a move).
pub const DEFAULT_CHANNEL_BUDGET: u32 = 5;
/// Largest `notifications.channelBudget`: with the one extra channel of a move, 20 (Genesys's limit).
pub const MAX_CHANNEL_BUDGET: u32 = 19;
/// Default `notifications.heartbeatTimeoutMs`: 2.5 heartbeats of 30 s.
pub const DEFAULT_HEARTBEAT_TIMEOUT: Duration = Duration::from_millis(75_000);
/// Default `notifications.queueSize`: events held per subscriber before the oldest are dropped.
pub const DEFAULT_NOTIFICATION_QUEUE: usize = 10_000;

/// The Notifications API's options (`notifications: { channelBudget, heartbeatTimeoutMs, queueSize }`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotificationOptions {
    /// Channels one tenant's manager may hold (1 to [`MAX_CHANNEL_BUDGET`]); a move uses one more for a moment.
    pub channel_budget: u32,
    /// A socket silent for this long (no heartbeat, no pong, no event) is replaced; a ping is sent
    /// after 40 % of it.
    pub heartbeat_timeout: Duration,
    /// Events held per subscriber (1 to 1,000,000); past it the oldest are dropped and counted.
    pub queue_size: usize,
}

impl Default for NotificationOptions {
    fn default() -> Self {
        NotificationOptions {
            channel_budget: DEFAULT_CHANNEL_BUDGET,
            heartbeat_timeout: DEFAULT_HEARTBEAT_TIMEOUT,
            queue_size: DEFAULT_NOTIFICATION_QUEUE,
        }
    }
}

impl NotificationOptions {
    /// Checks the ranges; the error names `notifications.<field>`.
    ///
    /// ```
    /// use genesys_tenants_core::NotificationOptions;
    /// assert!(NotificationOptions::default().validate().is_ok());
    /// let o = NotificationOptions { channel_budget: 20, ..Default::default() };
    /// assert_eq!(o.validate().unwrap_err().fields()["option"], "notifications.channelBudget");
    /// ```
    pub fn validate(&self) -> Result<()> {
        if self.channel_budget == 0 || self.channel_budget > MAX_CHANNEL_BUDGET {
            return Err(Error::invalid_option(
                "notifications.channelBudget",
                format!("must be between 1 and {MAX_CHANNEL_BUDGET} (Genesys allows 20 channels per OAuth client; a move uses one more)"),
            ));
        }
        if self.heartbeat_timeout < Duration::from_millis(500) || self.heartbeat_timeout > Duration::from_secs(600) {
            return Err(Error::invalid_option("notifications.heartbeatTimeoutMs", "must be between 500 and 600000"));
        }
        if self.queue_size == 0 || self.queue_size > 1_000_000 {
            return Err(Error::invalid_option("notifications.queueSize", "must be between 1 and 1000000"));
        }
        Ok(())
    }
}

/// What to do when a tenant's declared `requiredScopes` do not cover an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PreflightMode {
    /// Fail with `SCOPE_MISSING` before sending (default; only for tenants that declare scopes).
    #[default]
    Enforce,
    /// Send anyway, emit a `preflight.warning` event.
    Warn,
    /// No check.
    Off,
}

impl PreflightMode {
    /// Parses `'enforce' | 'warn' | 'off'`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "enforce" => Some(PreflightMode::Enforce),
            "warn" => Some(PreflightMode::Warn),
            "off" => Some(PreflightMode::Off),
            _ => None,
        }
    }
}

/// Options of a [`crate::Orchestrator`]. Build with `Options::default()` and set fields.
///
/// ```
/// use genesys_tenants_core::Options;
/// let mut o = Options::default();
/// o.config_endpoint = Some("http://127.0.0.1:8080".into());
/// assert!(o.validate().is_ok());
/// ```
#[derive(Debug, Clone)]
pub struct Options {
    /// Base URL of the config service (tenants at `GET {configEndpoint}/api/v1/genesys/tenants`).
    pub config_endpoint: Option<String>,
    /// Sent as `X-Service-Token`.
    pub config_service_token: Option<Secret>,
    /// Alternative source: a JSON file with the same array.
    pub config_file: Option<PathBuf>,
    /// How often the config is re-read.
    pub config_poll_interval: Duration,
    /// Timeout of one config read.
    pub config_timeout: Duration,
    /// Last-known-good copy of the config, sealed with `encryption_key`.
    pub snapshot_path: Option<PathBuf>,
    /// Route all login and API traffic to one host.
    pub gateway: Option<Gateway>,
    /// Extra allowed environment hosts.
    pub allowed_hosts: Vec<String>,
    /// Redis URL for the shared store.
    pub redis_url: Option<String>,
    /// TLS material for a `rediss://` `redis_url` with a private CA or mutual TLS.
    pub redis_tls: Option<RedisTls>,
    /// Prefix of every Redis key.
    pub redis_key_prefix: String,
    /// How long a replica may hold a token-refresh lease before others take over.
    pub redis_lease: Duration,
    /// Key for secrets and tokens at rest.
    pub encryption_key: Option<Secret>,
    /// Fraction of a token's lifetime before expiry at which it is refreshed (see [`crate::token::timing`]).
    pub refresh_ahead_ratio: f64,
    /// Retries per request (429, 5xx, transport) and per token request.
    pub max_retries: u32,
    /// Cap on the total time one request (or one token request) spends waiting for retries and
    /// 429 holds; a wait beyond what is left fails fast.
    pub max_retry_delay: Duration,
    /// Timeout of one HTTP request.
    pub request_timeout: Duration,
    /// Client-side budget per token.
    pub rate_limit_per_minute: u32,
    /// Tokens each tenant keeps, each with its own rate budget (a tenant entry's `tokensPerTenant`
    /// overrides it): 1 to [`MAX_TOKENS_PER_TENANT`].
    pub tokens_per_tenant: u32,
    /// Most calls of one token past their turn at once — pacing, in flight or between two attempts —
    /// the rest queued first come, first served (fairness between tenants, docs/requests.md): 1 to
    /// [`MAX_IN_FLIGHT_PER_TOKEN`]. Per token, so a tenant with a pool of N tokens has N times this.
    pub max_in_flight_per_token: u32,
    /// Pre-flight scope check against the tenant's declared `requiredScopes`.
    pub preflight: PreflightMode,
    /// Outbound proxy for the config service, login and API traffic (never Redis): the
    /// environment's by default (see [`crate::network`]).
    pub proxy: ProxyOption,
    /// Extra CA certificates (PEM text) trusted besides the system's roots and `NODE_EXTRA_CA_CERTS`,
    /// for the config service, login and API hosts and an https proxy.
    pub ca_certs: Option<String>,
    /// Where `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY` and `NODE_EXTRA_CA_CERTS` are read
    /// (the process's environment by default).
    pub environment: Environment,
    /// How long after an unpinned tenant's first token its organization is looked up for the
    /// one-time `config.unpinned` hint (one `GET /api/v2/tokens/me`, only when the tenant's rate
    /// budget has room; in shared mode once per fleet). Not a JS option; zero looks up at once.
    pub organization_hint_delay: Duration,
    /// The Notifications API's channel manager.
    pub notifications: NotificationOptions,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            config_endpoint: None,
            config_service_token: None,
            config_file: None,
            config_poll_interval: DEFAULT_CONFIG_POLL_INTERVAL,
            config_timeout: DEFAULT_CONFIG_TIMEOUT,
            snapshot_path: None,
            gateway: None,
            allowed_hosts: Vec::new(),
            redis_url: None,
            redis_tls: None,
            redis_key_prefix: DEFAULT_REDIS_KEY_PREFIX.to_string(),
            redis_lease: DEFAULT_LEASE,
            encryption_key: None,
            refresh_ahead_ratio: DEFAULT_REFRESH_AHEAD_RATIO,
            max_retries: DEFAULT_MAX_RETRIES,
            max_retry_delay: DEFAULT_MAX_RETRY_DELAY,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            rate_limit_per_minute: DEFAULT_RATE_LIMIT_PER_MINUTE,
            tokens_per_tenant: DEFAULT_TOKENS_PER_TENANT,
            max_in_flight_per_token: DEFAULT_MAX_IN_FLIGHT_PER_TOKEN,
            preflight: Default::default(),
            proxy: ProxyOption::Environment,
            ca_certs: None,
            environment: Environment::Process,
            organization_hint_delay: DEFAULT_ORGANIZATION_HINT_DELAY,
            notifications: NotificationOptions::default(),
        }
    }
}

impl Options {
    /// What the HTTP client is built from (see [`crate::network::Http::new`]).
    pub fn network(&self) -> crate::network::NetworkSettings<'_> {
        crate::network::NetworkSettings {
            proxy: &self.proxy,
            environment: &self.environment,
            ca_certs: self.ca_certs.as_deref(),
            request_timeout: self.request_timeout,
        }
    }

    /// Checks every option; the error names the first bad one.
    pub fn validate(&self) -> Result<()> {
        match (&self.config_endpoint, &self.config_file) {
            (None, None) => return Err(Error::invalid_option("configEndpoint", "set configEndpoint (the config service) or configFile")),
            (Some(_), Some(_)) => return Err(Error::invalid_option("configFile", "set either configEndpoint or configFile, not both")),
            _ => {}
        }
        if let Some(e) = &self.config_endpoint {
            let u = url::Url::parse(e).map_err(|err| Error::invalid_option("configEndpoint", format!("not a URL: {err}")))?;
            if u.scheme() != "http" && u.scheme() != "https" {
                return Err(Error::invalid_option("configEndpoint", "must be an http(s) URL"));
            }
        }
        for (option, value) in [
            ("configServiceToken", self.config_service_token.as_ref().map(|s| s.is_empty())),
            ("configFile", self.config_file.as_ref().map(|p| p.as_os_str().is_empty())),
            ("snapshotPath", self.snapshot_path.as_ref().map(|p| p.as_os_str().is_empty())),
            ("redisKeyPrefix", Some(self.redis_key_prefix.is_empty())),
        ] {
            if value == Some(true) {
                return Err(Error::invalid_option(option, "must not be empty"));
            }
        }
        let within = |option: &str, d: Duration, min_ms: u64, max_ms: u64| {
            if d < Duration::from_millis(min_ms) || d > Duration::from_millis(max_ms) {
                Err(Error::invalid_option(option, format!("must be between {min_ms} and {max_ms}")))
            } else {
                Ok(())
            }
        };
        within("configPollIntervalMs", self.config_poll_interval, 100, 86_400_000)?;
        if self.config_timeout < Duration::from_millis(50) || self.config_timeout > Duration::from_secs(300) {
            return Err(Error::invalid_option("configTimeoutMs", "must be between 50 and 300000"));
        }
        if let Some(g) = &self.gateway {
            g.validate()?;
        }
        for (i, h) in self.allowed_hosts.iter().enumerate() {
            if h.trim().is_empty() || h.contains(char::is_whitespace) {
                // Named by position: an options error never quotes what it was given.
                return Err(Error::invalid_option(&format!("allowedHosts[{i}]"), "is not a host name"));
            }
        }
        if !(self.refresh_ahead_ratio > 0.0 && self.refresh_ahead_ratio < 1.0) {
            return Err(Error::invalid_option("refreshAheadRatio", "must be greater than 0 and less than 1"));
        }
        if self.max_retries > 100 {
            return Err(Error::invalid_option("maxRetries", "must be between 0 and 100"));
        }
        within("maxRetryDelayMs", self.max_retry_delay, 1, 3_600_000)?;
        within("requestTimeoutMs", self.request_timeout, 10, 600_000)?;
        if self.rate_limit_per_minute == 0 || self.rate_limit_per_minute > 1_000_000 {
            return Err(Error::invalid_option("rateLimitPerMinute", "must be between 1 and 1000000"));
        }
        if !(1..=MAX_TOKENS_PER_TENANT).contains(&self.tokens_per_tenant) {
            return Err(Error::invalid_option("tokensPerTenant", format!("must be between 1 and {MAX_TOKENS_PER_TENANT}")));
        }
        if !(1..=MAX_IN_FLIGHT_PER_TOKEN).contains(&self.max_in_flight_per_token) {
            return Err(Error::invalid_option("maxInFlightPerToken", format!("must be between 1 and {MAX_IN_FLIGHT_PER_TOKEN}")));
        }
        if self.snapshot_path.is_some() && self.encryption_key.is_none() {
            return Err(Error::invalid_option(
                "encryptionKey",
                "snapshotPath needs an encryptionKey: secrets are never written in the clear",
            ));
        }
        if let Some(url) = &self.redis_url {
            const SCHEMES: [&str; 6] = ["redis://", "rediss://", "redis+cluster://", "rediss+cluster://", "unix://", "redis+unix://"];
            if !SCHEMES.iter().any(|s| url.starts_with(s)) {
                return Err(Error::invalid_option(
                    "redisUrl",
                    "must be a redis://, rediss://, redis+cluster://, rediss+cluster:// or unix:// URL",
                ));
            }
            // The redis crate reads `#insecure` as "skip certificate checks"; that is never ours to allow.
            if url.contains('#') {
                return Err(Error::invalid_option("redisUrl", "must not have a #fragment (certificate checks cannot be turned off)"));
            }
            if self.encryption_key.is_none() {
                return Err(Error::invalid_option(
                    "encryptionKey",
                    "redisUrl needs an encryptionKey: tokens are never stored in Redis in the clear",
                ));
            }
        }
        if let Some(tls) = &self.redis_tls {
            if !self.redis_url.as_deref().is_some_and(|u| u.starts_with("rediss://") || u.starts_with("rediss+cluster://")) {
                return Err(Error::invalid_option(
                    "redisTls",
                    "needs a rediss:// or rediss+cluster:// redisUrl (TLS is never added to, or dropped from, what the URL says)",
                ));
            }
            tls.validate()?;
        }
        if self.redis_lease < Duration::from_millis(100) || self.redis_lease > Duration::from_secs(300) {
            return Err(Error::invalid_option("redisLeaseMs", "must be between 100 and 300000"));
        }
        if self.redis_key_prefix.len() > 128 || self.redis_key_prefix.contains(['{', '}', ' ']) {
            return Err(Error::invalid_option("redisKeyPrefix", "must be at most 128 characters without braces or spaces"));
        }
        if let Some(k) = &self.encryption_key {
            crate::crypto::EncryptionKey::parse(k.expose()).map_err(|e| Error::invalid_option("encryptionKey", e))?;
        }
        self.proxy.validate()?;
        self.notifications.validate()?;
        if let Some(pem) = &self.ca_certs {
            crate::network::pem_certificates(pem, "caCerts")?;
        }
        Ok(())
    }
}

/// TLS material for Redis: PEM text. Without it a `rediss://` URL is verified against the system's roots.
///
/// ```
/// use genesys_tenants_core::RedisTls;
/// let tls = RedisTls { ca: Some("-----BEGIN CERTIFICATE-----\n…".into()), ..RedisTls::default() };
/// assert!(tls.validate().is_ok());
/// assert!(RedisTls { cert: Some("-----BEGIN CERTIFICATE-----".into()), ..RedisTls::default() }.validate().is_err(), "a cert needs its key");
/// ```
#[derive(Debug, Clone, Default)]
pub struct RedisTls {
    /// The CA certificate(s) that sign the server's certificate, instead of the system's roots.
    pub ca: Option<String>,
    /// The client certificate, for mutual TLS.
    pub cert: Option<String>,
    /// The client certificate's private key.
    pub key: Option<Secret>,
}

impl RedisTls {
    /// Each field is PEM; `cert` and `key` come together.
    pub fn validate(&self) -> Result<()> {
        let pem = |name: &str, v: &str| {
            if v.trim_start().starts_with("-----BEGIN ") {
                Ok(())
            } else {
                Err(Error::invalid_option(name, "must be PEM text (-----BEGIN …), e.g. fs.readFileSync(path, 'utf8')"))
            }
        };
        if let Some(ca) = &self.ca {
            pem("redisTls.ca", ca)?;
        }
        match (&self.cert, &self.key) {
            (Some(c), Some(k)) => {
                pem("redisTls.cert", c)?;
                pem("redisTls.key", k.expose())?;
            }
            (None, None) => {}
            (Some(_), None) => return Err(Error::invalid_option("redisTls.key", "a client certificate needs its key")),
            (None, Some(_)) => return Err(Error::invalid_option("redisTls.cert", "a client key needs its certificate")),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Options {
        Options { config_endpoint: Some("http://127.0.0.1:1".into()), ..Options::default() }
    }

    #[test]
    fn each_bad_option_is_named() {
        let cases: Vec<(&str, Options)> = vec![
            ("configEndpoint", Options::default()),
            ("configEndpoint", Options { config_endpoint: Some("ftp://x".into()), ..base() }),
            ("configFile", Options { config_file: Some("x.json".into()), ..base() }),
            ("refreshAheadRatio", Options { refresh_ahead_ratio: 1.5, ..base() }),
            ("rateLimitPerMinute", Options { rate_limit_per_minute: 0, ..base() }),
            ("encryptionKey", Options { snapshot_path: Some("s".into()), ..base() }),
            ("encryptionKey", Options { redis_url: Some("redis://127.0.0.1:6379".into()), ..base() }),
            ("redisUrl", Options { redis_url: Some("http://x".into()), encryption_key: Some(Secret::new("ab".repeat(32))), ..base() }),
            ("encryptionKey", Options { encryption_key: Some(Secret::new("short")), ..base() }),
            ("configPollIntervalMs", Options { config_poll_interval: Duration::ZERO, ..base() }),
            ("configPollIntervalMs", Options { config_poll_interval: Duration::from_secs(86_401), ..base() }),
            ("maxRetryDelayMs", Options { max_retry_delay: Duration::from_secs(3601), ..base() }),
            ("requestTimeoutMs", Options { request_timeout: Duration::from_secs(601), ..base() }),
            ("rateLimitPerMinute", Options { rate_limit_per_minute: 1_000_001, ..base() }),
            ("tokensPerTenant", Options { tokens_per_tenant: 0, ..base() }),
            ("tokensPerTenant", Options { tokens_per_tenant: MAX_TOKENS_PER_TENANT + 1, ..base() }),
            ("maxInFlightPerToken", Options { max_in_flight_per_token: 0, ..base() }),
            ("maxInFlightPerToken", Options { max_in_flight_per_token: MAX_IN_FLIGHT_PER_TOKEN + 1, ..base() }),
            ("configServiceToken", Options { config_service_token: Some(Secret::new("")), ..base() }),
            ("redisKeyPrefix", Options { redis_key_prefix: String::new(), ..base() }),
            (
                "redisUrl",
                Options {
                    redis_url: Some("rediss://h:6380/#insecure".into()),
                    encryption_key: Some(Secret::new("ab".repeat(32))),
                    ..base()
                },
            ),
            (
                "redisTls",
                Options {
                    redis_url: Some("redis://h:6379".into()),
                    redis_tls: Some(RedisTls { ca: Some("-----BEGIN CERTIFICATE-----".into()), ..RedisTls::default() }),
                    encryption_key: Some(Secret::new("ab".repeat(32))),
                    ..base()
                },
            ),
            (
                "redisTls.ca",
                Options {
                    redis_url: Some("rediss+cluster://h:6379".into()),
                    redis_tls: Some(RedisTls { ca: Some("/etc/ca.pem".into()), ..RedisTls::default() }),
                    encryption_key: Some(Secret::new("ab".repeat(32))),
                    ..base()
                },
            ),
            ("caCerts", Options { ca_certs: Some("/etc/ssl/ca.pem".into()), ..base() }),
            (
                "proxy.url",
                Options {
                    proxy: ProxyOption::Explicit(crate::network::ProxySettings {
                        url: Secret::new("socks5://p:1080"),
                        no_proxy: vec![],
                        proxy_loopback: false,
                    }),
                    ..base()
                },
            ),
        ];
        for (option, o) in cases {
            match o.validate() {
                Err(Error::InvalidOptions { option: got, .. }) => assert_eq!(got, option),
                other => panic!("expected INVALID_OPTIONS for {option}, got {other:?}"),
            }
        }
        assert!(base().validate().is_ok());
        for n in [1, MAX_IN_FLIGHT_PER_TOKEN] {
            assert!(Options { max_in_flight_per_token: n, ..base() }.validate().is_ok(), "{n}");
        }
    }
}

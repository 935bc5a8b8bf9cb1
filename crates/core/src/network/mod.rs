//! The network the orchestrator's HTTP goes over, made explicit: which outbound proxy each request
//! takes ([`ProxyRules`]: the `proxy` option, else `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY`/`NO_PROXY`),
//! which extra CAs are trusted (`caCerts`, `NODE_EXTRA_CA_CERTS`), and [`Http`], the client built
//! from both. One rule covers the config service, login and API traffic (`NO_PROXY` or `noProxy`
//! exempts the config service); Redis is never proxied (it is not HTTP, and its own TLS settings
//! are `redisTls`).
//!
//! HTTPS goes through a proxy with `CONNECT` only, so TLS runs end to end and the proxy sees the
//! target's host and port, never a token (unless it inspects TLS with a CA you trust). The egress
//! guard judges the target URL, whatever the route.

mod no_proxy;
mod proxy;
mod roots;
mod tunnel;

pub use no_proxy::{is_loopback, NoProxy};
pub use proxy::{ProxyEndpoint, ProxyOption, ProxyRules, ProxySettings};
pub use roots::{extra_root_ders, extra_roots, pem_certificates, MAX_CA_FILE, NODE_EXTRA_CA_CERTS};

use crate::error::{Error, Result};
use crate::redact::ConfiguredSecrets;
use crate::secret::Secret;
use std::sync::Arc;
use std::time::Duration;

/// Where the proxy variables and `NODE_EXTRA_CA_CERTS` are read: the process's environment (the
/// default), or fixed values (tests, or a host that configures the orchestrator explicitly).
#[derive(Clone, Default)]
pub enum Environment {
    /// `std::env`, read once when the orchestrator is built.
    #[default]
    Process,
    /// These values only.
    Fixed(Arc<Vec<(String, Secret)>>),
}

impl std::fmt::Debug for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Environment::Process => f.write_str("Environment::Process"),
            // Names only: a proxy variable may hold a password.
            Environment::Fixed(v) => f.debug_list().entries(v.iter().map(|(k, _)| k)).finish(),
        }
    }
}

impl Environment {
    /// Fixed values.
    pub fn fixed<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Environment {
        Environment::Fixed(Arc::new(pairs.into_iter().map(|(k, v)| (k.into(), Secret::new(v))).collect()))
    }

    /// The value of `name`, trimmed; unset when empty (as curl and Node treat an empty proxy variable).
    pub fn var(&self, name: &str) -> Option<String> {
        let v = match self {
            Environment::Process => std::env::var(name).ok(),
            Environment::Fixed(v) => v.iter().find(|(k, _)| k == name).map(|(_, v)| v.expose().to_string()),
        };
        v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
    }
}

struct Network {
    rules: ProxyRules,
    secrets: Arc<ConfiguredSecrets>,
    /// The extra roots as DER, for [`Http::websocket_tls`].
    roots: Vec<rustls::pki_types::CertificateDer<'static>>,
    /// The WebSocket's TLS settings, built on first use.
    websocket_tls: std::sync::OnceLock<Arc<rustls::ClientConfig>>,
}

/// The orchestrator's HTTP client (a `reqwest::Client`, which it derefs to) with the rule it was
/// built with, so a failure can name the proxy it went through.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    network: Arc<Network>,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http").field("proxies", &self.network.rules).finish_non_exhaustive()
    }
}

impl std::ops::Deref for Http {
    type Target = reqwest::Client;
    fn deref(&self) -> &reqwest::Client {
        &self.client
    }
}

/// What a 407 names when the proxy URL carried credentials.
const REFUSED_CREDENTIALS: &str = "the proxy refused the credentials in its URL (407 Proxy Authentication Required)";
/// What a 407 names when it did not.
const WANTS_CREDENTIALS: &str =
    "the proxy asks for credentials (407 Proxy Authentication Required); give them in its URL: http://user:password@host:port";

/// What the HTTP client is built from (the options' `proxy`, `caCerts`, `requestTimeoutMs` and the
/// environment they were read with): see `Options::network`.
#[derive(Debug, Clone, Copy)]
pub struct NetworkSettings<'a> {
    /// The `proxy` option.
    pub proxy: &'a ProxyOption,
    /// The environment's proxy variables and `NODE_EXTRA_CA_CERTS`.
    pub environment: &'a Environment,
    /// The `caCerts` option (PEM text).
    pub ca_certs: Option<&'a str>,
    /// `requestTimeoutMs`.
    pub request_timeout: std::time::Duration,
}

impl Http {
    /// The client for `settings`: its proxy rule (the option, else the environment), its extra
    /// roots, `requestTimeoutMs`. A proxy variable or `NODE_EXTRA_CA_CERTS` that cannot be used is
    /// `INVALID_OPTIONS` naming it.
    pub fn new(settings: NetworkSettings<'_>) -> Result<Http> {
        let rules = ProxyRules::new(settings.proxy, settings.environment)?;
        let root_ders = extra_root_ders(settings.ca_certs, settings.environment)?;
        let roots = extra_roots(settings.ca_certs, settings.environment)?;
        let mut secrets = ConfiguredSecrets::default();
        rules.secrets(&mut secrets);
        let mut builder = crate::transport::builder(settings.request_timeout);
        builder = if rules.any() {
            // Our rule decides, per target; reqwest's own reading of the environment is off.
            let r = rules.clone();
            builder.proxy(reqwest::Proxy::custom(move |url| r.proxy_for(url).map(|p| p.for_client().to_string())))
        } else {
            builder.no_proxy()
        };
        if !roots.is_empty() {
            builder = builder.tls_certs_merge(roots);
        }
        let client = builder.build().map_err(|e| {
            let mut reason = e.to_string();
            secrets.redact_string(&mut reason);
            Error::InvalidOptions { option: "(http client)".into(), reason }
        })?;
        Ok(Http {
            client,
            network: Arc::new(Network { rules, secrets: Arc::new(secrets), roots: root_ders, websocket_tls: std::sync::OnceLock::new() }),
        })
    }

    /// The client.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// TLS settings for the clients that are not reqwest (the notification WebSocket): the same trust
    /// as reqwest's — ring, the platform's verifier (system roots) plus `caCerts` and
    /// `NODE_EXTRA_CA_CERTS` — built once.
    pub fn websocket_tls(&self) -> Result<Arc<rustls::ClientConfig>> {
        if let Some(c) = self.network.websocket_tls.get() {
            return Ok(Arc::clone(c));
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let bad = |reason: String| Error::InvalidOptions { option: "caCerts".into(), reason };
        let verifier = if self.network.roots.is_empty() {
            rustls_platform_verifier::Verifier::new(Arc::clone(&provider))
        } else {
            rustls_platform_verifier::Verifier::new_with_extra_roots(self.network.roots.iter().cloned(), Arc::clone(&provider))
        }
        .map_err(|e| bad(e.to_string()))?;
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| bad(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        Ok(Arc::clone(self.network.websocket_tls.get_or_init(|| Arc::new(config))))
    }

    /// The proxy `url` goes through, if any.
    pub fn proxy_for(&self, url: &url::Url) -> Option<&ProxyEndpoint> {
        self.network.rules.proxy_for(url)
    }

    /// The proxy passwords, in every form, to redact from every text.
    pub fn secrets(&self) -> &Arc<ConfiguredSecrets> {
        &self.network.secrets
    }

    /// `PROXY_AUTH_FAILED` when the proxy `url` went through refused it for want of (good)
    /// credentials: a 407 answer (plain http goes to the proxy as a request), or a `CONNECT` the
    /// proxy answered 407 (https). `None` for anything else.
    pub fn proxy_refusal(&self, url: &url::Url, outcome: std::result::Result<u16, &reqwest::Error>) -> Option<Error> {
        let proxy = self.proxy_for(url)?;
        let refused = match outcome {
            Ok(status) => status == 407,
            Err(e) => chain(e).any(|s| s.contains("proxy authorization required")),
        };
        refused.then(|| Error::ProxyAuthFailed {
            tenant_id: None,
            proxy: proxy.shown().to_string(),
            reason: if proxy.has_credentials() { REFUSED_CREDENTIALS } else { WANTS_CREDENTIALS }.to_string(),
        })
    }

    /// [`crate::transport::describe_reqwest`], naming the proxy when the request went through one
    /// (and what a refused tunnel means), proxy passwords redacted.
    pub fn describe(&self, url: &url::Url, e: &reqwest::Error, timeout: Duration) -> String {
        let mut s = crate::transport::describe_reqwest(e, timeout);
        if let Some(refused) = chain(e).find(|s| s.contains("invalid peer certificate")) {
            // A handshake failure reads as "connection failed" otherwise; say which certificate rule.
            s = format!("the server's certificate was refused ({refused}); if a private CA signs it, trust the CA with caCerts or NODE_EXTRA_CA_CERTS");
        }
        if let Some(p) = self.proxy_for(url) {
            if chain(e).any(|s| s.contains("tunnel error: unsuccessful")) {
                let target = format!("{}:{}", url.host_str().unwrap_or_default(), url.port_or_known_default().unwrap_or(443));
                s = format!("the proxy {} refused to open a tunnel (CONNECT) to {target}", p.shown());
            } else {
                s = format!("{s} (through the proxy {})", p.shown());
            }
        }
        self.network.secrets.redact_string(&mut s);
        s
    }
}

/// The texts of `e` and its sources.
fn chain(e: &reqwest::Error) -> impl Iterator<Item = String> + '_ {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    std::iter::from_fn(move || {
        let cur = next?;
        next = cur.source();
        Some(cur.to_string())
    })
}

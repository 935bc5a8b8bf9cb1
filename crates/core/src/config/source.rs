//! Where the tenant config comes from: the config service over HTTP (with ETag /
//! If-None-Match) or a JSON file (re-read when its size or modification time changes).

use crate::error::Error;
use crate::network::Http;
use crate::secret::Secret;
use crate::transport::{display_url, read_limited, MAX_CONFIG_BODY};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// The tenants route under the config service's base URL.
pub const TENANTS_PATH: &str = "api/v1/genesys/tenants";

/// What one read of the source gave.
#[derive(Debug)]
pub enum Fetched {
    /// The document is unchanged since the last read.
    NotModified,
    /// A new document.
    Body {
        /// Raw bytes (parsed by the caller).
        bytes: Vec<u8>,
        /// Opaque version marker for the next conditional read.
        version: Option<String>,
    },
}

/// A source of the tenant config.
#[derive(Debug)]
pub enum ConfigSource {
    /// `GET {endpoint}/api/v1/genesys/tenants` with `X-Service-Token`.
    Service {
        /// Full URL of the tenants route.
        url: url::Url,
        /// Sent as `X-Service-Token`.
        token: Option<Secret>,
        /// Shared HTTP client (the config service follows the same proxy rule as the API).
        http: Http,
        /// Per-request timeout.
        timeout: Duration,
    },
    /// A local JSON file.
    File {
        /// Its path.
        path: PathBuf,
    },
}

impl ConfigSource {
    /// Builds the service source from the `configEndpoint` option.
    pub fn service(endpoint: &str, token: Option<Secret>, http: Http, timeout: Duration) -> Result<Self, Error> {
        let bad = |reason: String| Error::InvalidOptions { option: "configEndpoint".into(), reason };
        let mut base = url::Url::parse(endpoint).map_err(|e| bad(format!("not a URL: {e}")))?;
        if base.scheme() != "http" && base.scheme() != "https" {
            return Err(bad("must be an http(s) URL".into()));
        }
        if !base.path().ends_with('/') {
            let p = format!("{}/", base.path());
            base.set_path(&p);
        }
        let url = base.join(TENANTS_PATH).map_err(|e| bad(e.to_string()))?;
        Ok(ConfigSource::Service { url, token, http, timeout })
    }

    /// The source the options name (`configEndpoint` or `configFile`); options must be validated.
    pub fn from_options(options: &crate::options::Options, http: Http) -> Result<ConfigSource, Error> {
        match (&options.config_endpoint, &options.config_file) {
            (Some(endpoint), _) => ConfigSource::service(endpoint, options.config_service_token.clone(), http, options.config_timeout),
            (None, Some(path)) => Ok(ConfigSource::File { path: path.clone() }),
            (None, None) => Err(Error::InvalidOptions {
                option: "configEndpoint".into(),
                reason: "set configEndpoint (the config service) or configFile".into(),
            }),
        }
    }

    /// A short description for events and errors (no secrets).
    pub fn describe(&self) -> String {
        match self {
            ConfigSource::Service { url, .. } => format!("config service {}", display_url(url)),
            ConfigSource::File { path } => format!("config file {}", path.display()),
        }
    }

    /// Reads the source; `version` is what the last successful read returned.
    pub async fn fetch(&self, version: Option<&str>) -> Result<Fetched, String> {
        match self {
            ConfigSource::Service { url, token, http, timeout } => {
                let mut req = http.get(url.clone()).timeout(*timeout).header("Accept", "application/json");
                if let Some(t) = token {
                    req = req.header("X-Service-Token", t.expose());
                }
                if let Some(v) = version {
                    req = req.header("If-None-Match", v);
                }
                // A proxy's 407 is named as such (the config service's errors are CONFIG_UNAVAILABLE reasons).
                let resp = req.send().await.map_err(|e| match http.proxy_refusal(url, Err(&e)) {
                    Some(refused) => refused.to_string(),
                    None => http.describe(url, &e, *timeout),
                })?;
                let status = resp.status();
                if let Some(refused) = http.proxy_refusal(url, Ok(status.as_u16())) {
                    return Err(refused.to_string());
                }
                if status == reqwest::StatusCode::NOT_MODIFIED {
                    // Only an answer to our If-None-Match means "keep what you have": a 304 to a
                    // first read would leave nothing to keep.
                    return match version {
                        Some(_) => Ok(Fetched::NotModified),
                        None => Err("config service answered 304 Not Modified to a read that sent no If-None-Match".into()),
                    };
                }
                if !status.is_success() {
                    return Err(format!("config service answered HTTP {}", status.as_u16()));
                }
                let etag = resp.headers().get("etag").and_then(|v| v.to_str().ok()).map(str::to_string);
                let bytes = read_limited(resp, MAX_CONFIG_BODY).await.map_err(|e| format!("config document: {}", e.describe(*timeout)))?;
                Ok(Fetched::Body { bytes: bytes.to_vec(), version: etag })
            }
            ConfigSource::File { path } => {
                let meta = tokio::fs::metadata(path).await.map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                let stamp = file_stamp(meta.len(), meta.modified().ok());
                if version == Some(stamp.as_str()) {
                    return Ok(Fetched::NotModified);
                }
                if meta.len() > MAX_CONFIG_BODY as u64 {
                    return Err(format!("config file larger than {MAX_CONFIG_BODY} bytes"));
                }
                // Bounded even when the size lied (a device, a pipe, a file still growing).
                use tokio::io::AsyncReadExt;
                let file = tokio::fs::File::open(path).await.map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                let mut bytes = Vec::with_capacity(meta.len() as usize);
                file.take(MAX_CONFIG_BODY as u64 + 1)
                    .read_to_end(&mut bytes)
                    .await
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                if bytes.len() > MAX_CONFIG_BODY {
                    return Err(format!("config file larger than {MAX_CONFIG_BODY} bytes"));
                }
                Ok(Fetched::Body { bytes, version: Some(stamp) })
            }
        }
    }
}

fn file_stamp(len: u64, modified: Option<SystemTime>) -> String {
    let nanos = modified.and_then(|m| m.duration_since(SystemTime::UNIX_EPOCH).ok()).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{len}:{nanos}")
}

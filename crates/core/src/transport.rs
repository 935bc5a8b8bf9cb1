//! The HTTP transport every part shares: the client (pooled, rustls with ring, no redirects), body
//! reads that stop at a limit, and descriptions of failures and URLs that carry no credentials.

use crate::error::{Error, Result};
use std::time::Duration;

/// Largest token-endpoint answer read (a real one is a few hundred bytes).
pub const MAX_TOKEN_BODY: usize = 64 * 1024;
/// Largest API answer read (a page of 1,000 analytics conversations is a few MB).
pub const MAX_API_BODY: usize = 64 * 1024 * 1024;
/// Largest config document read (a few thousand tenants fit in far less).
pub const MAX_CONFIG_BODY: usize = 32 * 1024 * 1024;

/// The settings every client of the core shares: pooled, rustls with ring, no redirects (a redirect
/// must never carry a token or secret anywhere); connecting gives up after `request_timeout` (at
/// most 10 s). Proxies and extra roots are added by [`crate::network::Http::new`].
pub fn builder(request_timeout: Duration) -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(request_timeout.min(Duration::from_secs(10)))
        .pool_idle_timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(256)
        .tcp_nodelay(true)
        .user_agent(concat!("genesys-tenants/", env!("CARGO_PKG_VERSION")))
}

/// A client with [`builder`]'s settings that connects directly (no proxy, whatever the environment
/// says) and trusts the system's roots. The orchestrator's is a [`crate::network::Http`].
pub fn http_client(request_timeout: Duration) -> Result<reqwest::Client> {
    builder(request_timeout).no_proxy().build().map_err(|e| Error::InvalidOptions { option: "(http client)".into(), reason: e.to_string() })
}

/// Why a body could not be read.
#[derive(Debug)]
pub enum BodyError {
    /// The answer is longer than the limit (by its `Content-Length`, or as it streamed).
    TooLarge {
        /// The limit that was passed.
        limit: usize,
    },
    /// The connection failed or timed out mid-body.
    Read(reqwest::Error),
}

impl BodyError {
    /// A short description (no URL, no credentials); `timeout` is the request's deadline.
    pub fn describe(&self, timeout: Duration) -> String {
        match self {
            BodyError::TooLarge { limit } => format!("the answer is larger than {} (the limit); stopped reading", bytes_text(*limit)),
            BodyError::Read(e) => describe_reqwest(e, timeout),
        }
    }
}

/// Reads `resp`'s body, at most `limit` bytes: an answer that announces more, or streams past it,
/// stops being read at once (a server that never ends its body costs `limit`, not the process).
pub async fn read_limited(mut resp: reqwest::Response, limit: usize) -> std::result::Result<bytes::Bytes, BodyError> {
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge { limit });
    }
    // Most answers arrive in one chunk: it is returned as is, without a copy.
    let mut first: Option<bytes::Bytes> = None;
    let mut buf = bytes::BytesMut::new();
    while let Some(chunk) = resp.chunk().await.map_err(BodyError::Read)? {
        let read = first.as_ref().map_or(0, bytes::Bytes::len) + buf.len();
        if read + chunk.len() > limit {
            return Err(BodyError::TooLarge { limit });
        }
        if let Some(f) = first.take() {
            buf.extend_from_slice(&f);
        } else if buf.is_empty() {
            first = Some(chunk);
            continue;
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(first.unwrap_or_else(|| buf.freeze()))
}

fn bytes_text(n: usize) -> String {
    if n >= 1024 * 1024 && n.is_multiple_of(1024 * 1024) {
        format!("{} MiB", n / (1024 * 1024))
    } else if n >= 1024 && n.is_multiple_of(1024) {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}

/// `url` as text without its userinfo (`https://user:pass@host/` → `https://host/`).
///
/// ```
/// use genesys_tenants_core::transport::display_url;
/// let u = url::Url::parse("https://svc:hunter2@config.example/api").unwrap();
/// assert_eq!(display_url(&u), "https://config.example/api");
/// ```
pub fn display_url(url: &url::Url) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.to_string()
}

/// A URL given as text (an option), without its userinfo; text that does not parse is shown as
/// `[unparsable URL]`, since it may still hold credentials.
pub fn display_url_text(raw: &str) -> String {
    url::Url::parse(raw).map(|u| display_url(&u)).unwrap_or_else(|_| "[unparsable URL]".into())
}

/// Describes a reqwest failure in a few words, without credentials in any URL it names.
pub fn describe_reqwest(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        format!("no answer within {} ms", timeout.as_millis())
    } else if e.is_connect() {
        "connection failed (refused or unreachable)".to_string()
    } else if e.is_body() || e.is_decode() {
        "the response body could not be read".to_string()
    } else {
        let mut s = e.to_string();
        let mut src = std::error::Error::source(e);
        while let Some(inner) = src {
            s.push_str(": ");
            s.push_str(&inner.to_string());
            src = inner.source();
        }
        if let Some(u) = e.url() {
            if !u.username().is_empty() || u.password().is_some() {
                s = s.replace(u.as_str(), &display_url(u));
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_credentials() {
        assert_eq!(display_url_text("redis://default:s3cret@cache.example:6380/0"), "redis://cache.example:6380/0");
        assert_eq!(display_url_text("rediss://:only-a-password@h"), "rediss://h");
        assert_eq!(display_url_text("not a url with pw:secret"), "[unparsable URL]");
        assert_eq!(bytes_text(MAX_TOKEN_BODY), "64 KiB");
        assert_eq!(bytes_text(MAX_API_BODY), "64 MiB");
    }
}

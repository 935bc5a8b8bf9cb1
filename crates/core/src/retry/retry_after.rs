//! Reading the server's wait instructions: `Retry-After` (delta-seconds or HTTP-date) and the
//! Genesys `inin-ratelimit-allowed` / `-count` / `-reset` headers. Pure functions, table-tested.

use reqwest::header::HeaderMap;
use std::time::{Duration, SystemTime};

/// Longest wait we accept from a server header (the Go SDK gives up above 180 s; we cap and let
/// the caller's budget decide).
pub const MAX_SERVER_WAIT: Duration = Duration::from_secs(3600);

/// Parses a `Retry-After` value: whole or fractional seconds, or an HTTP-date (relative to `now`).
/// Negative, empty, non-finite or absurd values give `None`.
///
/// ```
/// use genesys_tenants_core::retry::retry_after::parse_retry_after;
/// use std::time::{Duration, SystemTime};
/// assert_eq!(parse_retry_after("3", SystemTime::now()), Some(Duration::from_secs(3)));
/// assert_eq!(parse_retry_after("soon", SystemTime::now()), None);
/// ```
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    if let Ok(secs) = v.parse::<f64>() {
        if !secs.is_finite() || secs < 0.0 {
            return None;
        }
        return Some(Duration::from_secs_f64(secs.min(MAX_SERVER_WAIT.as_secs_f64())));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO).min(MAX_SERVER_WAIT))
}

/// `Retry-After` from response headers, if present and valid.
pub fn from_headers(headers: &HeaderMap) -> Option<Duration> {
    headers.get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| parse_retry_after(v, SystemTime::now()))
}

/// What the `inin-ratelimit-*` headers said (each may be absent: Genesys reportedly removed them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RateLimitHeaders {
    /// `inin-ratelimit-allowed`: requests allowed in the window.
    pub allowed: Option<u32>,
    /// `inin-ratelimit-count`: requests used in the current window.
    pub count: Option<u32>,
    /// `inin-ratelimit-reset`: time until the window resets.
    pub reset: Option<Duration>,
}

impl RateLimitHeaders {
    /// Reads the headers; malformed values count as absent.
    pub fn from_headers(headers: &HeaderMap) -> RateLimitHeaders {
        let num = |name: &str| -> Option<f64> {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|n| n.is_finite() && *n >= 0.0)
        };
        RateLimitHeaders {
            allowed: num("inin-ratelimit-allowed").filter(|n| *n >= 1.0 && *n <= 1e7).map(|n| n as u32),
            count: num("inin-ratelimit-count").filter(|n| *n <= 1e7).map(|n| n as u32),
            reset: num("inin-ratelimit-reset").map(|s| Duration::from_secs_f64(s.min(MAX_SERVER_WAIT.as_secs_f64()))),
        }
    }

    /// True when none was present.
    pub fn is_empty(&self) -> bool {
        self.allowed.is_none() && self.count.is_none() && self.reset.is_none()
    }
}

/// How long to wait after a 429: `Retry-After`, else `inin-ratelimit-reset`, else `None`.
pub fn wait_after_429(headers: &HeaderMap) -> Option<Duration> {
    from_headers(headers).or_else(|| RateLimitHeaders::from_headers(headers).reset)
}

/// The wait named in a Genesys 429 message — "Rate limit exceeded the maximum. Retry the request
/// in [3] seconds" — for answers whose headers were stripped (a proxy, the SDK's default mode).
///
/// ```
/// use genesys_tenants_core::retry::retry_after::from_message;
/// use std::time::Duration;
/// assert_eq!(from_message("Retry the request in [3] seconds"), Some(Duration::from_secs(3)));
/// assert_eq!(from_message("maximum [300] requests within [60] seconds"), None);
/// ```
pub fn from_message(message: &str) -> Option<Duration> {
    let lower = message.to_ascii_lowercase();
    let rest = &lower[lower.find("retry the request in")? + "retry the request in".len()..];
    let digits: String = rest.trim_start().trim_start_matches('[').chars().take_while(|c| c.is_ascii_digit()).collect();
    let secs: u64 = digits.parse().ok()?;
    Some(Duration::from_secs(secs).min(MAX_SERVER_WAIT))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderName, HeaderValue};

    #[test]
    fn retry_after_table() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let cases: &[(&str, Option<Duration>)] = &[
            ("3", Some(Duration::from_secs(3))),
            (" 0 ", Some(Duration::ZERO)),
            ("1.5", Some(Duration::from_millis(1500))),
            ("-1", None),
            ("", None),
            ("NaN", None),
            ("inf", None),
            ("abc", None),
            ("99999999", Some(MAX_SERVER_WAIT)),
            ("Tue, 14 Nov 2023 22:13:30 GMT", Some(Duration::from_secs(10))),
            ("Tue, 14 Nov 2023 22:13:00 GMT", Some(Duration::ZERO)),
            ("Tue, 14 Nov 2023 22:13:00 PST", None),
        ];
        for (input, want) in cases {
            assert_eq!(parse_retry_after(input, now), *want, "input {input:?}");
        }
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn ratelimit_headers_table() {
        let h = RateLimitHeaders::from_headers(&headers(&[
            ("inin-ratelimit-allowed", "300"),
            ("inin-ratelimit-count", "12"),
            ("inin-ratelimit-reset", "41"),
        ]));
        assert_eq!(h, RateLimitHeaders { allowed: Some(300), count: Some(12), reset: Some(Duration::from_secs(41)) });
        let h = RateLimitHeaders::from_headers(&headers(&[("inin-ratelimit-allowed", "0"), ("inin-ratelimit-count", "x")]));
        assert!(h.is_empty());
        assert!(RateLimitHeaders::from_headers(&HeaderMap::new()).is_empty());
    }

    #[test]
    fn wait_prefers_retry_after() {
        assert_eq!(wait_after_429(&headers(&[("retry-after", "2"), ("inin-ratelimit-reset", "9")])), Some(Duration::from_secs(2)));
        assert_eq!(wait_after_429(&headers(&[("inin-ratelimit-reset", "9")])), Some(Duration::from_secs(9)));
        assert_eq!(wait_after_429(&headers(&[("retry-after", "bogus")])), None);
    }

    #[test]
    fn the_wait_is_read_from_genesys_messages() {
        let cases: &[(&str, Option<Duration>)] = &[
            ("Rate limit exceeded the maximum. Retry the request in [3] seconds", Some(Duration::from_secs(3))),
            ("Rate limit exceeded the maximum. Retry the request in 12 seconds", Some(Duration::from_secs(12))),
            ("RETRY THE REQUEST IN [0] SECONDS", Some(Duration::ZERO)),
            ("Rate limit exceeded the maximum [300] requests within [60] seconds", None),
            ("Retry the request in [soon] seconds", None),
            ("Retry the request in [99999999] seconds", Some(MAX_SERVER_WAIT)),
            ("", None),
        ];
        for (msg, want) in cases {
            assert_eq!(from_message(msg), *want, "{msg:?}");
        }
    }
}

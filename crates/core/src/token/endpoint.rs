//! The OAuth client-credentials call: `POST <login>/oauth/token` with HTTP Basic auth and the
//! form `grant_type=client_credentials`, exactly as the official SDKs send it — and the
//! classification of every answer it can give.

use crate::config::Tenant;
use crate::network::Http;
use crate::retry::budget::AttemptEnd;
use crate::secret::Secret;
use crate::transport::{read_limited, MAX_TOKEN_BODY};
use base64::Engine;
use serde_json::Value;
use std::time::Duration;

/// Longest `expires_in` we believe (Genesys allows 2 days, SCIM clients ~450 days).
pub const MAX_EXPIRES_IN: u64 = 500 * 24 * 3600;

/// A successful answer.
#[derive(Debug)]
pub struct Granted {
    /// The bearer token.
    pub access_token: Secret,
    /// Its lifetime as the server stated it.
    pub expires_in: Duration,
}

/// Why a token request failed, by what the caller should do about it.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenFailure {
    /// The credentials were refused (`invalid_client`, `unauthorized_client`, 401).
    Rejected {
        /// What the server said.
        reason: String,
        /// HTTP status.
        status: u16,
        /// `inin-correlation-id`.
        correlation_id: Option<String>,
    },
    /// Worth retrying later: throttled (429, or 400 `invalid_request` "rate limit exceeded"),
    /// 5xx, timeouts, connection failures, garbled success bodies.
    Retryable {
        /// What happened.
        reason: String,
        /// How the attempt ended, typed for the retry budget: a throttled answer is a 429 with the
        /// server's stated wait, a lost or garbled answer `Lost` (with whether it timed out).
        end: AttemptEnd,
        /// HTTP status, if there was an answer.
        status: Option<u16>,
    },
    /// The outbound proxy refused the request for want of (good) credentials (407): retrying
    /// cannot help, and the credentials are not at fault.
    Proxy {
        /// The proxy, without its credentials.
        proxy: String,
        /// What it said.
        reason: String,
    },
    /// Retrying cannot help (e.g. 400 `unsupported_grant_type`).
    Fatal {
        /// What the server said.
        reason: String,
        /// HTTP status.
        status: u16,
        /// `inin-correlation-id`.
        correlation_id: Option<String>,
    },
}

/// Sends one token request for `tenant` to `token_url`.
pub async fn request_token(http: &Http, token_url: &url::Url, tenant: &Tenant, timeout: Duration) -> Result<Granted, TokenFailure> {
    let basic = {
        let mut raw = zeroize::Zeroizing::new(String::with_capacity(tenant.client_id.len() + 64));
        raw.push_str(&tenant.client_id);
        raw.push(':');
        raw.push_str(tenant.client_secret.expose());
        zeroize::Zeroizing::new(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw.as_bytes())))
    };
    let resp = http
        .post(token_url.clone())
        .timeout(timeout)
        .header("Authorization", basic.as_str())
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Accept", "application/json")
        .body("grant_type=client_credentials")
        .send()
        .await;
    let refused = |outcome| match http.proxy_refusal(token_url, outcome) {
        Some(crate::error::Error::ProxyAuthFailed { proxy, reason, .. }) => Some(TokenFailure::Proxy { proxy, reason }),
        _ => None,
    };
    let resp = match resp {
        Ok(r) => r,
        Err(e) => {
            return Err(refused(Err(&e)).unwrap_or_else(|| TokenFailure::Retryable {
                reason: http.describe(token_url, &e, timeout),
                end: AttemptEnd::Lost { timeout: e.is_timeout() },
                status: None,
            }))
        }
    };
    let status = resp.status().as_u16();
    if let Some(f) = refused(Ok(status)) {
        return Err(f);
    }
    let headers = resp.headers().clone();
    let correlation_id = headers.get("inin-correlation-id").and_then(|v| v.to_str().ok()).map(str::to_string);
    let retry_after = crate::retry::retry_after::from_headers(&headers);
    // An answer longer than any token answer stops being read at the limit (retried like a garbled one).
    let bytes = read_limited(resp, MAX_TOKEN_BODY).await.map_err(|e| TokenFailure::Retryable {
        reason: e.describe(timeout),
        end: AttemptEnd::Lost { timeout: matches!(&e, crate::transport::BodyError::Read(r) if r.is_timeout()) },
        status: Some(status),
    })?;
    classify(status, &bytes, retry_after, correlation_id)
}

/// Classifies a token endpoint answer. Pure, for table tests.
pub fn classify(status: u16, body: &[u8], retry_after: Option<Duration>, correlation_id: Option<String>) -> Result<Granted, TokenFailure> {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    if (200..300).contains(&status) {
        // A garbled success is no usable answer: tried again as if lost.
        return parse_grant(json.as_ref()).map_err(|reason| TokenFailure::Retryable {
            reason,
            end: AttemptEnd::Lost { timeout: false },
            status: Some(status),
        });
    }
    let error = json.as_ref().and_then(|j| j.get("error")).and_then(Value::as_str).unwrap_or("").to_string();
    let description = json
        .as_ref()
        .and_then(|j| j.get("error_description").or_else(|| j.get("description")).or_else(|| j.get("message")))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let reason = match (error.is_empty(), description.is_empty()) {
        (false, false) => format!("{error}: {description}"),
        (false, true) => error.clone(),
        (true, false) => description.clone(),
        (true, true) => format!("HTTP {status}"),
    };
    // Genesys throttles token creation with 400 invalid_request "rate limit exceeded; …".
    let throttled = status == 429 || (status == 400 && description.to_ascii_lowercase().starts_with("rate limit exceeded"));
    if throttled {
        // Whatever its status, a throttled token request is a 429 to the retry budget.
        return Err(TokenFailure::Retryable {
            reason,
            end: AttemptEnd::Answer { status: 429, stated_wait: retry_after },
            status: Some(status),
        });
    }
    if matches!(status, 500 | 502 | 503 | 504) {
        return Err(TokenFailure::Retryable { reason, end: AttemptEnd::Answer { status, stated_wait: retry_after }, status: Some(status) });
    }
    if status >= 500 || status == 408 {
        // No answer the budget retries by status (408, 501, 505…): tried again as if lost.
        return Err(TokenFailure::Retryable { reason, end: AttemptEnd::Lost { timeout: status == 408 }, status: Some(status) });
    }
    if status == 401 || error == "invalid_client" || error == "unauthorized_client" || status == 403 {
        return Err(TokenFailure::Rejected { reason, status, correlation_id });
    }
    Err(TokenFailure::Fatal { reason, status, correlation_id })
}

fn parse_grant(json: Option<&Value>) -> Result<Granted, String> {
    let j = json.ok_or("token endpoint answered 2xx without a JSON body")?;
    let token =
        j.get("access_token").and_then(Value::as_str).filter(|t| !t.is_empty()).ok_or("token endpoint answer has no access_token")?;
    // expires_in may arrive as a number or a numeric string; it is required (never a constant).
    let expires_in = match j.get("expires_in") {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|s| s.is_finite() && *s >= 1.0 && *s <= MAX_EXPIRES_IN as f64)
    .ok_or("token endpoint answer has no usable expires_in")?;
    Ok(Granted { access_token: Secret::new(token), expires_in: Duration::from_secs_f64(expires_in) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(status: u16, body: &str) -> Result<Granted, TokenFailure> {
        classify(status, body.as_bytes(), None, None)
    }

    #[test]
    fn answers_are_classified() {
        let ok = c(200, r#"{"access_token":"abc","token_type":"bearer","expires_in":2}"#).unwrap();
        assert_eq!(ok.expires_in, Duration::from_secs(2));
        assert_eq!(c(200, r#"{"access_token":"abc","expires_in":"86400"}"#).unwrap().expires_in, Duration::from_secs(86400));
        assert!(matches!(c(200, r#"{"access_token":"abc"}"#), Err(TokenFailure::Retryable { .. })));
        assert!(matches!(c(200, r#"{"access_token":"abc","expires_in":0}"#), Err(TokenFailure::Retryable { .. })));
        assert!(matches!(c(200, "<html>"), Err(TokenFailure::Retryable { .. })));
        assert!(matches!(
            c(401, r#"{"error":"invalid_client","description":"authentication failed"}"#),
            Err(TokenFailure::Rejected { status: 401, .. })
        ));
        assert!(matches!(c(400, r#"{"error":"invalid_client"}"#), Err(TokenFailure::Rejected { .. })));
        assert!(matches!(
            c(400, r#"{"error":"invalid_request","description":"rate limit exceeded; try later"}"#),
            Err(TokenFailure::Retryable { status: Some(400), .. })
        ));
        assert!(matches!(c(400, r#"{"error":"unsupported_grant_type"}"#), Err(TokenFailure::Fatal { .. })));
        assert!(matches!(c(429, ""), Err(TokenFailure::Retryable { .. })));
        assert!(matches!(c(503, "down"), Err(TokenFailure::Retryable { .. })));
    }

    #[test]
    fn reasons_never_echo_the_token() {
        let Err(TokenFailure::Retryable { reason, .. }) = c(200, r#"{"access_token":"SECRET-TOKEN","expires_in":-1}"#) else { panic!() };
        assert!(!reason.contains("SECRET-TOKEN"));
    }
}

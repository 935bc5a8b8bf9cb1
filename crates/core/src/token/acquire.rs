//! Obtaining a token from the token endpoint: the request, its retries within `maxRetries` and
//! `maxRetryDelayMs` (throttling, 5xx, timeouts), and one config re-read when the credentials are
//! refused (`invalid_client`: the secret may have been rotated).

use super::access_token::{timing, AccessToken};
use super::endpoint::{request_token, TokenFailure};
use super::manager::{Slot, TokenManager};
use crate::config::Tenant;
use crate::error::{Error, Result};
use crate::events::EventKind;
use crate::retry::budget::{AttemptEnd, RetryBudget, Verdict};
use serde_json::json;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

impl TokenManager {
    /// One token request with `tenant`'s credentials (a pending credential under test), counted
    /// as the tenant's, the token kept nowhere: the caller decides what becomes of it.
    pub async fn try_token(&self, tenant: &Tenant) -> std::result::Result<Arc<AccessToken>, TokenFailure> {
        let id = tenant.tenant_id.as_str();
        let endpoints = self.egress.endpoints(&tenant.environment).map_err(|e| TokenFailure::Fatal {
            reason: e.to_string(),
            status: 0,
            correlation_id: None,
        })?;
        let counters = &self.slot(id).counters;
        counters.requests.fetch_add(1, Ordering::Relaxed);
        let sent_at = Instant::now();
        match request_token(&self.http, &endpoints.token_url, tenant, self.settings.request_timeout).await {
            Ok(granted) => {
                counters.acquired.fetch_add(1, Ordering::Relaxed);
                Ok(self.token_from(tenant, granted, sent_at))
            }
            Err(f) => {
                counters.failures.fetch_add(1, Ordering::Relaxed);
                Err(f)
            }
        }
    }

    fn token_from(&self, tenant: &Tenant, granted: super::endpoint::Granted, sent_at: Instant) -> Arc<AccessToken> {
        let (refresh_at, usable_until) = timing(sent_at, granted.expires_in, self.settings.refresh_ahead_ratio, rand::random());
        Arc::new(AccessToken {
            value: granted.access_token,
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            credentials_fingerprint: tenant.credentials_fingerprint.clone(),
            environment: tenant.environment.clone(),
            obtained_at: sent_at,
            expires_at: sent_at + granted.expires_in,
            refresh_at,
            usable_until,
        })
    }

    /// After a promoted credential failed: the replaced credential's token, while it is usable and
    /// was not refused, is put back in use (and reported).
    fn serve_fallback(&self, slot: &Slot, tenant: &Tenant, err: &Error) -> Option<Arc<AccessToken>> {
        let tok = slot.fallback.load_full()?;
        if !tok.is_usable(Instant::now()) || *crate::sync::lock(&slot.refused) == Some(super::manager::digest(tok.value.expose())) {
            return None;
        }
        slot.current.store(Some(Arc::clone(&tok)));
        self.events.emit(
            EventKind::TokenFailed,
            Some(&tenant.tenant_id),
            json!({
                "code": err.code(),
                "message": err.to_string(),
                "fallback": "serving the token of the credential the last promotion replaced, until it expires",
                "fallbackExpiresInMs": tok.expires_at.saturating_duration_since(Instant::now()).as_millis() as u64,
            }),
        );
        Some(tok)
    }

    pub(super) async fn acquire(self: &Arc<Self>, slot: &Arc<Slot>, mut tenant: Arc<Tenant>) -> Result<Arc<AccessToken>> {
        let id = tenant.tenant_id.clone();
        // One budget per token request, the same rule as a request's: `maxRetries` retries and
        // `maxRetryDelayMs` of waiting.
        let mut budget = RetryBudget::new(self.settings.max_retries, self.settings.max_retry_delay);
        loop {
            let endpoints = self.egress.endpoints(&tenant.environment).map_err(|e| e.with_tenant(&id))?;
            slot.counters.requests.fetch_add(1, Ordering::Relaxed);
            let sent_at = Instant::now();
            let outcome = request_token(&self.http, &endpoints.token_url, &tenant, self.settings.request_timeout).await;
            match outcome {
                Ok(granted) => {
                    let token = self.token_from(&tenant, granted, sent_at);
                    slot.counters.acquired.fetch_add(1, Ordering::Relaxed);
                    self.store(&id, slot, &token);
                    return Ok(token);
                }
                Err(TokenFailure::Rejected { reason, status, correlation_id }) => {
                    slot.counters.failures.fetch_add(1, Ordering::Relaxed);
                    // The secret may have been rotated: re-read the config once.
                    self.events.emit(
                        EventKind::TokenRejected,
                        Some(&id),
                        json!({"clientId": tenant.client_id, "reason": reason, "status": status, "action": "re-reading config"}),
                    );
                    let _ = self.config.reload("invalid_client").await;
                    if let Ok(fresh) = self.config.tenant(&id) {
                        if fresh.credentials_changed(&tenant) {
                            // A config listener may already be fetching with the new
                            // credentials: join it rather than send a second request.
                            return self.fetch(slot, fresh, 0).await;
                        }
                        tenant = fresh;
                    }
                    let err = Error::AuthFailed {
                        tenant_id: id.clone(),
                        client_id: tenant.client_id.clone(),
                        reason,
                        status: Some(status),
                        correlation_id,
                    };
                    if let Some(tok) = self.serve_fallback(slot, &tenant, &err) {
                        return Ok(tok);
                    }
                    self.events.emit(EventKind::TokenFailed, Some(&id), json!({"code": err.code(), "message": err.to_string()}));
                    return Err(err);
                }
                Err(TokenFailure::Proxy { proxy, reason }) => {
                    slot.counters.failures.fetch_add(1, Ordering::Relaxed);
                    let err = Error::ProxyAuthFailed { tenant_id: Some(id.clone()), proxy, reason };
                    self.events.emit(EventKind::TokenFailed, Some(&id), json!({"code": err.code(), "message": err.to_string()}));
                    return Err(err);
                }
                Err(TokenFailure::Fatal { reason, status, correlation_id }) => {
                    slot.counters.failures.fetch_add(1, Ordering::Relaxed);
                    let err = Error::AuthFailed {
                        tenant_id: id.clone(),
                        client_id: tenant.client_id.clone(),
                        reason,
                        status: Some(status),
                        correlation_id,
                    };
                    self.events.emit(EventKind::TokenFailed, Some(&id), json!({"code": err.code(), "message": err.to_string()}));
                    return Err(err);
                }
                Err(TokenFailure::Retryable { reason, end, status }) => {
                    slot.counters.failures.fetch_add(1, Ordering::Relaxed);
                    // The pipeline's budget decides: `maxRetries` retries and `maxRetryDelayMs` of waiting.
                    let delay = match budget.decide(end, true, rand::random) {
                        Verdict::Backoff(d) => Ok(d),
                        Verdict::Hold { server_wait, jitter, retry: true } => Ok(server_wait + jitter),
                        Verdict::Hold { server_wait, jitter, retry: false } => Err(Some(server_wait + jitter)),
                        Verdict::Fail | Verdict::Refresh => Err(None),
                    };
                    let delay = match delay {
                        Ok(d) => d,
                        Err(wait) => {
                            let err = exhausted(&id, end, status, &reason, wait, self.settings.request_timeout);
                            let attempts = budget.retries() + 1;
                            self.events.emit(
                                EventKind::TokenFailed,
                                Some(&id),
                                json!({"code": err.code(), "message": err.to_string(), "attempts": attempts}),
                            );
                            return Err(err);
                        }
                    };
                    let attempt = budget.retries();
                    self.events.emit(EventKind::Retry, Some(&id), json!({"what": "token", "attempt": attempt, "delayMs": delay.as_millis() as u64, "reason": reason, "status": status}));
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }
}

/// The error a token request ends with once its budget is spent: told by how its last attempt
/// ended (typed), never by the text of its reason.
fn exhausted(tenant_id: &str, end: AttemptEnd, status: Option<u16>, reason: &str, wait: Option<Duration>, timeout: Duration) -> Error {
    let tenant_id = tenant_id.to_string();
    match (end, status) {
        (AttemptEnd::Answer { status: 429, stated_wait }, _) => Error::RateLimited {
            tenant_id,
            retry_after_ms: wait.or(stated_wait).unwrap_or_default().as_millis() as u64,
            correlation_id: None,
        },
        (_, Some(s)) => Error::Upstream {
            tenant_id,
            status: s,
            body: json!({"error": reason}),
            message: Some(format!("token endpoint: {reason}")),
            correlation_id: None,
        },
        (AttemptEnd::Lost { timeout: true }, None) => {
            Error::Timeout { tenant_id: Some(tenant_id), what: format!("token request: {reason}"), after_ms: timeout.as_millis() as u64 }
        }
        (_, None) => Error::Network { tenant_id: Some(tenant_id), reason: format!("token request: {reason}") },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error is told by the typed end of the last attempt, whatever its reason's text says.
    #[test]
    fn a_spent_budget_ends_with_the_error_of_the_last_attempt() {
        let t = Duration::from_secs(16);
        let throttled = AttemptEnd::Answer { status: 429, stated_wait: Some(Duration::from_secs(3)) };
        let e = exhausted("acme", throttled, Some(400), "rate limit exceeded", Some(Duration::from_millis(3100)), t);
        assert_eq!((e.code(), e.fields()["retryAfterMs"].as_u64()), ("RATE_LIMITED", Some(3100)));
        let down = AttemptEnd::Answer { status: 503, stated_wait: None };
        assert_eq!(exhausted("acme", down, Some(503), "down", None, t).code(), "UPSTREAM_ERROR");
        // A reason that reads like a timeout does not make one; a typed timeout does.
        assert_eq!(
            exhausted("acme", AttemptEnd::Lost { timeout: false }, None, "no answer within 16000 ms", None, t).code(),
            "NETWORK_ERROR"
        );
        assert_eq!(exhausted("acme", AttemptEnd::Lost { timeout: true }, None, "connection reset", None, t).code(), "TIMEOUT");
    }

    #[test]
    fn token_answers_end_attempts_by_type() {
        use super::super::endpoint::classify;
        let end = |status, body: &str| match classify(status, body.as_bytes(), Some(Duration::from_secs(2)), None) {
            Err(TokenFailure::Retryable { end, .. }) => Some(end),
            _ => None,
        };
        let throttled = AttemptEnd::Answer { status: 429, stated_wait: Some(Duration::from_secs(2)) };
        assert_eq!(end(400, r#"{"error":"invalid_request","description":"rate limit exceeded; later"}"#), Some(throttled));
        assert_eq!(end(429, ""), Some(throttled));
        assert_eq!(end(502, ""), Some(AttemptEnd::Answer { status: 502, stated_wait: Some(Duration::from_secs(2)) }));
        assert_eq!(end(408, ""), Some(AttemptEnd::Lost { timeout: true }));
        assert_eq!(end(200, "<html>"), Some(AttemptEnd::Lost { timeout: false }));
    }
}

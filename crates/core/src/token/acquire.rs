//! Obtaining a token from the token endpoint: the request, its retries within `maxRetries` and
//! `maxRetryDelayMs` (throttling, 5xx, timeouts), and one config re-read when the credentials are
//! refused (`invalid_client`: the secret may have been rotated).

use super::access_token::{timing, AccessToken};
use super::endpoint::{request_token, TokenFailure};
use super::manager::{Slot, TokenManager};
use crate::config::Tenant;
use crate::error::{Error, Result};
use crate::events::EventKind;
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
        if !tok.is_usable(Instant::now()) || *super::manager::lock(&slot.refused) == Some(super::manager::digest(tok.value.expose())) {
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
        let mut attempt: u32 = 0;
        // `maxRetryDelayMs` caps the total waiting of one token request, as it does a request's.
        let mut waited = Duration::ZERO;
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
                Err(TokenFailure::Retryable { reason, retry_after, status }) => {
                    slot.counters.failures.fetch_add(1, Ordering::Relaxed);
                    attempt += 1;
                    let backoff = crate::retry::backoff::full_jitter(attempt, self.settings.max_retry_delay);
                    let delay = retry_after.map(|d| d + crate::retry::backoff::small_jitter()).unwrap_or(backoff);
                    if attempt > self.settings.max_retries || waited + delay > self.settings.max_retry_delay {
                        let err = match status {
                            Some(429) | Some(400) => {
                                Error::RateLimited { tenant_id: id.clone(), retry_after_ms: delay.as_millis() as u64, correlation_id: None }
                            }
                            Some(s) => Error::Upstream {
                                tenant_id: id.clone(),
                                status: s,
                                body: json!({"error": reason}),
                                message: Some(format!("token endpoint: {reason}")),
                                correlation_id: None,
                            },
                            None if reason.starts_with("no answer") => Error::Timeout {
                                tenant_id: Some(id.clone()),
                                what: format!("token request: {reason}"),
                                after_ms: self.settings.request_timeout.as_millis() as u64,
                            },
                            None => Error::Network { tenant_id: Some(id.clone()), reason: format!("token request: {reason}") },
                        };
                        self.events.emit(
                            EventKind::TokenFailed,
                            Some(&id),
                            json!({"code": err.code(), "message": err.to_string(), "attempts": attempt}),
                        );
                        return Err(err);
                    }
                    self.events.emit(EventKind::Retry, Some(&id), json!({"what": "token", "attempt": attempt, "delayMs": delay.as_millis() as u64, "reason": reason, "status": status}));
                    waited += delay;
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }
}

//! A tenant's token state for `stats()`.

use super::access_token::AccessToken;
use super::manager::TokenManager;
use crate::sync::lock;
use serde::Serialize;
use std::sync::atomic::Ordering;
use tokio::time::Instant;

/// One tenant's token state and counters.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenStats {
    /// `none`, `valid`, `refresh-due` or `expired`.
    pub state: &'static str,
    /// HTTP requests sent to the token endpoint.
    pub token_requests: u64,
    /// Of those, the ones that failed.
    pub token_failures: u64,
    /// Tokens obtained.
    pub tokens_acquired: u64,
    /// Tokens dropped after a 401.
    pub invalidated: u64,
    /// Rotations.
    pub rotations: u64,
    /// A refresh is under way (absent before the tenant's first token request).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refreshing: Option<bool>,
    /// Time left on the current token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in_ms: Option<u64>,
}

impl TokenManager {
    /// Token state of one tenant, for `stats()`.
    pub fn describe(&self, tenant_id: &str) -> TokenStats {
        let Some(slot) = self.existing_slot(tenant_id) else {
            return TokenStats { state: "none", ..TokenStats::default() };
        };
        let now = Instant::now();
        let c = &slot.counters;
        let current = slot.current.load_full();
        let state = state_of(current.as_deref(), now);
        let refreshing = lock(&slot.inflight).is_some();
        TokenStats {
            state,
            token_requests: c.requests.load(Ordering::Relaxed),
            token_failures: c.failures.load(Ordering::Relaxed),
            tokens_acquired: c.acquired.load(Ordering::Relaxed),
            invalidated: c.invalidated.load(Ordering::Relaxed),
            rotations: c.rotations.load(Ordering::Relaxed),
            refreshing: Some(refreshing),
            expires_in_ms: current.map(|t| t.expires_at.saturating_duration_since(now).as_millis() as u64),
        }
    }
}

/// `none`, `expired`, `refresh-due` or `valid`.
pub(super) fn state_of(current: Option<&AccessToken>, now: Instant) -> &'static str {
    match current {
        None => "none",
        Some(t) if !t.is_usable(now) => "expired",
        Some(t) if t.needs_refresh(now) => "refresh-due",
        Some(_) => "valid",
    }
}

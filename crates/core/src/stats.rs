//! What `Orchestrator::stats()` reports, as types: per tenant its token state, request counters,
//! limiter model and validity, its real-time events; the config source's health; the shared store's.

use crate::config::{ConfigHealth, TenantEntry};
use crate::notifications::NotificationStats;
use crate::pipeline::Pipeline;
use crate::store::StoreHealth;
use crate::token::TokenStats;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    /// By tenant id, every tenant of the config (valid or not).
    pub tenants: BTreeMap<String, TenantStats>,
    /// The config source.
    pub config: ConfigHealth,
    /// The shared store, with `redisUrl`.
    pub store: Option<StoreHealth>,
    /// `close()` was called.
    pub closed: bool,
    /// `initialize()` succeeded.
    pub initialized: bool,
}

/// One tenant.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantStats {
    /// Token state and counters.
    #[serde(flatten)]
    pub token: TokenStats,
    /// `request()` calls.
    pub calls: u64,
    /// Calls that resolved.
    pub succeeded: u64,
    /// Calls that rejected.
    pub failed: u64,
    /// Retries (401 refresh, 429, 5xx, transport).
    pub retries: u64,
    /// 429 answers received.
    pub throttled: u64,
    /// Total time requests waited in the client-side limiter.
    pub limiter_wait_ms: u64,
    /// The limiter's model of the server's window.
    pub rate_limit: RateLimitStats,
    /// The config entry is usable.
    pub valid: bool,
    /// Its environment host (valid entries).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// Its OAuth client id (valid entries).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// A staged client not yet promoted (it is being tested, or failed its test).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_client_id: Option<String>,
    /// The client a promotion replaced, while the config still stages the promoted one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promoted_from: Option<String>,
    /// Why it is unusable (invalid entries).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<EntryError>,
    /// Each token of its pool, slot 0 first — only for a tenant with more than one
    /// (`tokensPerTenant`); the fields above are the tenant's totals and slot 0's token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slots: Option<Vec<SlotStats>>,
    /// Real-time events in this process — only for a tenant that subscribed (filled by the
    /// orchestrator, which holds the notification managers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notifications: Option<NotificationStats>,
}

/// One token of a tenant's pool.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SlotStats {
    /// Its place in the pool (0: the token `getAccessToken()` hands out).
    pub slot: usize,
    /// `none`, `valid`, `refresh-due` or `expired`.
    pub state: &'static str,
    /// A token request of this slot is under way.
    pub refreshing: bool,
    /// Time left on its token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in_ms: Option<u64>,
    /// Attempts sent with its token (in this process).
    pub attempts: u64,
    /// Its limiter's model of the server's window for its token.
    pub rate_limit: RateLimitStats,
}

/// The limiter's model: `allowed` requests per `windowMs`, `used` in the current window.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimitStats {
    /// Requests allowed per window.
    pub allowed: u32,
    /// Used in the current window.
    pub used: u32,
    /// Window length.
    pub window_ms: u64,
}

/// An invalid entry's error.
#[derive(Debug, Clone, Serialize)]
pub struct EntryError {
    /// Its stable code.
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
}

impl Stats {
    /// Reads the report off the pipeline's parts (no limiter or counters are created for a tenant
    /// that has none yet); `closed` and `initialized` are the orchestrator's.
    pub fn gather(p: &Pipeline, closed: bool, initialized: bool) -> Stats {
        let table = p.config.table();
        let mut tenants = std::collections::BTreeMap::new();
        for (id, entry) in &table.entries {
            let (limiter, counters) = p.peek(id);
            let c = counters.unwrap_or_default();
            let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
            let (allowed, used, window) = match limiter {
                Some(l) => l.snapshot(),
                None => (p.options.rate_limit_per_minute, 0, std::time::Duration::from_secs(60)),
            };
            let (valid, environment, client_id, error) = match entry {
                TenantEntry::Valid(t) => (true, Some(t.environment.clone()), Some(t.client_id.clone()), None),
                TenantEntry::Invalid(e) => (false, None, None, Some(EntryError { code: e.code(), message: e.to_string() })),
            };
            let (pending_client_id, promoted_from) = match entry {
                TenantEntry::Valid(t) => {
                    (t.pending.as_ref().map(|p| p.client_id.clone()), t.promoted_from.as_ref().map(|c| c.client_id.clone()))
                }
                TenantEntry::Invalid(_) => (None, None),
            };
            // Only a tenant with more than one token has slots to list (no work for the others).
            let slots = match entry {
                TenantEntry::Valid(t) if p.tokens.pool_size(t) > 1 => pool_stats(p, id),
                _ => None,
            };
            tenants.insert(
                id.clone(),
                TenantStats {
                    token: p.tokens.describe(id),
                    calls: load(&c.calls),
                    succeeded: load(&c.succeeded),
                    failed: load(&c.failed),
                    retries: load(&c.retries),
                    throttled: load(&c.throttled),
                    limiter_wait_ms: load(&c.limiter_wait_ms),
                    rate_limit: RateLimitStats { allowed, used, window_ms: window.as_millis() as u64 },
                    valid,
                    environment,
                    client_id,
                    pending_client_id,
                    promoted_from,
                    error,
                    slots,
                    notifications: None,
                },
            );
        }
        Stats { tenants, config: p.config.health(), store: p.store.as_ref().map(|s| s.describe()), closed, initialized }
    }
}

/// The slots of the tenant's pool, when it has more than one token.
fn pool_stats(p: &Pipeline, tenant_id: &str) -> Option<Vec<SlotStats>> {
    let tokens = p.tokens.describe_pool(tenant_id);
    if tokens.len() < 2 {
        return None;
    }
    let limiters = p.peek_pool(tenant_id);
    let slots = tokens
        .into_iter()
        .enumerate()
        .map(|(k, t)| {
            let used = limiters.get(k);
            let (allowed, in_window, window) = match used {
                Some(s) => s.limiter.snapshot(),
                None => (p.options.rate_limit_per_minute, 0, std::time::Duration::from_secs(60)),
            };
            SlotStats {
                slot: k,
                state: t.state,
                refreshing: t.refreshing,
                expires_in_ms: t.expires_in_ms,
                attempts: used.map_or(0, |s| s.attempts.load(Ordering::Relaxed)),
                rate_limit: RateLimitStats { allowed, used: in_window, window_ms: window.as_millis() as u64 },
            }
        })
        .collect();
    Some(slots)
}

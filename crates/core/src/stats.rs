//! What `Orchestrator::stats()` reports, as types: per tenant its token state, request counters,
//! limiter model and validity; the config source's health; the shared store's.

use crate::config::ConfigHealth;
use crate::store::StoreHealth;
use crate::token::TokenStats;
use serde::Serialize;
use std::collections::BTreeMap;

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

//! What a tenant's slot knows of its credentials' organizations (for pinning, `pinning.rs`), and how
//! an organization lookup is paced (installed by the pipeline). Types only: below the token manager,
//! which holds them, and below `pinning.rs`, which acts on them.

use crate::sync::lock;
use futures::future::BoxFuture;
use std::sync::Mutex;
use std::time::Duration;

/// Credentials whose organization a slot remembers (current, pending, replaced, one spare).
const MAX_KNOWN: usize = 4;
/// How long the shared store keeps a credential's organization (a client never changes organization).
pub const ORGANIZATION_RECORD_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// Paces an organization lookup like a call of the tenant — it spends the same token's rate budget —
/// installed by the pipeline, which owns the limiters (`TokenManager::set_lookup_pacing`).
pub trait LookupPacing: Send + Sync {
    /// Waits for a slot of the tenant's budget; `Err(wait)` when the wait would outlast it.
    fn before<'a>(&'a self, tenant_id: &'a str) -> BoxFuture<'a, std::result::Result<(), Duration>>;
    /// The lookup is over: its answer's status and headers, when it had one.
    fn after(&self, tenant_id: &str, answer: Option<(u16, &reqwest::header::HeaderMap)>);
    /// True when an optional lookup (the unpinned hint) may spend a slot now: taking it leaves at
    /// least half of the window's budget to the tenant's own calls.
    fn spare(&self, tenant_id: &str) -> bool;
    /// How long after a tenant's first token the unpinned hint's lookup waits (`Options::organization_hint_delay`).
    fn hint_delay(&self) -> Duration;
}

/// Where the one-time `config.unpinned` hint of a tenant stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) enum Hint {
    /// The tenant has had no token yet.
    #[default]
    Due,
    /// Looked up at the first token after this (a while after the first, or after a busy window).
    NotBefore(tokio::time::Instant),
    /// Under way, or given (or its lookup failed: it is not repeated).
    Done,
}

/// How long an unpinned hint waits when the tenant's budget had no spare slot.
pub(super) const HINT_POSTPONED: Duration = Duration::from_secs(60);

/// What one tenant's slot knows of its credentials' organizations.
#[derive(Default)]
pub(super) struct Organizations {
    /// (credentials fingerprint, organization id), newest last.
    pub(super) known: Mutex<Vec<(String, String)>>,
    /// One lookup at a time per tenant: callers arriving meanwhile wait for its outcome.
    pub(super) looking_up: tokio::sync::Mutex<()>,
    /// The `config.unpinned` hint.
    pub(super) hint: Mutex<Hint>,
}

impl Organizations {
    pub(super) fn get(&self, fingerprint: &str) -> Option<String> {
        lock(&self.known).iter().find(|(f, _)| f == fingerprint).map(|(_, o)| o.clone())
    }

    pub(super) fn remember(&self, fingerprint: &str, organization_id: &str) {
        let mut known = lock(&self.known);
        known.retain(|(f, _)| f != fingerprint);
        if known.len() >= MAX_KNOWN {
            known.remove(0);
        }
        known.push((fingerprint.to_string(), organization_id.to_ascii_lowercase()));
    }
}

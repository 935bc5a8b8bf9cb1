//! A tenant's token pool (`tokensPerTenant`, opt-in): Genesys counts its rate limit per token, so a
//! tenant that needs more than one token's budget keeps N tokens, each in its own slot — its own
//! single flight, refresh ahead, refused-token memory and fallback — and the pipeline spreads calls
//! over them. Slot 0 is the token `getAccessToken()` hands out and keeps every name it had before
//! pools (its Redis keys, its events), so a pool of one is exactly the single token. In shared mode
//! slot `k > 0` is shared across replicas under its own keys ([`Slot::store_id`]): N token requests
//! per refresh for the whole fleet, never more.

use super::access_token::AccessToken;
use super::manager::{Slot, TokenManager};
use crate::config::Tenant;
use std::sync::Arc;

impl Slot {
    /// The name the shared store knows this slot's token by: the tenant id for slot 0 (today's
    /// keys), `"<tenant id> #<k>"` for the others — a tenant id holds no space, so no tenant's
    /// slot 0 can take another's slot `k`.
    pub(super) fn store_id(&self, tenant_id: &str) -> String {
        pool_store_id(tenant_id, self.index)
    }
}

/// The shared store's name for slot `k` of `tenant_id`'s pool (see [`Slot::store_id`]): its token,
/// its refresh lease, and — in the pipeline — its rate budget and 429 pause.
///
/// ```
/// use genesys_tenants_core::token::pool_store_id;
/// assert_eq!(pool_store_id("acme", 0), "acme");
/// assert_eq!(pool_store_id("acme", 2), "acme #2");
/// ```
pub fn pool_store_id(tenant_id: &str, k: usize) -> String {
    if k == 0 {
        tenant_id.to_string()
    } else {
        format!("{tenant_id} #{k}")
    }
}

/// How one slot's token stands, for `stats()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotState {
    /// `none`, `valid`, `refresh-due` or `expired`.
    pub state: &'static str,
    /// A token request of this slot is under way.
    pub refreshing: bool,
    /// Time left on its token.
    pub expires_in_ms: Option<u64>,
}

impl TokenManager {
    /// How many tokens `tenant` keeps: its entry's `tokensPerTenant`, else the option's.
    pub fn pool_size(&self, tenant: &Tenant) -> usize {
        tenant.tokens_per_tenant.unwrap_or(self.settings.tokens_per_tenant).max(1) as usize
    }

    /// The slots of the tenant's pool other than slot 0 that hold a token: what a rotation or a
    /// credential change renews besides slot 0 (a slot never used has nothing to renew).
    pub(super) fn other_held_slots(&self, tenant: &Tenant) -> Vec<Arc<Slot>> {
        let n = self.pool_size(tenant);
        self.slots_of(&tenant.tenant_id).into_iter().skip(1).take(n - 1).filter(|s| s.current.load().is_some()).collect()
    }

    /// After slot `refused_slot`'s token `refused` met a 401: the pool's other tokens of the same
    /// credential go too. A 401 most often means the client's tokens were revoked, which takes every
    /// token minted before the revocation — every token the pool holds but one fetched since the
    /// answer; each slot then fetches when next used instead of meeting its own 401. A single token
    /// revoked alone costs the other slots a token request each: at most N−1 more.
    pub(super) fn drop_pool_older_than(&self, tenant_id: &str, slots: &[Arc<Slot>], refused_slot: usize, refused: &AccessToken) {
        let answered = tokio::time::Instant::now();
        for slot in slots.iter().filter(|s| s.index != refused_slot) {
            let older = slot
                .current
                .load_full()
                .filter(|t| t.credentials_fingerprint == refused.credentials_fingerprint && t.obtained_at <= answered);
            if let Some(t) = older {
                self.drop_refused(tenant_id, slot, &t, "another token of the same client was refused (revoked with it)");
            }
        }
    }

    /// Each slot of the tenant's pool (`pool_size` of them), slot 0 first, for `stats()`.
    pub fn describe_pool(&self, tenant_id: &str) -> Vec<SlotState> {
        let Ok(tenant) = self.config.tenant(tenant_id) else { return Vec::new() };
        let slots = self.slots_of(tenant_id);
        let now = tokio::time::Instant::now();
        (0..self.pool_size(&tenant))
            .map(|k| {
                let Some(slot) = slots.get(k) else { return SlotState { state: "none", refreshing: false, expires_in_ms: None } };
                let current = slot.current.load_full();
                SlotState {
                    state: super::stats::state_of(current.as_deref(), now),
                    refreshing: crate::sync::lock(&slot.inflight).is_some(),
                    expires_in_ms: current.map(|t| t.expires_at.saturating_duration_since(now).as_millis() as u64),
                }
            })
            .collect()
    }
}

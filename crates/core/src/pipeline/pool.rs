//! Spreading a tenant's calls over its token pool (`tokensPerTenant`, `token/pool.rs`): each token
//! has its own limiter (Genesys counts per token), and each attempt goes to the slot where it would
//! wait least — by the limiters' models and the callers already waiting on each — so a pool of N
//! tokens serves about N times one token's budget. A tenant with one token takes its one limiter,
//! as before pools, without any of this.

use super::rate_limit::Limiter;
use super::Pipeline;
use crate::sync::{lock, read, write};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use tokio::time::Instant;

/// One token of a pool, as the pipeline sees it.
#[derive(Debug)]
pub struct PoolSlot {
    /// Its limiter (slot 0's is the tenant's, [`Pipeline::limiter`]).
    pub limiter: Arc<Limiter>,
    /// Attempts that chose it and are still pacing.
    waiting: AtomicU32,
    /// Attempts that chose it and have not ended.
    busy: AtomicU32,
    /// Attempts sent through it, for `stats()`.
    pub attempts: std::sync::atomic::AtomicU64,
}

/// One tenant's slots, chosen and counted under its lock.
type TenantPool = Arc<Mutex<Vec<Arc<PoolSlot>>>>;

/// Every tenant's pool (tenants with more than one token only).
#[derive(Debug, Default)]
pub(super) struct Pools(RwLock<HashMap<String, TenantPool>>);

impl Pools {
    /// Forgets a tenant's pool (it left the config).
    pub(super) fn forget(&self, tenant_id: &str) {
        write(&self.0).remove(tenant_id);
    }

    /// The tenant's pool slots, if it has a pool yet (for stats).
    pub(super) fn peek(&self, tenant_id: &str) -> Vec<Arc<PoolSlot>> {
        read(&self.0).get(tenant_id).map(|p| lock(p).clone()).unwrap_or_default()
    }
}

/// The slot one attempt uses: its limiter (its index is in the call's `pool_slot`). While it lives
/// the attempt counts as busy on that slot (and as waiting, until [`Lane::paced`]).
pub(super) struct Lane {
    pub(super) limiter: Arc<Limiter>,
    slot: Option<Arc<PoolSlot>>,
    waiting: bool,
}

impl Lane {
    /// The attempt passed its pacing: it no longer counts among those waiting for the slot.
    pub(super) fn paced(&mut self) {
        if let (Some(s), true) = (&self.slot, std::mem::take(&mut self.waiting)) {
            s.waiting.fetch_sub(1, Ordering::Relaxed);
            s.attempts.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl Drop for Lane {
    fn drop(&mut self) {
        if let Some(s) = &self.slot {
            if self.waiting {
                s.waiting.fetch_sub(1, Ordering::Relaxed);
            }
            s.busy.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl Pipeline {
    /// The slot an attempt of `tenant_id` goes through, recorded in `slot` (its token and shared
    /// budget follow it): slot 0 for a tenant with one token; else the one with the least expected
    /// wait, then the fewest attempts under way, then the lowest index.
    pub(super) fn lane(&self, tenant: &crate::config::Tenant, slot: &AtomicUsize) -> Lane {
        let n = self.tokens.pool_size(tenant);
        let id = tenant.tenant_id.as_str();
        if n <= 1 {
            slot.store(0, Ordering::Relaxed);
            return Lane { limiter: self.limiter(id), slot: None, waiting: false };
        }
        let known = read(&self.pools.0).get(id).cloned();
        let pool = match known {
            Some(p) => p,
            None => Arc::clone(write(&self.pools.0).entry(id.to_string()).or_default()),
        };
        // Chosen and counted under the pool's lock: a burst of callers spreads instead of all
        // reading the same loads and piling onto one slot.
        let mut slots = lock(&pool);
        while slots.len() < n {
            let limiter = if slots.is_empty() { self.limiter(id) } else { Arc::new(self.new_limiter()) };
            slots.push(Arc::new(PoolSlot { limiter, waiting: AtomicU32::new(0), busy: AtomicU32::new(0), attempts: Default::default() }));
        }
        let now = Instant::now();
        let load = |(i, s): (usize, &Arc<PoolSlot>)| {
            ((s.limiter.expected_wait(now, s.waiting.load(Ordering::Relaxed)), s.busy.load(Ordering::Relaxed), i), i)
        };
        let index = slots.iter().take(n).enumerate().map(load).min().map_or(0, |(_, i)| i);
        let chosen = Arc::clone(&slots[index]);
        chosen.waiting.fetch_add(1, Ordering::Relaxed);
        chosen.busy.fetch_add(1, Ordering::Relaxed);
        drop(slots);
        slot.store(index, Ordering::Relaxed);
        Lane { limiter: Arc::clone(&chosen.limiter), slot: Some(chosen), waiting: true }
    }

    /// The tenant's token of pool slot `k` (slot 0: [`Pipeline::token`]).
    pub async fn token_at(&self, tenant_id: &str, k: usize) -> crate::error::Result<Arc<crate::token::AccessToken>> {
        self.check_ready()?;
        self.tokens.get_at(tenant_id, k).await
    }
}

//! The rate budget every replica shares: one fixed window per tenant in Redis, counted as Genesys
//! counts (at most `allowed` requests from a window's start until `window` later), so the replicas
//! together use the whole window, in a burst if they have one, and never more — and the 429 pause:
//! when one replica meets a 429, every replica holds that tenant's calls until it ends.
//!
//! The window is aligned with the server's: re-anchored by the answer to the request that opened
//! the server's window (`inin-ratelimit-count` 1), and, without headers, by the answer to the window's
//! first slot, and ended by a 429 (the server's window resets when its `Retry-After` has passed; the
//! next one opens with the first call after).

use super::redis_store::{SharedStore, StoreError};
use super::scripts;
use std::time::Duration;

/// Added to the shared window's length: the request that opens the server's window reaches it a
/// little after its slot was taken in Redis (and, without headers, nothing re-anchors the window).
pub const SHARED_WINDOW_MARGIN: Duration = Duration::from_millis(20);

/// Where a replica's idea of the budget came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Said {
    /// The configured budget (`rateLimitPerMinute`): nothing heard yet. A budget another replica
    /// stored (from headers or a 429) is used instead.
    Configured,
    /// `inin-ratelimit-*` headers; the window from a countdown seen mid-window (a lower bound).
    Headers,
    /// Headers of the request that opened a server window: its countdown is the window's length.
    Opener,
}

/// A replica's idea of the tenant's budget, handed to the shared window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Requests per window.
    pub allowed: u32,
    /// The window's length.
    pub window: Duration,
    /// Where these came from.
    pub said: Said,
}

/// The slot a request took in the shared window: which window, and its place in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Slot {
    /// The window's generation (one more per window).
    pub generation: u64,
    /// 1 for the window's first request, and so on.
    pub number: u32,
    /// One beyond an inferred budget: its answer, when admitted, is reported
    /// ([`SharedStore::probed`]).
    pub probe: bool,
}

/// What the shared budget says about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateWait {
    /// Send now (this slot was taken).
    Go(Slot),
    /// The window is full: wait this long, until it ends, then ask again.
    Pace(Duration),
    /// A replica met a 429: the tenant is paused this much longer (no slot was taken).
    Paused(Duration),
}

fn ms(d: Duration) -> u64 {
    (d.as_millis() as u64).max(1)
}

impl SharedStore {
    /// Shared rate budget and pause, in one round trip. `probe_after_full_windows`: how many full
    /// windows in a row without a 429 a budget inferred from 429s needs before it is probed upward, one
    /// slot at a time — the rule's number, passed by its one home
    /// (`pipeline::rate_limit::probing::PROBE_AFTER_FULL_WINDOWS`) so the script does not hold a copy.
    ///
    /// ```no_run
    /// # async fn f(store: &genesys_tenants_core::store::SharedStore) {
    /// use genesys_tenants_core::store::{Budget, RateWait, Said};
    /// use std::time::Duration;
    /// let budget = Budget { allowed: 300, window: Duration::from_secs(60), said: Said::Configured };
    /// if let Ok(RateWait::Go(slot)) = store.rate_wait("acme", budget, 3).await {
    ///     assert!(slot.number >= 1);
    /// }
    /// # }
    /// ```
    pub async fn rate_wait(&self, tenant_id: &str, budget: Budget, probe_after_full_windows: u32) -> Result<RateWait, StoreError> {
        let keys = self.keys(tenant_id, "-");
        let said = match budget.said {
            Said::Configured => 0,
            Said::Headers => 1,
            Said::Opener => 2,
        };
        let (wait_ms, generation, number, probe): (i64, u64, u32, u8) = self
            .run(|mut c| async move {
                scripts::WINDOW
                    .key(&keys.rate)
                    .key(&keys.pause)
                    .arg(budget.allowed.max(1))
                    .arg(ms(budget.window))
                    .arg(said)
                    .arg(ms(SHARED_WINDOW_MARGIN))
                    .arg(probe_after_full_windows)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(match wait_ms {
            0 => RateWait::Go(Slot { generation, number, probe: probe == 1 }),
            w if w > 0 => RateWait::Pace(Duration::from_millis(w as u64)),
            w => RateWait::Paused(Duration::from_millis(w.unsigned_abs())),
        })
    }

    /// The answer to the request that opened the server's window came (its `inin-ratelimit-count`
    /// is `count`, 0 or 1): the server's window started before now, so the shared one starts now —
    /// it ends late, never early. `window` is the length this replica learned.
    pub async fn align(&self, tenant_id: &str, count: u32, window: Duration) -> Result<(), StoreError> {
        let keys = self.keys(tenant_id, "-");
        let _: i64 =
            self.run(|mut c| async move { scripts::ALIGN.key(&keys.rate).arg(count).arg(ms(window)).invoke_async(&mut c).await }).await?;
        Ok(())
    }

    /// Without headers, the answer to a window's first slot (`slot.number` 1) came back: the shared
    /// window is re-anchored to start now, once per window (the server's opened before the answer
    /// came), so it ends late, never early. Nothing happens for another window's slot,
    /// or when headers said the budget (they align it instead, [`SharedStore::align`]).
    pub async fn anchor(&self, tenant_id: &str, slot: Slot) -> Result<(), StoreError> {
        let keys = self.keys(tenant_id, "-");
        let _: i64 =
            self.run(|mut c| async move { scripts::ANCHOR.key(&keys.rate).arg(slot.generation).invoke_async(&mut c).await }).await?;
        Ok(())
    }

    /// A probe slot's answer came back admitted: the shared budget is raised to it and the next probe
    /// may go.
    pub async fn probed(&self, tenant_id: &str, slot: Slot) -> Result<(), StoreError> {
        let keys = self.keys(tenant_id, "-");
        let _: i64 = self
            .run(|mut c| async move { scripts::PROBED.key(&keys.rate).arg(slot.generation).arg(slot.number).invoke_async(&mut c).await })
            .await?;
        Ok(())
    }

    /// A slot taken but never sent (a hold of its replica started meanwhile; the request takes a fresh
    /// slot after it) goes back to its window: not spent, and not counted as admitted by the budget a
    /// 429 teaches.
    pub async fn unused(&self, tenant_id: &str, slot: Slot) -> Result<(), StoreError> {
        let keys = self.keys(tenant_id, "-");
        let _: i64 =
            self.run(|mut c| async move { scripts::UNUSED.key(&keys.rate).arg(slot.generation).invoke_async(&mut c).await }).await?;
        Ok(())
    }

    /// Pauses the tenant for every replica for `wait` (a 429's `Retry-After`); a longer pause already
    /// in force stays. The shared window ends (the next opens after the pause); `slot`, the throttled
    /// request's, counts the 429 against its window, which teaches the budget when no header said
    /// it. Returns what the pause has left.
    pub async fn pause(&self, tenant_id: &str, wait: Duration, slot: Option<Slot>) -> Result<Duration, StoreError> {
        let keys = self.keys(tenant_id, "-");
        let slot = slot.unwrap_or_default();
        let left: i64 = self
            .run(|mut c| async move {
                scripts::PAUSE.key(&keys.pause).key(&keys.rate).arg(ms(wait)).arg(slot.generation).invoke_async(&mut c).await
            })
            .await?;
        Ok(Duration::from_millis(left.max(0) as u64))
    }
}

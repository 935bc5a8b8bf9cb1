//! Pacing in shared mode: every replica's calls of a tenant take their slots in one fixed window in
//! Redis ([`crate::store::SharedStore::rate_wait`]), which lets them burst up to what the window
//! allows. This process keeps its 429 holds and, while no header said the budget, its probe and
//! ramp — before a slot is taken, so no slot waits behind them. When the store fails, this
//! process's own window paces instead.

use super::probing::PROBE_AFTER_FULL_WINDOWS;
use super::Limiter;
use crate::retry::backoff::small_jitter_with;
use crate::store::{RateWait, SharedStore, Slot};
use std::time::Duration;
use tokio::time::Instant;

/// How one attempt was paced: the slot it took in the shared window (none when the store failed),
/// and how long it waited in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paced {
    /// The slot taken in the shared window.
    pub slot: Option<Slot>,
    /// Time spent waiting (the gate, the window, holds).
    pub waited: Duration,
}

/// Reports the end of an attempt the gate let out when pacing fails before it is sent.
struct Undo<'a>(Option<&'a Limiter>);

impl Drop for Undo<'_> {
    fn drop(&mut self) {
        if let Some(l) = self.0 {
            l.attempt_over();
        }
    }
}

/// Waits until the attempt may be sent, within `allowance`; `Err(wait)` when a wait longer than
/// what is left of it stands in the way (the call fails fast). An attempt let out is counted in
/// flight by `limiter`: it must report its end ([`Limiter::attempt_over`]).
pub async fn pace(store: &SharedStore, limiter: &Limiter, tenant_id: &str, allowance: Duration) -> Result<Paced, Duration> {
    let mut waited = limiter.gate_within(allowance).await?;
    let mut undo = Undo(Some(limiter));
    let slot = loop {
        // Re-read the budget each round: the first answers teach the limiter the real one.
        match store.rate_wait(tenant_id, limiter.shared_budget(), PROBE_AFTER_FULL_WINDOWS).await {
            Ok(RateWait::Go(slot)) if limiter.holding(Instant::now()) => {
                // A 429 of this process's came back after the gate let this attempt out: the slot is
                // in the window that 429 ended, and would be sent in the next server window without
                // counting in it. Hand it back (before the pause ends and its window's budget is
                // learned), wait the hold out, then take a fresh one.
                let _ = store.unused(tenant_id, slot).await;
                waited += limiter.wait_hold(allowance.saturating_sub(waited)).await?;
            }
            Ok(RateWait::Go(slot)) => break Some(slot),
            Ok(RateWait::Pace(d)) if waited + d > allowance => return Err(d),
            Ok(RateWait::Pace(d)) => {
                let started = Instant::now();
                limiter.nap(d).await;
                waited += started.elapsed();
            }
            Ok(RateWait::Paused(d)) => {
                // A replica (maybe this one) met a 429: hold as for a local one — within the
                // allowance, else fail fast — then ask the budget again.
                limiter.hold_shared(d, small_jitter_with(rand::random()), Instant::now());
                waited += limiter.wait_hold(allowance.saturating_sub(waited)).await?;
            }
            Err(_) => break None,
        }
    };
    if slot.is_none() {
        waited += limiter.window_within(allowance.saturating_sub(waited)).await?;
    }
    undo.0 = None;
    Ok(Paced { slot, waited })
}

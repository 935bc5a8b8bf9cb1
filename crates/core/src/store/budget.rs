//! The rate budget every replica shares: one GCRA cell per tenant in Redis, evenly paced, so the
//! requests of all replicas together never exceed the token's budget in any window — and the 429
//! pause: when one replica meets a 429, every replica holds that tenant's calls until it ends.

use super::redis_store::{SharedStore, StoreError};
use super::scripts;
use std::time::Duration;

/// What the shared budget says about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateWait {
    /// Send now (a slot was taken).
    Go,
    /// Wait this long for a slot, then ask again.
    Pace(Duration),
    /// A replica met a 429: the tenant is paused this much longer (no slot was taken).
    Paused(Duration),
}

impl SharedStore {
    /// Shared rate budget and pause, in one round trip.
    pub async fn rate_wait(&self, tenant_id: &str, allowed: u32, window: Duration) -> Result<RateWait, StoreError> {
        let keys = self.keys(tenant_id, "-");
        // Evenly paced (burst 1): the requests of every replica together never exceed `allowed`
        // in any window, whatever the server's window alignment.
        let emission = (window.as_millis() as u64 / allowed.max(1) as u64).max(1);
        let wait_ms: i64 = self
            .run(|mut c| async move {
                redis::Script::new(scripts::GCRA).key(&keys.rate).key(&keys.pause).arg(emission).arg(0).invoke_async(&mut c).await
            })
            .await?;
        Ok(match wait_ms {
            0 => RateWait::Go,
            w if w > 0 => RateWait::Pace(Duration::from_millis(w as u64)),
            w => RateWait::Paused(Duration::from_millis(w.unsigned_abs())),
        })
    }

    /// Pauses the tenant for every replica for `wait` (a 429's `Retry-After`); a longer pause already
    /// in force stays. Returns what the pause has left.
    pub async fn pause(&self, tenant_id: &str, wait: Duration) -> Result<Duration, StoreError> {
        let keys = self.keys(tenant_id, "-");
        let ms = (wait.as_millis() as u64).max(1);
        let left: i64 =
            self.run(|mut c| async move { redis::Script::new(scripts::PAUSE).key(&keys.pause).arg(ms).invoke_async(&mut c).await }).await?;
        Ok(Duration::from_millis(left.max(0) as u64))
    }
}

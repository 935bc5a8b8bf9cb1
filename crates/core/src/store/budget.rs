//! The rate budget every replica shares: one GCRA cell per tenant in Redis, evenly paced, so the
//! requests of all replicas together never exceed the token's budget in any window.

use super::redis_store::{SharedStore, StoreError};
use super::scripts;
use std::time::Duration;

impl SharedStore {
    /// Shared rate budget: `Ok(None)` to go now, `Ok(Some(wait))` to wait first.
    pub async fn rate_wait(&self, tenant_id: &str, allowed: u32, window: Duration) -> Result<Option<Duration>, StoreError> {
        let keys = self.keys(tenant_id, "-");
        // Evenly paced (burst 1): the requests of every replica together never exceed `allowed`
        // in any window, whatever the server's window alignment.
        let emission = (window.as_millis() as u64 / allowed.max(1) as u64).max(1);
        let wait_ms: i64 = self
            .run(|mut c| async move { redis::Script::new(scripts::GCRA).key(&keys.rate).arg(emission).arg(0).invoke_async(&mut c).await })
            .await?;
        Ok((wait_ms > 0).then(|| Duration::from_millis(wait_ms as u64)))
    }
}

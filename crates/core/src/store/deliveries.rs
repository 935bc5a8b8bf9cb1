//! Webhook deliveries accepted by any replica: a delivery claimed here once is refused as a replay by
//! every other replica sharing the store, for as long as it could still pass the timestamp check.

use super::redis_store::{SharedStore, StoreError};
use std::time::Duration;

impl SharedStore {
    /// Claims delivery `id` for `ttl`; `Ok(false)` when some replica claimed it before.
    pub async fn claim_delivery(&self, id: &str, ttl: Duration) -> Result<bool, StoreError> {
        let key = format!("{}webhook:{id}", self.settings.prefix);
        let ms = ttl.as_millis().max(1) as u64;
        let set: Option<String> = self
            .run(|mut c| async move { redis::cmd("SET").arg(key).arg(1).arg("NX").arg("PX").arg(ms).query_async(&mut c).await })
            .await?;
        Ok(set.is_some())
    }
}

//! The outcome of testing a pending credential, shared by every replica: the replica holding the
//! credential's refresh lease tests it and writes the outcome here; the others read it instead of
//! testing again (one test, one promotion).

use super::redis_store::{SharedStore, StoreError};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What a test of a pending credential found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StageRecord {
    /// True: it works and was promoted. False: it failed; `reason` says why.
    pub promoted: bool,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The HTTP status of the failure, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The organization the credential's token belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
}

impl SharedStore {
    fn stage_aad(tenant_id: &str, kfp: &str) -> Vec<u8> {
        format!("stage|{tenant_id}|{kfp}").into_bytes()
    }

    /// The recorded outcome of testing pending credential `kfp`, if any replica wrote one that is
    /// still valid. A record that cannot be opened (another key, tampered) counts as absent.
    pub async fn stage_record(&self, tenant_id: &str, kfp: &str) -> Result<Option<StageRecord>, StoreError> {
        let key = self.keys(tenant_id, kfp).stage;
        let sealed: Option<String> = self.run(|mut c| async move { redis::cmd("GET").arg(key).query_async(&mut c).await }).await?;
        let Some(sealed) = sealed else { return Ok(None) };
        let Ok(plain) = self.key.open(&sealed, &Self::stage_aad(tenant_id, kfp)) else { return Ok(None) };
        Ok(serde_json::from_slice(&plain).ok())
    }

    /// Records the outcome of testing pending credential `kfp` for `ttl`.
    pub async fn put_stage_record(&self, tenant_id: &str, kfp: &str, record: &StageRecord, ttl: Duration) -> Result<(), StoreError> {
        let key = self.keys(tenant_id, kfp).stage;
        let plain = serde_json::to_vec(record).unwrap_or_default();
        let sealed = self.key.seal(&plain, &Self::stage_aad(tenant_id, kfp));
        let ms = ttl.as_millis().max(1) as u64;
        self.run(|mut c| async move { redis::cmd("SET").arg(key).arg(sealed).arg("PX").arg(ms).query_async::<()>(&mut c).await }).await
    }
}

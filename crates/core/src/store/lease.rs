//! Tokens in Redis, one per tenant and credentials: sealed (AES-256-GCM, associated data binding the
//! value to its tenant and credentials), stored under a fenced refresh lease so that a replica whose
//! lease lapsed can never overwrite a newer token.

use super::redis_store::{unix_ms, Lease, SharedStore, SharedToken, StoreError};
use super::scripts;

impl SharedStore {
    fn aad(tenant_id: &str, kfp: &str) -> Vec<u8> {
        format!("token|{tenant_id}|{kfp}").into_bytes()
    }

    /// The shared token for these credentials, if one is stored and readable.
    pub async fn get_token(&self, tenant_id: &str, kfp: &str) -> Result<Option<SharedToken>, StoreError> {
        let keys = self.keys(tenant_id, kfp);
        let sealed: Option<String> = self.run(|mut c| async move { redis::cmd("GET").arg(&keys.token).query_async(&mut c).await }).await?;
        let Some(sealed) = sealed else { return Ok(None) };
        // A value we cannot open (other key, tampered) is treated as absent: we fetch our own.
        let Ok(plain) = self.key.open(&sealed, &Self::aad(tenant_id, kfp)) else { return Ok(None) };
        Ok(serde_json::from_slice::<SharedToken>(&plain).ok())
    }

    /// Tries to take the refresh lease.
    pub async fn try_lease(&self, tenant_id: &str, kfp: &str) -> Result<Option<Lease>, StoreError> {
        let keys = self.keys(tenant_id, kfp);
        let owner = hex::encode(rand::random::<[u8; 16]>());
        let lease_ms = self.settings.lease.as_millis() as u64;
        let (k, o) = (keys.clone(), owner.clone());
        let fence: i64 = self
            .run(|mut c| async move { scripts::LEASE.key(&k.lock).key(&k.fence).arg(&o).arg(lease_ms).invoke_async(&mut c).await })
            .await?;
        Ok((fence > 0).then_some(Lease { keys, owner, fence }))
    }

    /// Stores a token under a lease (only if no newer lease exists) and releases the lease.
    pub async fn put_token(&self, tenant_id: &str, kfp: &str, lease: &Lease, token: &SharedToken) -> Result<bool, StoreError> {
        let plain = zeroize::Zeroizing::new(serde_json::to_vec(token).unwrap_or_default());
        let sealed = self.key.seal(&plain, &Self::aad(tenant_id, kfp));
        let ttl = token.expires_at_ms.saturating_sub(unix_ms()).max(1);
        let l = lease.clone();
        let stored: i64 = self
            .run(|mut c| async move {
                scripts::PUT_TOKEN
                    .key(&l.keys.token)
                    .key(&l.keys.fence)
                    .key(&l.keys.lock)
                    .arg(sealed)
                    .arg(ttl)
                    .arg(l.fence)
                    .arg(&l.owner)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(stored == 1)
    }

    /// Releases a lease without storing anything (the fetch failed).
    pub async fn release(&self, lease: &Lease) {
        let l = lease.clone();
        let _: Result<i64, _> =
            self.run(|mut c| async move { scripts::RELEASE.key(&l.keys.lock).arg(&l.owner).invoke_async(&mut c).await }).await;
    }

    /// Deletes the shared token of these credentials if it is still `value` (the API refused it).
    pub async fn drop_token_if(&self, tenant_id: &str, kfp: &str, value: &str) {
        if let Ok(Some(t)) = self.get_token(tenant_id, kfp).await {
            if t.value == value {
                let keys = self.keys(tenant_id, kfp);
                let _: Result<i64, _> = self.run(|mut c| async move { redis::cmd("DEL").arg(&keys.token).query_async(&mut c).await }).await;
            }
        }
    }
}

//! The organization a credential's token belongs to, recorded beside that credential's token by the
//! replica that checked it (`GET /api/v2/tokens/me`), so the other replicas of a tenant pinned to an
//! `organizationId` read the check instead of repeating it. Sealed like the token; the key sits
//! under the tenant's hash tag (Cluster-safe) and names the credential by its keyed fingerprint.

use super::redis_store::{SharedStore, StoreError};
use std::time::Duration;

impl SharedStore {
    fn organization_key(&self, tenant_id: &str, kfp: &str) -> String {
        format!("{}:org", self.keys(tenant_id, kfp).token)
    }

    fn organization_aad(tenant_id: &str, kfp: &str) -> Vec<u8> {
        format!("org|{tenant_id}|{kfp}").into_bytes()
    }

    /// The organization recorded for credential `kfp`, if a replica recorded one that can be opened.
    pub async fn credential_organization(&self, tenant_id: &str, kfp: &str) -> Result<Option<String>, StoreError> {
        let key = self.organization_key(tenant_id, kfp);
        let sealed: Option<String> = self.run(|mut c| async move { redis::cmd("GET").arg(key).query_async(&mut c).await }).await?;
        let Some(sealed) = sealed else { return Ok(None) };
        let Ok(plain) = self.key.open(&sealed, &Self::organization_aad(tenant_id, kfp)) else { return Ok(None) };
        // Believed only in the shape it was written in (a UUID).
        Ok(String::from_utf8(plain.to_vec()).ok().filter(|o| crate::untrusted::uuid(o).is_some()))
    }

    /// Records `organization_id` for credential `kfp` for `ttl` (a client never changes organization).
    pub async fn put_credential_organization(
        &self,
        tenant_id: &str,
        kfp: &str,
        organization_id: &str,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let key = self.organization_key(tenant_id, kfp);
        let sealed = self.key.seal(organization_id.as_bytes(), &Self::organization_aad(tenant_id, kfp));
        let ms = ttl.as_millis().max(1) as u64;
        self.run(|mut c| async move { redis::cmd("SET").arg(key).arg(sealed).arg("PX").arg(ms).query_async::<()>(&mut c).await }).await
    }
}

//! The cross-process single flight over Redis: read a token another replica stored, else take the
//! refresh lease, re-check under it, fetch, store (fenced); a replica that cannot get the lease waits
//! for the holder's token (or for the lease to lapse). The store being down means "fetch in-process".

use super::access_token::{timing, AccessToken};
use super::manager::{digest, Slot, TokenManager};
use crate::config::Tenant;
use crate::error::Result;
use crate::store::{SharedStore, SharedToken};
use crate::sync::lock;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

impl AccessToken {
    /// The token as the shared store keeps it (Unix times instead of instants).
    pub fn to_shared(&self) -> SharedToken {
        let now_ms = crate::store::unix_ms_now();
        SharedToken {
            value: self.value.expose().to_string(),
            obtained_at_ms: now_ms.saturating_sub(self.obtained_at.elapsed().as_millis() as u64),
            expires_at_ms: now_ms + self.expires_at.saturating_duration_since(Instant::now()).as_millis() as u64,
        }
    }
}

impl TokenManager {
    /// Cross-process single flight. `None` means "the store could not help": fetch in-process.
    pub(super) async fn acquire_shared(
        self: &Arc<Self>,
        store: &Arc<SharedStore>,
        slot: &Arc<Slot>,
        tenant: &Arc<Tenant>,
        fresh_after: u64,
    ) -> Option<Result<Arc<AccessToken>>> {
        // Slot 0 under the tenant's id (today's keys); a pool's other slots each under their own.
        let store_id = slot.store_id(&tenant.tenant_id);
        let id = store_id.as_str();
        let kfp = store.fingerprint(tenant);
        let give_up = Instant::now() + store.lease() * 2;
        loop {
            match store.get_token(id, &kfp).await {
                Err(_) => return None,
                Ok(Some(shared)) => {
                    if let Some(tok) = self.adopt_shared(slot, tenant, &shared, fresh_after) {
                        return Some(Ok(tok));
                    }
                }
                Ok(None) => {}
            }
            match store.try_lease(id, &kfp).await {
                Err(_) => return None,
                Ok(Some(lease)) => {
                    // Re-check under the lease: the previous holder may have stored a token between
                    // our read and our lease.
                    if let Ok(Some(shared)) = store.get_token(id, &kfp).await {
                        if let Some(tok) = self.adopt_shared(slot, tenant, &shared, fresh_after) {
                            store.release(&lease).await;
                            return Some(Ok(tok));
                        }
                    }
                    let result = self.acquire(slot, Arc::clone(tenant)).await;
                    if let (Ok(tok), Some(_)) = (&result, &tenant.organization_id) {
                        // Recorded beside the token before it is stored: the replicas that take it read
                        // the check instead of repeating it (its outcome is judged by each one's gate).
                        let _ = self.organization_of(slot, tenant, tok).await;
                    }
                    match &result {
                        Ok(tok) => {
                            let _ = store.put_token(id, &kfp, &lease, &tok.to_shared()).await;
                        }
                        Err(_) => store.release(&lease).await,
                    }
                    return Some(result);
                }
                Ok(None) => {
                    if Instant::now() > give_up {
                        return None;
                    }
                    // Another replica is fetching: wait for its token (or its lease to lapse).
                    tokio::time::sleep(Duration::from_millis(40 + rand::random::<u64>() % 40)).await;
                }
            }
        }
    }

    /// Takes a token another replica stored, if it is fresh enough, not refused, and not due
    /// for refresh itself.
    fn adopt_shared(&self, slot: &Slot, tenant: &Tenant, shared: &SharedToken, fresh_after: u64) -> Option<Arc<AccessToken>> {
        if shared.obtained_at_ms < fresh_after || *lock(&slot.refused) == Some(digest(&shared.value)) {
            return None;
        }
        let tok = self.token_from_shared(tenant, shared);
        let now = Instant::now();
        if !tok.is_usable(now) || tok.needs_refresh(now) {
            return None;
        }
        self.store(&tenant.tenant_id, slot, &tok);
        Some(tok)
    }

    fn token_from_shared(&self, tenant: &Tenant, shared: &SharedToken) -> Arc<AccessToken> {
        let now = Instant::now();
        let now_ms = crate::store::unix_ms_now();
        let lifetime = Duration::from_millis(shared.expires_at_ms.saturating_sub(shared.obtained_at_ms).max(1));
        let obtained_at = now.checked_sub(Duration::from_millis(now_ms.saturating_sub(shared.obtained_at_ms))).unwrap_or(now);
        let (refresh_at, usable_until) = timing(obtained_at, lifetime, self.settings.refresh_ahead_ratio, rand::random());
        Arc::new(AccessToken {
            value: crate::secret::Secret::new(shared.value.clone()),
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            credentials_fingerprint: tenant.credentials_fingerprint.clone(),
            environment: tenant.environment.clone(),
            obtained_at,
            expires_at: obtained_at + lifetime,
            refresh_at,
            usable_until,
        })
    }
}

//! A tenant pinned to its organization: every token passes this gate before it is handed out. For an
//! entry with `organizationId`, the organization of the credential that minted the token must be the
//! pin — learned once per credential (`GET /api/v2/tokens/me`, or the record a replica wrote beside
//! the shared token), cached in the tenant's slot; a token of another organization is refused with
//! `ORGANIZATION_MISMATCH` and nothing but that check is ever sent with it. For an entry without
//! one, the first token's organization is looked up in the background and reported once
//! (`config.unpinned`), so the operator can pin it.

use super::access_token::AccessToken;
use super::manager::{Slot, TokenManager};
use super::organizations::{Hint, LookupPacing, HINT_POSTPONED, ORGANIZATION_RECORD_TTL};
use crate::config::Tenant;
use crate::error::Result;
use crate::events::EventKind;
use crate::sync::lock;

use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// The client id of the credential `fingerprint` names among the tenant's.
fn client_of<'a>(tenant: &'a Tenant, fingerprint: &str) -> &'a str {
    [tenant.pending.as_ref(), tenant.promoted_from.as_ref()]
        .into_iter()
        .flatten()
        .find(|c| c.fingerprint == fingerprint)
        .map_or(tenant.client_id.as_str(), |c| c.client_id.as_str())
}

impl TokenManager {
    /// Installs the pacing of organization lookups (once; later calls are ignored).
    pub fn set_lookup_pacing(&self, pacing: Arc<dyn LookupPacing>) {
        let _ = self.pacing.set(pacing);
    }

    /// Remembers that the tenant's credential `fingerprint` belongs to `organization_id` (a staged
    /// credential's test found it): its tokens pass the gate without another lookup.
    pub fn remember_organization(&self, tenant_id: &str, fingerprint: &str, organization_id: &str) {
        self.slot(tenant_id).organizations.remember(fingerprint, organization_id);
    }

    /// The organization the tenant's credential `fingerprint` is known to belong to, if it was looked up.
    pub fn known_organization(&self, tenant_id: &str, fingerprint: &str) -> Option<String> {
        self.existing_slot(tenant_id)?.organizations.get(fingerprint)
    }

    /// True when `tok` may be handed out without any work: the tenant is not pinned, or the token's
    /// credential is known to belong to the pinned organization.
    pub(super) fn pinned_ok(slot: &Slot, tenant: &Tenant, tok: &AccessToken) -> bool {
        match tenant.organization_id.as_deref() {
            None => true,
            Some(pin) => slot.organizations.get(&tok.credentials_fingerprint).is_some_and(|o| o == pin),
        }
    }

    /// The gate: `tok` if the tenant is unpinned (the one-time hint starts in the background) or its
    /// credential belongs to the pinned organization; else `ORGANIZATION_MISMATCH`, or the error of
    /// a lookup that could not be made (calls wait for one that works).
    pub(super) async fn pinned(
        self: &Arc<Self>,
        slot: &Arc<Slot>,
        tenant: &Arc<Tenant>,
        tok: Arc<AccessToken>,
    ) -> Result<Arc<AccessToken>> {
        let Some(pin) = tenant.organization_id.as_deref() else {
            self.hint_unpinned(slot, tenant, &tok);
            return Ok(tok);
        };
        let (org, fresh) = self.organization_of(slot, tenant, &tok).await?;
        let client_id = client_of(tenant, &tok.credentials_fingerprint);
        match crate::organization::mismatch(&tenant.tenant_id, client_id, pin, &org) {
            None => Ok(tok),
            Some(err) => {
                if fresh {
                    self.events.emit(
                        EventKind::TokenFailed,
                        Some(&tenant.tenant_id),
                        json!({"code": err.code(), "message": err.to_string(), "clientId": client_id,
                               "expectedOrganizationId": pin, "actualOrganizationId": org}),
                    );
                }
                Err(err)
            }
        }
    }

    /// The organization of `tok`'s credential: remembered, else recorded by a replica, else asked
    /// of the API with `tok` (and recorded for the others). `fresh`: this call found it out.
    pub(super) async fn organization_of(&self, slot: &Slot, tenant: &Tenant, tok: &AccessToken) -> Result<(String, bool)> {
        let fp = tok.credentials_fingerprint.as_str();
        if let Some(o) = slot.organizations.get(fp) {
            return Ok((o, false));
        }
        let _one = slot.organizations.looking_up.lock().await;
        if let Some(o) = slot.organizations.get(fp) {
            return Ok((o, false));
        }
        let id = tenant.tenant_id.as_str();
        // The store names credentials by the tenant's current ones: a superseded credential's token is looked up here.
        let shared = self.store.as_ref().filter(|_| fp == tenant.credentials_fingerprint).map(|s| (s, s.fingerprint(tenant)));
        if let Some((store, kfp)) = &shared {
            if let Ok(Some(o)) = store.credential_organization(id, kfp).await {
                slot.organizations.remember(fp, &o);
                return Ok((o, true));
            }
        }
        let endpoints = self.egress.endpoints(&tenant.environment).map_err(|e| e.with_tenant(id))?;
        let pacing = self.pacing.get().cloned();
        if let Some(p) = &pacing {
            p.before(id).await.map_err(|wait| crate::error::Error::RateLimited {
                tenant_id: id.into(),
                retry_after_ms: wait.as_millis() as u64,
                correlation_id: None,
            })?;
        }
        let mut answered = false;
        let mut observe = |status: u16, headers: &reqwest::header::HeaderMap| {
            answered = true;
            if let Some(p) = &pacing {
                p.after(id, Some((status, headers)));
            }
        };
        let probed =
            crate::organization::probe(&self.http, &endpoints.api_base, &tok.value, self.settings.request_timeout, &mut observe).await;
        if let (false, Some(p)) = (answered, &pacing) {
            p.after(id, None);
        }
        let org = probed.map_err(|f| f.into_error(id))?;
        slot.organizations.remember(fp, &org);
        if let Some((store, kfp)) = &shared {
            let _ = store.put_credential_organization(id, kfp, &org, ORGANIZATION_RECORD_TTL).await;
        }
        Ok((org, true))
    }

    /// Once per tenant (per process): the organization of an unpinned tenant's client, reported as
    /// `config.unpinned` with the id to pin. In the background; a lookup that fails is not repeated.
    fn hint_unpinned(self: &Arc<Self>, slot: &Arc<Slot>, tenant: &Arc<Tenant>, tok: &Arc<AccessToken>) {
        let now = tokio::time::Instant::now();
        let known = slot.organizations.get(&tok.credentials_fingerprint).is_some();
        {
            let mut hint = lock(&slot.organizations.hint);
            let delay = self.pacing.get().map_or(Duration::ZERO, |p| p.hint_delay());
            match *hint {
                Hint::Done => return,
                // Not at once: a tenant's first calls keep its whole budget (a known organization costs nothing).
                Hint::Due if !known && !delay.is_zero() => {
                    *hint = Hint::NotBefore(now + delay);
                    return;
                }
                Hint::NotBefore(t) if now < t && !known => return,
                _ => *hint = Hint::Done,
            }
        }
        let (this, slot, tenant, tok) = (Arc::clone(self), Arc::clone(slot), Arc::clone(tenant), Arc::clone(tok));
        tokio::spawn(async move {
            // Optional: it spends a slot only when the tenant's own calls keep at least half the window.
            if !known && this.pacing.get().is_some_and(|p| !p.spare(&tenant.tenant_id)) {
                *lock(&slot.organizations.hint) = Hint::NotBefore(now + HINT_POSTPONED);
                return;
            }
            let work = async {
                match this.organization_of(&slot, &tenant, &tok).await {
                    Ok((org, _)) => {
                        let client_id = client_of(&tenant, &tok.credentials_fingerprint);
                        this.events.emit(
                            EventKind::ConfigUnpinned,
                            Some(&tenant.tenant_id),
                            json!({
                                "observedOrganizationId": org,
                                "clientId": client_id,
                                "message": format!(
                                    "tenant '{}' names no organizationId; its OAuth client {client_id} belongs to organization {org}. Add \"organizationId\": \"{org}\" to its entry so that a client of another organization is refused",
                                    tenant.tenant_id
                                ),
                            }),
                        );
                    }
                    // Once per process: a lookup that failed is not repeated on every call.
                    Err(e) => tracing::debug!(tenant = %tenant.tenant_id, error = %e, "organization of an unpinned tenant not found"),
                }
            };
            tokio::select! {
                biased;
                _ = this.cancel.cancelled() => {}
                _ = work => {}
            }
        });
    }
}

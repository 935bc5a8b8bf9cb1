//! Staged credentials: a config entry's pending OAuth client is tested before any call uses it — a
//! token request, then `GET /api/v2/tokens/me` with that token and with the current one, which must
//! name the same organization — and promoted only when all of it works. A failed test leaves the
//! current credential in use and is retried with a growing pause (or at once, on
//! `rotateCredentials` or a peer's rotation). With a shared store, the replica that takes the
//! credential's refresh lease tests it, stores its token and records the outcome; the others read
//! the outcome: one test, one promotion.
//!
//! `GET /api/v2/tokens/me` needs no permission (the published API definition lists none for
//! `TokensApi.getTokensMe`); its `organization.id` is how a pending client of another customer's
//! org is caught before a call goes there.

use crate::config::Tenant;
use crate::error::Error;
use crate::events::EventKind;
use crate::pipeline::Pipeline;
use crate::secret::Secret;
use crate::store::{SharedStore, StageRecord};
use crate::sync::lock;
use crate::token::endpoint::TokenFailure;
use crate::token::AccessToken;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// Pause before the first retest of a pending credential that failed; doubles per failure.
pub const FIRST_RETEST_DELAY: Duration = Duration::from_secs(30);
/// Longest pause between retests.
pub const MAX_RETEST_DELAY: Duration = Duration::from_secs(600);
/// How long the shared store remembers a promotion (replicas that start later adopt it).
pub const PROMOTED_RECORD_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// The probe: token introspection, which every token may call (see [`crate::organization`]).
pub use crate::organization::PROBE_PATH;

/// Why a pending credential was not promoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageFailure {
    /// What failed: `token` (its token request), `probe` (`tokens/me` with its token), `current`
    /// (the current credential could not be checked), `organization` (another org), `lease`.
    pub step: &'static str,
    /// Why, in words.
    pub reason: String,
    /// The HTTP status, when there was an answer.
    pub status: Option<u16>,
}

impl StageFailure {
    fn new(step: &'static str, reason: impl Into<String>, status: Option<u16>) -> Self {
        StageFailure { step, reason: reason.into(), status }
    }
}

/// Where the outcome came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TestedBy {
    Here,
    Peer,
}

impl TestedBy {
    fn as_str(self) -> &'static str {
        match self {
            TestedBy::Here => "here",
            TestedBy::Peer => "peer",
        }
    }
}

enum Decided {
    Promoted { token: Option<Arc<AccessToken>>, organization_id: Option<String>, by: TestedBy },
    Failed { failure: StageFailure, by: TestedBy },
}

struct Run {
    fingerprint: String,
    kick: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
}

/// Tests and promotes the tenants' pending credentials, one background task per tenant with a
/// credential pending.
///
/// ```no_run
/// # fn f(staging: &std::sync::Arc<genesys_tenants_core::staged_credentials::Staging>, tenant: &genesys_tenants_core::config::Tenant) {
/// staging.consider(tenant); // after each config change of the tenant
/// staging.kick(&tenant.tenant_id); // retest a failed one now
/// # }
/// ```
pub struct Staging {
    pipeline: Arc<Pipeline>,
    runs: Mutex<HashMap<String, Run>>,
}

impl std::fmt::Debug for Staging {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Staging").field("tenants", &lock(&self.runs).len()).finish()
    }
}

impl Staging {
    /// Staging over the pipeline's config, tokens and store.
    pub fn new(pipeline: Arc<Pipeline>) -> Arc<Staging> {
        Arc::new(Staging { pipeline, runs: Mutex::new(HashMap::new()) })
    }

    /// Starts testing the tenant's pending credential unless that one is already under test. Must
    /// be called inside a Tokio runtime.
    pub fn consider(self: &Arc<Self>, tenant: &Tenant) {
        let Some(fp) = tenant.pending_fingerprint() else { return };
        let mut runs = lock(&self.runs);
        if let Some(r) = runs.get(&tenant.tenant_id) {
            if r.fingerprint == fp && !r.task.is_finished() {
                return;
            }
            r.task.abort();
        }
        let kick = Arc::new(Notify::new());
        let task = tokio::spawn(Arc::clone(self).run(tenant.tenant_id.clone(), fp.to_string(), Arc::clone(&kick)));
        runs.insert(tenant.tenant_id.clone(), Run { fingerprint: fp.to_string(), kick, task });
    }

    /// Retests the tenant's pending credential now, if one is waiting for its retest.
    pub fn kick(&self, tenant_id: &str) {
        if let Some(r) = lock(&self.runs).get(tenant_id) {
            r.kick.notify_one();
        }
    }

    /// Stops testing the tenant's pending credential (it left the config, or is no longer pending).
    pub fn forget(&self, tenant_id: &str) {
        if let Some(r) = lock(&self.runs).remove(tenant_id) {
            r.task.abort();
        }
    }

    /// Stops every test (on close).
    pub fn clear(&self) {
        for (_, r) in lock(&self.runs).drain() {
            r.task.abort();
        }
    }

    async fn run(self: Arc<Self>, tenant_id: String, fingerprint: String, kick: Arc<Notify>) {
        let p = Arc::clone(&self.pipeline);
        let mut delay = FIRST_RETEST_DELAY;
        loop {
            let Ok(tenant) = p.config.tenant(&tenant_id) else { return };
            if tenant.pending_fingerprint() != Some(fingerprint.as_str()) {
                return;
            }
            let decided = tokio::select! {
                biased;
                _ = p.cancel.cancelled() => return,
                d = self.decide(&tenant, delay) => d,
            };
            let pending_id = tenant.pending.as_ref().map(|c| c.client_id.clone()).unwrap_or_default();
            match decided {
                Decided::Promoted { token, organization_id, by } => {
                    if let Some(token) = token {
                        p.tokens.stage(&tenant_id, token);
                    }
                    if p.config.promote(&tenant_id, &fingerprint) {
                        p.events.emit(
                            EventKind::CredentialsPromoted,
                            Some(&tenant_id),
                            json!({"clientId": pending_id, "previousClientId": tenant.client_id, "organizationId": organization_id, "tested": by.as_str()}),
                        );
                        if let (TestedBy::Here, Some(store)) = (by, p.store.as_ref()) {
                            store.publish_rotation(&tenant_id).await;
                        }
                    }
                    return;
                }
                Decided::Failed { failure, by } => {
                    p.events.emit(
                        EventKind::CredentialsPendingFailed,
                        Some(&tenant_id),
                        json!({
                            "clientId": pending_id, "step": failure.step, "reason": failure.reason, "status": failure.status,
                            "currentClientId": tenant.client_id, "retryInMs": delay.as_millis() as u64, "tested": by.as_str(),
                        }),
                    );
                }
            }
            tokio::select! {
                biased;
                _ = p.cancel.cancelled() => return,
                _ = kick.notified() => {}
                _ = tokio::time::sleep(delay) => {}
            }
            delay = (delay * 2).min(MAX_RETEST_DELAY);
        }
    }

    async fn decide(&self, tenant: &Arc<Tenant>, retest_in: Duration) -> Decided {
        let Some(pending) = tenant.with_pending_in_use() else {
            return Decided::Failed { failure: StageFailure::new("token", "nothing is pending", None), by: TestedBy::Here };
        };
        if let Some(store) = &self.pipeline.store {
            if let Some(d) = self.decide_shared(store, tenant, &pending, retest_in).await {
                return d;
            }
        }
        // In-process (or the store is down: as for tokens, it means "decide here").
        match self.test(tenant, &pending).await {
            Ok((token, org)) => Decided::Promoted { token: Some(token), organization_id: Some(org), by: TestedBy::Here },
            Err(failure) => Decided::Failed { failure, by: TestedBy::Here },
        }
    }

    /// One test across replicas: a recorded outcome, else the test under the credential's refresh
    /// lease. `None`: the store could not help.
    async fn decide_shared(&self, store: &SharedStore, tenant: &Tenant, pending: &Tenant, retest_in: Duration) -> Option<Decided> {
        let id = tenant.tenant_id.as_str();
        let kfp = store.fingerprint(pending);
        let give_up = Instant::now() + store.lease() * 3;
        loop {
            match store.stage_record(id, &kfp).await {
                Err(_) => return None,
                Ok(Some(rec)) => return Some(from_record(rec)),
                Ok(None) => {}
            }
            match store.try_lease(id, &kfp).await {
                Err(_) => return None,
                Ok(Some(lease)) => {
                    if let Ok(Some(rec)) = store.stage_record(id, &kfp).await {
                        store.release(&lease).await;
                        return Some(from_record(rec));
                    }
                    return Some(match self.test(tenant, pending).await {
                        Ok((token, org)) => {
                            // The outcome first: storing the token frees the lease, and a peer that took it
                            // before the outcome was written would test again.
                            let rec = StageRecord { promoted: true, reason: None, status: None, organization_id: Some(org.clone()) };
                            let _ = store.put_stage_record(id, &kfp, &rec, PROMOTED_RECORD_TTL).await;
                            let _ = store.put_token(id, &kfp, &lease, &token.to_shared()).await;
                            Decided::Promoted { token: Some(token), organization_id: Some(org), by: TestedBy::Here }
                        }
                        Err(failure) => {
                            store.release(&lease).await;
                            let rec = StageRecord {
                                promoted: false,
                                reason: Some(format!("{}: {}", failure.step, failure.reason)),
                                status: failure.status,
                                organization_id: None,
                            };
                            // Expires a little before our retest, so the next round tests again.
                            let _ = store.put_stage_record(id, &kfp, &rec, retest_in.mul_f64(0.9)).await;
                            Decided::Failed { failure, by: TestedBy::Here }
                        }
                    });
                }
                Ok(None) => {
                    if Instant::now() > give_up {
                        let failure = StageFailure::new("lease", "another replica is testing it and has not recorded an outcome", None);
                        return Some(Decided::Failed { failure, by: TestedBy::Peer });
                    }
                    tokio::time::sleep(Duration::from_millis(100 + rand::random::<u64>() % 100)).await;
                }
            }
        }
    }

    /// The test, its failure redacted of every secret the tenant's texts may hold — the probe's
    /// token included — before it is emitted or recorded for other replicas (which do not hold
    /// that token).
    async fn test(&self, tenant: &Tenant, pending: &Tenant) -> Result<(Arc<AccessToken>, String), StageFailure> {
        self.test_unredacted(tenant, pending).await.map_err(|mut f| {
            self.pipeline.needles(&tenant.tenant_id).redact_string(&mut f.reason);
            f
        })
    }

    /// The test: a token with the pending credential, its organization, and the current
    /// credential's organization, which must be the same.
    async fn test_unredacted(&self, tenant: &Tenant, pending: &Tenant) -> Result<(Arc<AccessToken>, String), StageFailure> {
        let p = &self.pipeline;
        let token = p.tokens.try_token(pending).await.map_err(|f| match f {
            TokenFailure::Rejected { reason, status, .. } => {
                StageFailure::new("token", format!("the token endpoint refused it: {reason}"), Some(status))
            }
            TokenFailure::Fatal { reason, status, .. } => {
                StageFailure::new("token", format!("the token request failed: {reason}"), (status != 0).then_some(status))
            }
            TokenFailure::Proxy { proxy, reason } => {
                StageFailure::new("token", format!("the proxy {proxy} refused it: {reason}"), Some(407))
            }
            TokenFailure::Retryable { reason, status, .. } => {
                StageFailure::new("token", format!("the token request failed: {reason}"), status)
            }
        })?;
        p.tokens.hold_probe(&tenant.tenant_id, Arc::clone(&token));
        let pending_org =
            self.organization(pending, &token.value).await.map_err(|(reason, status)| StageFailure::new("probe", reason, status))?;
        if let Some(pin) = tenant.organization_id.as_deref() {
            // A pinned entry: the pending client must belong to the pinned organization, whatever the
            // current one does (a wrong current client is fixed by staging the right one).
            if pending_org != pin {
                return Err(StageFailure::new(
                    "organization",
                    format!("its token belongs to organization {pending_org}; the entry is pinned to {pin}"),
                    None,
                ));
            }
            p.tokens.remember_organization(&tenant.tenant_id, &pending.credentials_fingerprint, &pending_org);
            return Ok((token, pending_org));
        }
        let current = p.tokens.get(&tenant.tenant_id).await.map_err(|e| {
            StageFailure::new("current", format!("the current credential could not be used to compare organizations: {}", e), status_of(&e))
        })?;
        let current_org = self.organization(tenant, &current.value).await.map_err(|(reason, status)| {
            StageFailure::new("current", format!("the current credential could not be used to compare organizations: {reason}"), status)
        })?;
        if pending_org != current_org {
            return Err(StageFailure::new(
                "organization",
                format!("its token belongs to organization {pending_org}, the current credential's to {current_org}"),
                None,
            ));
        }
        p.tokens.remember_organization(&tenant.tenant_id, &pending.credentials_fingerprint, &pending_org);
        Ok((token, pending_org))
    }

    /// `organization.id` of `GET /api/v2/tokens/me` with `token` ([`crate::organization::probe`]).
    async fn organization(&self, tenant: &Tenant, token: &Secret) -> Result<String, (String, Option<u16>)> {
        let p = &self.pipeline;
        let endpoints = p.egress.endpoints(&tenant.environment).map_err(|e| (e.to_string(), None))?;
        // Not paced: a pending client's token has its own rate budget, and this is its only call.
        crate::organization::probe(&p.http, &endpoints.api_base, token, p.options.request_timeout, &mut |_, _| {})
            .await
            .map_err(|f| (f.reason, f.status))
    }
}

fn from_record(rec: StageRecord) -> Decided {
    if rec.promoted {
        Decided::Promoted { token: None, organization_id: rec.organization_id, by: TestedBy::Peer }
    } else {
        let failure = StageFailure { step: "peer", reason: rec.reason.unwrap_or_default(), status: rec.status };
        Decided::Failed { failure, by: TestedBy::Peer }
    }
}

fn status_of(e: &Error) -> Option<u16> {
    match e {
        Error::AuthFailed { status, .. } => *status,
        Error::Upstream { status, .. } => Some(*status),
        _ => None,
    }
}

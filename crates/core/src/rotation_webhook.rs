//! One rotation-webhook delivery, end to end: verify it ([`crate::webhook`]), accept it once across
//! every replica (this process's memory, and Redis in shared mode), then rotate what it names in the
//! background. The answer is HTTP-shaped so any Node framework can send it as it is.
//!
//! Rotating through [`Orchestrator::rotate_credentials`] also publishes the rotation to the other
//! replicas, so a delivery that reaches one replica rotates the tenant once for all of them.

use crate::orchestrator::Orchestrator;
use crate::store::unix_ms_now;
use crate::webhook::{Refusal, RotationTarget, SeenDeliveries, WebhookSettings, CLOCK_SKEW_MARGIN};
use futures::StreamExt;
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Rotations the webhook runs at a time in one process, however many deliveries ask (`{ all: true }`
/// on thousands of tenants, five times over, must not become a token storm: Genesys rate-limits
/// token creation).
pub const ROTATION_CONCURRENCY: usize = 4;

/// The webhook's state in one process: the deliveries accepted, and the rotation permits every
/// delivery shares.
#[derive(Debug)]
pub(crate) struct WebhookReceiver {
    seen: SeenDeliveries,
    rotations: Arc<Semaphore>,
}

impl Default for WebhookReceiver {
    fn default() -> Self {
        WebhookReceiver { seen: SeenDeliveries::default(), rotations: Arc::new(Semaphore::new(ROTATION_CONCURRENCY)) }
    }
}

/// What to answer a delivery with.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookAnswer {
    /// 202, 400, 401, 413 or 503.
    pub status: u16,
    /// The JSON body; never holds a secret.
    pub body: Value,
}

fn refused(r: Refusal) -> WebhookAnswer {
    WebhookAnswer { status: r.status(), body: json!({"accepted": false, "error": r.code(), "message": r.to_string()}) }
}

impl Orchestrator {
    /// Handles one delivery: `signature` is the `X-Genesys-Tenants-Signature` header, `body` the raw
    /// body. Accepted deliveries answer 202 at once; their rotations run in the background and report
    /// through `credentials.rotated` / `rotation.failed`.
    ///
    /// ```no_run
    /// # async fn demo(o: genesys_tenants_core::Orchestrator) {
    /// use genesys_tenants_core::webhook::{sign, WebhookSettings};
    /// use genesys_tenants_core::Secret;
    /// let settings = WebhookSettings::new(Secret::new("whsec-0123456789abcdef"), None).unwrap();
    /// let body = br#"{"tenantId":"acme"}"#;
    /// let now = genesys_tenants_core::store::unix_ms_now() / 1000;
    /// let answer = o.rotation_webhook(&settings, Some(&sign(&settings.secret, now, body)), body).await;
    /// assert_eq!(answer.status, 202);
    /// # }
    /// ```
    pub async fn rotation_webhook(&self, settings: &WebhookSettings, signature: Option<&str>, body: &[u8]) -> WebhookAnswer {
        if self.check_open().is_err() {
            return refused(Refusal::Closed);
        }
        let now = unix_ms_now();
        let delivery = match settings.verify(signature, body, now) {
            Ok(d) => d,
            Err(r) => return refused(r),
        };
        let receiver = self.webhook_receiver();
        if let Err(r) = receiver.seen.first_time(&delivery.id, delivery.acceptable_until_ms, now) {
            return refused(r);
        }
        if let Some(store) = self.store() {
            // Another replica may have accepted it (a load balancer's retry). With Redis down, this
            // process's memory is the only check left. Kept past the last acceptable instant, and
            // longer still for replicas whose clocks run behind ours.
            let ttl = std::time::Duration::from_millis(delivery.acceptable_until_ms.saturating_sub(now) + 1) + CLOCK_SKEW_MARGIN;
            if let Ok(false) = store.claim_delivery(&delivery.id, ttl).await {
                return refused(Refusal::Replayed);
            }
        }
        let known = self.tenant_ids();
        let (ids, named) = match delivery.target {
            RotationTarget::All => (known.clone(), Value::String("all".into())),
            RotationTarget::Tenants(ids) => {
                let named = json!(ids);
                (ids, named)
            }
        };
        let unknown: Vec<&String> = ids.iter().filter(|id| !known.contains(id)).collect();
        let body = json!({"accepted": true, "tenants": named, "rotating": ids.len(), "unknown": unknown});
        let this = self.clone();
        let permits = Arc::clone(&receiver.rotations);
        tokio::spawn(async move {
            futures::stream::iter(ids)
                .for_each_concurrent(ROTATION_CONCURRENCY, |id| {
                    let (this, permits) = (this.clone(), Arc::clone(&permits));
                    // Failures are reported as rotation.failed; a closed orchestrator ends them all.
                    async move {
                        let Ok(_permit) = permits.acquire_owned().await else { return };
                        let _ = this.rotate_credentials(&id).await;
                    }
                })
                .await;
        });
        WebhookAnswer { status: 202, body }
    }
}

//! One rotation-webhook delivery, end to end: verify it ([`super::WebhookSettings::verify`]), accept
//! it once across every replica (this process's memory, and Redis in shared mode), then rotate what
//! it names in the background. The answer is HTTP-shaped so any Node framework can send it as it is.
//!
//! The receiver knows nothing of the orchestrator: it is handed the tenant ids and a rotation to run
//! per tenant ([`Rotate`]). The orchestrator's rotation also publishes to the other replicas, so a
//! delivery that reaches one replica rotates the tenant once for all of them.

use super::{Refusal, RotationTarget, SeenDeliveries, WebhookSettings, CLOCK_SKEW_MARGIN};
use crate::store::{unix_ms_now, SharedStore};
use futures::future::BoxFuture;
use futures::StreamExt;
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Rotations the webhook runs at a time in one process, however many deliveries ask (`{ all: true }`
/// on thousands of tenants, five times over, must not become a token storm: Genesys rate-limits
/// token creation).
pub const ROTATION_CONCURRENCY: usize = 4;

/// What to answer a delivery with.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookAnswer {
    /// 202, 400, 401, 413 or 503.
    pub status: u16,
    /// The JSON body; never holds a secret.
    pub body: Value,
}

impl WebhookAnswer {
    /// The answer to a refused delivery.
    pub fn refused(r: Refusal) -> Self {
        WebhookAnswer { status: r.status(), body: json!({"accepted": false, "error": r.code(), "message": r.to_string()}) }
    }
}

/// Rotates one tenant; failures are the rotation's to report (`rotation.failed`).
pub type Rotate = Arc<dyn Fn(String) -> BoxFuture<'static, ()> + Send + Sync>;

/// The webhook's state in one process: the deliveries accepted, and the rotation permits every
/// delivery shares.
#[derive(Debug)]
pub struct WebhookReceiver {
    seen: SeenDeliveries,
    rotations: Arc<Semaphore>,
}

impl Default for WebhookReceiver {
    fn default() -> Self {
        WebhookReceiver { seen: SeenDeliveries::default(), rotations: Arc::new(Semaphore::new(ROTATION_CONCURRENCY)) }
    }
}

impl WebhookReceiver {
    /// Handles one delivery: `signature` is the `X-Genesys-Tenants-Signature` header, `body` the raw
    /// body, `known` gives the tenant ids (asked only for an accepted delivery), `store` the shared store (claims the delivery for every
    /// replica). Accepted deliveries answer 202 at once; `rotate` runs for each named tenant in the
    /// background, [`ROTATION_CONCURRENCY`] at a time for the whole process.
    ///
    /// ```no_run
    /// # async fn demo() {
    /// use genesys_tenants_core::webhook::{sign, WebhookReceiver, WebhookSettings};
    /// use genesys_tenants_core::Secret;
    /// use std::sync::Arc;
    /// let settings = WebhookSettings::new(Secret::new("whsec-0123456789abcdef"), None).unwrap();
    /// let body = br#"{"tenantId":"acme"}"#;
    /// let now = genesys_tenants_core::store::unix_ms_now() / 1000;
    /// let rotate = Arc::new(|id: String| Box::pin(async move { println!("rotate {id}") }) as _);
    /// let receiver = WebhookReceiver::default();
    /// let answer = receiver.handle(&settings, Some(&sign(&settings.secret, now, body)), body, || vec!["acme".into()], None, rotate).await;
    /// assert_eq!(answer.status, 202);
    /// # }
    /// ```
    pub async fn handle(
        &self,
        settings: &WebhookSettings,
        signature: Option<&str>,
        body: &[u8],
        known: impl FnOnce() -> Vec<String>,
        store: Option<&SharedStore>,
        rotate: Rotate,
    ) -> WebhookAnswer {
        let now = unix_ms_now();
        let delivery = match settings.verify(signature, body, now) {
            Ok(d) => d,
            Err(r) => return WebhookAnswer::refused(r),
        };
        if let Err(r) = self.seen.first_time(&delivery.id, delivery.acceptable_until_ms, now) {
            return WebhookAnswer::refused(r);
        }
        if let Some(store) = store {
            // Another replica may have accepted it (a load balancer's retry). With Redis down, this
            // process's memory is the only check left. Kept past the last acceptable instant, and
            // longer still for replicas whose clocks run behind ours.
            let ttl = std::time::Duration::from_millis(delivery.acceptable_until_ms.saturating_sub(now) + 1) + CLOCK_SKEW_MARGIN;
            if let Ok(false) = store.claim_delivery(&delivery.id, ttl).await {
                return WebhookAnswer::refused(Refusal::Replayed);
            }
        }
        let known = known();
        let (ids, named) = match delivery.target {
            RotationTarget::All => (known.clone(), Value::String("all".into())),
            RotationTarget::Tenants(ids) => {
                let named = json!(ids);
                (ids, named)
            }
        };
        let unknown: Vec<&String> = ids.iter().filter(|id| !known.contains(id)).collect();
        let body = json!({"accepted": true, "tenants": named, "rotating": ids.len(), "unknown": unknown});
        let permits = Arc::clone(&self.rotations);
        tokio::spawn(async move {
            futures::stream::iter(ids)
                .for_each_concurrent(ROTATION_CONCURRENCY, |id| {
                    let (rotate, permits) = (Arc::clone(&rotate), Arc::clone(&permits));
                    async move {
                        let Ok(_permit) = permits.acquire_owned().await else { return };
                        rotate(id).await;
                    }
                })
                .await;
        });
        WebhookAnswer { status: 202, body }
    }
}

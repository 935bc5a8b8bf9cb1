//! One rotation of a tenant's credentials (forced, scheduled or a webhook's): re-read the config,
//! retest a pending credential, obtain a new token and report it — `credentials.rotated` (and a
//! publish to the other replicas) or `rotation.failed`.

use crate::error::Result;
use crate::events::EventKind;
use crate::pipeline::Pipeline;
use crate::staged_credentials::Staging;
use serde_json::json;
use std::sync::Arc;

/// Rotates `tenant_id`; `reason` is reported (`forced`, `scheduled`). The config service being down
/// does not stop it: the token is renewed with the credentials in hand.
pub(crate) async fn rotate(pipeline: &Pipeline, staging: &Staging, reason: &'static str, tenant_id: &str) -> Result<()> {
    pipeline.check_ready()?;
    let fingerprint = |p: &Pipeline| p.config.tenant(tenant_id).ok().map(|t| t.credentials_fingerprint.clone());
    let before = fingerprint(pipeline);
    if let Err(e) = pipeline.config.reload("rotation").await {
        // The config service being down must not stop a rotation: the token is still renewed
        // with the credentials we have.
        pipeline.events.emit(EventKind::ConfigStale, Some(tenant_id), json!({"reason": e.to_string(), "trigger": "rotation"}));
    }
    // A pending credential that failed its test is retested now rather than at its next retest.
    staging.kick(tenant_id);
    // A reload that brought new credentials has already started their token (`config-change`):
    // that is the rotation, and a second, forced request would only cost the token budget.
    let result = if before.is_some() && fingerprint(pipeline) != before {
        pipeline.tokens.renew_changed(tenant_id).await
    } else {
        pipeline.tokens.renew(tenant_id).await
    };
    match &result {
        Ok(_) => {
            pipeline.events.emit(EventKind::CredentialsRotated, Some(tenant_id), json!({"reason": reason}));
            if let Some(store) = &pipeline.store {
                store.publish_rotation(tenant_id).await;
            }
        }
        Err(e) => pipeline.events.emit(
            EventKind::RotationFailed,
            Some(tenant_id),
            json!({"reason": reason, "code": e.code(), "message": e.to_string()}),
        ),
    }
    result.map(|_| ())
}

/// Another replica rotated `tenant_id` (its publish reached us): report it, re-read the config, drop
/// our copy of the token (the next call takes the peer's from the store), and read the outcome of a
/// pending credential's test the peer may have run.
pub(crate) fn rotated_by_peer(pipeline: Arc<Pipeline>, staging: Arc<Staging>, tenant_id: String) {
    pipeline.events.emit(EventKind::CredentialsRotated, Some(&tenant_id), json!({"reason": "peer"}));
    tokio::spawn(async move {
        let _ = pipeline.config.reload("peer-rotation").await;
        pipeline.tokens.forget_local(&tenant_id);
        staging.kick(&tenant_id);
    });
}

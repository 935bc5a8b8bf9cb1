//! What a config change does to the running parts: schedules follow the entries, removed tenants
//! lose their tokens, limiters and tests, new credentials are fetched ahead (`config-change`), and a
//! pending credential is tested or stops being tested. The orchestrator installs [`apply`] as the
//! config manager's change handler, and runs [`poll`], which re-reads the config on its schedule.

use crate::config::{ConfigDiff, ConfigManager, TenantEntry, TenantTable};
use crate::events::EventKind;
use crate::pipeline::Pipeline;
use crate::scheduler::Scheduler;
use crate::staged_credentials::Staging;
use serde_json::json;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Applies one config change (`diff`, from `old` to `new`) to the pipeline's parts, the staging of
/// pending credentials and the rotation scheduler.
pub(crate) fn apply(
    pipeline: &Pipeline,
    staging: &Arc<Staging>,
    scheduler: &Scheduler,
    diff: &ConfigDiff,
    new: &TenantTable,
    old: &TenantTable,
) {
    for id in &diff.removed {
        pipeline.tokens.remove(id);
        pipeline.forget(id);
        staging.forget(id);
        scheduler.set(id, None);
    }
    for id in diff.added.iter().chain(diff.changed.iter()) {
        let now = new.entries.get(id);
        let every = match now {
            Some(TenantEntry::Valid(t)) => t.rotation_interval,
            _ => None,
        };
        scheduler.set(id, every);
        let promoted = match (now, old.entries.get(id)) {
            (Some(TenantEntry::Valid(n)), Some(TenantEntry::Valid(o))) => {
                o.pending_fingerprint() == Some(n.credentials_fingerprint.as_str())
            }
            _ => false,
        };
        match now {
            Some(TenantEntry::Valid(n)) if n.pending.is_some() => staging.consider(n),
            // A promotion ends its own test; anything else no longer pending stops being tested.
            _ if !promoted => staging.forget(id),
            _ => {}
        }
        if promoted {
            // The staging task reports it (`credentials.promoted`); the first fetch takes its token.
            pipeline.tokens.credentials_changed(id);
        } else if let (Some(TenantEntry::Valid(n)), Some(TenantEntry::Valid(o))) = (now, old.entries.get(id)) {
            if n.credentials_changed(o) {
                pipeline.events.emit(EventKind::CredentialsRotated, Some(id), json!({"reason": "config-change", "clientId": n.client_id}));
                pipeline.tokens.credentials_changed(id);
                if let Some(store) = pipeline.store.clone() {
                    let id = id.clone();
                    tokio::spawn(async move { store.publish_rotation(&id).await });
                }
            }
        } else if !matches!(now, Some(TenantEntry::Valid(_))) {
            pipeline.tokens.remove(id);
        }
    }
}

/// Re-reads the config every poll interval (the manager says how long: longer after failures) until
/// `cancel`.
pub(crate) async fn poll(config: Arc<ConfigManager>, cancel: CancellationToken) {
    loop {
        let delay = config.next_poll_delay();
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(delay) => {}
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = config.reload("poll") => {}
        }
    }
}

//! Observable events (`token.acquired`, `config.stale`, …), broadcast to every subscriber.
//! Events carry ids, counts and reasons — never a secret or a token.

use crate::redact::{Needles, MIN_LEN};
use serde::Serialize;
use serde_json::{Map, Value};
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::broadcast;

/// True when `v` holds a string long enough to hide a secret (most events hold only numbers).
fn has_text(v: &Value) -> bool {
    match v {
        Value::String(s) => s.len() >= MIN_LEN,
        Value::Array(items) => items.iter().any(has_text),
        Value::Object(m) => m.values().any(has_text),
        _ => false,
    }
}

/// Buffered events per subscriber before the slowest one starts losing the oldest.
pub const EVENT_BUFFER: usize = 4096;

/// Every event the core emits: the one list (the JS typings are checked against it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// `config.loaded`: The first config table (`added`, `tenants`).
    ConfigLoaded,
    /// `config.updated`: A config change (`added`, `removed`, `changed`).
    ConfigUpdated,
    /// `config.stale`: A config read failed; the last good config stays (`reason`, `consecutiveFailures`).
    ConfigStale,
    /// `config.invalid`: An entry is invalid (`code`, `field`, `reason`).
    ConfigInvalid,
    /// `config.region-defaulted`: A tenant names no region; `mypurecloud.com` is used.
    ConfigRegionDefaulted,
    /// `config.unknown-scopes`: A tenant declares names that are not Genesys scopes (`unknown`, `suggestions`).
    ConfigUnknownScopes,
    /// `config.unpinned`: A tenant's entry has no `organizationId`; its client's organization was observed (`observedOrganizationId`, `clientId`), once per tenant.
    ConfigUnpinned,
    /// `config.snapshot-used`: Start-up from the snapshot.
    ConfigSnapshotUsed,
    /// `config.snapshot-failed`: The snapshot could not be written.
    ConfigSnapshotFailed,
    /// `token.acquired`: A tenant's first token (`expiresInMs`, `refreshInMs`).
    TokenAcquired,
    /// `token.refreshed`: A new token replaced one (`credentialsChanged`).
    TokenRefreshed,
    /// `token.rejected`: `invalid_client`: the config is re-read once before failing.
    TokenRejected,
    /// `token.failed`: A token could not be obtained (`code`, `message`).
    TokenFailed,
    /// `token.invalidated`: A token was dropped after a 401.
    TokenInvalidated,
    /// `credentials.rotated`: A rotation (`reason`: forced, scheduled, config-change, peer).
    CredentialsRotated,
    /// `rotation.failed`: A rotation failed (`code`, `message`).
    RotationFailed,
    /// `credentials.promoted`: A tested pending credential is now in use (`clientId`, `previousClientId`, `organizationId`, `tested`).
    CredentialsPromoted,
    /// `credentials.pending-failed`: A pending credential failed its test; the current one stays (`clientId`, `step`, `reason`, `status`, `retryInMs`).
    CredentialsPendingFailed,
    /// `retry`: A token request or an API call is retried (`what`, `attempt`, `delayMs`, `status`, `reason`).
    Retry,
    /// `ratelimit.wait`: A 429 put the tenant on hold (`waitMs`).
    RatelimitWait,
    /// `preflight.warning`: `preflight: 'warn'` let a call through that the declared scopes do not cover.
    PreflightWarning,
    /// `store.unavailable`: Redis failed; calls continue in-process (`reason`).
    StoreUnavailable,
    /// `store.available`: Redis answers again.
    StoreAvailable,
    /// `events.dropped`: A slow listener missed `count` events.
    EventsDropped,
    /// `notifications.channel-opened`: A notification channel is connected and subscribed (`channelId`, `topics`, `reason`).
    NotificationsChannelOpened,
    /// `notifications.channel-moved`: A channel's topics moved to a new channel before the old one closed (`fromChannelId`, `channelId`, `reason`: socket-closing, expiring, rotation).
    NotificationsChannelMoved,
    /// `notifications.channel-renewed`: A channel's expiry was extended in place ahead of it, its subscriptions set again (`channelId`).
    NotificationsChannelRenewed,
    /// `notifications.channel-lost`: A channel's socket ended unasked, or a move or rebuild failed (`channelId`, `reason`, `code`, `retryInMs`).
    NotificationsChannelLost,
    /// `notifications.channel-closed`: A channel is no longer needed (its last topic was removed, or close()).
    NotificationsChannelClosed,
    /// `notifications.dropped`: A subscriber too slow for its queue lost its `count` oldest events (`subscriptionId`, `count`).
    NotificationsDropped,
}

impl EventKind {
    /// Every kind, in the order the README lists them.
    pub const ALL: &'static [EventKind] = &[
        EventKind::ConfigLoaded,
        EventKind::ConfigUpdated,
        EventKind::ConfigStale,
        EventKind::ConfigInvalid,
        EventKind::ConfigRegionDefaulted,
        EventKind::ConfigUnknownScopes,
        EventKind::ConfigUnpinned,
        EventKind::ConfigSnapshotUsed,
        EventKind::ConfigSnapshotFailed,
        EventKind::TokenAcquired,
        EventKind::TokenRefreshed,
        EventKind::TokenRejected,
        EventKind::TokenFailed,
        EventKind::TokenInvalidated,
        EventKind::CredentialsRotated,
        EventKind::RotationFailed,
        EventKind::CredentialsPromoted,
        EventKind::CredentialsPendingFailed,
        EventKind::Retry,
        EventKind::RatelimitWait,
        EventKind::PreflightWarning,
        EventKind::StoreUnavailable,
        EventKind::StoreAvailable,
        EventKind::EventsDropped,
        EventKind::NotificationsChannelOpened,
        EventKind::NotificationsChannelMoved,
        EventKind::NotificationsChannelRenewed,
        EventKind::NotificationsChannelLost,
        EventKind::NotificationsChannelClosed,
        EventKind::NotificationsDropped,
    ];

    /// The dotted name, e.g. `token.refreshed`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::ConfigLoaded => "config.loaded",
            EventKind::ConfigUpdated => "config.updated",
            EventKind::ConfigStale => "config.stale",
            EventKind::ConfigInvalid => "config.invalid",
            EventKind::ConfigRegionDefaulted => "config.region-defaulted",
            EventKind::ConfigUnknownScopes => "config.unknown-scopes",
            EventKind::ConfigUnpinned => "config.unpinned",
            EventKind::ConfigSnapshotUsed => "config.snapshot-used",
            EventKind::ConfigSnapshotFailed => "config.snapshot-failed",
            EventKind::TokenAcquired => "token.acquired",
            EventKind::TokenRefreshed => "token.refreshed",
            EventKind::TokenRejected => "token.rejected",
            EventKind::TokenFailed => "token.failed",
            EventKind::TokenInvalidated => "token.invalidated",
            EventKind::CredentialsRotated => "credentials.rotated",
            EventKind::RotationFailed => "rotation.failed",
            EventKind::CredentialsPromoted => "credentials.promoted",
            EventKind::CredentialsPendingFailed => "credentials.pending-failed",
            EventKind::Retry => "retry",
            EventKind::RatelimitWait => "ratelimit.wait",
            EventKind::PreflightWarning => "preflight.warning",
            EventKind::StoreUnavailable => "store.unavailable",
            EventKind::StoreAvailable => "store.available",
            EventKind::EventsDropped => "events.dropped",
            EventKind::NotificationsChannelOpened => "notifications.channel-opened",
            EventKind::NotificationsChannelMoved => "notifications.channel-moved",
            EventKind::NotificationsChannelRenewed => "notifications.channel-renewed",
            EventKind::NotificationsChannelLost => "notifications.channel-lost",
            EventKind::NotificationsChannelClosed => "notifications.channel-closed",
            EventKind::NotificationsDropped => "notifications.dropped",
        }
    }
}

/// One event.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// Dotted name, e.g. `token.refreshed`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The tenant concerned, if any.
    #[serde(rename = "tenantId", skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub at: u64,
    /// Event-specific fields (camelCase).
    #[serde(flatten)]
    pub data: Map<String, Value>,
}

/// Gives the secrets to redact from one tenant's events (`None`: events of no tenant).
pub type RedactFn = Box<dyn Fn(Option<&str>) -> Needles + Send + Sync>;

/// The event bus.
#[derive(Clone)]
pub struct Events {
    tx: broadcast::Sender<Event>,
    redactor: Arc<OnceLock<RedactFn>>,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events").field("subscribers", &self.tx.receiver_count()).finish_non_exhaustive()
    }
}

impl Default for Events {
    fn default() -> Self {
        Events { tx: broadcast::channel(EVENT_BUFFER).0, redactor: Arc::new(OnceLock::new()) }
    }
}

impl Events {
    /// Emits an event; `data` must be a JSON object (anything else is dropped into `detail`).
    ///
    /// ```
    /// use genesys_tenants_core::events::{EventKind, Events};
    /// let ev = Events::default();
    /// let mut rx = ev.subscribe();
    /// ev.emit(EventKind::ConfigUpdated, None, serde_json::json!({"added": ["a"]}));
    /// assert_eq!(rx.try_recv().unwrap().kind, "config.updated");
    /// ```
    pub fn emit(&self, kind: EventKind, tenant_id: Option<&str>, data: Value) {
        let kind = kind.as_str();
        let data = match data {
            Value::Object(m) => m,
            Value::Null => Map::new(),
            other => {
                let mut m = Map::new();
                m.insert("detail".into(), other);
                m
            }
        };
        let mut data = Value::Object(data);
        if let Some(redact) = self.redactor.get().filter(|_| has_text(&data)) {
            redact(tenant_id).redact_value(&mut data);
        }
        let Value::Object(data) = data else { return };
        tracing::debug!(event = kind, tenant = tenant_id.unwrap_or(""), data = ?data, "event");
        let at = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
        // No subscriber is fine: events are optional.
        let _ = self.tx.send(Event { kind, tenant_id: tenant_id.map(str::to_string), at, data });
    }

    /// Installs what finds the secrets to redact from every event's strings (once; later calls
    /// are ignored). Shared by every clone of this bus.
    pub fn set_redactor(&self, f: RedactFn) {
        let _ = self.redactor.set(f);
    }

    /// A new subscription.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }
}

/// Delivers every event of `bus` to `deliver` as JSON text until `deliver` returns `false` (its
/// receiver is gone) or the task is aborted; a listener too slow for the buffer gets
/// `{"type":"events.dropped","count":n}` in place of what it missed.
pub async fn pump(mut rx: broadcast::Receiver<Event>, deliver: impl Fn(String) -> bool) {
    loop {
        let text = match rx.recv().await {
            Ok(event) => serde_json::to_string(&event).unwrap_or_else(|_| "null".into()),
            Err(broadcast::error::RecvError::Lagged(n)) => {
                serde_json::json!({"type": EventKind::EventsDropped.as_str(), "count": n}).to_string()
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        if !deliver(text) {
            return;
        }
    }
}

/// The JSON listeners of one orchestrator (`subscribe_json`): each a [`pump`] task, aborted by
/// [`Listeners::remove`] or, all at once, [`Listeners::clear`].
#[derive(Debug, Default)]
pub struct Listeners {
    inner: std::sync::Mutex<(u32, std::collections::HashMap<u32, tokio::task::JoinHandle<()>>)>,
}

impl Listeners {
    /// Starts a [`pump`] of `rx` into `deliver`; its id. Must be called inside a Tokio runtime.
    pub fn add(&self, rx: broadcast::Receiver<Event>, deliver: impl Fn(String) -> bool + Send + 'static) -> u32 {
        let task = tokio::spawn(pump(rx, deliver));
        let mut l = crate::sync::lock(&self.inner);
        l.0 += 1;
        let id = l.0;
        l.1.insert(id, task);
        id
    }

    /// Stops one listener (nothing when it is gone already).
    pub fn remove(&self, id: u32) {
        if let Some(t) = crate::sync::lock(&self.inner).1.remove(&id) {
            t.abort();
        }
    }

    /// Stops every listener.
    pub fn clear(&self) {
        for (_, t) in crate::sync::lock(&self.inner).1.drain() {
            t.abort();
        }
    }
}

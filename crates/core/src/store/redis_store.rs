//! The Redis client of the shared store: bounded-time operations, a health state that falls back
//! to in-process mode for a short pause after a failure, and the rotation channel.

use super::keys::Keys;
use super::scripts;
use crate::config::Tenant;
use crate::crypto::EncryptionKey;
use crate::events::{EventKind, Events};
use crate::redact::Needles;
use hmac::{Hmac, Mac};
use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::Sha256;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::OnceCell;
use tokio::time::Instant;

/// How long one Redis operation may take before we stop waiting for it.
pub const DEFAULT_OP_TIMEOUT: Duration = Duration::from_millis(500);
/// After a failure, Redis is not asked again for this long (requests run in-process meanwhile).
pub const DEFAULT_RETRY_PAUSE: Duration = Duration::from_secs(1);

/// Why a store operation did not happen (the caller falls back to in-process mode).
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// Redis failed, timed out or is in its retry pause.
    #[error("shared store unavailable: {0}")]
    Unavailable(String),
}

/// Settings of the store.
#[derive(Debug, Clone)]
pub struct StoreSettings {
    /// `redis://…` URL.
    pub url: String,
    /// Prefix of every key.
    pub prefix: String,
    /// Per-operation timeout.
    pub op_timeout: Duration,
    /// Pause after a failure.
    pub retry_pause: Duration,
    /// Refresh lease.
    pub lease: Duration,
}

/// A token as shared between replicas (sealed at rest).
#[derive(Clone, Serialize, Deserialize)]
pub struct SharedToken {
    /// The bearer value.
    #[serde(rename = "v")]
    pub value: String,
    /// Unix ms when its request was sent.
    #[serde(rename = "o")]
    pub obtained_at_ms: u64,
    /// Unix ms of expiry.
    #[serde(rename = "e")]
    pub expires_at_ms: u64,
}

impl std::fmt::Debug for SharedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedToken").field("value", &"[redacted]").field("expires_at_ms", &self.expires_at_ms).finish()
    }
}

impl Drop for SharedToken {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.value);
    }
}

/// A won refresh lease.
#[derive(Debug, Clone)]
pub struct Lease {
    keys: Keys,
    owner: String,
    fence: i64,
}

#[derive(Debug, Default)]
struct Health {
    down_until: Option<Instant>,
    last_error: Option<String>,
}

/// The shared store.
pub struct SharedStore {
    client: redis::Client,
    conn: OnceCell<ConnectionManager>,
    key: EncryptionKey,
    settings: StoreSettings,
    /// The password in the URL, scrubbed from every failure reason.
    url_secrets: Needles,
    events: Events,
    health: Mutex<Health>,
    down: AtomicBool,
    /// Operations that failed.
    pub failures: AtomicU64,
    /// Times the store went from up to down.
    pub outages: AtomicU64,
    /// Process-unique origin id for pub/sub messages.
    pub origin: String,
}

impl std::fmt::Debug for SharedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedStore").field("prefix", &self.settings.prefix).finish_non_exhaustive()
    }
}

/// Milliseconds since the Unix epoch.
pub fn unix_ms_now() -> u64 {
    unix_ms()
}

pub(crate) fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl SharedStore {
    /// A store for `settings.url`; nothing is connected until first use.
    pub fn new(settings: StoreSettings, key: EncryptionKey, events: Events) -> Result<Self, String> {
        // The URL's password must not reach an error, an event or stats.
        let mut url_secrets = Needles::default();
        if let Ok(u) = url::Url::parse(&settings.url) {
            url_secrets.push(u.password().unwrap_or_default());
        }
        let client = redis::Client::open(settings.url.as_str()).map_err(|e| {
            let mut why = format!("not a Redis URL ({}): {e}", crate::transport::display_url_text(&settings.url));
            url_secrets.redact_string(&mut why);
            why
        })?;
        Ok(SharedStore {
            url_secrets,
            client,
            conn: OnceCell::new(),
            key,
            settings,
            events,
            health: Mutex::new(Health::default()),
            down: AtomicBool::new(false),
            failures: AtomicU64::new(0),
            outages: AtomicU64::new(0),
            origin: hex::encode(rand::random::<[u8; 8]>()),
        })
    }

    /// Keyed fingerprint of a tenant's credentials: the same in every replica sharing the key,
    /// useless to anyone without it.
    pub fn fingerprint(&self, tenant: &Tenant) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.key.kid().as_bytes()).expect("hmac takes any key length");
        mac.update(b"credentials|");
        mac.update(tenant.client_id.as_bytes());
        mac.update(b"|");
        mac.update(tenant.client_secret.expose().as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..12])
    }

    /// The keys of a tenant.
    pub fn keys(&self, tenant_id: &str, kfp: &str) -> Keys {
        Keys::new(&self.settings.prefix, tenant_id, kfp)
    }

    /// The refresh lease length.
    pub fn lease(&self) -> Duration {
        self.settings.lease
    }

    /// True while the store is considered down.
    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::Relaxed)
    }

    fn lock_health(&self) -> std::sync::MutexGuard<'_, Health> {
        self.health.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn mark_down(&self, mut why: String) {
        self.url_secrets.redact_string(&mut why);
        self.failures.fetch_add(1, Ordering::Relaxed);
        let mut h = self.lock_health();
        h.down_until = Some(Instant::now() + self.settings.retry_pause);
        h.last_error = Some(why.clone());
        if !self.down.swap(true, Ordering::AcqRel) {
            self.outages.fetch_add(1, Ordering::Relaxed);
            self.events.emit(EventKind::StoreUnavailable, None, json!({"reason": why, "fallback": "in-process"}));
        }
    }

    fn mark_up(&self) {
        if self.down.swap(false, Ordering::AcqRel) {
            self.lock_health().down_until = None;
            self.events.emit(EventKind::StoreAvailable, None, json!({}));
        }
    }

    async fn conn(&self) -> Result<ConnectionManager, StoreError> {
        if let Some(until) = self.lock_health().down_until {
            if Instant::now() < until {
                return Err(StoreError::Unavailable("in retry pause after a failure".into()));
            }
        }
        let t = self.settings.op_timeout;
        let fut = self.conn.get_or_try_init(|| async {
            let cfg = redis::aio::ConnectionManagerConfig::new()
                .set_connection_timeout(Some(t))
                .set_response_timeout(Some(t))
                .set_number_of_retries(1);
            self.client.get_connection_manager_with_config(cfg).await
        });
        match tokio::time::timeout(t * 2, fut).await {
            Ok(Ok(c)) => Ok(c.clone()),
            Ok(Err(e)) => {
                self.mark_down(e.to_string());
                Err(StoreError::Unavailable(e.to_string()))
            }
            Err(_) => {
                self.mark_down("connect timed out".into());
                Err(StoreError::Unavailable("connect timed out".into()))
            }
        }
    }

    async fn run<T, F, Fut>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        let conn = self.conn().await?;
        match tokio::time::timeout(self.settings.op_timeout, f(conn)).await {
            Ok(Ok(v)) => {
                self.mark_up();
                Ok(v)
            }
            Ok(Err(e)) => {
                self.mark_down(e.to_string());
                Err(StoreError::Unavailable(e.to_string()))
            }
            Err(_) => {
                self.mark_down("operation timed out".into());
                Err(StoreError::Unavailable("operation timed out".into()))
            }
        }
    }

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
            .run(|mut c| async move {
                redis::Script::new(scripts::LEASE).key(&k.lock).key(&k.fence).arg(&o).arg(lease_ms).invoke_async(&mut c).await
            })
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
                redis::Script::new(scripts::PUT_TOKEN)
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
        let _: Result<i64, _> = self
            .run(|mut c| async move { redis::Script::new(scripts::RELEASE).key(&l.keys.lock).arg(&l.owner).invoke_async(&mut c).await })
            .await;
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

    /// Shared rate budget: `Ok(None)` to go now, `Ok(Some(wait))` to wait first.
    pub async fn rate_wait(&self, tenant_id: &str, allowed: u32, window: Duration) -> Result<Option<Duration>, StoreError> {
        let keys = self.keys(tenant_id, "-");
        // Evenly paced (burst 1): the requests of every replica together never exceed `allowed`
        // in any window, whatever the server's window alignment.
        let emission = (window.as_millis() as u64 / allowed.max(1) as u64).max(1);
        let wait_ms: i64 = self
            .run(|mut c| async move {
                redis::Script::new(scripts::GCRA).key(&keys.rate).arg(emission).arg(0).invoke_async(&mut c).await
            })
            .await?;
        Ok((wait_ms > 0).then(|| Duration::from_millis(wait_ms as u64)))
    }

    /// Tells the other replicas that a tenant rotated.
    pub async fn publish_rotation(&self, tenant_id: &str) {
        let channel = Keys::channel(&self.settings.prefix);
        let msg = json!({"type": "rotated", "tenantId": tenant_id, "origin": self.origin}).to_string();
        let _: Result<i64, _> = self.run(|mut c| async move { redis::cmd("PUBLISH").arg(channel).arg(msg).query_async(&mut c).await }).await;
    }

    /// Listens for rotations announced by other replicas and calls `on_rotated(tenant_id)`;
    /// reconnects after failures until `cancel` fires.
    pub async fn listen(&self, on_rotated: impl Fn(String) + Send + Sync, cancel: tokio_util::sync::CancellationToken) {
        use futures::StreamExt;
        let channel = Keys::channel(&self.settings.prefix);
        loop {
            let attempt = async {
                let mut ps = self.client.get_async_pubsub().await?;
                ps.subscribe(&channel).await?;
                let mut stream = ps.on_message();
                while let Some(msg) = stream.next().await {
                    let Ok(payload) = msg.get_payload::<String>() else { continue };
                    let Ok(v) = serde_json::from_str::<serde_json::Value>(&payload) else { continue };
                    if v["type"] == "rotated" && v["origin"] != self.origin.as_str() {
                        if let Some(t) = v["tenantId"].as_str() {
                            on_rotated(t.to_string());
                        }
                    }
                }
                Ok::<(), redis::RedisError>(())
            };
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = attempt => {}
            }
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(self.settings.retry_pause) => {}
            }
        }
    }

    /// Health for `stats()`.
    pub fn describe(&self) -> serde_json::Value {
        let h = self.lock_health();
        json!({
            "mode": if self.is_down() { "in-process (fallback)" } else { "shared" },
            "failures": self.failures.load(Ordering::Relaxed),
            "outages": self.outages.load(Ordering::Relaxed),
            "lastError": h.last_error,
        })
    }
}

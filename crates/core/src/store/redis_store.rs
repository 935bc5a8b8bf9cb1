//! The Redis client of the shared store: bounded-time operations, a health state that falls back
//! to in-process mode for a short pause after a failure, and the rotation channel.

use super::connection::{Conn, Target};
use super::keys::Keys;
use crate::config::Tenant;
use crate::crypto::EncryptionKey;
use crate::events::{EventKind, Events};
use crate::redact::ConfiguredSecrets;
use crate::sync::lock;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::Sha256;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
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
    /// `redis://…`, `rediss://…` or `redis+cluster://…` URL.
    pub url: String,
    /// Prefix of every key.
    pub prefix: String,
    /// Per-operation timeout.
    pub op_timeout: Duration,
    /// Pause after a failure.
    pub retry_pause: Duration,
    /// Refresh lease.
    pub lease: Duration,
    /// TLS material for a `rediss://` URL (private CA, mutual TLS); none: the system's roots.
    pub tls: Option<crate::options::RedisTls>,
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

/// The store's health, for `stats()`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreHealth {
    /// `shared`, or `in-process (fallback)` while Redis is down.
    pub mode: &'static str,
    /// Operations that failed.
    pub failures: u64,
    /// Times the store went from up to down.
    pub outages: u64,
    /// The last failure (the URL's password scrubbed).
    pub last_error: Option<String>,
}

/// A won refresh lease.
#[derive(Debug, Clone)]
pub struct Lease {
    pub(super) keys: Keys,
    pub(super) owner: String,
    pub(super) fence: i64,
}

#[derive(Debug, Default)]
struct Health {
    down_until: Option<Instant>,
    last_error: Option<String>,
}

/// How one caller's turn at connecting ended.
enum Attempt {
    Connected(Conn),
    /// Another caller's attempt failed just before: the retry pause is on.
    Paused,
    Failed(String),
}

/// The shared store.
pub struct SharedStore {
    pub(super) target: Target,
    /// The connection, once made.
    conn: Mutex<Option<Conn>>,
    /// Held while connecting.
    connecting: tokio::sync::Mutex<()>,
    pub(super) key: EncryptionKey,
    pub(super) settings: StoreSettings,
    /// The URL's password (as written and as sent) and the TLS key, scrubbed from every failure reason.
    secrets: ConfiguredSecrets,
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

/// Every password `url` carries, as written in it: the userinfo's (as typed, and as the URL parser
/// normalizes it) and the `?pass=` query value a `unix://` URL may carry.
fn url_passwords(url: &str) -> Vec<zeroize::Zeroizing<String>> {
    fn from_query(query: &str, out: &mut Vec<zeroize::Zeroizing<String>>) {
        let values = query.split('&').filter_map(|kv| kv.strip_prefix("pass=").or_else(|| kv.strip_prefix("password=")));
        out.extend(values.map(|v| zeroize::Zeroizing::new(v.to_string())));
    }
    let mut out = Vec::new();
    if let Some((_, rest)) = url.split_once("://") {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if let Some((_, pw)) = authority.rsplit_once('@').and_then(|(userinfo, _)| userinfo.split_once(':')) {
            out.push(zeroize::Zeroizing::new(pw.to_string()));
        }
        from_query(rest.split_once('?').and_then(|(_, q)| q.split('#').next()).unwrap_or_default(), &mut out);
    }
    if let Ok(u) = url::Url::parse(url) {
        out.extend(u.password().map(|p| zeroize::Zeroizing::new(p.to_string())));
        from_query(u.query().unwrap_or_default(), &mut out);
    }
    out
}

/// Milliseconds since the Unix epoch.
pub fn unix_ms_now() -> u64 {
    unix_ms()
}

pub(crate) fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl SharedStore {
    /// The shared store the options ask for (`redisUrl`, sealed with `encryptionKey`), if any.
    pub fn from_options(options: &crate::options::Options, events: &Events) -> crate::error::Result<Option<std::sync::Arc<Self>>> {
        let (Some(url), Some(key)) = (&options.redis_url, &options.encryption_key) else { return Ok(None) };
        let key = EncryptionKey::parse(key.expose())
            .map_err(|reason| crate::error::Error::InvalidOptions { option: "encryptionKey".into(), reason })?;
        let settings = StoreSettings {
            url: url.clone(),
            prefix: options.redis_key_prefix.clone(),
            op_timeout: super::DEFAULT_OP_TIMEOUT,
            retry_pause: super::DEFAULT_RETRY_PAUSE,
            lease: options.redis_lease,
            tls: options.redis_tls.clone(),
        };
        Ok(Some(std::sync::Arc::new(SharedStore::new(settings, key, events.clone())?)))
    }

    /// A store for `settings.url`; nothing is connected until first use. A URL or TLS material the
    /// redis crate refuses is `INVALID_OPTIONS` naming `redisUrl` or `redisTls`.
    pub fn new(settings: StoreSettings, key: EncryptionKey, events: Events) -> Result<Self, crate::error::Error> {
        // The URL's password must not reach an error, an event or stats.
        let mut secrets = ConfiguredSecrets::default();
        for raw in url_passwords(&settings.url) {
            secrets.push_url_component(&raw);
        }
        if let Some(key) = settings.tls.as_ref().and_then(|t| t.key.as_ref()) {
            secrets.push(key.expose());
        }
        let target = Target::new(&settings.url, settings.tls.clone(), settings.op_timeout).map_err(|e| {
            let mut reason = format!("cannot use Redis at {}: {e}", crate::transport::display_url_text(&settings.url));
            secrets.redact_string(&mut reason);
            // The URL is fine without the TLS material: the material is at fault.
            let tls_at_fault = settings.tls.is_some() && Target::new(&settings.url, None, settings.op_timeout).is_ok();
            crate::error::Error::InvalidOptions { option: if tls_at_fault { "redisTls" } else { "redisUrl" }.into(), reason }
        })?;
        Ok(SharedStore {
            secrets,
            target,
            conn: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(()),
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
        lock(&self.health)
    }

    /// Records a failure; returns it (redacted) for the caller. The first failure of an outage is
    /// its cause and stays in `last_error` until the store answers again: what fails after it
    /// during the outage (callers that queued behind a failed connect and timed out, the retry
    /// pause) are its consequences, and would hide it.
    fn mark_down(&self, mut why: String) -> StoreError {
        self.secrets.redact_string(&mut why);
        self.failures.fetch_add(1, Ordering::Relaxed);
        let mut h = self.lock_health();
        h.down_until = Some(Instant::now() + self.settings.retry_pause);
        if !self.down.swap(true, Ordering::AcqRel) {
            h.last_error = Some(why.clone());
            drop(h);
            self.outages.fetch_add(1, Ordering::Relaxed);
            self.events.emit(EventKind::StoreUnavailable, None, json!({"reason": why, "fallback": "in-process"}));
        }
        StoreError::Unavailable(why)
    }

    fn mark_up(&self) {
        if !self.down.load(Ordering::Acquire) {
            return;
        }
        // Under the health lock, so that a failure recorded meanwhile is not undone.
        let mut h = self.lock_health();
        if self.down.swap(false, Ordering::AcqRel) {
            h.down_until = None;
            drop(h);
            self.events.emit(EventKind::StoreAvailable, None, json!({}));
        }
    }

    fn in_pause(&self) -> bool {
        self.lock_health().down_until.is_some_and(|until| Instant::now() < until)
    }

    fn lock_conn(&self) -> std::sync::MutexGuard<'_, Option<Conn>> {
        lock(&self.conn)
    }

    async fn conn(&self) -> Result<Conn, StoreError> {
        const PAUSED: &str = "in retry pause after a failure";
        if self.in_pause() {
            return Err(StoreError::Unavailable(PAUSED.into()));
        }
        if let Some(c) = self.lock_conn().clone() {
            return Ok(c);
        }
        let t = self.settings.op_timeout;
        // One connect at a time. A caller that queued behind a connect that failed finds the retry
        // pause and does not try again: a burst costs one attempt, and its failure is the reason.
        let attempt = async {
            let _turn = self.connecting.lock().await;
            if let Some(c) = self.lock_conn().clone() {
                return Attempt::Connected(c);
            }
            if self.in_pause() {
                return Attempt::Paused;
            }
            match self.target.connect(t).await {
                Ok(c) => {
                    *self.lock_conn() = Some(c.clone());
                    Attempt::Connected(c)
                }
                Err(e) => Attempt::Failed(e),
            }
        };
        match tokio::time::timeout(t * 2, attempt).await {
            Ok(Attempt::Connected(c)) => Ok(c),
            Ok(Attempt::Paused) => Err(StoreError::Unavailable(PAUSED.into())),
            Ok(Attempt::Failed(why)) => Err(self.mark_down(why)),
            Err(_) => Err(self.mark_down("connect timed out".into())),
        }
    }

    pub(super) async fn run<T, F, Fut>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(Conn) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        let conn = self.conn().await?;
        let single = matches!(conn, Conn::Single(_));
        match tokio::time::timeout(self.settings.op_timeout, f(conn)).await {
            Ok(Ok(v)) => {
                self.mark_up();
                Ok(v)
            }
            Ok(Err(e)) if self.target.misdetected(single, &e) => {
                // A Cluster node taken for one server: never used for the slots it happens to hold
                // while the other tenants fall back. The next connect finds what it is, or refuses it.
                *self.lock_conn() = None;
                Err(self.mark_down(self.target.unreadable_cluster()))
            }
            Ok(Err(e)) => Err(self.mark_down(e.to_string())),
            Err(_) => Err(self.mark_down("operation timed out".into())),
        }
    }

    /// Health for `stats()`.
    pub fn describe(&self) -> StoreHealth {
        let h = self.lock_health();
        StoreHealth {
            mode: if self.is_down() { "in-process (fallback)" } else { "shared" },
            failures: self.failures.load(Ordering::Relaxed),
            outages: self.outages.load(Ordering::Relaxed),
            last_error: h.last_error.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_password_of_a_url_is_found_as_written_and_as_normalized() {
        let found = |url: &str| url_passwords(url).iter().map(|p| p.to_string()).collect::<Vec<_>>();
        assert_eq!(found("redis://u:p%40ss@h:6379/0"), ["p%40ss", "p%40ss"]);
        assert_eq!(found("redis://u:a b@h"), ["a b", "a%20b"]);
        assert_eq!(found("redis+cluster://:pw@h:1?addr=h2:2"), ["pw", "pw"]);
        assert_eq!(found("unix:///tmp/r.sock?db=1&pass=x%2By"), ["x%2By", "x%2By"]);
        assert_eq!(found("redis://u@h:6379"), Vec::<String>::new());
        assert_eq!(found("rediss://h:6380"), Vec::<String>::new());
    }
}

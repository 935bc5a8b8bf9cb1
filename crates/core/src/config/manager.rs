//! The live tenant table. Reads are lock-free (`ArcSwap`); a reload is single-flight; a failed,
//! slow, non-JSON or wholly invalid read never replaces the last good table. Failures back off
//! behind a small circuit breaker and are reported as `config.stale`.

use super::snapshot::Snapshot;
use super::source::{ConfigSource, Fetched};
use super::table::{ConfigDiff, RawIndex, TenantEntry, TenantTable};
use super::tenant::Tenant;
use crate::egress::EgressPolicy;
use crate::error::{Error, Result};
use crate::events::{EventKind, Events};
use crate::region::RegionSource;
use crate::sync::lock;
use arc_swap::ArcSwap;
use futures::future::{BoxFuture, FutureExt, Shared};
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// After this many consecutive failures the breaker opens: retries slow to the poll interval.
pub const BREAKER_THRESHOLD: u32 = 5;
/// First retry delay after a failed read; doubles per failure up to the poll interval.
pub const FIRST_RETRY_DELAY: Duration = Duration::from_millis(500);
/// A file source is checked at least this often (a `stat`, cheap) so edits apply promptly.
pub const FILE_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// Called after a new table is installed: `(diff, new, old)`.
pub type DiffListener = Arc<dyn Fn(&ConfigDiff, &TenantTable, &TenantTable) + Send + Sync>;

type SharedReload = Shared<BoxFuture<'static, std::result::Result<ConfigDiff, Error>>>;

/// Settings of the config manager.
#[derive(Debug, Clone)]
pub struct ConfigSettings {
    /// How often to poll the source.
    pub poll_interval: Duration,
}

/// Health of the config source, for `stats()`.
#[derive(Debug, Clone, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigHealth {
    /// Consecutive failed reads.
    pub consecutive_failures: u32,
    /// The last failure's reason.
    pub last_error: Option<String>,
    /// Unix ms of the last successful read (including 304s).
    pub last_success_at: Option<u64>,
    /// True while the breaker is open.
    pub breaker_open: bool,
    /// True when the table in use came from the snapshot file.
    pub from_snapshot: bool,
    /// Reads attempted.
    pub reads: u64,
    /// Reads answered "not modified".
    pub not_modified: u64,
}

/// Holds the current tenant table and keeps it fresh.
pub struct ConfigManager {
    source: ConfigSource,
    egress: EgressPolicy,
    snapshot: Option<Snapshot>,
    events: Events,
    settings: ConfigSettings,
    table: ArcSwap<TenantTable>,
    loaded: AtomicBool,
    version: Mutex<Option<String>>,
    health: Mutex<ConfigHealth>,
    reads: AtomicU64,
    inflight: Mutex<Option<SharedReload>>,
    listeners: Mutex<Vec<DiffListener>>,
    /// Pending credentials that were tested and promoted: tenant id → their fingerprint. Applied to
    /// every table read until the config stops staging that credential.
    promotions: Mutex<HashMap<String, String>>,
    /// Serializes installs, so a promotion and a reload never undo each other.
    install_lock: Mutex<()>,
    /// The parse of each valid entry of the document installed last, by its text: the next read
    /// parses only the entries whose text changed.
    raw_index: Mutex<Arc<RawIndex>>,
}

impl std::fmt::Debug for ConfigManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigManager").field("source", &self.source.describe()).finish_non_exhaustive()
    }
}

fn unix_ms() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl ConfigManager {
    /// A manager over `source`; nothing is read until [`ConfigManager::load_initial`].
    pub fn new(source: ConfigSource, egress: EgressPolicy, snapshot: Option<Snapshot>, events: Events, settings: ConfigSettings) -> Self {
        ConfigManager {
            source,
            egress,
            snapshot,
            events,
            settings,
            table: ArcSwap::from_pointee(TenantTable::default()),
            loaded: AtomicBool::new(false),
            version: Mutex::new(None),
            health: Mutex::new(ConfigHealth::default()),
            reads: AtomicU64::new(0),
            inflight: Mutex::new(None),
            listeners: Mutex::new(Vec::new()),
            promotions: Mutex::new(HashMap::new()),
            install_lock: Mutex::new(()),
            raw_index: Mutex::new(Arc::new(RawIndex::default())),
        }
    }

    /// Registers a listener for installed changes.
    pub fn on_change(&self, listener: DiffListener) {
        lock(&self.listeners).push(listener);
    }

    /// True once a table (fetched or from the snapshot) is in place.
    pub fn is_loaded(&self) -> bool {
        self.loaded.load(Ordering::Acquire)
    }

    /// The current table.
    pub fn table(&self) -> Arc<TenantTable> {
        self.table.load_full()
    }

    /// A usable tenant, or why not.
    pub fn tenant(&self, tenant_id: &str) -> Result<Arc<Tenant>> {
        if !self.is_loaded() {
            return Err(Error::NotInitialized);
        }
        self.table.load().get(tenant_id)
    }

    /// Health of the source.
    pub fn health(&self) -> ConfigHealth {
        let mut h = lock(&self.health).clone();
        h.reads = self.reads.load(Ordering::Relaxed);
        h
    }

    /// The first load: the source, else the snapshot, else `CONFIG_UNAVAILABLE`.
    pub async fn load_initial(self: &Arc<Self>) -> Result<ConfigDiff> {
        match self.reload("initialize").await {
            Ok(diff) => Ok(diff),
            Err(err) => {
                let reason = match &err {
                    Error::ConfigUnavailable { reason } => reason.clone(),
                    other => other.to_string(),
                };
                let Some(snap) = &self.snapshot else { return Err(err) };
                let doc = snap
                    .load()
                    .await
                    .map_err(|e| Error::ConfigUnavailable { reason: format!("{reason}; and the snapshot could not be used: {e}") })?;
                let (table, index) = TenantTable::parse_reusing(&doc, &self.egress, None)
                    .map_err(|e| Error::ConfigUnavailable { reason: format!("{reason}; and the snapshot is invalid: {e}") })?;
                *lock(&self.raw_index) = Arc::new(index);
                lock(&self.health).from_snapshot = true;
                self.events.emit(
                    EventKind::ConfigSnapshotUsed,
                    None,
                    json!({"path": snap.path().display().to_string(), "reason": reason, "tenants": table.valid_count()}),
                );
                Ok(self.install(table, None))
            }
        }
    }

    /// Re-reads the source now. Concurrent callers share one read. On failure the current table
    /// stays and the error is `CONFIG_UNAVAILABLE`.
    pub fn reload(self: &Arc<Self>, reason: &'static str) -> SharedReload {
        let mut guard = lock(&self.inflight);
        if let Some(f) = guard.as_ref() {
            return f.clone();
        }
        let this = Arc::clone(self);
        let task = tokio::spawn(async move {
            let r = this.read_and_install(reason).await;
            *lock(&this.inflight) = None;
            r
        });
        let fut = async move {
            task.await.unwrap_or_else(|e| Err(Error::ConfigUnavailable { reason: format!("config reload task failed: {e}") }))
        }
        .boxed()
        .shared();
        *guard = Some(fut.clone());
        fut
    }

    async fn read_and_install(&self, reason: &'static str) -> Result<ConfigDiff> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        let version = lock(&self.version).clone();
        let outcome = match self.source.fetch(version.as_deref()).await {
            Ok(Fetched::NotModified) => {
                self.record_success(true);
                return Ok(ConfigDiff::default());
            }
            Ok(Fetched::Body { bytes, version }) => {
                let previous = Arc::clone(&lock(&self.raw_index));
                let current = self.table.load_full();
                TenantTable::reparse(&bytes, &self.egress, &previous, &current).and_then(|(t, index, touched)| {
                    // An empty list after a good one is far likelier a broken service than every
                    // customer leaving at once: it would drop every tenant's token.
                    let known = current.valid_count();
                    if t.entries.is_empty() && t.unkeyed.is_empty() && self.is_loaded() && known > 0 {
                        return Err(format!("the config is an empty list; keeping the last good config ({known} tenants)"));
                    }
                    Ok((t, index, touched, bytes, version))
                })
            }
            Err(e) => Err(e),
        };
        match outcome {
            Ok((table, index, touched, bytes, version)) => {
                *lock(&self.version) = version;
                *lock(&self.raw_index) = Arc::new(index);
                self.record_success(false);
                if let Some(snap) = &self.snapshot {
                    if let Err(e) = snap.save(&bytes).await {
                        self.events.emit(EventKind::ConfigSnapshotFailed, None, json!({"reason": e}));
                    }
                }
                let diff = self.install(table, touched);
                tracing::debug!(trigger = reason, ?diff, "config read");
                Ok(diff)
            }
            Err(why) => {
                let failures = {
                    let mut h = lock(&self.health);
                    h.consecutive_failures += 1;
                    h.last_error = Some(why.clone());
                    h.breaker_open = h.consecutive_failures >= BREAKER_THRESHOLD;
                    h.consecutive_failures
                };
                if self.is_loaded() {
                    self.events.emit(
                        EventKind::ConfigStale,
                        None,
                        json!({"reason": why, "source": self.source.describe(), "consecutiveFailures": failures, "trigger": reason}),
                    );
                }
                Err(Error::ConfigUnavailable { reason: format!("{}: {why}", self.source.describe()) })
            }
        }
    }

    fn record_success(&self, not_modified: bool) {
        let mut h = lock(&self.health);
        h.consecutive_failures = 0;
        h.last_error = None;
        h.breaker_open = false;
        h.from_snapshot = false;
        h.last_success_at = Some(unix_ms());
        if not_modified {
            h.not_modified += 1;
        }
    }

    /// Puts the tenant's pending credential in use from now on (it was tested), until the config
    /// stops staging it. False when the config moved on: that credential is no longer pending.
    ///
    /// ```no_run
    /// # fn f(config: &genesys_tenants_core::config::ConfigManager) {
    /// let tenant = config.tenant("acme-corp").unwrap();
    /// if let Some(fp) = tenant.pending_fingerprint() {
    ///     // … after testing the pending credential:
    ///     assert!(config.promote("acme-corp", fp));
    /// }
    /// # }
    /// ```
    pub fn promote(&self, tenant_id: &str, pending_fingerprint: &str) -> bool {
        let _serial = lock(&self.install_lock);
        let table = self.table.load_full();
        let Some(TenantEntry::Valid(t)) = table.entries.get(tenant_id) else { return false };
        if t.pending_fingerprint() != Some(pending_fingerprint) {
            return false;
        }
        let Some(promoted) = t.with_pending_in_use() else { return false };
        lock(&self.promotions).insert(tenant_id.to_string(), pending_fingerprint.to_string());
        let mut next = (*table).clone();
        next.entries.insert(tenant_id.to_string(), TenantEntry::Valid(Arc::new(promoted)));
        self.swap_in(next, false, Some(vec![tenant_id.to_string()]));
        true
    }

    /// `touched`: the only ids that can differ from the current table (an edited copy of it), or
    /// `None` (compare every entry).
    fn install(&self, mut table: TenantTable, touched: Option<Vec<String>>) -> ConfigDiff {
        let _serial = lock(&self.install_lock);
        table.apply_promotions(&mut lock(&self.promotions));
        self.swap_in(table, true, touched)
    }

    /// Installs `table` and tells the listeners; `announce`: also report entries and emit
    /// `config.loaded`/`config.updated` (not for a promotion: the config itself did not change).
    fn swap_in(&self, table: TenantTable, announce: bool, touched: Option<Vec<String>>) -> ConfigDiff {
        let new = Arc::new(table);
        let old = self.table.swap(Arc::clone(&new));
        let first = !self.loaded.swap(true, Ordering::AcqRel);
        let diff = match touched {
            Some(ids) if !first => new.diff_among(&old, &ids),
            _ => new.diff(&old),
        };
        if announce {
            self.report_entries(&new, &old, &diff, first);
        }
        if announce && (!diff.is_empty() || first) {
            self.events.emit(
                if first { EventKind::ConfigLoaded } else { EventKind::ConfigUpdated },
                None,
                json!({"added": diff.added, "removed": diff.removed, "changed": diff.changed, "tenants": new.valid_count()}),
            );
        }
        let listeners: Vec<DiffListener> = lock(&self.listeners).clone();
        for l in listeners {
            l(&diff, &new, &old);
        }
        diff
    }

    fn report_entries(&self, new: &TenantTable, old: &TenantTable, diff: &ConfigDiff, first: bool) {
        // After the first load only the entries added or changed are reported (not 100,000 scanned).
        let entries: Box<dyn Iterator<Item = (&String, &TenantEntry)>> = if first {
            Box::new(new.entries.iter())
        } else {
            Box::new(diff.added.iter().chain(&diff.changed).filter_map(|id| new.entries.get_key_value(id)))
        };
        for (id, entry) in entries {
            match entry {
                TenantEntry::Invalid(e) => {
                    let mut data = e.fields();
                    data.insert("code".into(), json!(e.code()));
                    data.insert("message".into(), json!(e.to_string()));
                    self.events.emit(EventKind::ConfigInvalid, Some(id), serde_json::Value::Object(data));
                }
                TenantEntry::Valid(t) => {
                    if t.region_source == RegionSource::Default {
                        self.events.emit(
                            EventKind::ConfigRegionDefaulted,
                            Some(id),
                            json!({"environment": t.environment, "reason": "neither region nor domainPrefix names a Genesys region; using the official SDK's default"}),
                        );
                    }
                    if !t.unknown_scopes.is_empty() {
                        self.events.emit(EventKind::ConfigUnknownScopes, Some(id), unknown_scopes_report(&t.unknown_scopes));
                    }
                }
            }
        }
        if new.unkeyed.len() != old.unkeyed.len() || (first && !new.unkeyed.is_empty()) {
            for reason in &new.unkeyed {
                self.events.emit(EventKind::ConfigInvalid, None, json!({"code": "TENANT_INVALID", "reason": reason}));
            }
        }
    }

    /// How long the poller should wait before its next read.
    pub fn next_poll_delay(&self) -> Duration {
        let base = match self.source {
            ConfigSource::File { .. } => self.settings.poll_interval.min(FILE_CHECK_INTERVAL),
            ConfigSource::Service { .. } => self.settings.poll_interval,
        };
        let failures = lock(&self.health).consecutive_failures;
        if failures == 0 || failures >= BREAKER_THRESHOLD {
            return base;
        }
        let backoff = FIRST_RETRY_DELAY.saturating_mul(1 << (failures - 1).min(16));
        let capped = backoff.min(base);
        // Full jitter on the retry delay, never below 100 ms.
        capped.mul_f64(0.5 + rand::random::<f64>() * 0.5).max(Duration::from_millis(100))
    }
}

/// `{ unknown, suggestions: { name: [real names] }, message }` for declared names that are not
/// Genesys scopes.
fn unknown_scopes_report(unknown: &[String]) -> serde_json::Value {
    let c = crate::operations::catalogue();
    let suggestions: serde_json::Map<String, serde_json::Value> =
        unknown.iter().map(|n| (n.clone(), json!(crate::operations::closest_scopes(c, n)))).collect();
    let hints: Vec<String> = suggestions
        .iter()
        .map(|(n, s)| match s.as_array().map(Vec::as_slice) {
            Some([]) | None => n.clone(),
            Some(real) => format!("{n} → {}", real.iter().filter_map(|v| v.as_str()).collect::<Vec<_>>().join(" or ")),
        })
        .collect();
    json!({
        "unknown": unknown,
        "suggestions": suggestions,
        "message": format!(
            "requiredScopes names that are not Genesys OAuth scopes: {}; pre-flight refuses nothing for this tenant until they are fixed (the API decides)",
            hints.join(", ")
        ),
    })
}

//! Per-tenant token slots. Readers take the current token without locking (`ArcSwapOption`);
//! a refresh runs in its own task (a caller that gives up cannot cancel it) and every caller
//! that needs a token meanwhile joins that one request: one token request per tenant per refresh.

use super::access_token::AccessToken;
use crate::config::{ConfigManager, Tenant};
use crate::egress::EgressPolicy;
use crate::error::{Error, Result};
use crate::events::{EventKind, Events};
use crate::store::SharedStore;
use crate::sync::lock;
use crate::sync::{read, write};
use arc_swap::ArcSwapOption;
use futures::future::{BoxFuture, FutureExt, Shared};
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::time::Instant;

pub(super) type SharedFetch = Shared<BoxFuture<'static, Result<Arc<AccessToken>>>>;

/// Settings for token requests.
#[derive(Debug, Clone)]
pub struct TokenSettings {
    /// See [`crate::token::timing`].
    pub refresh_ahead_ratio: f64,
    /// Timeout of one token request.
    pub request_timeout: Duration,
    /// Retries of a throttled or failed token request.
    pub max_retries: u32,
    /// Cap of the total waiting between retries of one token request.
    pub max_retry_delay: Duration,
    /// Tokens per tenant unless its entry says (`tokensPerTenant`).
    pub tokens_per_tenant: u32,
}

impl TokenSettings {
    /// The token settings the options ask for.
    pub fn from_options(o: &crate::options::Options) -> Self {
        TokenSettings {
            refresh_ahead_ratio: o.refresh_ahead_ratio,
            request_timeout: o.request_timeout,
            max_retries: o.max_retries,
            max_retry_delay: o.max_retry_delay,
            tokens_per_tenant: o.tokens_per_tenant,
        }
    }
}

/// Counters of one tenant's token activity.
#[derive(Debug, Default)]
pub struct TokenCounters {
    /// HTTP requests sent to the token endpoint.
    pub requests: AtomicU64,
    /// Of those, the ones that failed.
    pub failures: AtomicU64,
    /// Tokens obtained.
    pub acquired: AtomicU64,
    /// Tokens dropped after a 401.
    pub invalidated: AtomicU64,
    /// Rotations (scheduled, forced or from a config change).
    pub rotations: AtomicU64,
}

pub(super) struct Inflight {
    fingerprint: String,
    /// A shared token obtained before this (unix ms) is not good enough (forced renewals).
    fresh_after: u64,
    seq: u64,
    fut: SharedFetch,
}

/// One token of a tenant: slot 0, or one more of its pool (`tokensPerTenant`, `pool.rs`).
pub struct Slot {
    /// Its place in the tenant's pool (0: the token `getAccessToken()` hands out).
    pub(super) index: usize,
    pub(super) current: ArcSwapOption<AccessToken>,
    /// The token `current` replaced (or the one the API refused): a server may still echo it.
    pub(super) previous: ArcSwapOption<AccessToken>,
    /// Digest of the last token the API refused, so it is never taken back from the shared store.
    pub(super) refused: Mutex<Option<[u8; 32]>>,
    pub(super) inflight: Mutex<Option<Inflight>>,
    /// A token of a tested pending credential, waiting for its promotion: the first fetch with that
    /// credential takes it instead of sending a token request.
    pub(super) staged: ArcSwapOption<AccessToken>,
    /// After a promotion, the replaced credential's token: served while it lives if the promoted
    /// credential stops working.
    pub(super) fallback: ArcSwapOption<AccessToken>,
    /// The last token a pending credential's test obtained (never used for calls): its probe's
    /// answer may echo it, so it is redacted like the others.
    pub(super) probe: ArcSwapOption<AccessToken>,
    /// When a fetch last failed: a background refresh toward new credentials waits
    /// [`CHANGE_RETRY_PAUSE`] after it, so a broken new credential is not hammered on every call.
    pub(super) failed_at: Mutex<Option<Instant>>,
    /// The organizations its credentials were found to belong to (a pinned tenant's gate): one
    /// record for all the tenant's slots (a credential's organization is the same for each token).
    pub(super) organizations: Arc<super::organizations::Organizations>,
    /// Counters, the tenant's (shared by its slots).
    pub counters: Arc<TokenCounters>,
}

/// How long after a failed fetch a call served with a superseded credential's token waits before it
/// starts another background fetch toward the new credentials.
pub const CHANGE_RETRY_PAUSE: Duration = Duration::from_secs(2);

/// Caches and refreshes tokens for every tenant.
pub struct TokenManager {
    pub(super) http: crate::network::Http,
    pub(super) egress: EgressPolicy,
    pub(super) config: Arc<ConfigManager>,
    pub(super) events: Events,
    pub(super) settings: TokenSettings,
    /// Each tenant's slots, slot 0 first (more when its pool has more tokens, `pool.rs`).
    slots: RwLock<HashMap<String, Vec<Arc<Slot>>>>,
    pub(super) next_id: AtomicU64,
    pub(super) store: Option<Arc<SharedStore>>,
    /// Cancelled on close: a refresh in flight stops (no token request is sent after close).
    pub(super) cancel: tokio_util::sync::CancellationToken,
    /// How organization lookups are paced (the pipeline installs its limiters).
    pub(super) pacing: std::sync::OnceLock<Arc<dyn super::organizations::LookupPacing>>,
}

impl std::fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenManager").field("settings", &self.settings).finish_non_exhaustive()
    }
}

pub(super) fn digest(value: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(value.as_bytes()).into()
}

impl TokenManager {
    /// A manager reading tenants from `config`.
    pub fn new(
        http: crate::network::Http,
        egress: EgressPolicy,
        config: Arc<ConfigManager>,
        events: Events,
        settings: TokenSettings,
        store: Option<Arc<SharedStore>>,
        cancel: tokio_util::sync::CancellationToken,
    ) -> Self {
        TokenManager {
            http,
            egress,
            config,
            events,
            settings,
            slots: RwLock::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            store,
            cancel,
            pacing: std::sync::OnceLock::new(),
        }
    }

    /// Drops the tenant's local tokens (another replica rotated them): the next caller reads the
    /// shared ones, or fetches.
    pub fn forget_local(&self, tenant_id: &str) {
        for slot in self.slots_of(tenant_id) {
            slot.current.store(None);
        }
    }

    /// The tenant's slot 0.
    pub(super) fn slot(&self, tenant_id: &str) -> Arc<Slot> {
        self.slot_at(tenant_id, 0)
    }

    /// The tenant's slot `k`, made (with those before it) on first use.
    pub(super) fn slot_at(&self, tenant_id: &str, k: usize) -> Arc<Slot> {
        if let Some(s) = read(&self.slots).get(tenant_id).and_then(|v| v.get(k)) {
            return Arc::clone(s);
        }
        let mut w = write(&self.slots);
        let slots = w.entry(tenant_id.to_string()).or_default();
        while slots.len() <= k {
            let (organizations, counters) = match slots.first() {
                Some(first) => (Arc::clone(&first.organizations), Arc::clone(&first.counters)),
                None => Default::default(),
            };
            slots.push(Arc::new(Slot {
                index: slots.len(),
                current: ArcSwapOption::empty(),
                previous: ArcSwapOption::empty(),
                refused: Mutex::new(None),
                inflight: Mutex::new(None),
                staged: ArcSwapOption::empty(),
                fallback: ArcSwapOption::empty(),
                probe: ArcSwapOption::empty(),
                failed_at: Mutex::new(None),
                organizations,
                counters,
            }));
        }
        Arc::clone(&slots[k])
    }

    /// Every slot the tenant has so far (none before its first token).
    pub(super) fn slots_of(&self, tenant_id: &str) -> Vec<Arc<Slot>> {
        read(&self.slots).get(tenant_id).cloned().unwrap_or_default()
    }

    /// The slot 0 of a tenant, if it has one (for stats).
    pub fn existing_slot(&self, tenant_id: &str) -> Option<Arc<Slot>> {
        read(&self.slots).get(tenant_id).and_then(|v| v.first()).cloned()
    }

    /// Forgets a tenant (removed from the config): its token is dropped at once.
    pub fn remove(&self, tenant_id: &str) {
        write(&self.slots).remove(tenant_id);
    }

    /// Drops every slot (on close).
    pub fn clear(&self) {
        write(&self.slots).clear();
    }

    /// A usable token for the tenant: the cached one (starting a background refresh when it is
    /// inside its refresh window or was minted with superseded credentials), else a new one — either
    /// way through the organization gate of a pinned tenant (`pinning.rs`). Slot 0's token: the one
    /// `getAccessToken()` hands out.
    pub async fn get(self: &Arc<Self>, tenant_id: &str) -> Result<Arc<AccessToken>> {
        self.get_at(tenant_id, 0).await
    }

    /// [`TokenManager::get`] for slot `k` of the tenant's pool (`tokensPerTenant`): each slot is its
    /// own token, refreshed ahead and single-flight on its own.
    pub async fn get_at(self: &Arc<Self>, tenant_id: &str, k: usize) -> Result<Arc<AccessToken>> {
        let tenant = self.config.tenant(tenant_id)?;
        let slot = self.slot_at(tenant_id, k);
        // A traced call (crate::trace) notes this wait: cache hit or miss, a flight joined or started.
        let mark = crate::trace::token_start();
        let now = Instant::now();
        let cached = slot.current.load_full().filter(|tok| tok.is_usable(now) && tok.environment == tenant.environment);
        let hit = cached.is_some();
        // `fetch` (freshness 0) joins any flight for these credentials: the same test.
        let joined =
            !hit && mark.is_some() && lock(&slot.inflight).as_ref().is_some_and(|i| i.fingerprint == tenant.credentials_fingerprint);
        let tok = match cached {
            Some(tok) => {
                if !is_current(&tok, &tenant, now) && may_refresh(&slot, &tok, &tenant, now) {
                    drop(self.fetch(&slot, Arc::clone(&tenant), 0));
                }
                Ok(tok)
            }
            None => self.fetch(&slot, Arc::clone(&tenant), 0).await,
        };
        let result = match tok {
            Ok(tok) => self.pinned(&slot, &tenant, tok).await,
            Err(e) => Err(e),
        };
        crate::trace::token_end(mark, hit, joined, result.as_ref().err().map(Error::code));
        result
    }

    /// The tenant's token when it can be served without any work — present, for the tenant's
    /// current credentials and region, and not yet due for refresh — else `None` (then
    /// [`TokenManager::get`] does what is needed). Never blocks, never starts a request: a caller on
    /// Node's thread can skip the hop to the runtime.
    pub fn cached(&self, tenant_id: &str) -> Option<Arc<AccessToken>> {
        let tenant = self.config.tenant(tenant_id).ok()?;
        let slot = self.existing_slot(tenant_id)?;
        let tok = slot.current.load_full()?;
        let now = Instant::now();
        let ready = tok.is_usable(now) && tok.environment == tenant.environment && is_current(&tok, &tenant, now);
        (ready && Self::pinned_ok(&slot, &tenant, &tok)).then_some(tok)
    }

    /// Hands over the token a tested pending credential obtained: the first fetch with that
    /// credential (once it is promoted) uses it instead of sending a token request.
    pub fn stage(&self, tenant_id: &str, token: Arc<AccessToken>) {
        self.slot(tenant_id).staged.store(Some(token));
    }

    /// Remembers the token a pending credential's test holds, so every text of the tenant's is
    /// redacted of it (the test's probe sends it; the answer may echo it).
    pub fn hold_probe(&self, tenant_id: &str, token: Arc<AccessToken>) {
        self.slot(tenant_id).probe.store(Some(token));
    }

    /// Every token value of the tenant's a server could echo (current, previous, staged, fallback,
    /// probe, of every slot), for redaction.
    pub fn known_tokens(&self, tenant_id: &str, mut f: impl FnMut(&str)) {
        for slot in self.slots_of(tenant_id) {
            let all = [
                slot.current.load_full(),
                slot.previous.load_full(),
                slot.staged.load_full(),
                slot.fallback.load_full(),
                slot.probe.load_full(),
            ];
            for t in all.into_iter().flatten() {
                f(t.value.expose());
            }
        }
    }

    /// Drops `token_id` if it is still the current token of one of the tenant's slots (after a 401
    /// with it). Returns true when it was.
    pub fn invalidate(&self, tenant_id: &str, token_id: u64) -> bool {
        let slots = self.slots_of(tenant_id);
        let Some(slot) = slots.iter().find(|s| s.current.load().as_ref().is_some_and(|t| t.id == token_id)) else { return false };
        let Some(t) = slot.current.load_full().filter(|t| t.id == token_id) else { return false };
        let dropped = self.drop_refused(tenant_id, slot, &t, "the API answered 401 to it");
        if dropped {
            self.drop_pool_older_than(tenant_id, &slots, slot.index, &t);
        }
        dropped
    }

    /// Drops `t`, the slot's current token, as refused: never taken back (here or, in shared mode,
    /// from the store, which loses it too), kept as `previous` for redaction. True when it was dropped.
    pub(super) fn drop_refused(&self, tenant_id: &str, slot: &Slot, t: &Arc<AccessToken>, reason: &str) -> bool {
        *lock(&slot.refused) = Some(digest(t.value.expose()));
        if let (Some(store), Ok(tenant)) = (self.store.clone(), self.config.tenant(tenant_id)) {
            // Other replicas must not keep reading the refused token from the store.
            let (id, kfp, value) = (slot.store_id(tenant_id), store.fingerprint(&tenant), t.value.expose().to_string());
            tokio::spawn(async move { store.drop_token_if(&id, &kfp, &value).await });
        }
        slot.previous.store(Some(Arc::clone(t)));
        let prev = slot.current.compare_and_swap(&Some(Arc::clone(t)), None);
        let dropped = prev.as_ref().is_some_and(|p| p.id == t.id);
        if dropped {
            slot.counters.invalidated.fetch_add(1, Ordering::Relaxed);
            self.events.emit(EventKind::TokenInvalidated, Some(tenant_id), json!({"reason": reason}));
        }
        dropped
    }

    /// Obtains a new token now with the tenant's current credentials, keeping the old token in
    /// use until the new one is stored — for slot 0 and every other slot of its pool that holds a
    /// token. Slot 0's token, or the first error.
    pub async fn renew(self: &Arc<Self>, tenant_id: &str) -> Result<Arc<AccessToken>> {
        let tenant = self.config.tenant(tenant_id)?;
        let slot = self.slot(tenant_id);
        slot.counters.rotations.fetch_add(1, Ordering::Relaxed);
        // Join a request already under way with the same credentials; it is as fresh as ours.
        let fresh_after = crate::store::unix_ms_now();
        let others: Vec<_> = self.other_held_slots(&tenant).iter().map(|s| self.fetch(s, Arc::clone(&tenant), fresh_after)).collect();
        let first = self.fetch(&slot, tenant, fresh_after).await;
        first_error(first, futures::future::join_all(others).await)
    }

    /// A token of the tenant's credentials as they are now, for a rotation that found them just
    /// changed: the one [`TokenManager::credentials_changed`] fetched (or is fetching — joined),
    /// never a second request for the same new credentials, never the superseded credential's token.
    /// Every slot of the pool holding a token is brought to the new credentials the same way.
    pub async fn renew_changed(self: &Arc<Self>, tenant_id: &str) -> Result<Arc<AccessToken>> {
        let tenant = self.config.tenant(tenant_id)?;
        let changed = |slot: &Arc<Slot>| {
            let tok = slot.current.load_full().filter(|t| t.credentials_fingerprint == tenant.credentials_fingerprint);
            match tok.filter(|t| t.is_usable(Instant::now())) {
                Some(tok) => futures::future::ready(Ok(tok)).boxed().shared(),
                None => self.fetch(slot, Arc::clone(&tenant), 0),
            }
        };
        let others: Vec<_> = self.other_held_slots(&tenant).iter().map(changed).collect();
        let first = changed(&self.slot(tenant_id)).await;
        first_error(first, futures::future::join_all(others).await)
    }

    /// Starts a refresh in the background when the tenant's credentials changed (config update),
    /// for each slot of its pool that holds a token.
    pub fn credentials_changed(self: &Arc<Self>, tenant_id: &str) {
        let Ok(tenant) = self.config.tenant(tenant_id) else { return };
        let slot = self.slot(tenant_id);
        if slot.current.load().is_none() {
            return; // never used: nothing to prepare, the next caller fetches.
        }
        slot.counters.rotations.fetch_add(1, Ordering::Relaxed);
        for other in self.other_held_slots(&tenant) {
            drop(self.fetch(&other, Arc::clone(&tenant), 0));
        }
        drop(self.fetch(&slot, tenant, 0));
    }

    pub(super) fn fetch(self: &Arc<Self>, slot: &Arc<Slot>, tenant: Arc<Tenant>, fresh_after: u64) -> SharedFetch {
        let mut guard = lock(&slot.inflight);
        if let Some(inf) = guard.as_ref() {
            if inf.fingerprint == tenant.credentials_fingerprint && inf.fresh_after >= fresh_after {
                return inf.fut.clone();
            }
        }
        if let Some(tok) = slot.staged.load_full().filter(|t| t.credentials_fingerprint == tenant.credentials_fingerprint) {
            slot.staged.store(None);
            if tok.is_usable(Instant::now()) {
                self.store(&tenant.tenant_id, slot, &tok);
                return futures::future::ready(Ok(tok)).boxed().shared();
            }
        }
        let seq = self.next_id.fetch_add(1, Ordering::Relaxed);
        let fingerprint = tenant.credentials_fingerprint.clone();
        let this = Arc::clone(self);
        let slot2 = Arc::clone(slot);
        let task = tokio::spawn(async move {
            let work = async {
                match this.store.clone() {
                    Some(store) => match this.acquire_shared(&store, &slot2, &tenant, fresh_after).await {
                        Some(r) => r,
                        None => this.acquire(&slot2, tenant).await,
                    },
                    None => this.acquire(&slot2, tenant).await,
                }
            };
            let result = tokio::select! {
                biased;
                _ = this.cancel.cancelled() => Err(Error::Closed),
                r = work => r,
            };
            if result.is_err() {
                *lock(&slot2.failed_at) = Some(Instant::now());
            }
            let mut g = lock(&slot2.inflight);
            if g.as_ref().is_some_and(|i| i.seq == seq) {
                *g = None;
            }
            result
        });
        let fut = async move {
            task.await.unwrap_or_else(|e| Err(Error::Network { tenant_id: None, reason: format!("token task failed: {e}") }))
        }
        .boxed()
        .shared();
        *guard = Some(Inflight { fingerprint, fresh_after, seq, fut: fut.clone() });
        fut
    }

    /// Stores a new token unless a newer one for the current credentials is already there, and
    /// reports it.
    pub(super) fn store(&self, tenant_id: &str, slot: &Slot, token: &Arc<AccessToken>) {
        let tenant = self.config.tenant(tenant_id).ok();
        let wanted = tenant.as_ref().is_some_and(|t| t.credentials_fingerprint == token.credentials_fingerprint);
        let prev = slot.current.load_full();
        let replace = match prev.as_deref() {
            None => true,
            Some(cur) if !cur.is_usable(Instant::now()) => true,
            Some(cur) => wanted && (cur.credentials_fingerprint != token.credentials_fingerprint || cur.obtained_at <= token.obtained_at),
        };
        if replace {
            if let Some(old) = slot.current.swap(Some(Arc::clone(token))) {
                // The first token of a promoted credential: the replaced one's stays as fallback.
                if old.credentials_fingerprint != token.credentials_fingerprint
                    && tenant.as_ref().is_some_and(|t| t.promoted_from.is_some())
                {
                    slot.fallback.store(Some(Arc::clone(&old)));
                }
                slot.previous.store(Some(old));
            }
        }
        let lifetime = token.expires_at - token.obtained_at;
        let mut detail = json!({
            "expiresInMs": lifetime.as_millis() as u64,
            "refreshInMs": (token.refresh_at - token.obtained_at).as_millis() as u64,
            "credentialsChanged": prev.as_ref().is_some_and(|p| p.credentials_fingerprint != token.credentials_fingerprint),
        });
        if slot.index > 0 {
            // One more token of a pool (`tokensPerTenant`); slot 0's events read as before.
            detail["slot"] = json!(slot.index);
        }
        self.events.emit(if prev.is_some() { EventKind::TokenRefreshed } else { EventKind::TokenAcquired }, Some(tenant_id), detail);
    }
}

/// A call served with a superseded credential's token starts a fetch toward the new credentials
/// unless one failed within [`CHANGE_RETRY_PAUSE`] (a token due for refresh always may).
fn may_refresh(slot: &Slot, tok: &AccessToken, tenant: &Tenant, now: Instant) -> bool {
    if tok.credentials_fingerprint == tenant.credentials_fingerprint {
        return true;
    }
    lock(&slot.failed_at).is_none_or(|at| now.saturating_duration_since(at) >= CHANGE_RETRY_PAUSE)
}

/// A usable token needs no background work: it is for the tenant's current credentials and not
/// yet inside its refresh window.
fn is_current(tok: &AccessToken, tenant: &Tenant, now: Instant) -> bool {
    tok.credentials_fingerprint == tenant.credentials_fingerprint && !tok.needs_refresh(now)
}

/// Slot 0's outcome, unless another slot's renewal failed: then that error (the rotation failed for
/// part of the pool; those slots keep their old token until it is refused).
fn first_error(first: Result<Arc<AccessToken>>, others: Vec<Result<Arc<AccessToken>>>) -> Result<Arc<AccessToken>> {
    let tok = first?;
    match others.into_iter().find_map(|r| r.err()) {
        Some(e) => Err(e),
        None => Ok(tok),
    }
}

//! `Orchestrator`: the one object a service holds. It wires the config manager, the token
//! manager, the rotation scheduler and the poller together, and owns their tasks: `close()`
//! stops every one of them.

use crate::call_bounds::OpenCalls;
use crate::config::snapshot::Snapshot;
use crate::config::source::ConfigSource;
use crate::config::Tenant;
use crate::config::{ConfigDiff, ConfigManager, ConfigSettings, TenantEntry};
use crate::crypto::EncryptionKey;
use crate::egress::EgressPolicy;
use crate::error::{Error, Result};
use crate::events::{Event, EventKind, Events};
use crate::options::Options;
use crate::pipeline::paginate::{FetchAll, PageOptions, Paginator};
use crate::pipeline::rate_limit::Limiter;
use crate::pipeline::request::{ApiRequest, ApiResponse, RawResponse};
use crate::pipeline::{Parts, Pipeline, RequestCounters};
use crate::redact::Needles;
use crate::scheduler::Scheduler;
use crate::secret::Secret;
use crate::staged_credentials::Staging;
use crate::stats::{EntryError, RateLimitStats, Stats, TenantStats};
use crate::store::{SharedStore, StoreSettings};
use crate::token::{AccessToken, TokenManager, TokenSettings};
use crate::network::Http;
use crate::webhook::{Refusal, WebhookAnswer, WebhookReceiver, WebhookSettings};
use serde_json::json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

struct Running {
    scheduler: Scheduler,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

struct Inner {
    pipeline: Arc<Pipeline>,
    /// Event subscriptions (`subscribe_json`), aborted by `unsubscribe` and `close`.
    subscriptions: Mutex<(u32, std::collections::HashMap<u32, tokio::task::JoinHandle<()>>)>,
    closed: AtomicBool,
    running: Mutex<Option<Running>>,
    init_lock: tokio::sync::Mutex<()>,
    /// Calls a binding bounds by a deadline or an abort (`timeoutMs`, `signal`).
    calls: OpenCalls,
    /// Rotation-webhook state of this process: deliveries seen, rotations under way.
    webhook: WebhookReceiver,
    /// Tests and promotes pending credentials.
    staging: Arc<Staging>,
}

/// Calls the Genesys Cloud API for many tenants. Cheap to clone (shared state).
///
/// ```no_run
/// # async fn demo() -> Result<(), genesys_tenants_core::Error> {
/// use genesys_tenants_core::{Options, Orchestrator};
/// let mut options = Options::default();
/// options.config_endpoint = Some("https://config.internal.example".into());
/// let o = Orchestrator::new(options)?;
/// o.initialize().await?;
/// let token = o.access_token("acme-corp").await?;
/// # let _ = token;
/// o.close().await;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Orchestrator {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Orchestrator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Orchestrator").field("config", &self.inner.pipeline.config).finish_non_exhaustive()
    }
}

impl Orchestrator {
    /// Validates the options and builds the orchestrator; nothing is read or started yet.
    pub fn new(options: Options) -> Result<Self> {
        options.validate()?;
        let http = Http::new(&options)?;
        let events = Events::default();
        let cancel = CancellationToken::new();
        let egress = EgressPolicy { gateway: options.gateway.clone(), allowed_hosts: options.allowed_hosts.clone() };
        let source = ConfigSource::from_options(&options, http.clone())?;
        let snapshot = match (&options.snapshot_path, &options.encryption_key) {
            (Some(path), Some(key)) => Some(Snapshot::new(
                path.clone(),
                EncryptionKey::parse(key.expose()).map_err(|reason| Error::InvalidOptions { option: "encryptionKey".into(), reason })?,
            )),
            _ => None,
        };
        let config = Arc::new(ConfigManager::new(
            source,
            egress.clone(),
            snapshot,
            events.clone(),
            ConfigSettings { poll_interval: options.config_poll_interval },
        ));
        let store = match (&options.redis_url, &options.encryption_key) {
            (Some(url), Some(key)) => {
                let key = EncryptionKey::parse(key.expose())
                    .map_err(|reason| Error::InvalidOptions { option: "encryptionKey".into(), reason })?;
                let settings = StoreSettings {
                    url: url.clone(),
                    prefix: options.redis_key_prefix.clone(),
                    op_timeout: crate::store::DEFAULT_OP_TIMEOUT,
                    retry_pause: crate::store::DEFAULT_RETRY_PAUSE,
                    lease: options.redis_lease,
                    tls: options.redis_tls.clone(),
                };
                Some(Arc::new(SharedStore::new(settings, key, events.clone())?))
            }
            _ => None,
        };
        let tokens = Arc::new(TokenManager::new(
            http.clone(),
            egress.clone(),
            Arc::clone(&config),
            events.clone(),
            TokenSettings {
                refresh_ahead_ratio: options.refresh_ahead_ratio,
                request_timeout: options.request_timeout,
                max_retries: options.max_retries,
                max_retry_delay: options.max_retry_delay,
            },
            store.clone(),
            cancel.child_token(),
        ));
        let pipeline = Pipeline::new(Parts { options, http, egress, config, tokens, store, events, cancel });
        Ok(Orchestrator {
            inner: Arc::new(Inner {
                staging: Staging::new(Arc::clone(&pipeline)),
                pipeline,
                subscriptions: Mutex::default(),
                closed: AtomicBool::new(false),
                running: Mutex::new(None),
                init_lock: tokio::sync::Mutex::new(()),
                calls: OpenCalls::default(),
                webhook: WebhookReceiver::default(),
            }),
        })
    }

    /// Handles one rotation-webhook delivery (see [`WebhookReceiver::handle`]): 503 once closed;
    /// each tenant it names is rotated as by [`Orchestrator::rotate_credentials`].
    pub async fn rotation_webhook(&self, settings: &WebhookSettings, signature: Option<&str>, body: &[u8]) -> WebhookAnswer {
        if self.check_open().is_err() {
            return WebhookAnswer::refused(Refusal::Closed);
        }
        let this = self.clone();
        let rotate = std::sync::Arc::new(move |id: String| {
            let this = this.clone();
            Box::pin(async move {
                let _ = this.rotate_credentials(&id).await;
            }) as futures::future::BoxFuture<'static, ()>
        });
        self.inner.webhook.handle(settings, signature, body, self.tenant_ids(), self.store().map(|s| &**s), rotate).await
    }

    /// The calls bounded by a deadline or an abort: open one, run work under it, abort it.
    ///
    /// ```no_run
    /// # async fn f(o: &genesys_tenants_core::Orchestrator) -> genesys_tenants_core::Result<()> {
    /// use std::time::Duration;
    /// let id = o.calls().open(Some(Duration::from_secs(5)))?;
    /// // Another task may call `o.calls().abort(id)`.
    /// let req = genesys_tenants_core::ApiRequest { method: "GET".into(), path: "/api/v2/users".into(), ..Default::default() };
    /// let users = o.calls().run(Some(id), Some("acme"), o.request("acme", req)).await?;
    /// # let _ = users; Ok(()) }
    /// ```
    pub fn calls(&self) -> &OpenCalls {
        &self.inner.calls
    }

    /// The request pipeline (what `request`, `fetch_all` and `paginate` run on).
    pub fn pipeline(&self) -> &Arc<Pipeline> {
        &self.inner.pipeline
    }

    fn check_open(&self) -> Result<()> {
        if self.inner.closed.load(Ordering::Acquire) {
            Err(Error::Closed)
        } else {
            Ok(())
        }
    }

    /// The secrets a server could echo in this tenant's answers (see [`Pipeline::needles`]).
    pub fn needles(&self, tenant_id: &str) -> Needles {
        self.inner.pipeline.needles(tenant_id)
    }

    /// Reads and validates the config (or the snapshot), then starts the poller and the rotation
    /// scheduler. Safe to call again: after a failure it retries; after success it does nothing.
    pub async fn initialize(&self) -> Result<Vec<String>> {
        self.check_open()?;
        let _guard = self.inner.init_lock.lock().await;
        if lock(&self.inner.running).is_some() {
            return Ok(self.tenant_ids());
        }
        self.inner.pipeline.until_closed(self.inner.pipeline.config.load_initial()).await?;
        self.check_open()?;
        self.start_tasks();
        Ok(self.tenant_ids())
    }

    fn start_tasks(&self) {
        let weak = Arc::downgrade(&self.inner);
        let rotate: crate::scheduler::RotateFn = Arc::new(move |tenant_id: String| {
            if let Some(inner) = weak.upgrade() {
                let o = Orchestrator { inner };
                tokio::spawn(async move {
                    let _ = o.inner.pipeline.until_closed(o.rotate("scheduled", &tenant_id)).await;
                });
            }
        });
        let (scheduler, sched_task) = Scheduler::spawn(rotate, self.inner.pipeline.cancel.child_token());
        for (id, entry) in &self.inner.pipeline.config.table().entries {
            if let TenantEntry::Valid(t) = entry {
                if t.rotation_interval.is_some() {
                    scheduler.set(id, t.rotation_interval);
                }
                self.inner.staging.consider(t);
            }
        }
        // Apply config changes: schedules, dropped tenants, new credentials fetched ahead.
        let weak = Arc::downgrade(&self.inner);
        let sched2 = scheduler.clone();
        self.inner.pipeline.config.on_change(Arc::new(move |diff: &ConfigDiff, new, old| {
            let Some(inner) = weak.upgrade() else { return };
            for id in &diff.removed {
                inner.pipeline.tokens.remove(id);
                inner.pipeline.forget(id);
                inner.staging.forget(id);
                sched2.set(id, None);
            }
            for id in diff.added.iter().chain(diff.changed.iter()) {
                let now = new.entries.get(id);
                let every = match now {
                    Some(TenantEntry::Valid(t)) => t.rotation_interval,
                    _ => None,
                };
                sched2.set(id, every);
                let promoted = match (now, old.entries.get(id)) {
                    (Some(TenantEntry::Valid(n)), Some(TenantEntry::Valid(o))) => {
                        o.pending_fingerprint() == Some(n.credentials_fingerprint.as_str())
                    }
                    _ => false,
                };
                match now {
                    Some(TenantEntry::Valid(n)) if n.pending.is_some() => inner.staging.consider(n),
                    // A promotion ends its own test; anything else no longer pending stops being tested.
                    _ if !promoted => inner.staging.forget(id),
                    _ => {}
                }
                if promoted {
                    // The staging task reports it (`credentials.promoted`); the first fetch takes its token.
                    inner.pipeline.tokens.credentials_changed(id);
                } else if let (Some(TenantEntry::Valid(n)), Some(TenantEntry::Valid(o))) = (now, old.entries.get(id)) {
                    if n.credentials_changed(o) {
                        inner.pipeline.events.emit(
                            EventKind::CredentialsRotated,
                            Some(id),
                            json!({"reason": "config-change", "clientId": n.client_id}),
                        );
                        inner.pipeline.tokens.credentials_changed(id);
                        if let Some(store) = inner.pipeline.store.clone() {
                            let id = id.clone();
                            tokio::spawn(async move { store.publish_rotation(&id).await });
                        }
                    }
                } else if !matches!(now, Some(TenantEntry::Valid(_))) {
                    inner.pipeline.tokens.remove(id);
                }
            }
        }));
        let poller = tokio::spawn(poll(Arc::clone(&self.inner.pipeline.config), self.inner.pipeline.cancel.child_token()));
        let mut tasks = vec![sched_task, poller];
        if let Some(store) = self.inner.pipeline.store.clone() {
            // Rotations announced by other replicas: re-read the config, drop our copy of the token.
            let weak = Arc::downgrade(&self.inner);
            let cancel = self.inner.pipeline.cancel.child_token();
            tasks.push(tokio::spawn(async move {
                store
                    .listen(
                        move |tenant_id| {
                            let Some(inner) = weak.upgrade() else { return };
                            inner.pipeline.events.emit(EventKind::CredentialsRotated, Some(&tenant_id), json!({"reason": "peer"}));
                            tokio::spawn(async move {
                                let _ = inner.pipeline.config.reload("peer-rotation").await;
                                inner.pipeline.tokens.forget_local(&tenant_id);
                                // A peer may have tested this tenant's pending credential: read its outcome now.
                                inner.staging.kick(&tenant_id);
                            });
                        },
                        cancel,
                    )
                    .await
            }));
        }
        *lock(&self.inner.running) = Some(Running { scheduler, tasks });
    }

    /// A usable tenant's config, or why not.
    pub fn tenant(&self, tenant_id: &str) -> Result<Arc<Tenant>> {
        self.check_open()?;
        self.inner.pipeline.config.tenant(tenant_id)
    }

    /// Checks that the tenant's declared `requiredScopes` cover `required` (for a call whose
    /// endpoint the catalogue may not know): `SCOPE_MISSING` with `preflight: true` naming the
    /// uncovered ones (mode ALL). A tenant that declares no scopes, or declares names that are not
    /// Genesys scopes, passes: nothing trustworthy to check against; names in `required` that are not
    /// Genesys scopes are not checked either.
    ///
    /// ```no_run
    /// # fn f(o: &genesys_tenants_core::Orchestrator) -> genesys_tenants_core::Result<()> {
    /// o.check_scopes("acme-corp", &["users:readonly".to_string()])?;
    /// # Ok(()) }
    /// ```
    pub fn check_scopes(&self, tenant_id: &str, required: &[String]) -> Result<()> {
        let tenant = self.tenant(tenant_id)?;
        if tenant.required_scopes.is_empty() || !tenant.unknown_scopes.is_empty() {
            return Ok(());
        }
        let missing = crate::operations::uncovered_scopes(required, &tenant.required_scopes);
        if missing.is_empty() {
            return Ok(());
        }
        Err(crate::pipeline::classify::preflight_refusal(
            tenant_id,
            missing,
            crate::error::PermissionMode::All,
            &tenant.required_scopes,
            None,
        ))
    }

    /// Usable tenants whose id or `domainPrefix` is exactly `key` (the tutorial's
    /// `rotateCredentials(domainPrefix)`, minus its prefix match: `acme` never matches `acme-corp`).
    ///
    /// ```no_run
    /// # fn f(o: &genesys_tenants_core::Orchestrator) {
    /// let ids = o.tenants_named("acme");
    /// # let _ = ids; }
    /// ```
    pub fn tenants_named(&self, key: &str) -> Vec<String> {
        let table = self.inner.pipeline.config.table();
        let mut ids: Vec<String> = table
            .entries
            .values()
            .filter_map(|e| match e {
                TenantEntry::Valid(t) if t.tenant_id == key || t.domain_prefix.as_deref() == Some(key) => Some(t.tenant_id.clone()),
                _ => None,
            })
            .collect();
        ids.sort();
        ids
    }

    /// Forces a rotation of the tenant every `every` (`None`: only what its config says), until its
    /// config entry changes — the tutorial's `scheduleRotation(tenantId, config)`, on the one
    /// scheduler instead of a timer per tenant.
    pub fn schedule_rotation(&self, tenant_id: &str, every: Option<std::time::Duration>) -> Result<()> {
        let tenant = self.tenant(tenant_id)?;
        if let Some(d) = every {
            if d < crate::config::MIN_ROTATION_INTERVAL || d > crate::config::MAX_ROTATION_INTERVAL {
                return Err(Error::InvalidOptions {
                    option: "rotationIntervalMs".into(),
                    reason: "must be between 1000 and 31622400000".into(),
                });
            }
        }
        match lock(&self.inner.running).as_ref() {
            Some(r) => {
                r.scheduler.set(tenant_id, every.or(tenant.rotation_interval));
                Ok(())
            }
            None => Err(Error::NotInitialized),
        }
    }

    /// The egress policy in force.
    pub fn egress(&self) -> &EgressPolicy {
        &self.inner.pipeline.egress
    }

    /// The shared store, when `redisUrl` is set.
    pub fn store(&self) -> Option<&Arc<SharedStore>> {
        self.inner.pipeline.store.as_ref()
    }

    /// The tenant's client-side rate limiter.
    pub fn limiter(&self, tenant_id: &str) -> Arc<Limiter> {
        self.inner.pipeline.limiter(tenant_id)
    }

    /// The tenant's request counters.
    pub fn request_counters(&self, tenant_id: &str) -> Arc<RequestCounters> {
        self.inner.pipeline.request_counters(tenant_id)
    }

    /// Ids of usable tenants, sorted.
    pub fn tenant_ids(&self) -> Vec<String> {
        self.inner.pipeline.config.table().valid_ids()
    }

    /// A valid token for the tenant (cached; refreshed ahead of expiry; one request per refresh).
    pub async fn access_token(&self, tenant_id: &str) -> Result<Secret> {
        let r = self.inner.pipeline.until_closed(self.token(tenant_id)).await;
        Ok(self.inner.pipeline.redacted(tenant_id, r)?.value.clone())
    }

    /// The tenant's token if it is cached and needs no work (see [`TokenManager::cached`]);
    /// `None` sends the caller to [`Orchestrator::access_token`].
    ///
    /// ```no_run
    /// # async fn f(o: &genesys_tenants_core::Orchestrator) -> genesys_tenants_core::Result<()> {
    /// let token = match o.cached_access_token("acme-corp") {
    ///     Some(t) => t,
    ///     None => o.access_token("acme-corp").await?,
    /// };
    /// # Ok(()) }
    /// ```
    pub fn cached_access_token(&self, tenant_id: &str) -> Option<Secret> {
        self.inner.pipeline.check_ready().ok()?;
        self.inner.pipeline.tokens.cached(tenant_id).map(|t| t.value.clone())
    }

    /// The token object (for the request pipeline).
    pub async fn token(&self, tenant_id: &str) -> Result<Arc<AccessToken>> {
        self.inner.pipeline.token(tenant_id).await
    }

    /// Sends one API call for a tenant through the pipeline; resolves on 2xx, fails with a typed
    /// error otherwise.
    pub async fn request(&self, tenant_id: &str, req: ApiRequest) -> Result<ApiResponse> {
        self.inner.pipeline.request(tenant_id, req).await
    }

    /// [`Orchestrator::request`] without parsing the body.
    pub async fn request_raw(&self, tenant_id: &str, req: ApiRequest) -> Result<RawResponse> {
        self.inner.pipeline.request_raw(tenant_id, req).await
    }

    /// Every item of a listing (see [`Pipeline::fetch_all`]).
    pub async fn fetch_all(&self, tenant_id: &str, req: ApiRequest, opts: PageOptions) -> Result<FetchAll> {
        self.inner.pipeline.fetch_all(tenant_id, req, opts).await
    }

    /// A sequential cursor over a listing.
    pub fn paginate(&self, tenant_id: &str, req: ApiRequest, opts: PageOptions) -> Paginator {
        self.inner.pipeline.paginate(tenant_id, req, opts)
    }

    /// Drops a token the API refused (401), if still current.
    pub fn invalidate(&self, tenant_id: &str, token_id: u64) -> bool {
        self.inner.pipeline.tokens.invalidate(tenant_id, token_id)
    }

    /// Forces a rotation: re-reads the tenant's config, obtains a new token, swaps it in. The old
    /// token serves callers until the new one is ready.
    pub async fn rotate_credentials(&self, tenant_id: &str) -> Result<()> {
        let r = self.inner.pipeline.until_closed(self.rotate("forced", tenant_id)).await;
        self.inner.pipeline.redacted(tenant_id, r)
    }

    async fn rotate(&self, reason: &'static str, tenant_id: &str) -> Result<()> {
        self.inner.pipeline.check_ready()?;
        let fingerprint = |p: &Pipeline| p.config.tenant(tenant_id).ok().map(|t| t.credentials_fingerprint.clone());
        let before = fingerprint(&self.inner.pipeline);
        if let Err(e) = self.inner.pipeline.config.reload("rotation").await {
            // The config service being down must not stop a rotation: the token is still renewed
            // with the credentials we have.
            self.inner.pipeline.events.emit(
                EventKind::ConfigStale,
                Some(tenant_id),
                json!({"reason": e.to_string(), "trigger": "rotation"}),
            );
        }
        // A pending credential that failed its test is retested now rather than at its next retest.
        self.inner.staging.kick(tenant_id);
        // A reload that brought new credentials has already started their token (`config-change`):
        // that is the rotation, and a second, forced request would only cost the token budget.
        let result = if before.is_some() && fingerprint(&self.inner.pipeline) != before {
            self.inner.pipeline.tokens.renew_changed(tenant_id).await
        } else {
            self.inner.pipeline.tokens.renew(tenant_id).await
        };
        match &result {
            Ok(_) => {
                self.inner.pipeline.events.emit(EventKind::CredentialsRotated, Some(tenant_id), json!({"reason": reason}));
                if let Some(store) = &self.inner.pipeline.store {
                    store.publish_rotation(tenant_id).await;
                }
            }
            Err(e) => self.inner.pipeline.events.emit(
                EventKind::RotationFailed,
                Some(tenant_id),
                json!({"reason": reason, "code": e.code(), "message": e.to_string()}),
            ),
        }
        result.map(|_| ())
    }

    /// Re-reads the config now; what changed.
    pub async fn reload_config(&self) -> Result<ConfigDiff> {
        self.inner.pipeline.check_ready()?;
        self.inner.pipeline.until_closed(self.inner.pipeline.config.reload("reloadConfig")).await
    }

    /// Delivers every event as JSON text to `deliver` (until it returns `false`, `unsubscribe` or
    /// `close`); returns the subscription's id. Must be called inside a Tokio runtime.
    ///
    /// ```no_run
    /// # fn f(o: &genesys_tenants_core::Orchestrator) {
    /// let id = o.subscribe_json(|event| { println!("{event}"); true });
    /// o.unsubscribe(id);
    /// # }
    /// ```
    pub fn subscribe_json(&self, deliver: impl Fn(String) -> bool + Send + 'static) -> u32 {
        let task = tokio::spawn(crate::events::pump(self.subscribe(), deliver));
        let mut subs = lock(&self.inner.subscriptions);
        subs.0 += 1;
        let id = subs.0;
        subs.1.insert(id, task);
        id
    }

    /// Ends a subscription made with [`Orchestrator::subscribe_json`].
    pub fn unsubscribe(&self, id: u32) {
        if let Some(t) = lock(&self.inner.subscriptions).1.remove(&id) {
            t.abort();
        }
    }

    /// Subscribes to events.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.pipeline.events.subscribe()
    }

    /// The event bus (for layers above, e.g. the request pipeline).
    pub fn events(&self) -> &Events {
        &self.inner.pipeline.events
    }

    /// The shared HTTP client.
    pub fn http(&self) -> &reqwest::Client {
        &self.inner.pipeline.http
    }

    /// The options in force.
    pub fn options(&self) -> &Options {
        &self.inner.pipeline.options
    }

    /// Metrics for operators: per tenant calls by outcome, latency, retries, 429s, waits, tokens and
    /// rotations; config and store health. `Metrics::render_text` gives the Prometheus text.
    pub fn metrics(&self) -> crate::metrics::Metrics {
        let p = &self.inner.pipeline;
        crate::metrics::Metrics::gather(self.stats(), |id| p.peek(id).1)
    }

    /// Per-tenant counters and cache state, and the config source's health.
    pub fn stats(&self) -> Stats {
        let p = &self.inner.pipeline;
        let table = p.config.table();
        let mut tenants = std::collections::BTreeMap::new();
        for (id, entry) in &table.entries {
            let (limiter, counters) = p.peek(id);
            let c = counters.unwrap_or_default();
            let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
            let (allowed, used, window) = match limiter {
                Some(l) => l.snapshot(),
                None => (p.options.rate_limit_per_minute, 0, std::time::Duration::from_secs(60)),
            };
            let (valid, environment, client_id, error) = match entry {
                TenantEntry::Valid(t) => (true, Some(t.environment.clone()), Some(t.client_id.clone()), None),
                TenantEntry::Invalid(e) => (false, None, None, Some(EntryError { code: e.code(), message: e.to_string() })),
            };
            let (pending_client_id, promoted_from) = match entry {
                TenantEntry::Valid(t) => {
                    (t.pending.as_ref().map(|p| p.client_id.clone()), t.promoted_from.as_ref().map(|c| c.client_id.clone()))
                }
                TenantEntry::Invalid(_) => (None, None),
            };
            tenants.insert(
                id.clone(),
                TenantStats {
                    token: p.tokens.describe(id),
                    calls: load(&c.calls),
                    succeeded: load(&c.succeeded),
                    failed: load(&c.failed),
                    retries: load(&c.retries),
                    throttled: load(&c.throttled),
                    limiter_wait_ms: load(&c.limiter_wait_ms),
                    rate_limit: RateLimitStats { allowed, used, window_ms: window.as_millis() as u64 },
                    valid,
                    environment,
                    client_id,
                    pending_client_id,
                    promoted_from,
                    error,
                },
            );
        }
        Stats {
            tenants,
            config: p.config.health(),
            store: p.store.as_ref().map(|s| s.describe()),
            closed: self.inner.closed.load(Ordering::Acquire),
            initialized: lock(&self.inner.running).is_some(),
        }
    }

    /// Stops the poller and the scheduler, drops every token. Idempotent. Calls made afterwards
    /// fail with `CLOSED`.
    pub async fn close(&self) {
        if self.inner.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        self.inner.pipeline.cancel.cancel();
        self.inner.calls.clear();
        self.inner.staging.clear();
        for (_, t) in lock(&self.inner.subscriptions).1.drain() {
            t.abort();
        }
        let running = lock(&self.inner.running).take();
        if let Some(r) = running {
            drop(r.scheduler);
            for t in r.tasks {
                let _ = t.await;
            }
        }
        self.inner.pipeline.tokens.clear();
    }
}

async fn poll(config: Arc<ConfigManager>, cancel: CancellationToken) {
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

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

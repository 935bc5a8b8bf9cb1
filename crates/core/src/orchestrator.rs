//! `Orchestrator`: the one object a service holds. It wires the config manager, the token
//! manager, the rotation scheduler and the poller together, and owns their tasks: `close()`
//! stops every one of them.

use crate::call_bounds::OpenCalls;
use crate::config::snapshot::Snapshot;
use crate::config::source::ConfigSource;
use crate::config::Tenant;
use crate::config::{ConfigDiff, ConfigManager, ConfigSettings, TenantEntry};
use crate::egress::EgressPolicy;
use crate::error::{Error, Result};
use crate::events::{Event, Events, Listeners};
use crate::options::Options;
use crate::pipeline::paginate::{FetchAll, PageOptions, Paginator};

use crate::pipeline::request::{ApiRequest, ApiResponse, RawResponse};
use crate::pipeline::{Parts, Pipeline};

use crate::network::Http;
use crate::notifications::Notifications;
use crate::scheduler::Scheduler;
use crate::secret::Secret;
use crate::staged_credentials::Staging;
use crate::stats::Stats;
use crate::store::SharedStore;
use crate::sync::lock;
use crate::token::{TokenManager, TokenSettings};
use crate::webhook::{Refusal, WebhookAnswer, WebhookReceiver, WebhookSettings};
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
    /// Event listeners (`subscribe_json`), stopped by `unsubscribe` and `close`.
    listeners: Listeners,
    closed: AtomicBool,
    running: Mutex<Option<Running>>,
    init_lock: tokio::sync::Mutex<()>,
    /// Calls a binding bounds by a deadline or an abort (`timeoutMs`, `signal`).
    calls: Arc<OpenCalls>,
    /// Rotation-webhook state of this process: deliveries seen, rotations under way.
    webhook: WebhookReceiver,
    /// Tests and promotes pending credentials.
    staging: Arc<Staging>,
    notifications: Notifications,
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
        let http = Http::new(options.network())?;
        let events = Events::default();
        let cancel = CancellationToken::new();
        let egress = EgressPolicy { gateway: options.gateway.clone(), allowed_hosts: options.allowed_hosts.clone() };
        let source = ConfigSource::from_options(&options, http.clone())?;
        let snapshot = Snapshot::from_options(&options)?;
        let config = Arc::new(ConfigManager::new(
            source,
            egress.clone(),
            snapshot,
            events.clone(),
            ConfigSettings { poll_interval: options.config_poll_interval },
        ));
        let store = SharedStore::from_options(&options, &events)?;
        let tokens = Arc::new(TokenManager::new(
            http.clone(),
            egress.clone(),
            Arc::clone(&config),
            events.clone(),
            TokenSettings::from_options(&options),
            store.clone(),
            cancel.child_token(),
        ));
        let pipeline = Pipeline::new(Parts { options, http, egress, config, tokens, store, events, cancel });
        Ok(Orchestrator {
            inner: Arc::new(Inner {
                staging: Staging::new(Arc::clone(&pipeline)),
                notifications: Notifications::new(Arc::clone(&pipeline)),
                pipeline,
                listeners: Listeners::default(),
                closed: AtomicBool::new(false),
                running: Mutex::new(None),
                init_lock: tokio::sync::Mutex::new(()),
                calls: Arc::default(),
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
        self.inner.webhook.handle(settings, signature, body, || self.tenant_ids(), self.store().map(|s| &**s), rotate).await
    }

    /// The calls bounded by a deadline or an abort: open one, run work under it, abort it.
    ///
    /// ```no_run
    /// # async fn f(o: &genesys_tenants_core::Orchestrator) -> genesys_tenants_core::Result<()> {
    /// use genesys_tenants_core::call_bounds::OpenCalls;
    /// use std::time::Duration;
    /// let call = OpenCalls::open(o.calls(), Some(1), Some(Duration::from_secs(5)), false)?;
    /// // Another task may call `o.calls().abort(1)`.
    /// let req = genesys_tenants_core::ApiRequest { method: "GET".into(), path: "/api/v2/users".into(), ..Default::default() };
    /// let users = call.run(Some("acme"), o.request("acme", req)).await?;
    /// # let _ = users; Ok(()) }
    /// ```
    pub fn calls(&self) -> &Arc<OpenCalls> {
        &self.inner.calls
    }

    fn check_open(&self) -> Result<()> {
        if self.inner.closed.load(Ordering::Acquire) {
            Err(Error::Closed)
        } else {
            Ok(())
        }
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
            if let Some(inner) = weak.upgrade() {
                crate::config_change::apply(&inner.pipeline, &inner.staging, &sched2, diff, new, old);
            }
        }));
        let poller =
            tokio::spawn(crate::config_change::poll(Arc::clone(&self.inner.pipeline.config), self.inner.pipeline.cancel.child_token()));
        let mut tasks = vec![sched_task, poller];
        if let Some(store) = self.inner.pipeline.store.clone() {
            // Rotations announced by other replicas: re-read the config, drop our copy of the token.
            let weak = Arc::downgrade(&self.inner);
            let cancel = self.inner.pipeline.cancel.child_token();
            tasks.push(tokio::spawn(async move {
                store
                    .listen(
                        move |tenant_id| {
                            if let Some(inner) = weak.upgrade() {
                                crate::rotation::rotated_by_peer(Arc::clone(&inner.pipeline), Arc::clone(&inner.staging), tenant_id);
                            }
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

    /// Checks the tenant's declared `requiredScopes` against `required` (see [`Pipeline::check_scopes`]).
    pub fn check_scopes(&self, tenant_id: &str, required: &[String]) -> Result<()> {
        self.check_open()?;
        self.inner.pipeline.check_scopes(tenant_id, required)
    }

    /// Usable tenants whose id or `domainPrefix` is exactly `key` (see [`crate::config::TenantTable::named`]).
    pub fn tenants_named(&self, key: &str) -> Vec<String> {
        self.inner.pipeline.config.table().named(key)
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

    /// The shared store, when `redisUrl` is set.
    pub fn store(&self) -> Option<&Arc<SharedStore>> {
        self.inner.pipeline.store.as_ref()
    }

    /// Ids of usable tenants, sorted.
    pub fn tenant_ids(&self) -> Vec<String> {
        self.inner.pipeline.config.table().valid_ids()
    }

    /// A valid token for the tenant (cached; refreshed ahead of expiry; one request per refresh).
    pub async fn access_token(&self, tenant_id: &str) -> Result<Secret> {
        let r = self.inner.pipeline.until_closed(self.inner.pipeline.token(tenant_id)).await;
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

    /// Forces a rotation: re-reads the tenant's config, obtains a new token, swaps it in. The old
    /// token serves callers until the new one is ready.
    pub async fn rotate_credentials(&self, tenant_id: &str) -> Result<()> {
        let r = self.inner.pipeline.until_closed(self.rotate("forced", tenant_id)).await;
        self.inner.pipeline.redacted(tenant_id, r)
    }

    async fn rotate(&self, reason: &'static str, tenant_id: &str) -> Result<()> {
        crate::rotation::rotate(&self.inner.pipeline, &self.inner.staging, reason, tenant_id).await
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
        self.inner.listeners.add(self.subscribe(), deliver)
    }

    /// Ends a subscription made with [`Orchestrator::subscribe_json`].
    pub fn unsubscribe(&self, id: u32) {
        self.inner.listeners.remove(id);
    }

    /// The Notifications API: [`Notifications::subscribe`] and each tenant's channel counters.
    pub fn notifications(&self) -> &Notifications {
        &self.inner.notifications
    }

    /// Subscribes to events.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.pipeline.events.subscribe()
    }

    /// Metrics for operators: per tenant calls by outcome, latency, retries, 429s, waits, tokens and
    /// rotations; config and store health. `Metrics::render_text` gives the Prometheus text.
    pub fn metrics(&self) -> crate::metrics::Metrics {
        let p = &self.inner.pipeline;
        crate::metrics::Metrics::gather(self.stats(), |id| p.peek(id).1)
    }

    /// Per-tenant counters and cache state, and the config source's health.
    pub fn stats(&self) -> Stats {
        let mut s = Stats::gather(&self.inner.pipeline, self.inner.closed.load(Ordering::Acquire), lock(&self.inner.running).is_some());
        for (id, t) in s.tenants.iter_mut() {
            t.notifications = self.inner.notifications.figures(id);
        }
        s
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
        self.inner.listeners.clear();
        self.inner.notifications.close().await; // every socket closed, every subscription ended
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

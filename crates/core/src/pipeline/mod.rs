//! The request pipeline: one [`Pipeline`] holds what every call needs — the HTTP client, the egress
//! policy, the tenant table, the tokens, the shared store, one limiter and one set of counters per
//! tenant, the event bus, the options and the close signal — and runs each call through the same
//! ordered steps (`request.rs`): guard → pre-flight → pace → authorize → send → classify → decide,
//! with one [`crate::retry::budget::RetryBudget`] making every retry decision. The orchestrator builds it and hands
//! it out; the paginator and the SDK bridge go through it.

pub mod classify;
pub mod from_js;
mod lookup_pacing;
pub mod paginate;
pub use paginate::page_end;
mod pool;
pub use pool::PoolSlot;
pub mod rate_limit;
pub mod request;

use crate::config::{ConfigManager, Tenant};
use crate::egress::EgressPolicy;
use crate::error::{Error, Result};
use crate::events::Events;
use crate::histogram::Histogram;
use crate::network::Http;
use crate::options::Options;
use crate::redact::Needles;
use crate::store::SharedStore;
use crate::sync::{read, write};
use crate::token::{AccessToken, TokenManager};
use rate_limit::Limiter;
use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, RwLock};
use tokio_util::sync::CancellationToken;

/// Per-tenant request counters.
#[derive(Debug, Default)]
pub struct RequestCounters {
    /// `request()` calls.
    pub calls: AtomicU64,
    /// Calls that resolved.
    pub succeeded: AtomicU64,
    /// Calls that rejected.
    pub failed: AtomicU64,
    /// Retries (401 refresh, 429, 5xx, transport).
    pub retries: AtomicU64,
    /// 429 answers received.
    pub throttled: AtomicU64,
    /// Total time requests waited in the client-side limiter.
    pub limiter_wait_ms: AtomicU64,
    /// Total time this process held the tenant's calls for its own 429s (the server's wait plus jitter).
    pub held_ms: AtomicU64,
    /// How long each call took, from `request()` to its answer (retries and waits included).
    pub latency: Histogram,
    /// Calls by outcome: `OK` or an error code.
    pub outcomes: Outcomes,
}

/// Calls counted by outcome: index 0 is `OK`, then one per [`Error::CODES`] entry.
#[derive(Debug, Default)]
pub struct Outcomes([AtomicU64; 1 + Error::CODES.len()]);

impl Outcomes {
    /// Counts one call that ended with `code` (`None`: it succeeded).
    pub fn record(&self, code: Option<&str>) {
        let i = match code {
            None => 0,
            Some(c) => Error::CODES.iter().position(|k| *k == c).map_or(0, |i| i + 1),
        };
        self.0[i].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// `(outcome, count)` for every outcome seen at least once, `OK` first.
    pub fn nonzero(&self) -> Vec<(&'static str, u64)> {
        std::iter::once("OK")
            .chain(Error::CODES.iter().copied())
            .zip(&self.0)
            .map(|(k, n)| (k, n.load(std::sync::atomic::Ordering::Relaxed)))
            .filter(|(_, n)| *n > 0)
            .collect()
    }
}

/// What every call needs, and the calls themselves.
pub struct Pipeline {
    pub(crate) options: Options,
    pub(crate) http: Http,
    pub(crate) egress: EgressPolicy,
    pub(crate) config: Arc<ConfigManager>,
    pub(crate) tokens: Arc<TokenManager>,
    pub(crate) store: Option<Arc<SharedStore>>,
    pub(crate) events: Events,
    pub(crate) cancel: CancellationToken,
    limiters: RwLock<HashMap<String, Arc<Limiter>>>,
    counters: RwLock<HashMap<String, Arc<RequestCounters>>>,
    /// The token pools of tenants with more than one token (`pool.rs`).
    pools: pool::Pools,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline").field("config", &self.config).finish_non_exhaustive()
    }
}

/// The parts a [`Pipeline`] is made of (the orchestrator builds them).
pub struct Parts {
    /// Validated options.
    pub options: Options,
    /// The shared HTTP client, with its proxy rule and extra roots.
    pub http: Http,
    /// Where secrets and tokens may go.
    pub egress: EgressPolicy,
    /// The tenant table.
    pub config: Arc<ConfigManager>,
    /// The tokens.
    pub tokens: Arc<TokenManager>,
    /// The shared store, with `redisUrl`.
    pub store: Option<Arc<SharedStore>>,
    /// The event bus.
    pub events: Events,
    /// Cancelled on close.
    pub cancel: CancellationToken,
}

fn get_or_insert<T>(map: &RwLock<HashMap<String, Arc<T>>>, key: &str, make: impl FnOnce() -> T) -> Arc<T> {
    if let Some(v) = read(map).get(key) {
        return Arc::clone(v);
    }
    let mut w = write(map);
    Arc::clone(w.entry(key.to_string()).or_insert_with(|| Arc::new(make())))
}

impl Pipeline {
    /// A pipeline over `parts`; its events redact the tenants' secrets from then on.
    pub fn new(parts: Parts) -> Arc<Pipeline> {
        let Parts { options, http, egress, config, tokens, store, events, cancel } = parts;
        let pipeline = Arc::new(Pipeline {
            options,
            http,
            egress,
            config,
            tokens,
            store,
            events,
            cancel,
            limiters: RwLock::new(HashMap::new()),
            counters: RwLock::new(HashMap::new()),
            pools: Default::default(),
        });
        // Events carry server text (token endpoint reasons, …): redact the tenant's secrets there.
        let weak = Arc::downgrade(&pipeline);
        pipeline.events.set_redactor(Box::new(move |tenant_id| match (weak.upgrade(), tenant_id) {
            (Some(p), Some(id)) => p.needles(id),
            (Some(p), None) => p.configured_needles(),
            _ => Needles::default(),
        }));
        // Organization lookups spend the tenant's rate budget: they go through its limiter.
        pipeline.tokens.set_lookup_pacing(Arc::new(lookup_pacing::LimiterPacing(Arc::downgrade(&pipeline))));
        pipeline
    }

    /// The options in force.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// The tenant's client-side rate limiter.
    pub fn limiter(&self, tenant_id: &str) -> Arc<Limiter> {
        get_or_insert(&self.limiters, tenant_id, || self.new_limiter())
    }

    /// A limiter as the options say: the budget per minute and the cap on calls past their turn.
    pub(super) fn new_limiter(&self) -> Limiter {
        Limiter::with_max_in_flight(self.options.rate_limit_per_minute, self.options.max_in_flight_per_token as usize)
    }

    /// The tenant's request counters.
    pub fn request_counters(&self, tenant_id: &str) -> Arc<RequestCounters> {
        get_or_insert(&self.counters, tenant_id, RequestCounters::default)
    }

    /// The tenant's limiter and counters if it has any yet (reading stats creates none).
    pub fn peek(&self, tenant_id: &str) -> (Option<Arc<Limiter>>, Option<Arc<RequestCounters>>) {
        let l = read(&self.limiters).get(tenant_id).cloned();
        let c = read(&self.counters).get(tenant_id).cloned();
        (l, c)
    }

    /// The slots of the tenant's token pool, if it has more than one token and has used them (for
    /// stats; slot 0's limiter is [`Pipeline::limiter`]'s).
    pub fn peek_pool(&self, tenant_id: &str) -> Vec<Arc<PoolSlot>> {
        self.pools.peek(tenant_id)
    }

    /// Forgets a tenant's limiters (the tenant left the config).
    pub fn forget(&self, tenant_id: &str) {
        write(&self.limiters).remove(tenant_id);
        self.pools.forget(tenant_id);
    }

    /// `CLOSED` once the orchestrator closed.
    pub fn check_open(&self) -> Result<()> {
        if self.cancel.is_cancelled() {
            Err(Error::Closed)
        } else {
            Ok(())
        }
    }

    /// Open and initialized, else `CLOSED` / `NOT_INITIALIZED`.
    pub fn check_ready(&self) -> Result<()> {
        self.check_open()?;
        if !self.config.is_loaded() {
            return Err(Error::NotInitialized);
        }
        Ok(())
    }

    /// A usable tenant's config, or why not.
    pub fn tenant(&self, tenant_id: &str) -> Result<Arc<Tenant>> {
        self.check_open()?;
        self.config.tenant(tenant_id)
    }

    /// The tenant's token (cached; refreshed ahead of expiry; one request per refresh).
    pub async fn token(&self, tenant_id: &str) -> Result<Arc<AccessToken>> {
        self.check_ready()?;
        self.tokens.get(tenant_id).await
    }

    /// Runs `fut` unless the orchestrator closes first; then it ends at once with `CLOSED`, whatever
    /// it was waiting for (a 429 hold, the limiter, a token, a Redis lease, a page).
    pub async fn until_closed<T>(&self, fut: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        tokio::select! {
            biased;
            _ = self.cancel.cancelled() => Err(Error::Closed),
            r = fut => r,
        }
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
        let tenant = self.config.tenant(tenant_id)?;
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

    /// The secrets the operator configured that no text may carry, whatever the tenant: the proxy
    /// password (in every form).
    pub fn configured_needles(&self) -> Needles {
        let mut n = Needles::default();
        n.configured(self.http.secrets());
        n
    }

    /// The secrets a server could echo in this tenant's answers: its client secret (and Basic
    /// form), its current and previous tokens; and the [configured](Pipeline::configured_needles) ones.
    pub fn needles(&self, tenant_id: &str) -> Needles {
        let mut n = self.configured_needles();
        if let Ok(t) = self.config.tenant(tenant_id) {
            n.credentials(&t.client_id, &t.client_secret);
            for c in t.pending.iter().chain(t.promoted_from.iter()) {
                n.credentials(&c.client_id, &c.client_secret);
            }
        }
        self.tokens.known_tokens(tenant_id, |t| n.push(t));
        n
    }

    /// `r` with the tenant's secrets redacted from its error, if any: the last step before an error
    /// leaves the core.
    pub fn redacted<T>(&self, tenant_id: &str, r: Result<T>) -> Result<T> {
        r.map_err(|e| self.needles(tenant_id).redact_error(e))
    }
}

//! Runtime state: clients (secrets, limits), issued tokens, per-token windows, counters, faults,
//! the config service's mode, and analytics jobs. Locks are short and never held across awaits.

use crate::rate_limit::Window;
use crate::world::{Client, OrgData, World};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::Instant;

/// An issued token.
#[derive(Debug, Clone)]
pub struct TokenRec {
    /// Its client.
    pub client_id: String,
    /// Expiry.
    pub expires_at: Instant,
    /// Issued at (Unix ms).
    pub issued_ms: i64,
    /// Revoked (by control, DELETE tokens/me, or the client being disabled).
    pub revoked: bool,
}

/// Counters of one client.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientCounters {
    /// Token requests (any outcome).
    pub token_requests: u64,
    /// Tokens issued.
    pub tokens_issued: u64,
    /// Token requests refused.
    pub token_failures: u64,
    /// API calls by status.
    pub api_calls: BTreeMap<String, u64>,
    /// All API calls.
    pub api_calls_total: u64,
    /// API calls in progress.
    pub in_flight: u64,
    /// Highest concurrent API calls seen.
    pub max_concurrency: u64,
    /// The last [`RECENT_CALLS`] API calls as `[arrived at (Unix ms), status]`: lets a test see
    /// *when* calls were sent (nothing inside a 429 pause, say).
    pub recent_calls: std::collections::VecDeque<[u64; 2]>,
}

/// How many API calls [`ClientCounters::recent_calls`] keeps.
pub const RECENT_CALLS: usize = 1000;

impl ClientCounters {
    /// Counts one API call answered with `status`.
    pub fn api_call(&mut self, status: u16) {
        *self.api_calls.entry(status.to_string()).or_default() += 1;
        self.api_calls_total += 1;
        if self.recent_calls.len() == RECENT_CALLS {
            self.recent_calls.pop_front();
        }
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
        self.recent_calls.push_back([now, u64::from(status)]);
    }
}

/// An injected fault.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fault {
    /// Assigned id.
    #[serde(default)]
    pub id: u64,
    /// Only this method (any when absent).
    #[serde(default)]
    pub method: Option<String>,
    /// Exact path, or a prefix ending in `*` (any when absent).
    #[serde(default)]
    pub path: Option<String>,
    /// Status to answer (0: no status, only latency).
    #[serde(default)]
    pub status: u16,
    /// How many times (until cleared when absent).
    #[serde(default)]
    pub count: Option<u64>,
    /// Probability 0..1 of applying.
    #[serde(default)]
    pub probability: Option<f64>,
    /// Added latency.
    #[serde(default)]
    pub latency_ms: Option<u64>,
    /// `Retry-After` on the answer.
    #[serde(default)]
    pub retry_after_seconds: Option<u64>,
    /// Body to answer (a Genesys error body when absent).
    #[serde(default)]
    pub body: Option<Value>,
    /// Only for this client.
    #[serde(default)]
    pub client_id: Option<String>,
    /// A hostile server: every string `"$bearer"` in `body` becomes the request's bearer token.
    #[serde(default)]
    pub echo_bearer: bool,
}

impl Fault {
    fn applies(&self, method: &str, path: &str, client: Option<&str>) -> bool {
        if self.method.as_deref().is_some_and(|m| !m.eq_ignore_ascii_case(method)) {
            return false;
        }
        if let Some(p) = &self.path {
            let ok = match p.strip_suffix('*') {
                Some(prefix) => path.starts_with(prefix),
                None => path == p,
            };
            if !ok {
                return false;
            }
        }
        if let Some(c) = &self.client_id {
            if client != Some(c.as_str()) {
                return false;
            }
        }
        self.probability.is_none_or(|p| rand::random::<f64>() < p)
    }
}

/// The config service's behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ConfigMode {
    /// Normal.
    Ok,
    /// 503.
    Error503,
    /// Sleep, then answer.
    Slow,
    /// The dedicated listener is closed; the main one answers 503.
    Refuse,
    /// 200 with invalid JSON.
    Garbage,
    /// 200 with a JSON object.
    NonArray,
}

/// An analytics details job.
#[derive(Debug, Clone)]
pub struct Job {
    /// Org that submitted it.
    pub org_id: String,
    /// When.
    pub submitted: Instant,
    /// When (Unix ms).
    pub submitted_ms: i64,
    /// Matching conversations, in order.
    pub conversations: Vec<Value>,
    /// Cancelled by DELETE.
    pub cancelled: bool,
}

/// Everything mutable.
pub struct State {
    /// Initial world (for reset and GET /__control/world).
    pub initial: World,
    /// Current clients by id.
    pub clients: RwLock<HashMap<String, Client>>,
    /// Orgs by id with generated data.
    pub orgs: HashMap<String, (crate::world::Org, OrgData)>,
    /// Issued tokens.
    pub tokens: RwLock<HashMap<String, TokenRec>>,
    /// Per-token API windows.
    pub windows: Mutex<HashMap<String, Option<Window>>>,
    /// Per-client token-creation windows.
    pub token_windows: Mutex<HashMap<String, Option<Window>>>,
    /// Counters.
    pub counters: Mutex<HashMap<String, ClientCounters>>,
    /// Config service counters: requests, 304s, failures.
    pub config_requests: AtomicU64,
    /// 304 answers.
    pub config_not_modified: AtomicU64,
    /// Non-200 answers.
    pub config_failures: AtomicU64,
    /// Faults.
    pub faults: Mutex<Vec<Fault>>,
    /// Next fault id.
    pub next_fault: AtomicU64,
    /// Config service mode and slow delay.
    pub config_mode: Mutex<(ConfigMode, u64)>,
    /// Served array override.
    pub config_override: Mutex<Option<Value>>,
    /// Jobs.
    pub jobs: Mutex<HashMap<String, Job>>,
    /// Send rate-limit headers.
    pub rate_limit_headers: std::sync::atomic::AtomicBool,
    /// Answer missing scopes in the legacy shape (see [`crate::world::ScopeErrors`]).
    pub legacy_scope_errors: std::sync::atomic::AtomicBool,
    /// Service token for the config service and control API.
    pub service_token: String,
    /// Token requests being answered now, and the most at once (since start or reset).
    pub login_in_flight: AtomicU64,
    /// The most token requests answered at once.
    pub login_max_in_flight: AtomicU64,
    /// The Notifications API: channels, topics, sockets.
    pub notifications: std::sync::Arc<crate::notifications::Hub>,
}

/// Counts one token request in flight while it lives (`tokenEndpoint.maxInFlight`).
pub struct LoginInFlight<'a>(&'a State);

impl<'a> LoginInFlight<'a> {
    /// Counts a token request from now until the guard drops.
    pub fn enter(state: &'a State) -> Self {
        let now = state.login_in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        state.login_max_in_flight.fetch_max(now, Ordering::SeqCst);
        LoginInFlight(state)
    }
}

impl Drop for LoginInFlight<'_> {
    fn drop(&mut self) {
        self.0.login_in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl State {
    /// State for a world.
    pub fn new(world: World, service_token: String) -> State {
        let orgs = world.orgs.iter().map(|o| (o.id.clone(), (o.clone(), OrgData::generate(o)))).collect();
        let clients = world.clients.iter().map(|c| (c.client_id.clone(), c.clone())).collect();
        State {
            rate_limit_headers: std::sync::atomic::AtomicBool::new(world.rate_limit_headers),
            legacy_scope_errors: std::sync::atomic::AtomicBool::new(world.scope_errors == crate::world::ScopeErrors::Legacy),
            initial: world,
            clients: RwLock::new(clients),
            orgs,
            tokens: RwLock::new(HashMap::new()),
            windows: Mutex::new(HashMap::new()),
            token_windows: Mutex::new(HashMap::new()),
            counters: Mutex::new(HashMap::new()),
            config_requests: AtomicU64::new(0),
            config_not_modified: AtomicU64::new(0),
            config_failures: AtomicU64::new(0),
            faults: Mutex::new(Vec::new()),
            next_fault: AtomicU64::new(1),
            config_mode: Mutex::new((ConfigMode::Ok, 10_000)),
            config_override: Mutex::new(None),
            jobs: Mutex::new(HashMap::new()),
            service_token,
            login_in_flight: AtomicU64::new(0),
            login_max_in_flight: AtomicU64::new(0),
            notifications: Default::default(),
        }
    }

    /// A client by id.
    pub fn client(&self, id: &str) -> Option<Client> {
        read(&self.clients).get(id).cloned()
    }

    /// Updates a client's counters.
    pub fn count(&self, client_id: &str, f: impl FnOnce(&mut ClientCounters)) {
        let mut c = lock(&self.counters);
        f(c.entry(client_id.to_string()).or_default());
    }

    /// The first fault that applies (consuming one use of it).
    pub fn take_fault(&self, method: &str, path: &str, client: Option<&str>) -> Option<Fault> {
        let mut faults = lock(&self.faults);
        let idx = faults.iter().position(|f| f.applies(method, path, client))?;
        let fault = faults[idx].clone();
        if let Some(n) = faults[idx].count.as_mut() {
            *n = n.saturating_sub(1);
            if *n == 0 {
                faults.remove(idx);
            }
        }
        Some(fault)
    }

    /// The tenants array the config service serves.
    pub fn tenants_document(&self) -> Value {
        if let Some(v) = lock(&self.config_override).clone() {
            return v;
        }
        let clients = read(&self.clients);
        let mut list: Vec<&Client> = self.initial.clients.iter().filter_map(|c| clients.get(&c.client_id)).collect();
        list.sort_by(|a, b| a.tenant_id.cmp(&b.tenant_id));
        Value::Array(
            list.iter()
                .map(|c| {
                    let region = self.orgs.get(&c.org_id).map(|(o, _)| o.region.clone()).unwrap_or_default();
                    json!({
                        "tenantId": c.tenant_id, "clientId": c.client_id, "clientSecret": c.secret,
                        "region": region, "domainPrefix": c.tenant_id,
                        "requiredScopes": c.required_scopes, "rotationIntervalMs": c.rotation_interval_ms,
                    })
                })
                .collect(),
        )
    }

    /// Drops expired tokens (called now and then so the map stays bounded).
    pub fn prune_tokens(&self) {
        let now = Instant::now();
        let mut tokens = write(&self.tokens);
        let expired: Vec<String> = tokens.iter().filter(|(_, t)| t.expires_at <= now).map(|(k, _)| k.clone()).collect();
        tokens.retain(|_, t| t.expires_at > now);
        if !expired.is_empty() {
            let live: std::collections::HashSet<String> = tokens.keys().cloned().collect();
            lock(&self.windows).retain(|k, _| live.contains(k));
        }
        drop(tokens);
        self.notifications.tokens_gone(expired.iter().map(String::as_str));
    }

    /// Counters as JSON.
    pub fn counters_json(&self) -> Value {
        let c = lock(&self.counters);
        json!({
            "clients": &*c,
            "configService": {
                "requests": self.config_requests.load(Ordering::Relaxed),
                "notModified": self.config_not_modified.load(Ordering::Relaxed),
                "failures": self.config_failures.load(Ordering::Relaxed),
            },
            "faults": lock(&self.faults).len(),
            "notifications": self.notifications.counters_json(),
            "tokenEndpoint": {
                "inFlight": self.login_in_flight.load(Ordering::SeqCst),
                "maxInFlight": self.login_max_in_flight.load(Ordering::SeqCst),
            },
        })
    }

    /// Back to the start: counters, faults, config service; with `world`, also secrets, limits
    /// and tokens.
    pub fn reset(&self, world: bool) {
        lock(&self.counters).clear();
        lock(&self.faults).clear();
        *lock(&self.config_mode) = (ConfigMode::Ok, 10_000);
        *lock(&self.config_override) = None;
        self.config_requests.store(0, Ordering::Relaxed);
        self.config_not_modified.store(0, Ordering::Relaxed);
        self.config_failures.store(0, Ordering::Relaxed);
        self.login_max_in_flight.store(self.login_in_flight.load(Ordering::SeqCst), Ordering::SeqCst);
        self.notifications.reset(world);
        if world {
            *write(&self.clients) = self.initial.clients.iter().map(|c| (c.client_id.clone(), c.clone())).collect();
            write(&self.tokens).clear();
            lock(&self.windows).clear();
            lock(&self.token_windows).clear();
            lock(&self.jobs).clear();
            self.rate_limit_headers.store(self.initial.rate_limit_headers, Ordering::Relaxed);
            self.legacy_scope_errors.store(self.initial.scope_errors == crate::world::ScopeErrors::Legacy, Ordering::Relaxed);
        }
    }
}

pub use crate::sync::{lock, read, write};

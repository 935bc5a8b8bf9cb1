//! `Pipeline::request`: the fixed order of steps every API call goes through, one function each.
//!
//! 1. **guard** — the method parses, the path is an API path on the tenant's API host (or the
//!    gateway), checked again on the final URL of every attempt;
//! 2. **pre-flight** — the tenant's declared `requiredScopes` include one the operation accepts;
//! 3. **pace** — the call's turn among its token's calls (at most `maxInFlightPerToken` past it, first
//!    come, first served: one tenant's bulk listing does not crowd out another's calls), then the
//!    tenant's limiter (the shared Redis window first, in shared mode) and any 429 hold, within what is
//!    left of the retry budget;
//! 4. **authorize** — the current token, taken inside the retry loop so every attempt is signed
//!    with the newest one;
//! 5. **send** — pooled reqwest, per-attempt timeout, the body read up to its limit;
//! 6. **classify** — a success, or how the attempt ended ([`AttemptEnd`]);
//! 7. **decide** — [`RetryBudget::decide`]: refresh after a first 401, hold for a 429, back off
//!    after a 5xx or a lost answer when the call is safe to repeat, else fail.

use super::classify::{preflight_refusal, to_error, Answer};
use super::rate_limit::shared::Paced;
use super::rate_limit::{self, Limiter};
use super::Pipeline;
use crate::config::Tenant;
use crate::egress::Endpoints;
use crate::error::{Error, PermissionMode, Result};
use crate::events::EventKind;
use crate::operations::{missing_scopes, retry_safe};
use crate::options::PreflightMode;
use crate::retry::budget::{AttemptEnd, RetryBudget, Verdict};
use crate::retry::retry_after::{self, wait_after_429, RateLimitHeaders};
use crate::store::Slot;
use crate::sync::lock;
use crate::trace;
use crate::transport::{describe_reqwest, read_limited, BodyError, MAX_API_BODY};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// One API call.
#[derive(Debug, Clone, Default)]
pub struct ApiRequest {
    /// HTTP method (any case).
    pub method: String,
    /// Path such as `/api/v2/users` (a full URL is accepted only on the tenant's API host).
    pub path: String,
    /// Query parameters, in order; repeated keys allowed.
    pub query: Vec<(String, String)>,
    /// Extra headers (`Authorization` and hop-by-hop headers are ignored).
    pub headers: Vec<(String, String)>,
    /// Body: JSON-encoded, unless it is a string and a non-JSON `Content-Type` header is given.
    pub body: Option<Value>,
}

/// A successful answer.
#[derive(Debug, Clone)]
pub struct ApiResponse {
    /// HTTP status (2xx).
    pub status: u16,
    /// Headers, names lower-cased.
    pub headers: BTreeMap<String, String>,
    /// Parsed JSON, or the text, or `null` for an empty body.
    pub body: Value,
}

/// A successful answer before its body is parsed: what the Node binding hands to JS, which parses
/// JSON faster than building objects through N-API.
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// HTTP status (2xx).
    pub status: u16,
    /// Headers, names lower-cased.
    pub headers: BTreeMap<String, String>,
    /// The body bytes.
    pub body: bytes::Bytes,
    /// True when the body is JSON (by content type, or untyped but valid JSON).
    pub json: bool,
}

impl RawResponse {
    /// Parses the body: JSON, or text, or `null` when empty.
    pub fn parse(self) -> ApiResponse {
        let body = if self.body.is_empty() {
            Value::Null
        } else if self.json {
            serde_json::from_slice(&self.body).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&self.body).into_owned()))
        } else {
            Value::String(String::from_utf8_lossy(&self.body).into_owned())
        };
        ApiResponse { status: self.status, headers: self.headers, body }
    }

    /// `{"status":…,"headers":{…},"body":…}` as one JSON text, the body spliced in verbatim when
    /// it is valid JSON (checked without building it).
    pub fn to_envelope_json(&self) -> String {
        let headers = serde_json::to_string(&self.headers).unwrap_or_else(|_| "{}".into());
        let body = if self.body.is_empty() {
            "null".to_string()
        } else if self.json && serde_json::from_slice::<serde::de::IgnoredAny>(&self.body).is_ok() {
            String::from_utf8_lossy(&self.body).into_owned()
        } else {
            serde_json::to_string(&String::from_utf8_lossy(&self.body)).unwrap_or_else(|_| "null".into())
        };
        format!("{{\"status\":{},\"headers\":{},\"body\":{}}}", self.status, headers, body)
    }
}

fn is_json(headers: &reqwest::header::HeaderMap, bytes: &[u8]) -> bool {
    let ct = headers.get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if ct.contains("json") {
        return true;
    }
    ct.is_empty() && serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok()
}

const IGNORED_HEADERS: &[&str] =
    &["authorization", "host", "content-length", "connection", "transfer-encoding", "keep-alive", "upgrade", "te"];

fn header_map(h: &reqwest::header::HeaderMap) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for (k, v) in h {
        if let Ok(v) = v.to_str() {
            m.entry(k.as_str().to_string())
                .and_modify(|e: &mut String| {
                    e.push_str(", ");
                    e.push_str(v);
                })
                .or_insert_with(|| v.to_string());
        }
    }
    m
}

fn parse_body(headers: &reqwest::header::HeaderMap, bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    let ct = headers.get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if ct.is_empty() || ct.contains("json") {
        if let Ok(v) = serde_json::from_slice(bytes) {
            return v;
        }
    }
    Value::String(String::from_utf8_lossy(bytes).into_owned())
}

/// A call that passed the guard: where it goes and what it sends.
struct Call<'a> {
    tenant_id: &'a str,
    tenant: Arc<Tenant>,
    method: reqwest::Method,
    endpoints: Endpoints,
    url: url::Url,
    /// The path as the API sees it (a gateway's prefix removed): what the catalogue indexes.
    path: String,
    headers: &'a [(String, String)],
    body: Option<(bytes::Bytes, String)>,
    /// The call may be sent again (the catalogue's replay flag).
    safe: bool,
    /// The slot of the tenant's token pool the current attempt uses (`pool.rs`; always 0 with one token).
    pool_slot: AtomicUsize,
    /// The slot its latest attempt took in the shared window (a 429 on it teaches the shared budget).
    slot: Mutex<Option<Slot>>,
    /// Its turn among the token's attempts ([`Limiter::admit`]), held until the next attempt's or its end.
    turn: Mutex<Option<tokio::sync::OwnedSemaphorePermit>>,
}

impl Call<'_> {
    /// The name of the current attempt's token in the shared store: its shared budget and 429 pause
    /// (the tenant id for slot 0, as before pools).
    fn budget_id(&self) -> String {
        crate::token::pool_store_id(self.tenant_id, self.pool_slot.load(Ordering::Relaxed))
    }
}

/// An answer that is not a success, kept to build the error from.
struct Refusal {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

/// How an attempt that did not succeed ended.
enum Failed {
    Refused(Refusal),
    /// An answer longer than [`MAX_API_BODY`]: the server's fault, and it would be again.
    TooLarge {
        status: u16,
        correlation_id: Option<String>,
        message: String,
    },
    /// No complete answer; `reason` says why.
    Lost {
        timeout: bool,
        reason: String,
    },
    /// Sending again cannot help (the proxy refused our credentials): this error, at once.
    Final(Error),
}

impl Pipeline {
    /// Sends one API call for a tenant through the pipeline; resolves on 2xx, fails with a typed
    /// error otherwise.
    pub async fn request(&self, tenant_id: &str, req: ApiRequest) -> Result<ApiResponse> {
        self.request_raw(tenant_id, req).await.map(RawResponse::parse)
    }

    /// [`Pipeline::request`] without parsing the body.
    pub async fn request_raw(&self, tenant_id: &str, req: ApiRequest) -> Result<RawResponse> {
        let counters = self.request_counters(tenant_id);
        counters.calls.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        // A traced call (trace.rs) records this request; otherwise this is one task-local lookup.
        let result = if trace::active() {
            trace::in_request(&req.method, self.until_closed(self.run(tenant_id, &req)), |r| r.status).await
        } else {
            self.until_closed(self.run(tenant_id, &req)).await
        };
        let result = self.redacted(tenant_id, result);
        counters.latency.record(started.elapsed());
        match &result {
            Ok(_) => counters.succeeded.fetch_add(1, Ordering::Relaxed),
            Err(_) => counters.failed.fetch_add(1, Ordering::Relaxed),
        };
        counters.outcomes.record(result.as_ref().err().map(Error::code));
        result
    }

    async fn run(&self, tenant_id: &str, req: &ApiRequest) -> Result<RawResponse> {
        let call = self.guard(tenant_id, req)?;
        if trace::active() {
            let template = crate::operations::catalogue().lookup(call.method.as_str(), &call.path).map(|op| op.template);
            trace::describe_request(template, call.url.host_str(), call.url.port());
        }
        self.preflight(&call)?;
        let counters = self.request_counters(tenant_id);
        let mut budget = RetryBudget::new(self.options.max_retries, self.options.max_retry_delay);
        loop {
            // The token (and its limiter) this attempt goes through: the tenant's one, or the pool's
            // slot with the most room (`pool.rs`).
            let mut lane = self.lane(&call.tenant, &call.pool_slot);
            let limiter = Arc::clone(&lane.limiter);
            trace::attempt_start();
            let paced = self.pace(&call, &limiter, &mut budget).await;
            paced.inspect_err(|_| trace::attempt_end(None, None))?;
            lane.paced();
            // However this attempt ends, the limiter hears of it (a cold limiter's probe, the ramp).
            let _probe = EndProbe(&limiter);
            let token = self.authorize(&call).await.inspect_err(|_| trace::attempt_end(None, None))?;
            let sent = match self.send(&call, &token.value, &limiter).await {
                Ok(r) => {
                    trace::attempt_end(Some(r.status), None);
                    return Ok(r);
                }
                Err(failed) => failed,
            };
            match &sent {
                Failed::Refused(r) => trace::attempt_end(Some(r.status), None),
                Failed::TooLarge { status, .. } => trace::attempt_end(Some(*status), None),
                Failed::Lost { timeout, .. } => trace::attempt_end(None, Some(*timeout)),
                Failed::Final(_) => trace::attempt_end(None, None),
            }
            let end = match &sent {
                Failed::Refused(r) => AttemptEnd::Answer { status: r.status, stated_wait: stated_wait(r) },
                Failed::TooLarge { .. } | Failed::Final(_) => return Err(self.failure(&call, sent, budget.retries())),
                Failed::Lost { timeout, .. } => AttemptEnd::Lost { timeout: *timeout },
            };
            if let Failed::Refused(Refusal { status: 429, .. }) = sent {
                counters.throttled.fetch_add(1, Ordering::Relaxed);
            }
            match budget.decide(end, call.safe, rand::random) {
                Verdict::Refresh => {
                    // The token may be stale (revoked, rotated): drop it, get a new one, once.
                    self.tokens.invalidate(tenant_id, token.id);
                    trace::attempt_refreshed();
                    self.events.emit(
                        EventKind::Retry,
                        Some(tenant_id),
                        json!({"what": "request", "status": 401, "reason": "token refused; refreshing", "path": call.path}),
                    );
                    counters.retries.fetch_add(1, Ordering::Relaxed);
                }
                Verdict::Hold { server_wait, jitter, retry } => {
                    let wait = server_wait + jitter;
                    counters.held_ms.fetch_add(wait.as_millis() as u64, Ordering::Relaxed);
                    trace::attempt_held(wait.as_millis() as u64);
                    // The limiter's hold does the waiting, for every request of the tenant — and, in
                    // shared mode, the store's pause for every replica's (written before anything else
                    // is sent; a store that is down leaves it local).
                    limiter.hold(server_wait, jitter, Instant::now());
                    if let Some(store) = &self.store {
                        let slot = *lock(&call.slot);
                        let _ = store.pause(&call.budget_id(), server_wait, slot).await;
                    }
                    let correlation_id = match &sent {
                        Failed::Refused(r) => correlation_of(&r.headers),
                        _ => None,
                    };
                    self.events.emit(
                        EventKind::RatelimitWait,
                        Some(tenant_id),
                        json!({"waitMs": wait.as_millis() as u64, "path": call.path, "correlationId": correlation_id}),
                    );
                    if !retry {
                        return Err(Error::RateLimited {
                            tenant_id: tenant_id.into(),
                            retry_after_ms: wait.as_millis() as u64,
                            correlation_id,
                        });
                    }
                    counters.retries.fetch_add(1, Ordering::Relaxed);
                }
                Verdict::Backoff(wait) => {
                    let (reason, status) = match &sent {
                        Failed::Refused(r) => (format!("HTTP {}", r.status), Some(r.status)),
                        Failed::TooLarge { status, .. } => (format!("HTTP {status}"), Some(*status)),
                        Failed::Lost { reason, .. } => (reason.clone(), None),
                        Failed::Final(e) => (e.to_string(), None),
                    };
                    counters.retries.fetch_add(1, Ordering::Relaxed);
                    self.events.emit(
                        EventKind::Retry,
                        Some(tenant_id),
                        json!({"what": "request", "attempt": budget.retries(), "delayMs": wait.as_millis() as u64, "reason": reason, "status": status, "path": call.path}),
                    );
                    tokio::time::sleep(wait).await;
                }
                Verdict::Fail => return Err(self.failure(&call, sent, budget.retries())),
            }
        }
    }

    /// Step 1, guard: the method parses; the path is an API path whose URL is on the tenant's API host.
    fn guard<'a>(&self, tenant_id: &'a str, req: &'a ApiRequest) -> Result<Call<'a>> {
        let tenant = self.tenant(tenant_id)?;
        let method = reqwest::Method::from_bytes(req.method.to_ascii_uppercase().as_bytes())
            .map_err(|_| Error::InvalidOptions { option: "method".into(), reason: format!("'{}' is not an HTTP method", req.method) })?;
        let endpoints = self.egress.endpoints(&tenant.environment).map_err(|e| e.with_tenant(tenant_id))?;
        let mut url = endpoints.api_url(&req.path).map_err(|e| e.with_tenant(tenant_id))?;
        if !req.query.is_empty() {
            let mut q = url.query_pairs_mut();
            for (k, v) in &req.query {
                q.append_pair(k, v);
            }
        }
        let path = format!("/{}", url.path().strip_prefix(endpoints.api_base.path()).unwrap_or(url.path()).trim_start_matches('/'));
        let safe = retry_safe(method.as_str(), &path);
        Ok(Call {
            tenant_id,
            tenant,
            body: encode_body(req)?,
            method,
            endpoints,
            url,
            path,
            headers: &req.headers,
            safe,
            slot: Mutex::new(None),
            turn: Mutex::new(None),
            pool_slot: AtomicUsize::new(0),
        })
    }

    /// Step 2, pre-flight: refuses a call of a tenant whose declared scopes include none the operation accepts. Not for a tenant
    /// declaring names Genesys does not know (`config.unknown-scopes` said so at load).
    fn preflight(&self, call: &Call<'_>) -> Result<()> {
        let t = &call.tenant;
        if self.options.preflight == PreflightMode::Off || t.required_scopes.is_empty() || !t.unknown_scopes.is_empty() {
            return Ok(());
        }
        let Some(accepted) = missing_scopes(call.method.as_str(), &call.path, &t.required_scopes) else { return Ok(()) };
        let refusal = preflight_refusal(
            call.tenant_id,
            accepted.clone(),
            PermissionMode::Any,
            &t.required_scopes,
            Some(&format!("{} {}", call.method, call.path)),
        );
        if self.options.preflight == PreflightMode::Enforce {
            return Err(refusal);
        }
        self.events.emit(
            EventKind::PreflightWarning,
            Some(call.tenant_id),
            json!({"missingScopes": accepted, "mode": "ANY", "message": refusal.to_string()}),
        );
        Ok(())
    }

    /// Step 3, pace: with Redis, the shared budget of every replica paces the calls (the local window would
    /// count the other replicas' calls twice, through the headers); without it, or when it fails,
    /// the local window. A 429 hold applies either way, within what is left of the retry budget: a
    /// hold longer than that fails the call now (waiting could outlast any caller).
    async fn pace(&self, call: &Call<'_>, limiter: &Limiter, budget: &mut RetryBudget) -> Result<()> {
        let counters = self.request_counters(call.tenant_id);
        let allowance = budget.hold_budget();
        let too_long = |wait: Duration| Error::RateLimited {
            tenant_id: call.tenant_id.into(),
            retry_after_ms: wait.as_millis() as u64,
            correlation_id: None,
        };
        // Its turn first (first come, first served among the token's calls), then the limiter: a bulk
        // listing's thousands of calls wait here, asleep, not in the limiter or on the wire.
        let started = Instant::now();
        drop(lock(&call.turn).take());
        let turn = limiter.admit(allowance).await.map_err(too_long)?;
        *lock(&call.turn) = Some(turn);
        let queued = started.elapsed();
        let allowance = allowance.saturating_sub(queued);
        let paced = match &self.store {
            Some(store) => rate_limit::shared::pace(store, limiter, &call.budget_id(), allowance).await.map_err(too_long)?,
            None => Paced { slot: None, waited: limiter.acquire_within(allowance).await.map_err(too_long)? },
        };
        *lock(&call.slot) = paced.slot;
        let waited = queued + paced.waited;
        if !waited.is_zero() {
            counters.limiter_wait_ms.fetch_add(waited.as_millis() as u64, Ordering::Relaxed);
        }
        budget.spend_pacing(waited);
        Ok(())
    }

    /// Step 4, authorize: the egress check on the final URL, then the tenant's current token.
    async fn authorize(&self, call: &Call<'_>) -> Result<Arc<crate::token::AccessToken>> {
        call.endpoints.verify_api_url(&call.url).map_err(|reason| Error::HostNotAllowed {
            tenant_id: Some(call.tenant_id.into()),
            host: call.url.host_str().unwrap_or_default().to_string(),
            reason,
        })?;
        self.token_at(call.tenant_id, call.pool_slot.load(Ordering::Relaxed)).await
    }

    /// Steps 5 and 6, send and classify: one attempt — send, read the body up to its limit, tell a success from the rest.
    async fn send(&self, call: &Call<'_>, token: &crate::secret::Secret, limiter: &Limiter) -> std::result::Result<RawResponse, Failed> {
        let timeout = self.options.request_timeout;
        let mut rb = self
            .http
            .request(call.method.clone(), call.url.clone())
            .timeout(timeout)
            .header("Accept", "application/json")
            .bearer_auth(token.expose());
        for (k, v) in call.headers {
            if !IGNORED_HEADERS.contains(&k.to_ascii_lowercase().as_str()) {
                rb = rb.header(k.as_str(), v.as_str());
            }
        }
        if let Some((bytes, ct)) = &call.body {
            rb = rb.header("Content-Type", ct.as_str()).body(bytes.clone());
        }
        let resp = match rb.send().await {
            Ok(r) => r,
            Err(e) => {
                return Err(match self.http.proxy_refusal(&call.url, Err(&e)) {
                    Some(refused) => Failed::Final(refused),
                    None => Failed::Lost { timeout: e.is_timeout(), reason: self.http.describe(&call.url, &e, timeout) },
                })
            }
        };
        let status = resp.status().as_u16();
        if let Some(refused) = self.http.proxy_refusal(&call.url, Ok(status)) {
            return Err(Failed::Final(refused));
        }
        let headers = resp.headers().clone();
        let said = RateLimitHeaders::from_headers(&headers);
        limiter.observe(&said, Instant::now());
        if let (Some(store), Some(count @ 0..=1)) = (&self.store, said.count) {
            // This request opened the server's window: the shared one starts now (a store that is
            // down leaves it as it was).
            let _ = store.align(&call.budget_id(), count, limiter.shared_budget().window).await;
        }
        let slot = *lock(&call.slot);
        if let (Some(store), true, Some(slot @ Slot { number: 1, .. })) = (&self.store, said.is_empty(), slot) {
            // Without headers, the answer to a shared window's first slot: the server's window opened
            // before now, so the shared one is re-anchored on it (ends late, never early).
            let _ = store.anchor(&call.budget_id(), slot).await;
        }
        if let (Some(store), Some(slot @ Slot { probe: true, .. }), true) = (&self.store, slot, status != 429) {
            // A probe beyond the inferred budget was admitted: the budget grows to it, and this
            // process's callers waiting for the window look again (the next probe may go).
            let _ = store.probed(&call.budget_id(), slot).await;
            limiter.probe_answered();
        }
        if status != 429 {
            limiter.admitted();
        }
        let bytes = match read_limited(resp, MAX_API_BODY).await {
            Ok(b) => b,
            Err(e @ BodyError::TooLarge { .. }) => {
                let message = format!("{} {}: {}", call.method, call.path, e.describe(timeout));
                return Err(Failed::TooLarge { status, correlation_id: correlation_of(&headers), message });
            }
            Err(BodyError::Read(e)) => return Err(Failed::Lost { timeout: e.is_timeout(), reason: describe_reqwest(&e, timeout) }),
        };
        if (200..300).contains(&status) {
            let json = is_json(&headers, &bytes);
            return Ok(RawResponse { status, headers: header_map(&headers), body: bytes, json });
        }
        let body = parse_body(&headers, &bytes);
        Err(Failed::Refused(Refusal { status, headers, body }))
    }

    /// The error a failed call ends with.
    fn failure(&self, call: &Call<'_>, sent: Failed, retries: u32) -> Error {
        let what = format!("{} {}", call.method, call.path);
        match sent {
            Failed::Lost { timeout: true, .. } if !call.safe => {
                Error::Timeout { tenant_id: Some(call.tenant_id.into()), what, after_ms: self.options.request_timeout.as_millis() as u64 }
            }
            Failed::Lost { reason, .. } if retries > 0 => {
                Error::Network { tenant_id: Some(call.tenant_id.into()), reason: format!("{what}: {reason} (after {retries} retries)") }
            }
            Failed::Lost { reason, .. } => Error::Network { tenant_id: Some(call.tenant_id.into()), reason: format!("{what}: {reason}") },
            Failed::Final(e) => e.with_tenant(call.tenant_id),
            Failed::TooLarge { status, correlation_id, message } => {
                Error::Upstream { tenant_id: call.tenant_id.into(), status, body: Value::Null, message: Some(message), correlation_id }
            }
            Failed::Refused(r) => {
                let www = r.headers.get("www-authenticate").and_then(|v| v.to_str().ok());
                let correlation_id = correlation_of(&r.headers);
                to_error(&Answer {
                    tenant_id: call.tenant_id,
                    status: r.status,
                    body: &r.body,
                    www_authenticate: www,
                    correlation_id: correlation_id.as_deref(),
                    call: Some((call.method.as_str(), &call.path)),
                })
            }
        }
    }
}

/// What the server said to wait: `Retry-After`; for a 429 also `inin-ratelimit-reset` or the
/// "Retry the request in [N] seconds" of Genesys's message.
fn stated_wait(r: &Refusal) -> Option<Duration> {
    if r.status == 429 {
        wait_after_429(&r.headers).or_else(|| r.body.get("message").and_then(Value::as_str).and_then(retry_after::from_message))
    } else {
        retry_after::from_headers(&r.headers)
    }
}

fn correlation_of(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers.get("inin-correlation-id").and_then(|v| v.to_str().ok()).map(str::to_string)
}

fn encode_body(req: &ApiRequest) -> Result<Option<(bytes::Bytes, String)>> {
    let Some(body) = &req.body else { return Ok(None) };
    let ct = req.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("content-type")).map(|(_, v)| v.clone());
    match (body, ct) {
        (Value::String(s), Some(ct)) if !ct.contains("json") => Ok(Some((bytes::Bytes::from(s.clone()), ct))),
        (v, ct) => {
            let bytes = serde_json::to_vec(v).map_err(|e| Error::InvalidOptions { option: "body".into(), reason: e.to_string() })?;
            Ok(Some((bytes.into(), ct.unwrap_or_else(|| "application/json".into()))))
        }
    }
}

/// Tells the limiter an attempt is over, whichever way it left the loop: a cold limiter's probe
/// ends with it, and it leaves the ramp's count of what is in flight.
struct EndProbe<'a>(&'a Limiter);

impl Drop for EndProbe<'_> {
    fn drop(&mut self) {
        self.0.attempt_over();
    }
}

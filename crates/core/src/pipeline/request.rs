//! `Orchestrator::request`: the fixed order of steps every API call goes through.
//!
//! 1. egress guard — the URL must be on the tenant's API host (or the gateway);
//! 2. pre-flight — the tenant's declared `requiredScopes` must cover the endpoint;
//! 3. rate limiter — the tenant's window (and any 429 hold);
//! 4. auth — the current token, fetched inside the retry loop so every attempt is signed with
//!    the newest one;
//! 5. transport — pooled reqwest, per-attempt timeout;
//! 6. classification — 2xx, 401, 403, 429, 5xx, other;
//! 7. retry decision — 401 once after a refresh; 429 after `Retry-After`; 5xx/transport with
//!    full-jitter backoff when the request is safe to repeat; within `maxRetries` and
//!    `maxRetryDelayMs` of cumulative waiting.

use super::backoff::{full_jitter, small_jitter};
use super::catalogue::{missing_scopes, retry_safe};
use super::classify::{preflight_refusal, to_error, Answer};
use super::rate_limit::Limiter;
use super::retry_after::{wait_after_429, RateLimitHeaders};
use crate::error::{Error, PermissionMode, Result};
use crate::orchestrator::Orchestrator;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::time::Instant;

/// What to do when a tenant's declared `requiredScopes` do not cover an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PreflightMode {
    /// Fail with `SCOPE_MISSING` before sending (default; only for tenants that declare scopes).
    #[default]
    Enforce,
    /// Send anyway, emit a `preflight.warning` event.
    Warn,
    /// No check.
    Off,
}

impl PreflightMode {
    /// Parses `'enforce' | 'warn' | 'off'`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "enforce" => Some(PreflightMode::Enforce),
            "warn" => Some(PreflightMode::Warn),
            "off" => Some(PreflightMode::Off),
            _ => None,
        }
    }
}

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

const IGNORED_HEADERS: &[&str] = &["authorization", "host", "content-length", "connection", "transfer-encoding", "keep-alive", "upgrade", "te"];

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

enum Outcome {
    Retry { wait: Duration, reason: String, status: Option<u16> },
    Fail(Error),
}

impl Orchestrator {
    /// Sends one API call for a tenant through the pipeline; resolves on 2xx, fails with a typed
    /// error otherwise.
    pub async fn request(&self, tenant_id: &str, req: ApiRequest) -> Result<ApiResponse> {
        self.request_raw(tenant_id, req).await.map(RawResponse::parse)
    }

    /// [`Orchestrator::request`] without parsing the body.
    pub async fn request_raw(&self, tenant_id: &str, req: ApiRequest) -> Result<RawResponse> {
        let counters = self.request_counters(tenant_id);
        counters.calls.fetch_add(1, Ordering::Relaxed);
        let result = self.until_closed(self.request_inner(tenant_id, &req)).await;
        let result = self.redacted(tenant_id, result);
        match &result {
            Ok(_) => counters.succeeded.fetch_add(1, Ordering::Relaxed),
            Err(_) => counters.failed.fetch_add(1, Ordering::Relaxed),
        };
        result
    }

    async fn request_inner(&self, tenant_id: &str, req: &ApiRequest) -> Result<RawResponse> {
        let opts = self.options();
        let tenant = self.tenant(tenant_id)?;
        let method = reqwest::Method::from_bytes(req.method.to_ascii_uppercase().as_bytes())
            .map_err(|_| Error::InvalidOptions { option: "method".into(), reason: format!("'{}' is not an HTTP method", req.method) })?;

        // 1. egress guard
        let endpoints = self.egress().endpoints(&tenant.environment).map_err(|e| e.with_tenant(tenant_id))?;
        let mut url = endpoints.api_url(&req.path).map_err(|e| e.with_tenant(tenant_id))?;
        if !req.query.is_empty() {
            let mut q = url.query_pairs_mut();
            for (k, v) in &req.query {
                q.append_pair(k, v);
            }
        }
        // The path as the API sees it (a gateway's path prefix removed): what the catalogue indexes.
        let path = format!("/{}", url.path().strip_prefix(endpoints.api_base.path()).unwrap_or(url.path()).trim_start_matches('/'));

        // 2. pre-flight: a tenant whose declared scopes include none the operation accepts. Not for a
        // tenant declaring names Genesys does not know (`config.unknown-scopes` said so at load).
        if opts.preflight != PreflightMode::Off && !tenant.required_scopes.is_empty() && tenant.unknown_scopes.is_empty() {
            if let Some(accepted) = missing_scopes(method.as_str(), &path, &tenant.required_scopes) {
                let refusal = preflight_refusal(tenant_id, accepted.clone(), PermissionMode::Any, &tenant.required_scopes, Some(&format!("{method} {path}")));
                if opts.preflight == PreflightMode::Enforce {
                    return Err(refusal);
                }
                self.events().emit("preflight.warning", Some(tenant_id), json!({"missingScopes": accepted, "mode": "ANY", "message": refusal.to_string()}));
            }
        }

        let body = encode_body(req)?;
        let safe = retry_safe(method.as_str(), &path);
        let limiter = self.limiter(tenant_id);
        let counters = self.request_counters(tenant_id);
        let mut retries: u32 = 0;
        let mut waited = Duration::ZERO;
        let mut refreshed_after_401 = false;
        let mut own_hold = Duration::ZERO;

        loop {
            // 3. rate limiter: with Redis, the shared budget of every replica paces the calls (the
            // local window would count the other replicas' calls twice, through the headers);
            // without it, or when it fails, the local window. A 429 hold applies either way.
            let mut paced_by_store = false;
            if let Some(store) = self.store() {
                let mut shared_wait = Duration::ZERO;
                loop {
                    // Re-read the budget each round: the first answers teach the limiter the real one.
                    let (allowed, _, window) = limiter.snapshot();
                    match store.rate_wait(tenant_id, allowed, window).await {
                        Ok(Some(d)) => {
                            shared_wait += d;
                            tokio::time::sleep(d).await;
                        }
                        Ok(None) => {
                            paced_by_store = true;
                            break;
                        }
                        Err(_) => break,
                    }
                }
                if !shared_wait.is_zero() {
                    counters.limiter_wait_ms.fetch_add(shared_wait.as_millis() as u64, Ordering::Relaxed);
                }
            }
            // A 429 hold longer than what is left of the retry budget fails the call now: it would
            // fail after the wait anyway, and waiting could outlast any caller (`Retry-After: 3600`).
            // (The wait of this request's own last 429 is already in `waited`: the hold does it.)
            let budget = opts.max_retry_delay.saturating_sub(waited) + std::mem::take(&mut own_hold);
            let w = if paced_by_store { limiter.wait_hold(budget).await } else { limiter.acquire_within(budget).await };
            let w = w.map_err(|left| Error::RateLimited { tenant_id: tenant_id.into(), retry_after_ms: left.as_millis() as u64, correlation_id: None })?;
            if !w.is_zero() {
                counters.limiter_wait_ms.fetch_add(w.as_millis() as u64, Ordering::Relaxed);
            }
            // However this attempt ends, a cold limiter's probe ends with it.
            let _probe = EndProbe(&limiter);
            // The egress check runs on the final URL of every attempt, whatever built it.
            endpoints.verify_api_url(&url).map_err(|reason| Error::HostNotAllowed {
                tenant_id: Some(tenant_id.into()),
                host: url.host_str().unwrap_or_default().to_string(),
                reason,
            })?;
            // 4. auth
            let token = self.token(tenant_id).await?;
            // 5. transport
            let mut rb = self
                .http()
                .request(method.clone(), url.clone())
                .timeout(opts.request_timeout)
                .header("Accept", "application/json")
                .bearer_auth(token.value.expose());
            for (k, v) in &req.headers {
                if !IGNORED_HEADERS.contains(&k.to_ascii_lowercase().as_str()) {
                    rb = rb.header(k.as_str(), v.as_str());
                }
            }
            if let Some((bytes, ct)) = &body {
                rb = rb.header("Content-Type", ct.as_str()).body(bytes.clone());
            }
            let outcome = match rb.send().await {
                Err(e) => {
                    let reason = crate::transport::describe_reqwest(&e, opts.request_timeout);
                    if safe {
                        Outcome::Retry { wait: full_jitter(retries + 1, opts.max_retry_delay), reason, status: None }
                    } else if e.is_timeout() {
                        Outcome::Fail(Error::Timeout { tenant_id: Some(tenant_id.into()), what: format!("{method} {path}"), after_ms: opts.request_timeout.as_millis() as u64 })
                    } else {
                        Outcome::Fail(Error::Network { tenant_id: Some(tenant_id.into()), reason: format!("{method} {path}: {reason}") })
                    }
                }
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let headers = resp.headers().clone();
                    limiter.observe(&RateLimitHeaders::from_headers(&headers), Instant::now());
                    if status != 429 {
                        limiter.admitted();
                    }
                    let bytes = match crate::transport::read_limited(resp, crate::transport::MAX_API_BODY).await {
                        Ok(b) => b,
                        Err(e @ crate::transport::BodyError::TooLarge { .. }) => {
                            return Err(Error::Upstream {
                                tenant_id: tenant_id.into(),
                                status,
                                body: Value::Null,
                                message: Some(format!("{method} {path}: {}", e.describe(opts.request_timeout))),
                                correlation_id: headers.get("inin-correlation-id").and_then(|v| v.to_str().ok()).map(str::to_string),
                            })
                        }
                        Err(e) => {
                            let reason = e.describe(opts.request_timeout);
                            if safe {
                                retries_guard(&mut retries, opts.max_retries, tenant_id, &reason)?;
                                continue;
                            }
                            return Err(Error::Network { tenant_id: Some(tenant_id.into()), reason });
                        }
                    };
                    if (200..300).contains(&status) {
                        let json = is_json(&headers, &bytes);
                        return Ok(RawResponse { status, headers: header_map(&headers), body: bytes, json });
                    }
                    let value = parse_body(&headers, &bytes);
                    let correlation_id = headers.get("inin-correlation-id").and_then(|v| v.to_str().ok()).map(str::to_string);
                    match status {
                        401 if !refreshed_after_401 => {
                            // The token may be stale (revoked, rotated): drop it, get a new one, once.
                            refreshed_after_401 = true;
                            self.invalidate(tenant_id, token.id);
                            self.events().emit("retry", Some(tenant_id), json!({"what": "request", "status": 401, "reason": "token refused; refreshing", "path": path}));
                            counters.retries.fetch_add(1, Ordering::Relaxed);
                            continue;
                        }
                        429 => {
                            counters.throttled.fetch_add(1, Ordering::Relaxed);
                            let stated = wait_after_429(&headers)
                                .or_else(|| value.get("message").and_then(|m| m.as_str()).and_then(super::retry_after::from_message));
                            let (server_wait, jitter) = (stated.unwrap_or_else(|| full_jitter(retries + 1, opts.max_retry_delay)), small_jitter());
                            let wait = server_wait + jitter;
                            limiter.hold(server_wait, jitter, Instant::now());
                            self.events().emit("ratelimit.wait", Some(tenant_id), json!({"waitMs": wait.as_millis() as u64, "path": path, "correlationId": correlation_id}));
                            if wait > opts.max_retry_delay || waited + wait > opts.max_retry_delay || retries >= opts.max_retries {
                                Outcome::Fail(Error::RateLimited { tenant_id: tenant_id.into(), retry_after_ms: wait.as_millis() as u64, correlation_id })
                            } else {
                                // The limiter's hold does the waiting for every request of the tenant.
                                waited += wait;
                                own_hold = wait;
                                retries += 1;
                                counters.retries.fetch_add(1, Ordering::Relaxed);
                                continue;
                            }
                        }
                        500 | 502 | 503 | 504 if safe => {
                            let wait = super::retry_after::from_headers(&headers)
                                .map(|d| d + small_jitter())
                                .unwrap_or_else(|| full_jitter(retries + 1, opts.max_retry_delay));
                            let www = headers.get("www-authenticate").and_then(|v| v.to_str().ok());
                            let last = to_error(&Answer { tenant_id, status, body: &value, www_authenticate: www, correlation_id: correlation_id.as_deref() });
                            if retries >= opts.max_retries || waited + wait > opts.max_retry_delay {
                                Outcome::Fail(last)
                            } else {
                                Outcome::Retry { wait, reason: format!("HTTP {status}"), status: Some(status) }
                            }
                        }
                        _ => {
                            let www = headers.get("www-authenticate").and_then(|v| v.to_str().ok());
                            Outcome::Fail(to_error(&Answer { tenant_id, status, body: &value, www_authenticate: www, correlation_id: correlation_id.as_deref() }))
                        }
                    }
                }
            };
            match outcome {
                Outcome::Fail(e) => return Err(e),
                Outcome::Retry { wait, reason, status } => {
                    if retries >= opts.max_retries || waited + wait > opts.max_retry_delay {
                        return Err(match status {
                            Some(s) => Error::Upstream { tenant_id: tenant_id.into(), status: s, body: Value::Null, message: Some(reason), correlation_id: None },
                            None => Error::Network { tenant_id: Some(tenant_id.into()), reason: format!("{method} {path}: {reason} (after {retries} retries)") },
                        });
                    }
                    retries += 1;
                    waited += wait;
                    counters.retries.fetch_add(1, Ordering::Relaxed);
                    self.events().emit("retry", Some(tenant_id), json!({"what": "request", "attempt": retries, "delayMs": wait.as_millis() as u64, "reason": reason, "status": status, "path": path}));
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}

fn retries_guard(retries: &mut u32, max: u32, tenant_id: &str, reason: &str) -> Result<()> {
    if *retries >= max {
        return Err(Error::Network { tenant_id: Some(tenant_id.into()), reason: reason.to_string() });
    }
    *retries += 1;
    Ok(())
}

fn encode_body(req: &ApiRequest) -> Result<Option<(bytes::Bytes, String)>> {
    let Some(body) = &req.body else { return Ok(None) };
    let ct = req
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.clone());
    match (body, ct) {
        (Value::String(s), Some(ct)) if !ct.contains("json") => Ok(Some((bytes::Bytes::from(s.clone()), ct))),
        (v, ct) => {
            let bytes = serde_json::to_vec(v).map_err(|e| Error::InvalidOptions { option: "body".into(), reason: e.to_string() })?;
            Ok(Some((bytes.into(), ct.unwrap_or_else(|| "application/json".into()))))
        }
    }
}

/// Ends the limiter's probe when an attempt is over, whichever way it left the loop.
struct EndProbe<'a>(&'a Limiter);

impl Drop for EndProbe<'_> {
    fn drop(&mut self) {
        self.0.end_probe();
    }
}

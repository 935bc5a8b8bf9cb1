//! A call's trace record, for OpenTelemetry spans made in JS (lib/otel.js): what the call did —
//! each HTTP request with its attempts (status, 429 hold, 401 recovery) and the token fetches it
//! waited for — with wall-clock times, collected only when the call asks for it.
//!
//! The pipeline and the token manager write here without knowing who listens: [`collect`] scopes a
//! task-local [`CallRecord`] over the call's future, [`in_request`] one HTTP request's record inside
//! it, and the `attempt_*` / [`token_start`] / [`token_end`] notes land in the innermost open record.
//! With no record in scope every note is one task-local lookup that finds nothing: a call that did
//! not ask costs nothing else. The record holds no secret, no token and no concrete path (only the
//! catalogue's template, e.g. `/api/v2/users/{userId}`), so it may go anywhere a span goes. Its JSON
//! is a compact wire form ([`wire`]): it crosses once per traced call and is parsed on Node's thread.

use crate::error::{Error, Result};
use crate::sync::lock;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

mod wire;

tokio::task_local! {
    static CALL: Arc<Mutex<CallRecord>>;
    static REQUEST: Arc<Mutex<RequestRecord>>;
}

/// Microseconds since the Unix epoch (wall clock: spans are placed on the caller's timeline).
pub fn now_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64)
}

/// What one call did: its HTTP requests (one for `request()`, one per page for a listing) and the
/// token fetches it waited for outside any request (`getAccessToken()`).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct CallRecord {
    /// Each HTTP request of the call, in the order they started.
    pub requests: Vec<RequestRecord>,
    /// Token fetches outside a request.
    pub tokens: Vec<TokenRecord>,
}

/// One API request: from the pipeline's entry to its answer or error, retries included.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RequestRecord {
    /// Start, µs since the epoch.
    pub start_us: u64,
    /// End, µs since the epoch.
    pub end_us: u64,
    /// The method, upper case.
    pub method: String,
    /// The catalogue's path template (`/api/v2/users/{userId}`); none for an operation it does not
    /// know — never the concrete path, which may hold ids.
    pub url_template: Option<&'static str>,
    /// The host the request went to (the API host or the gateway).
    pub server_address: Option<String>,
    /// Its port, when not the scheme's default.
    pub server_port: Option<u16>,
    /// The last answer's HTTP status, if any.
    pub status: Option<u16>,
    /// The error code the request failed with.
    pub error_code: Option<&'static str>,
    /// Retries: attempts after the first.
    pub retries: u32,
    /// Total 429 hold (server wait plus jitter) decided after its attempts, ms.
    pub hold_ms: u64,
    /// Each attempt.
    pub attempts: Vec<AttemptRecord>,
    /// The token fetches it waited for.
    pub tokens: Vec<TokenRecord>,
}

/// One attempt of a request: from its pacing (limiter, 429 hold) through the token to the answer.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct AttemptRecord {
    /// Start, µs since the epoch.
    pub start_us: u64,
    /// End, µs since the epoch.
    pub end_us: u64,
    /// The answer's status; none when no answer came.
    pub status: Option<u16>,
    /// No complete answer: `"timeout"` or `"network"`.
    pub lost: Option<&'static str>,
    /// The 429 hold this attempt's answer imposed on the next, ms.
    pub hold_ms: u64,
    /// This attempt met a 401 and the token was refreshed for the next.
    pub token_refreshed: bool,
}

/// One wait for a token.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct TokenRecord {
    /// Start, µs since the epoch.
    pub start_us: u64,
    /// End, µs since the epoch.
    pub end_us: u64,
    /// `"hit"`: served from the cache; `"miss"`: waited for a fetch.
    pub cache: &'static str,
    /// The fetch was already under way for another caller (single flight), this one joined it.
    pub joined: bool,
    /// The error code the wait ended with.
    pub error_code: Option<&'static str>,
}

/// Runs `fut`, with a record of what it did when `on` (else none, and nothing is recorded).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use genesys_tenants_core::trace;
/// let (r, record) = trace::collect(true, async { trace::token_end(trace::token_start(), true, false, None); 1 }).await;
/// assert_eq!((r, record.unwrap().tokens[0].cache), (1, "hit"));
/// assert!(trace::collect(false, async {}).await.1.is_none());
/// # }
/// ```
pub fn collect<T, F: Future<Output = T>>(on: bool, fut: F) -> impl Future<Output = (T, Option<CallRecord>)> {
    // Boxed here, once: a call's future is large (a request's ~13 KB), and an async fn that held it
    // in its scope would be twice that, moved and allocated on Node's thread for every traced call
    // (what the binding spawns is this small future).
    let fut = Box::pin(fut);
    async move {
        if !on {
            return (fut.await, None);
        }
        let record = Arc::new(Mutex::new(CallRecord::default()));
        let out = CALL.scope(Arc::clone(&record), fut).await;
        let taken = std::mem::take(&mut *lock(&record));
        (out, Some(taken))
    }
}

/// Whether a record is being collected here.
pub fn active() -> bool {
    CALL.try_with(|_| ()).is_ok()
}

/// Runs one HTTP request's `fut` inside its own record (when a call's record is in scope), closed
/// with `status_of` its success or the error's code, and added to the call's record.
pub async fn in_request<T>(method: &str, fut: impl Future<Output = Result<T>>, status_of: impl FnOnce(&T) -> u16) -> Result<T> {
    let Ok(call) = CALL.try_with(Arc::clone) else { return fut.await };
    let record = RequestRecord { start_us: now_us(), method: method.to_ascii_uppercase(), ..Default::default() };
    let mut open = OpenRequest { call, record: Arc::new(Mutex::new(record)), ended: false };
    let out = REQUEST.scope(Arc::clone(&open.record), fut).await;
    let (status, code) = match &out {
        Ok(v) => (Some(status_of(v)), None),
        Err(e) => (error_status(e), Some(e.code())),
    };
    open.end(status, code);
    out
}

/// A request's record until it is added to the call's: a request cut short (the call's deadline or
/// abort dropped it) is added as far as it went, when dropped.
struct OpenRequest {
    call: Arc<Mutex<CallRecord>>,
    record: Arc<Mutex<RequestRecord>>,
    ended: bool,
}

impl OpenRequest {
    fn end(&mut self, status: Option<u16>, code: Option<&'static str>) {
        self.ended = true;
        let mut r = std::mem::take(&mut *lock(&self.record));
        r.end_us = now_us();
        r.retries = r.attempts.len().saturating_sub(1) as u32;
        r.status = status.or_else(|| r.attempts.last().and_then(|a| a.status));
        r.error_code = code;
        if let Some(a) = r.attempts.last_mut().filter(|a| a.end_us == 0) {
            a.end_us = r.end_us;
        }
        lock(&self.call).requests.push(r);
    }
}

impl Drop for OpenRequest {
    fn drop(&mut self) {
        if !self.ended {
            self.end(None, None);
        }
    }
}

fn error_status(e: &Error) -> Option<u16> {
    e.fields().get("status").and_then(serde_json::Value::as_u64).and_then(|s| u16::try_from(s).ok())
}

fn with_request(f: impl FnOnce(&mut RequestRecord)) {
    let _ = REQUEST.try_with(|r| f(&mut lock(r)));
}

/// The request's operation and destination, once its URL is known.
pub fn describe_request(template: Option<&'static str>, host: Option<&str>, port: Option<u16>) {
    with_request(|r| {
        r.url_template = template;
        r.server_address = host.map(str::to_owned);
        r.server_port = port;
    });
}

/// An attempt begins (before its pacing).
pub fn attempt_start() {
    with_request(|r| r.attempts.push(AttemptRecord { start_us: now_us(), ..Default::default() }));
}

/// The current attempt ended: with an answer's `status`, or lost (`timeout` or not).
pub fn attempt_end(status: Option<u16>, lost_by_timeout: Option<bool>) {
    with_request(|r| {
        if let Some(a) = r.attempts.last_mut() {
            a.end_us = now_us();
            a.status = status;
            a.lost = lost_by_timeout.map(|t| if t { "timeout" } else { "network" });
        }
    });
}

/// The current attempt's 429 imposed a hold of `ms` before the next.
pub fn attempt_held(ms: u64) {
    with_request(|r| {
        r.hold_ms += ms;
        if let Some(a) = r.attempts.last_mut() {
            a.hold_ms += ms;
        }
    });
}

/// The current attempt's 401 made the token be refreshed for the next.
pub fn attempt_refreshed() {
    with_request(|r| {
        if let Some(a) = r.attempts.last_mut() {
            a.token_refreshed = true;
        }
    });
}

/// A wait for a token begins: its start, when a record is in scope (else nothing to note later).
pub fn token_start() -> Option<u64> {
    active().then(now_us)
}

/// The wait that [`token_start`] began ended: served from the cache (`hit`) or by a fetch this
/// caller `joined` or started; `error` its code if it failed.
pub fn token_end(start: Option<u64>, hit: bool, joined: bool, error: Option<&'static str>) {
    let Some(start_us) = start else { return };
    let t = TokenRecord { start_us, end_us: now_us(), cache: if hit { "hit" } else { "miss" }, joined, error_code: error };
    if REQUEST.try_with(|r| lock(r).tokens.push(t.clone())).is_err() {
        let _ = CALL.try_with(|c| lock(c).tokens.push(t));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn notes_land_in_the_innermost_record_and_nothing_is_kept_without_one() {
        // No record in scope: every note is a no-op.
        attempt_start();
        token_end(token_start(), true, false, None);
        assert!(token_start().is_none());

        let (out, rec) = collect(true, async {
            token_end(token_start(), false, true, None);
            in_request(
                "get",
                async {
                    describe_request(Some("/api/v2/users/{userId}"), Some("api.example"), None);
                    attempt_start();
                    attempt_end(Some(429), None);
                    attempt_held(1200);
                    attempt_start();
                    token_end(token_start(), true, false, None);
                    attempt_end(Some(401), None);
                    attempt_refreshed();
                    attempt_start();
                    attempt_end(Some(200), None);
                    Ok(7)
                },
                |_| 200,
            )
            .await
        })
        .await;
        assert_eq!(out.unwrap(), 7);
        let rec = rec.unwrap();
        assert_eq!((rec.tokens.len(), rec.tokens[0].cache, rec.tokens[0].joined), (1, "miss", true));
        let r = &rec.requests[0];
        assert_eq!(
            (r.method.as_str(), r.url_template, r.status, r.retries, r.hold_ms),
            ("GET", Some("/api/v2/users/{userId}"), Some(200), 2, 1200)
        );
        assert_eq!(r.attempts.iter().map(|a| a.status).collect::<Vec<_>>(), [Some(429), Some(401), Some(200)]);
        assert!(r.attempts[1].token_refreshed && !r.attempts[0].token_refreshed);
        assert_eq!(r.tokens.len(), 1);
        assert!(r.start_us <= r.attempts[0].start_us && r.attempts[2].end_us <= r.end_us);
    }

    #[tokio::test]
    async fn a_failed_request_keeps_its_code_and_last_status() {
        let (_, rec) = collect(true, async {
            in_request::<()>(
                "POST",
                async {
                    attempt_start();
                    attempt_end(None, Some(true));
                    Err(Error::Closed)
                },
                |_| 0,
            )
            .await
        })
        .await;
        let r = &rec.unwrap().requests[0];
        assert_eq!((r.error_code, r.status, r.attempts[0].lost), (Some("CLOSED"), None, Some("timeout")));
    }
}

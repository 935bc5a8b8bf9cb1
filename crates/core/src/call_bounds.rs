//! What a caller bounds one call with: a total deadline (`timeoutMs`: limiter waits, 429 holds,
//! retries and the token included) and cancellation (an `AbortSignal`, through [`OpenCalls`]).
//!
//! A bounded call races its work against both; the loser is dropped, so an HTTP request in flight
//! is aborted and nothing more is sent for it. A token request shared with other callers runs on
//! its own task and completes for them.

use crate::error::{Error, Result};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// The longest `timeoutMs` accepted: one day (an analytics job may legitimately take hours).
pub const MAX_CALL_TIMEOUT: Duration = Duration::from_secs(86_400);

/// A call's deadline and cancel handle. [`CallBounds::none`] bounds nothing.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use genesys_tenants_core::call_bounds::CallBounds;
/// use std::time::Duration;
/// let bounds = CallBounds::new(Some(Duration::from_millis(10))).unwrap();
/// let e = bounds.run(Some("acme"), std::future::pending::<genesys_tenants_core::Result<()>>()).await.unwrap_err();
/// assert_eq!(e.code(), "TIMEOUT");
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct CallBounds {
    timeout: Option<Duration>,
    deadline: Option<Instant>,
    cancel: CancellationToken,
}

impl CallBounds {
    /// No deadline, never cancelled.
    pub fn none() -> Self {
        CallBounds { timeout: None, deadline: None, cancel: CancellationToken::new() }
    }

    /// A deadline `timeout` from now (checked: 1 ms to [`MAX_CALL_TIMEOUT`]).
    pub fn new(timeout: Option<Duration>) -> Result<Self> {
        if let Some(t) = timeout {
            if t.is_zero() || t > MAX_CALL_TIMEOUT {
                return Err(Error::InvalidOptions {
                    option: "timeoutMs".into(),
                    reason: format!("must be 1 to {} milliseconds", MAX_CALL_TIMEOUT.as_millis()),
                });
            }
        }
        Ok(CallBounds { timeout, deadline: timeout.map(|t| Instant::now() + t), cancel: CancellationToken::new() })
    }

    /// Cancels the call: it fails with `ABORTED` now, and so does every later run under these bounds.
    pub fn abort(&self) {
        self.cancel.cancel();
    }

    /// Whether [`CallBounds::abort`] was called.
    pub fn is_aborted(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Runs `work` within the bounds: its result, or `ABORTED`, or `TIMEOUT` (the deadline passed),
    /// whichever comes first. An abort that came before the deadline wins over it.
    pub async fn run<T>(&self, tenant_id: Option<&str>, work: impl Future<Output = Result<T>>) -> Result<T> {
        let aborted = || Error::Aborted { tenant_id: tenant_id.map(str::to_owned) };
        if self.cancel.is_cancelled() {
            return Err(aborted());
        }
        let deadline = async {
            match self.deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            _ = self.cancel.cancelled() => Err(aborted()),
            _ = deadline => Err(Error::Timeout {
                tenant_id: tenant_id.map(str::to_owned),
                what: "the call's timeoutMs passed (limiter waits, retries and the token included)".into(),
                after_ms: self.timeout.map(|t| t.as_millis() as u64).unwrap_or_default(),
            }),
            r = work => r,
        }
    }
}

/// Calls a binding has opened and may abort, by number: the JS layer opens one per bounded call
/// (`openCall`), its `AbortSignal` aborts it (`abortCall`), and the call closes it when done.
#[derive(Debug, Default)]
pub struct OpenCalls {
    next: AtomicU32,
    open: Mutex<HashMap<u32, CallBounds>>,
}

/// More open calls than this is a leak in the caller, not load: refuse rather than grow.
const MAX_OPEN_CALLS: usize = 1_000_000;

impl OpenCalls {
    /// Opens a call with an optional deadline from now; returns its id.
    pub fn open(&self, timeout: Option<Duration>) -> Result<u32> {
        let bounds = CallBounds::new(timeout)?;
        let mut open = lock(&self.open);
        if open.len() >= MAX_OPEN_CALLS {
            return Err(Error::InvalidOptions { option: "signal".into(), reason: "too many calls open at once".into() });
        }
        let id = loop {
            let id = self.next.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
            if id != 0 && !open.contains_key(&id) {
                break id;
            }
        };
        open.insert(id, bounds);
        Ok(id)
    }

    /// The bounds of an open call; an unknown id (or none) bounds nothing.
    pub fn bounds(&self, id: Option<u32>) -> CallBounds {
        id.and_then(|id| lock(&self.open).get(&id).cloned()).unwrap_or_else(CallBounds::none)
    }

    /// Aborts an open call (no effect on an unknown or closed one).
    pub fn abort(&self, id: u32) {
        if let Some(b) = lock(&self.open).get(&id) {
            b.abort();
        }
    }

    /// Forgets a call. Idempotent.
    pub fn close(&self, id: u32) {
        lock(&self.open).remove(&id);
    }

    /// Forgets every open call (the orchestrator is closing: its calls fail with `CLOSED`, not `ABORTED`).
    pub fn clear(&self) {
        lock(&self.open).clear();
    }

    /// Runs `work` within the bounds of call `id` (none: unbounded), then closes the call.
    pub async fn run<T>(&self, id: Option<u32>, tenant_id: Option<&str>, work: impl Future<Output = Result<T>>) -> Result<T> {
        let bounds = self.bounds(id);
        let r = bounds.run(tenant_id, work).await;
        if let Some(id) = id {
            self.close(id);
        }
        r
    }

    /// How many calls are open.
    pub fn len(&self) -> usize {
        lock(&self.open).len()
    }

    /// Whether no call is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_deadline_bounds_the_whole_call() {
        let b = CallBounds::new(Some(Duration::from_millis(500))).unwrap();
        let started = Instant::now();
        let e = b.run(Some("t"), async { std::future::pending::<Result<()>>().await }).await.unwrap_err();
        assert_eq!(e.code(), "TIMEOUT");
        assert_eq!(e.fields()["timeoutMs"], 500);
        assert_eq!(started.elapsed(), Duration::from_millis(500));
        // The deadline is absolute: a second run under the same bounds has nothing left.
        let e = b.run(Some("t"), async { Ok::<_, Error>(1) }).await.unwrap_err();
        assert_eq!(e.code(), "TIMEOUT");
    }

    #[tokio::test(start_paused = true)]
    async fn an_abort_fails_the_call_now_and_every_later_run() {
        let calls = OpenCalls::default();
        let id = calls.open(None).unwrap();
        let b = calls.bounds(Some(id));
        let run = b.run(Some("t"), async { std::future::pending::<Result<()>>().await });
        tokio::pin!(run);
        assert!(futures::poll!(&mut run).is_pending());
        calls.abort(id);
        assert_eq!(run.await.unwrap_err().code(), "ABORTED");
        let mut ran = false;
        let e = b
            .run(None, async {
                ran = true;
                Ok(())
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), "ABORTED");
        assert!(!ran, "work under aborted bounds never starts");
        calls.close(id);
        assert!(calls.is_empty());
    }

    #[test]
    fn timeouts_outside_the_range_are_refused_by_name() {
        for t in [Duration::ZERO, MAX_CALL_TIMEOUT + Duration::from_millis(1)] {
            let e = CallBounds::new(Some(t)).unwrap_err();
            assert_eq!(e.code(), "INVALID_OPTIONS");
            assert_eq!(e.fields()["option"], "timeoutMs");
        }
        assert!(OpenCalls::default().bounds(Some(42)).run_is_unbounded());
    }

    impl CallBounds {
        fn run_is_unbounded(&self) -> bool {
            self.deadline.is_none() && !self.is_aborted()
        }
    }
}

//! What a caller bounds one call with: a total deadline (`timeoutMs`: limiter waits, 429 holds,
//! retries and the token included) and cancellation (an `AbortSignal`, through [`OpenCalls`]).
//!
//! A bounded call races its work against both; the loser is dropped, so an HTTP request in flight
//! is aborted and nothing more is sent for it. A token request shared with other callers runs on
//! its own task and completes for them.

use crate::error::{Error, Result};
use crate::sync::lock;
use std::collections::HashMap;
use std::future::Future;
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

/// The abortable calls under way, by the id the binding gave each (an `AbortSignal` fires →
/// [`OpenCalls::abort`]). A call is registered when it starts and closed when its [`OpenCall`]
/// guard drops — the one place a call is closed, whether it ran, failed to parse or was abandoned.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use genesys_tenants_core::call_bounds::OpenCalls;
/// use std::sync::Arc;
/// let calls = Arc::new(OpenCalls::default());
/// let call = OpenCalls::open(&calls, Some(7), None, false).unwrap();
/// calls.abort(7); // from the signal's listener
/// let e = call.run(Some("acme"), std::future::pending::<genesys_tenants_core::Result<()>>()).await.unwrap_err();
/// assert_eq!(e.code(), "ABORTED");
/// drop(call);
/// assert!(calls.is_empty());
/// # }
/// ```
#[derive(Debug, Default)]
pub struct OpenCalls {
    open: Mutex<HashMap<u32, CallBounds>>,
}

/// Most abortable calls open at once (a leak guard; each holds a few dozen bytes).
const MAX_OPEN_CALLS: usize = 1_000_000;

/// One call's bounds while it lives; closes its registration (if abortable) when dropped.
#[derive(Debug)]
pub struct OpenCall {
    bounds: CallBounds,
    registered: Option<(std::sync::Arc<OpenCalls>, u32)>,
}

impl OpenCall {
    /// An unbounded call (no deadline, not abortable).
    pub fn unbounded() -> Self {
        OpenCall { bounds: CallBounds::none(), registered: None }
    }

    /// The call's bounds (a listing's pages share them).
    pub fn bounds(&self) -> &CallBounds {
        &self.bounds
    }

    /// Runs `work` within the bounds (see [`CallBounds::run`]).
    pub async fn run<T>(&self, tenant_id: Option<&str>, work: impl Future<Output = Result<T>>) -> Result<T> {
        self.bounds.run(tenant_id, work).await
    }
}

impl Drop for OpenCall {
    fn drop(&mut self) {
        if let Some((calls, id)) = self.registered.take() {
            lock(&calls.open).remove(&id);
        }
    }
}

impl OpenCalls {
    /// Starts a call bounded by `timeout` (see [`CallBounds::new`]). With an `id` (the binding's,
    /// not 0) it is abortable by [`OpenCalls::abort`] until the returned guard drops; `aborted`: its
    /// signal had fired already, so it fails with `ABORTED` and sends nothing.
    pub fn open(calls: &std::sync::Arc<OpenCalls>, id: Option<u32>, timeout: Option<Duration>, aborted: bool) -> Result<OpenCall> {
        let bounds = CallBounds::new(timeout)?;
        if aborted {
            bounds.abort();
        }
        let Some(id) = id else { return Ok(OpenCall { bounds, registered: None }) };
        let mut open = lock(&calls.open);
        if id == 0 || open.contains_key(&id) || open.len() >= MAX_OPEN_CALLS {
            return Err(Error::InvalidOptions {
                option: "signal".into(),
                reason: "the call's id is in use or too many calls are open".into(),
            });
        }
        open.insert(id, bounds.clone());
        Ok(OpenCall { bounds, registered: Some((std::sync::Arc::clone(calls), id)) })
    }

    /// Aborts an open call: it ends with `ABORTED` at once and sends nothing more. An id that is
    /// not open (finished already) is ignored.
    pub fn abort(&self, id: u32) {
        if let Some(b) = lock(&self.open).get(&id) {
            b.abort();
        }
    }

    /// Forgets every open call (on `close()`, which ends them with `CLOSED` itself).
    pub fn clear(&self) {
        lock(&self.open).clear();
    }

    /// Abortable calls open now.
    pub fn len(&self) -> usize {
        lock(&self.open).len()
    }

    /// No abortable call is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
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
        let calls = std::sync::Arc::new(OpenCalls::default());
        let call = OpenCalls::open(&calls, Some(9), None, false).unwrap();
        {
            let run = call.run(Some("t"), async { std::future::pending::<Result<()>>().await });
            tokio::pin!(run);
            assert!(futures::poll!(&mut run).is_pending());
            calls.abort(9);
            assert_eq!(run.await.unwrap_err().code(), "ABORTED");
        }
        let mut ran = false;
        let e = call
            .run(None, async {
                ran = true;
                Ok(())
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), "ABORTED");
        assert!(!ran, "work under aborted bounds never starts");
        assert_eq!(calls.len(), 1);
        drop(call);
        assert!(calls.is_empty(), "the guard closes the call");
    }

    #[tokio::test]
    async fn a_signal_that_fired_before_the_call_sends_nothing_and_ids_are_unique() {
        let calls = std::sync::Arc::new(OpenCalls::default());
        let call = OpenCalls::open(&calls, Some(3), None, true).unwrap();
        let mut ran = false;
        let e = call
            .run(None, async {
                ran = true;
                Ok(())
            })
            .await
            .unwrap_err();
        assert_eq!((e.code(), ran), ("ABORTED", false));
        assert_eq!(OpenCalls::open(&calls, Some(3), None, false).unwrap_err().code(), "INVALID_OPTIONS", "id in use");
        assert_eq!(OpenCalls::open(&calls, Some(0), None, false).unwrap_err().code(), "INVALID_OPTIONS");
        drop(call);
        assert!(OpenCalls::open(&calls, Some(3), None, false).is_ok(), "free again once closed");
    }

    #[test]
    fn timeouts_outside_the_range_are_refused_by_name() {
        for t in [Duration::ZERO, MAX_CALL_TIMEOUT + Duration::from_millis(1)] {
            let e = CallBounds::new(Some(t)).unwrap_err();
            assert_eq!(e.code(), "INVALID_OPTIONS");
            assert_eq!(e.fields()["option"], "timeoutMs");
        }
        assert!(OpenCall::unbounded().bounds().run_is_unbounded());
    }

    impl CallBounds {
        fn run_is_unbounded(&self) -> bool {
            self.deadline.is_none() && !self.is_aborted()
        }
    }
}

//! The client-side limiter, one per tenant (a tenant has one token at a time, and Genesys counts
//! per token). It models the server's fixed window — `allowed` requests per `window` — starting
//! from the configured budget (300/min by default) and corrects itself from the
//! `inin-ratelimit-*` headers when they are present. A 429 puts the whole tenant on hold until
//! its `Retry-After` has passed, so waiting requests do not all fire when the wait ends.
//!
//! Until a header or a 429 has said the budget, a burst ramps up instead of going out whole: at most
//! as many requests are in flight as the server has admitted so far (one at first, doubling each
//! round trip), so the first 429 comes back while at most about one window's worth is in flight, and
//! the hold it starts stops the rest — a cold burst of 100 on a 20-per-window budget costs at most
//! ~20 429s instead of 80.

use crate::retry::retry_after::RateLimitHeaders;
use crate::store::{Budget, Said};
use crate::sync::lock;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

#[derive(Debug)]
struct Window {
    allowed: u32,
    used: u32,
    window: Duration,
    reset_at: Option<Instant>,
    hold_until: Option<Instant>,
    /// True once the window length came from a header rather than the configured default.
    learned: bool,
    /// True once that length came from the request that opened a server window (exact, not a
    /// countdown seen mid-window).
    exact: bool,
    /// Answers in this window that the server did not throttle.
    admitted: u32,
    /// True once `allowed` and `window` were inferred from a 429 (no header ever said).
    inferred: bool,
    /// Set by a 429 when no header says the budget: when the throttled window started. The
    /// budget is inferred when the hold ends, once that window's answers are all in.
    infer_from: Option<Instant>,
    /// When the server said that window ends (its `Retry-After`, without our jitter).
    infer_until: Option<Instant>,
    /// Consecutive windows that used the whole inferred budget without a 429 ([`probing::clean_after`]).
    clean_full_windows: u32,
    /// The place in this window of the call let out beyond the inferred budget whose answer is awaited
    /// ([`probing`]): once that many answers of the window came back admitted, the budget is raised to it.
    probe_beyond: Option<u32>,
    /// True once any answer came back: until then [`Limiter::acquire`] lets one request out.
    answered: bool,
    /// When that first request left.
    probe_started: Option<Instant>,
    /// Attempts [`Limiter::acquire_within`] let out that have not ended ([`Limiter::attempt_over`]).
    in_flight: u32,
    /// Answers the server admitted since the limiter started: while the budget is unknown, the cap
    /// on `in_flight` (the ramp).
    admitted_total: u32,
    /// Since when the ramp has held a caller back with no attempt ending.
    ramp_blocked_since: Option<Instant>,
    /// True once the ramp gave up (answers slower than [`PROBE_TIMEOUT`]): the model alone paces.
    ramp_off: bool,
}

impl Window {
    /// True while no header and no 429 has said the budget, after the probe's answer: the ramp
    /// caps what is in flight.
    fn ramping(&self) -> bool {
        self.answered && !self.learned && !self.inferred && !self.ramp_off
    }
}

/// How long the first request of a cold limiter may hold the others back: its answer's headers
/// say the real budget, so a cold burst does not spend a window's worth of 429s finding out.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// Longest a waiter sleeps before looking again.
pub const MAX_NAP: Duration = Duration::from_millis(250);

/// Added when aligning on a server window, for clock granularity on either side.
pub const ALIGNMENT_MARGIN: Duration = Duration::from_millis(2);

/// Default of the most attempts of one token (a tenant, or one slot of its pool) past admission at
/// once — pacing, in flight or between two attempts — the `maxInFlightPerToken` option
/// ([`crate::options::Options::max_in_flight_per_token`]). A tenant's bulk listing of 10,000 calls
/// does not put 10,000 waiters on the limiter (each waking to look again, all woken by every answer)
/// nor, when its window opens, a window's worth of requests at once on the shared runtime, connection
/// pool and server, ahead of another tenant's calls; the rest wait their turn in order, asleep. At
/// Genesys's round trips (~100 ms) 32 in flight carry ~300 calls a second, 60 times a token's budget;
/// a raised budget or slow endpoints (seconds a call) may need more.
pub const DEFAULT_MAX_IN_FLIGHT: usize = crate::options::DEFAULT_MAX_IN_FLIGHT_PER_TOKEN as usize;

/// A per-tenant limiter.
#[derive(Debug)]
pub struct Limiter {
    state: Mutex<Window>,
    /// The configured budget per minute, as handed to the shared window until a header says better.
    per_minute: u32,
    /// Admission: at most its cap ([`DEFAULT_MAX_IN_FLIGHT`] unless [`Limiter::with_max_in_flight`]
    /// says) of attempts past it at once, the others queued first come,
    /// first served (see [`Limiter::admit`]).
    admission: std::sync::Arc<tokio::sync::Semaphore>,
    /// Wakes waiters when what they wait for may have changed (new headers, a hold).
    changed: tokio::sync::Notify,
    /// Wakes the callers waiting for the shared window's end when a probe beyond the inferred
    /// budget came back admitted: the next probe may go (see [`Limiter::nap`]).
    probed: tokio::sync::Notify,
}

/// What a wait for the limiter takes into account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pacing {
    /// In-process: the hold, the probe, the ramp and this process's window.
    Local,
    /// Shared mode, before the store's window: the hold, the probe and the ramp.
    Gate,
    /// Shared mode when the store failed: the hold and this process's window.
    Window,
}

/// What [`Limiter::try_acquire`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Send now.
    Go,
    /// Wait this long, then ask again.
    Wait(Duration),
}

impl Limiter {
    /// A limiter allowing `per_minute` requests per 60 s until headers say otherwise, with at most
    /// [`DEFAULT_MAX_IN_FLIGHT`] attempts past admission at once.
    pub fn new(per_minute: u32) -> Self {
        Self::with_max_in_flight(per_minute, DEFAULT_MAX_IN_FLIGHT)
    }

    /// [`Limiter::new`] with at most `max_in_flight` (at least 1) attempts past admission at once
    /// ([`Limiter::admit`]): the `maxInFlightPerToken` option.
    pub fn with_max_in_flight(per_minute: u32, max_in_flight: usize) -> Self {
        Limiter {
            state: Mutex::new(Window {
                allowed: per_minute.max(1),
                used: 0,
                window: Duration::from_secs(60),
                reset_at: None,
                hold_until: None,
                learned: false,
                exact: false,
                admitted: 0,
                inferred: false,
                infer_from: None,
                infer_until: None,
                clean_full_windows: 0,
                probe_beyond: None,
                answered: false,
                probe_started: None,
                in_flight: 0,
                admitted_total: 0,
                ramp_blocked_since: None,
                ramp_off: false,
            }),
            changed: tokio::sync::Notify::new(),
            probed: tokio::sync::Notify::new(),
            per_minute: per_minute.max(1),
            admission: std::sync::Arc::new(tokio::sync::Semaphore::new(max_in_flight.clamp(1, tokio::sync::Semaphore::MAX_PERMITS))),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Window> {
        lock(&self.state)
    }

    /// Waits for this token's turn, first come first served, at most `budget`: `Err(budget)` when it
    /// does not come in time (the call fails fast, as for a wait in the window that outlasts it).
    /// The permit is held until the attempt is over — and, in the pipeline, until the next attempt's
    /// turn or the call's end.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// use genesys_tenants_core::pipeline::rate_limit::Limiter;
    /// use std::time::Duration;
    /// let l = Limiter::with_max_in_flight(300, 4);
    /// let mut held = Vec::new();
    /// for _ in 0..4 {
    ///     held.push(l.admit(Duration::from_secs(1)).await.unwrap());
    /// }
    /// assert!(l.admit(Duration::from_millis(10)).await.is_err(), "the next waits its turn");
    /// held.pop();
    /// assert!(l.admit(Duration::from_millis(10)).await.is_ok());
    /// # });
    /// ```
    pub async fn admit(&self, budget: Duration) -> Result<tokio::sync::OwnedSemaphorePermit, Duration> {
        let admission = std::sync::Arc::clone(&self.admission);
        match tokio::time::timeout(budget, admission.acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            // The semaphore is never closed; a timeout is the budget spent.
            _ => Err(budget),
        }
    }

    /// Takes a slot at `now`, or says how long to wait.
    ///
    /// ```
    /// use genesys_tenants_core::pipeline::rate_limit::{Decision, Limiter};
    /// let l = Limiter::new(2);
    /// let now = tokio::time::Instant::now();
    /// assert_eq!(l.try_acquire(now), Decision::Go);
    /// assert_eq!(l.try_acquire(now), Decision::Go);
    /// assert!(matches!(l.try_acquire(now), Decision::Wait(_)));
    /// ```
    pub fn try_acquire(&self, now: Instant) -> Decision {
        self.decide(now, false, true)
    }

    /// [`Limiter::try_acquire`]; with `ramp`, for an attempt that reports its end
    /// ([`Limiter::attempt_over`]): it is counted in flight, and held back by the ramp while the
    /// budget is unknown. Without `window` (the shared budget paces), no slot of this process's
    /// window is taken: only the hold and the ramp apply.
    fn decide(&self, now: Instant, ramp: bool, window: bool) -> Decision {
        let mut w = self.lock();
        if let Some(h) = w.hold_until {
            if now < h {
                return Decision::Wait(h - now);
            }
            w.hold_until = None;
            if let Some(started) = w.infer_from.take() {
                // Headers that arrived during the hold know better than an inference.
                if w.admitted > 0 && !w.learned {
                    w.allowed = w.admitted;
                    let end = w.infer_until.take().unwrap_or(h);
                    w.window = end.saturating_duration_since(started).max(Duration::from_secs(1));
                    w.inferred = true;
                    w.clean_full_windows = 0;
                }
            }
        }
        if ramp && w.ramping() && w.in_flight >= w.admitted_total.max(1) {
            let since = *w.ramp_blocked_since.get_or_insert(now);
            let blocked = now.saturating_duration_since(since);
            if blocked < PROBE_TIMEOUT {
                // Woken when an attempt ends.
                return Decision::Wait(PROBE_TIMEOUT - blocked);
            }
            // Answers this slow are not worth waiting for: pace by the model alone.
            w.ramp_off = true;
        }
        if !window {
            if ramp {
                w.in_flight = w.in_flight.saturating_add(1);
            }
            return Decision::Go;
        }
        match w.reset_at {
            Some(r) if now < r => {}
            ended => {
                // A window that ran out (not one a 429 ended): counted when it used the whole
                // inferred budget, and a probe still unanswered is given up with it.
                if ended.is_some() && w.inferred && !w.learned {
                    w.clean_full_windows = probing::clean_after(w.clean_full_windows, w.used, w.allowed);
                }
                w.used = 0;
                w.admitted = 0;
                w.probe_beyond = None;
                w.reset_at = Some(now + w.window);
            }
        }
        // A full window may let one call beyond an inferred budget out, by the rule the shared window
        // follows too ([`probing`]).
        let probe = w.used >= w.allowed && w.inferred && !w.learned && probing::may_probe(w.clean_full_windows, w.probe_beyond.is_some());
        if w.used < w.allowed || probe {
            w.used += 1;
            if probe {
                w.probe_beyond = Some(w.used);
            }
            if ramp {
                w.in_flight = w.in_flight.saturating_add(1);
            }
            Decision::Go
        } else {
            Decision::Wait(w.reset_at.map(|r| r.saturating_duration_since(now)).unwrap_or(w.window).max(Duration::from_millis(1)))
        }
    }

    /// Waits for a slot (the wait obeys `tokio::time::pause`). Returns how long it waited.
    ///
    /// A wait decided under an old model (say, a 60 s window before the headers told 2 s) must not
    /// run its course: waiters wake when the model changes, and re-check at least every 250 ms.
    pub async fn acquire(&self) -> Duration {
        match self.acquire_within(Duration::MAX).await {
            Ok(waited) | Err(waited) => waited,
        }
    }

    /// [`Limiter::acquire`] for a caller that may wait at most `budget`: when the 429 hold in force
    /// (now, or one that starts while it waits) or the wait for a slot in the window outlasts what is
    /// left of the budget, it returns at once with `Err(time still to wait)` — the call fails fast
    /// instead of hanging behind a wait it could never sit out.
    ///
    /// ```
    /// # tokio_test_block_on(async {
    /// use genesys_tenants_core::pipeline::rate_limit::Limiter;
    /// use std::time::Duration;
    /// let l = Limiter::new(300);
    /// l.hold(Duration::from_secs(3600), Duration::ZERO, tokio::time::Instant::now());
    /// let left = l.acquire_within(Duration::from_secs(60)).await.unwrap_err();
    /// assert!(left > Duration::from_secs(3500));
    /// # });
    /// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(f)
    /// # }
    /// ```
    pub async fn acquire_within(&self, budget: Duration) -> Result<Duration, Duration> {
        self.wait_within(budget, Pacing::Local).await
    }

    /// [`Limiter::acquire_within`] without this process's window, for shared mode (the store's
    /// window paces every replica): a 429 hold, a cold limiter's probe and the ramp while no header
    /// said the budget. An attempt let out is counted in flight: it must report its end
    /// ([`Limiter::attempt_over`]).
    pub async fn gate_within(&self, budget: Duration) -> Result<Duration, Duration> {
        self.wait_within(budget, Pacing::Gate).await
    }

    /// [`Limiter::acquire_within`] by this process's window alone (no probe, no ramp, nothing counted
    /// in flight): shared mode's fallback when the store fails, for an attempt the gate let out.
    pub async fn window_within(&self, budget: Duration) -> Result<Duration, Duration> {
        self.wait_within(budget, Pacing::Window).await
    }

    async fn wait_within(&self, budget: Duration, pacing: Pacing) -> Result<Duration, Duration> {
        let start = Instant::now();
        loop {
            let changed = self.changed.notified();
            let now = Instant::now();
            let left = budget.saturating_sub(now - start);
            self.check_hold(now, left)?;
            let probe = if pacing == Pacing::Window { None } else { self.probe(now) };
            let decision = match probe {
                Some(d) => d,
                // A slot further off than the budget allows is a fail-fast too (the probe's short
                // wait for the first answer is not: it ends when that answer comes).
                None => match self.decide(now, pacing != Pacing::Window, pacing != Pacing::Gate) {
                    Decision::Wait(d) if d > left => return Err(d),
                    d => d,
                },
            };
            match decision {
                Decision::Go => return Ok(start.elapsed()),
                Decision::Wait(d) => {
                    // A little jitter spreads the waiters that wake at the same reset.
                    let nap = d.min(MAX_NAP) + Duration::from_micros(rand::random::<u64>() % 2000);
                    tokio::select! {
                        _ = tokio::time::sleep(nap) => {}
                        _ = changed => {}
                    }
                }
            }
        }
    }

    /// Sleeps `d` (a wait for the shared window's end), or less when a probe of this process's comes
    /// back admitted ([`Limiter::probe_answered`]).
    pub async fn nap(&self, d: Duration) {
        tokio::select! {
            _ = tokio::time::sleep(d) => {}
            _ = self.probed.notified() => {}
        }
    }

    /// A probe beyond the shared inferred budget came back admitted: wakes [`Limiter::nap`]pers.
    pub fn probe_answered(&self) {
        self.probed.notify_waiters();
    }

    /// True while a 429 hold (this process's or one the shared store said) is in force at `now`.
    pub fn holding(&self, now: Instant) -> bool {
        self.lock().hold_until.is_some_and(|h| h > now)
    }

    /// `Err(remaining)` when a hold is in force at `now` and lasts longer than `budget`.
    fn check_hold(&self, now: Instant, budget: Duration) -> Result<(), Duration> {
        match self.lock().hold_until {
            Some(h) if h > now && h - now > budget => Err(h - now),
            _ => Ok(()),
        }
    }

    /// Until the first answer: the first caller goes (as the probe), the others wait for its
    /// answer, for at most [`PROBE_TIMEOUT`]. `None` once that is over.
    fn probe(&self, now: Instant) -> Option<Decision> {
        let mut w = self.lock();
        if w.answered {
            return None;
        }
        match w.probe_started {
            None => {
                w.probe_started = Some(now);
                None
            }
            Some(t) if now.saturating_duration_since(t) < PROBE_TIMEOUT => {
                Some(Decision::Wait(PROBE_TIMEOUT - now.saturating_duration_since(t)))
            }
            Some(_) => {
                // The probe is taking too long to be worth waiting for: pace by the model alone
                // (no ramp either: it would wait on answers as slow).
                w.answered = true;
                w.ramp_off = true;
                None
            }
        }
    }

    /// Ends a cold limiter's probe however its attempt ended (no token, no connection): callers
    /// held back for its answer go on by the model instead of waiting out [`PROBE_TIMEOUT`].
    pub fn end_probe(&self) {
        let first = !std::mem::replace(&mut self.lock().answered, true);
        if first {
            self.changed.notify_waiters();
        }
    }

    /// An attempt [`Limiter::acquire_within`] let out is over, however it ended (an answer, a 429
    /// after its hold, no token, no connection): it leaves the ramp's count of what is in flight,
    /// and a cold limiter's probe ends with it.
    pub fn attempt_over(&self) {
        let mut w = self.lock();
        w.in_flight = w.in_flight.saturating_sub(1);
        let first = !std::mem::replace(&mut w.answered, true);
        let ramping = w.ramping();
        if ramping {
            w.ramp_blocked_since = None;
        }
        drop(w);
        if first || ramping {
            self.changed.notify_waiters();
        }
    }

    /// Waits only for a 429 hold (when another limiter does the pacing), at most `budget`: a hold
    /// that outlasts it gives `Err(time it still has to run)` at once, as in
    /// [`Limiter::acquire_within`]. Returns how long it waited.
    pub async fn wait_hold(&self, budget: Duration) -> Result<Duration, Duration> {
        let start = Instant::now();
        loop {
            let changed = self.changed.notified();
            let now = Instant::now();
            self.check_hold(now, budget.saturating_sub(now - start))?;
            let until = self.lock().hold_until;
            match until {
                Some(h) if now < h => {
                    tokio::select! {
                        _ = tokio::time::sleep_until(h.min(now + MAX_NAP)) => {}
                        _ = changed => {}
                    }
                }
                _ => return Ok(start.elapsed()),
            }
        }
    }

    /// Learns from a response's headers. `received_at` is when the answer arrived: a window the
    /// request opened started before then, so aligning on it errs late (no 429), never early.
    pub fn observe(&self, h: &RateLimitHeaders, received_at: Instant) {
        if h.is_empty() {
            self.end_probe();
            return;
        }
        let _wake = Wake(&self.changed);
        let mut w = self.lock();
        w.answered = true;
        if let Some(a) = h.allowed {
            w.allowed = a;
        }
        if let Some(reset) = h.reset {
            // The countdown seen by the request that opened a window is the window's length;
            // otherwise only a longer countdown than we assume teaches us something.
            // The first countdown seen replaces the configured 60 s (a window is at least that
            // long); a longer one later extends it; the countdown seen by the request that opened
            // a window is its exact length, so the window may also shrink then.
            let opened = h.count.is_some_and(|c| c <= 1);
            if !w.learned || opened || reset > w.window {
                w.window = reset.max(Duration::from_secs(1));
                w.learned = true;
                w.exact |= opened;
            }
        }
        if let Some(count) = h.count {
            if count <= 1 {
                // This request opened the server's window: align ours with it, a little late.
                w.reset_at = Some(received_at + w.window + ALIGNMENT_MARGIN);
                w.used = w.used.min(w.allowed).max(count);
            } else {
                w.used = w.used.max(count);
            }
        }
    }

    /// An answer the server did not throttle (anything but a 429): counts toward what a later 429
    /// teaches when no header says the budget.
    ///
    /// When a call beyond an inferred budget is out ([`probing`]) and this window's admitted answers
    /// reach its place, the budget is raised to it and the waiters look again: the next probe may go.
    pub fn admitted(&self) {
        let mut w = self.lock();
        w.admitted = w.admitted.saturating_add(1);
        w.admitted_total = w.admitted_total.saturating_add(1);
        let raised = match w.probe_beyond {
            Some(n) if w.admitted >= n => {
                w.allowed = w.allowed.max(n);
                w.probe_beyond = None;
                true
            }
            _ => false,
        };
        drop(w);
        if raised {
            self.changed.notify_waiters();
        }
    }

    /// A 429: hold every request of this tenant for `wait`. The server's window has reset by
    /// then, so ours starts afresh when the hold ends.
    ///
    /// When no `inin-ratelimit-*` header has ever said the budget (Genesys reportedly removed
    /// them), the first 429 of a window teaches it: when the hold ends, the requests the server
    /// admitted in that window are the budget, and the window lasted until the hold's end.
    /// Without this, every hold would end in a burst of the configured budget and another round of
    /// 429s.
    ///
    /// `jitter` (ours, to spread replicas) lengthens the hold but not the server's window.
    pub fn hold(&self, wait: Duration, jitter: Duration, now: Instant) {
        let _wake = Wake(&self.changed);
        let mut w = self.lock();
        if !w.learned && w.infer_from.is_none() {
            w.infer_from = w.reset_at.and_then(|r| r.checked_sub(w.window));
            w.infer_until = Some(now + wait);
        }
        let until = now + wait + jitter;
        w.hold_until = Some(w.hold_until.map_or(until, |h| h.max(until)));
        w.reset_at = None;
    }

    /// Holds every request of the tenant until `now + wait + jitter` for a pause another replica
    /// met (the shared store said so): the same hold as [`Limiter::hold`], without learning a budget
    /// from it — this process's window says nothing about that 429.
    pub fn hold_shared(&self, wait: Duration, jitter: Duration, now: Instant) {
        let _wake = Wake(&self.changed);
        let mut w = self.lock();
        let until = now + wait + jitter;
        w.hold_until = Some(w.hold_until.map_or(until, |h| h.max(until)));
    }

    /// What this process knows of the budget, for the shared window: what the headers said, else the
    /// configured budget (a budget inferred here from a 429 counts only this process's calls; the
    /// shared window infers its own from every replica's).
    pub fn shared_budget(&self) -> Budget {
        let w = self.lock();
        match (w.learned, w.exact) {
            (false, _) => Budget { allowed: self.per_minute, window: Duration::from_secs(60), said: Said::Configured },
            (true, exact) => Budget { allowed: w.allowed, window: w.window, said: if exact { Said::Opener } else { Said::Headers } },
        }
    }

    /// `(allowed, used, window)` for stats.
    pub fn snapshot(&self) -> (u32, u32, Duration) {
        let w = self.lock();
        (w.allowed, w.used, w.window)
    }
}

/// Notifies the waiters when dropped, i.e. after the state lock is released.
struct Wake<'a>(&'a tokio::sync::Notify);

impl Drop for Wake<'_> {
    fn drop(&mut self) {
        self.0.notify_waiters();
    }
}

pub mod probing;
mod room;
pub mod shared;

#[cfg(test)]
mod tests;

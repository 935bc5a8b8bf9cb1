//! Every retry decision of one request, in one place. [`RetryBudget::decide`] turns how an attempt
//! ended into what happens next: send again with a new token (the first 401), hold the tenant for a
//! 429, back off and send again (5xx or a lost answer, when the call is safe to repeat), or fail. The
//! budget is `maxRetries` attempts and `maxRetryDelayMs` of cumulative waiting — backoffs, 429 holds
//! and the limiter's waits for a slot alike. Pure: the pipeline
//! carries out what it decides; randomness comes from a draw the caller passes.

use super::backoff::{full_jitter_with, small_jitter_with};
use std::time::Duration;

/// How an attempt ended, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptEnd {
    /// No (complete) answer: the connection failed, timed out, or the body could not be read.
    Lost {
        /// The request's timeout passed.
        timeout: bool,
    },
    /// An answer that is not a success. `stated_wait`: what the server said to wait (`Retry-After`,
    /// for a 429 also `inin-ratelimit-reset` or the "Retry the request in [N] seconds" message).
    Answer {
        /// HTTP status.
        status: u16,
        /// The wait the server asked for.
        stated_wait: Option<Duration>,
    },
}

/// What to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Drop the token the API refused, get a new one, send again at once (a 401, once per request).
    Refresh,
    /// A 429: hold the whole tenant for `server_wait + jitter` (the limiter does the waiting). With
    /// `retry`, send again when the hold ends; without, fail with `RATE_LIMITED` for that wait.
    Hold {
        /// What the server asked (or a backoff when it did not say): the server's window ends then.
        server_wait: Duration,
        /// Ours, to spread the callers and replicas that wake at the same time.
        jitter: Duration,
        /// Whether the budget allows waiting it out.
        retry: bool,
    },
    /// Wait this long, then send again.
    Backoff(Duration),
    /// Give up: the answer (or the loss) is the error.
    Fail,
}

/// One request's retries and waiting so far.
#[derive(Debug, Clone)]
pub struct RetryBudget {
    max_retries: u32,
    max_delay: Duration,
    retries: u32,
    waited: Duration,
    /// The wait of this request's own last 429, already counted in `waited`: the hold does it.
    own_hold: Duration,
    /// The `own_hold` the last [`RetryBudget::hold_budget`] handed out: pacing up to it is not counted twice.
    credit: Duration,
    refreshed: bool,
}

impl RetryBudget {
    /// A fresh budget of `max_retries` retries and `max_delay` of cumulative waiting.
    pub fn new(max_retries: u32, max_delay: Duration) -> Self {
        RetryBudget {
            max_retries,
            max_delay,
            retries: 0,
            waited: Duration::ZERO,
            own_hold: Duration::ZERO,
            credit: Duration::ZERO,
            refreshed: false,
        }
    }

    /// A budget that already granted `retries` retries and `waited` of waiting (a caller that
    /// keeps the count across calls, as the tutorial helper does across one listing's pages).
    pub fn resume(max_retries: u32, max_delay: Duration, retries: u32, waited: Duration) -> Self {
        RetryBudget { retries, waited, ..RetryBudget::new(max_retries, max_delay) }
    }

    /// Retries granted so far (the 401 refresh is not one).
    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// How long the next attempt may wait for a 429 hold: what is left of the budget, plus the wait
    /// of this request's own last 429 (already counted, since the hold waits it out). Taking it
    /// clears the latter.
    pub fn hold_budget(&mut self) -> Duration {
        self.credit = std::mem::take(&mut self.own_hold);
        self.max_delay.saturating_sub(self.waited) + self.credit
    }

    /// Counts `waited` of pacing (limiter slots, the shared budget, holds) against the waiting budget:
    /// `maxRetryDelayMs` is the one cap on all the waiting of a request.
    /// The wait of the request's own 429 hold is already counted (when it was granted).
    pub fn spend_pacing(&mut self, waited: Duration) {
        let new = waited.saturating_sub(std::mem::take(&mut self.credit));
        self.waited = self.waited.saturating_add(new);
    }

    /// Spends `wait` on one more retry, if the budget has room for it.
    fn spend(&mut self, wait: Duration) -> bool {
        if self.retries >= self.max_retries || self.waited + wait > self.max_delay {
            return false;
        }
        self.retries += 1;
        self.waited += wait;
        true
    }

    /// What follows `end`. `safe`: the call may be sent again (the catalogue's replay flag).
    /// `draw` gives uniform numbers in [0, 1) for the jitter.
    ///
    /// ```
    /// use genesys_tenants_core::retry::budget::{AttemptEnd, RetryBudget, Verdict};
    /// use std::time::Duration;
    /// let mut b = RetryBudget::new(4, Duration::from_secs(60));
    /// let answer = AttemptEnd::Answer { status: 401, stated_wait: None };
    /// assert_eq!(b.decide(answer, true, || 0.5), Verdict::Refresh);
    /// assert_eq!(b.decide(answer, true, || 0.5), Verdict::Fail, "a second 401 is the error");
    /// ```
    pub fn decide(&mut self, end: AttemptEnd, safe: bool, mut draw: impl FnMut() -> f64) -> Verdict {
        match end {
            AttemptEnd::Lost { .. } if safe => {
                let wait = full_jitter_with(self.retries + 1, self.max_delay, draw());
                if self.spend(wait) {
                    Verdict::Backoff(wait)
                } else {
                    Verdict::Fail
                }
            }
            AttemptEnd::Lost { .. } => Verdict::Fail,
            AttemptEnd::Answer { status: 401, .. } if !self.refreshed => {
                self.refreshed = true;
                Verdict::Refresh
            }
            AttemptEnd::Answer { status: 429, stated_wait } => {
                let server_wait = stated_wait.unwrap_or_else(|| full_jitter_with(self.retries + 1, self.max_delay, draw()));
                let jitter = small_jitter_with(draw());
                let wait = server_wait + jitter;
                let retry = wait <= self.max_delay && self.spend(wait);
                if retry {
                    self.own_hold = wait;
                }
                Verdict::Hold { server_wait, jitter, retry }
            }
            AttemptEnd::Answer { status: 500 | 502 | 503 | 504, stated_wait } if safe => {
                let wait = match stated_wait {
                    Some(d) => d + small_jitter_with(draw()),
                    None => full_jitter_with(self.retries + 1, self.max_delay, draw()),
                };
                if self.spend(wait) {
                    Verdict::Backoff(wait)
                } else {
                    Verdict::Fail
                }
            }
            AttemptEnd::Answer { .. } => Verdict::Fail,
        }
    }
}

/// The retry rules for a call made outside the pipeline (the tutorial helper's pages): how long to
/// wait before trying again after an error with this `code` (and `status`, `retry_after` when it has
/// them), the retries granted and the waiting done so far — or `None` to give up. The call is taken
/// to be a read (safe to repeat).
///
/// ```
/// use genesys_tenants_core::retry::budget::wait_after_error;
/// use std::time::Duration;
/// let w = wait_after_error("RATE_LIMITED", None, Some(Duration::from_secs(2)), 0, Duration::ZERO, 3, Duration::from_secs(60));
/// assert!(w.is_some_and(|d| d >= Duration::from_secs(2)));
/// assert_eq!(wait_after_error("PERMISSION_MISSING", Some(403), None, 0, Duration::ZERO, 3, Duration::from_secs(60)), None);
/// ```
pub fn wait_after_error(
    code: &str,
    status: Option<u16>,
    retry_after: Option<Duration>,
    retries: u32,
    waited: Duration,
    max_retries: u32,
    budget: Duration,
) -> Option<Duration> {
    let end = match code {
        "RATE_LIMITED" => AttemptEnd::Answer { status: 429, stated_wait: retry_after },
        "NETWORK_ERROR" => AttemptEnd::Lost { timeout: false },
        "TIMEOUT" => AttemptEnd::Lost { timeout: true },
        "UPSTREAM_ERROR" => AttemptEnd::Answer { status: status?, stated_wait: None },
        _ => return None,
    };
    match RetryBudget::resume(max_retries, budget, retries, waited).decide(end, true, rand::random) {
        Verdict::Hold { server_wait, jitter, retry: true } => Some(server_wait + jitter),
        Verdict::Backoff(wait) => Some(wait),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn answer(status: u16, secs: Option<u64>) -> AttemptEnd {
        AttemptEnd::Answer { status, stated_wait: secs.map(Duration::from_secs) }
    }

    #[test]
    fn a_401_refreshes_once() {
        let mut b = RetryBudget::new(0, S);
        assert_eq!(b.decide(answer(401, None), false, || 0.0), Verdict::Refresh, "even with no retries left and an unsafe call");
        assert_eq!(b.decide(answer(401, None), false, || 0.0), Verdict::Fail);
        assert_eq!(b.retries(), 0);
    }

    #[test]
    fn a_429_holds_within_the_budget_then_fails() {
        let mut b = RetryBudget::new(4, 10 * S);
        assert_eq!(
            b.decide(answer(429, Some(3)), false, || 0.0),
            Verdict::Hold { server_wait: 3 * S, jitter: Duration::ZERO, retry: true },
            "any method: nothing was done"
        );
        assert_eq!(b.hold_budget(), 10 * S, "the hold may run its course: its wait is this request's own");
        assert_eq!(b.hold_budget(), 7 * S, "…once");
        assert_eq!(b.decide(answer(429, Some(5)), true, || 0.0), Verdict::Hold { server_wait: 5 * S, jitter: Duration::ZERO, retry: true });
        assert_eq!(
            b.decide(answer(429, Some(3)), true, || 0.0),
            Verdict::Hold { server_wait: 3 * S, jitter: Duration::ZERO, retry: false },
            "3 + 5 + 3 > 10"
        );
        let mut b = RetryBudget::new(4, 10 * S);
        assert!(matches!(b.decide(answer(429, Some(3600)), true, || 0.0), Verdict::Hold { retry: false, .. }), "beyond the budget at once");
        let mut b = RetryBudget::new(0, 10 * S);
        assert!(matches!(b.decide(answer(429, Some(1)), true, || 0.0), Verdict::Hold { retry: false, .. }), "no retries left");
    }

    #[test]
    fn a_429_without_a_stated_wait_backs_off_and_the_jitter_is_ours() {
        let mut b = RetryBudget::new(4, 60 * S);
        match b.decide(answer(429, None), true, || 1.0) {
            Verdict::Hold { server_wait, jitter, retry: true } => {
                assert_eq!(server_wait, Duration::from_millis(200), "the first backoff step");
                assert_eq!(jitter, Duration::from_millis(250));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn server_errors_and_lost_answers_retry_only_when_safe() {
        for end in [
            answer(500, None),
            answer(502, None),
            answer(503, Some(2)),
            answer(504, None),
            AttemptEnd::Lost { timeout: true },
            AttemptEnd::Lost { timeout: false },
        ] {
            assert_eq!(RetryBudget::new(4, 60 * S).decide(end, false, || 0.5), Verdict::Fail, "{end:?} unsafe");
            assert!(matches!(RetryBudget::new(4, 60 * S).decide(end, true, || 0.5), Verdict::Backoff(_)), "{end:?} safe");
        }
        assert_eq!(
            RetryBudget::new(4, 60 * S).decide(answer(503, Some(2)), true, || 0.0),
            Verdict::Backoff(2 * S),
            "Retry-After is honoured"
        );
        for status in [400, 403, 404, 409, 501, 505] {
            assert_eq!(RetryBudget::new(4, 60 * S).decide(answer(status, None), true, || 0.5), Verdict::Fail, "{status}");
        }
    }

    #[test]
    fn the_budget_bounds_count_and_waiting() {
        let mut b = RetryBudget::new(2, 60 * S);
        assert!(matches!(b.decide(answer(503, None), true, || 0.5), Verdict::Backoff(_)));
        assert!(matches!(b.decide(AttemptEnd::Lost { timeout: false }, true, || 0.5), Verdict::Backoff(_)));
        assert_eq!(b.decide(answer(503, None), true, || 0.5), Verdict::Fail, "two retries used");
        assert_eq!(b.retries(), 2);
        let mut b = RetryBudget::new(10, 3 * S);
        assert_eq!(b.decide(answer(503, Some(2)), true, || 0.0), Verdict::Backoff(2 * S));
        assert_eq!(b.decide(answer(503, Some(2)), true, || 0.0), Verdict::Fail, "2 + 2 s > 3 s of waiting");
        assert_eq!(b.hold_budget(), S);
    }

    #[test]
    fn pacing_waits_count_against_the_waiting_budget_once() {
        let mut b = RetryBudget::new(4, 10 * S);
        assert_eq!(b.hold_budget(), 10 * S);
        b.spend_pacing(4 * S);
        assert_eq!(b.hold_budget(), 6 * S, "a limiter wait used 4 s of the 10");
        // A 429 of this request: its hold is counted when granted, not again when waited out.
        assert!(matches!(b.decide(answer(429, Some(3)), true, || 0.0), Verdict::Hold { retry: true, .. }));
        assert_eq!(b.hold_budget(), 6 * S, "3 s left + the 3 s hold this request waits itself");
        b.spend_pacing(3 * S);
        assert_eq!(b.hold_budget(), 3 * S);
        assert_eq!(b.decide(answer(503, Some(4)), true, || 0.0), Verdict::Fail, "4 s > the 3 s left");
    }
}

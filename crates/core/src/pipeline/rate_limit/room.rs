//! How long a call would wait on a limiter, read without taking anything: what the token pool
//! (`pipeline/pool.rs`) compares to send each call to the token with the most room.

use super::Limiter;
use std::time::Duration;
use tokio::time::Instant;

impl Limiter {
    /// How long a call would wait here at `now` if `queued` callers already wait for this limiter:
    /// a 429 hold, or the windows it takes for the calls ahead to go out, by
    /// the limiter's model. Zero when it has room.
    ///
    /// ```
    /// use genesys_tenants_core::pipeline::rate_limit::Limiter;
    /// use std::time::Duration;
    /// let l = Limiter::new(2);
    /// let now = tokio::time::Instant::now();
    /// assert_eq!(l.expected_wait(now, 1), Duration::ZERO);
    /// assert!(l.expected_wait(now, 2) > Duration::ZERO, "two ahead fill a window of two");
    /// ```
    pub fn expected_wait(&self, now: Instant, queued: u32) -> Duration {
        let w = self.lock();
        // A cold limiter's probe is not counted: every caller behind it goes when its answer comes,
        // so between two cold slots only the callers already waiting tell them apart.
        let hold = w.hold_until.map_or(Duration::ZERO, |h| h.saturating_duration_since(now));
        let (used, reset_in) = match w.reset_at {
            Some(r) if now < r => (w.used, r - now),
            _ => (0, w.window),
        };
        let allowed = w.allowed.max(1);
        let ahead = used.saturating_add(queued);
        if ahead < allowed {
            return hold;
        }
        // The calls ahead fill this window and `more` whole windows after it.
        let more = (ahead - allowed) / allowed;
        hold.max(reset_in) + w.window.saturating_mul(more)
    }
}

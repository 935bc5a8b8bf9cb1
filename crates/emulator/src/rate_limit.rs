//! Fixed-window counters, like Genesys's per-token limit: `limit` requests per window that opens
//! with the first request. Time is passed in, so the arithmetic is tested without sleeping.

use std::time::{Duration, Instant};

/// One window.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    start: Instant,
    count: u32,
}

/// What a request got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Allowed.
    Allowed {
        /// Requests used in the window, this one included.
        count: u32,
        /// Time until the window resets.
        reset: Duration,
    },
    /// Refused.
    Limited {
        /// Time until the window resets.
        retry_after: Duration,
    },
}

/// Counts a request in `w` (creating or rolling the window) at `now`.
pub fn check(w: &mut Option<Window>, limit: u32, window: Duration, now: Instant) -> Verdict {
    let cur = match w {
        Some(cur) if now.duration_since(cur.start) < window => cur,
        _ => {
            *w = Some(Window { start: now, count: 0 });
            w.as_mut().expect("just set")
        }
    };
    let reset = window.saturating_sub(now.duration_since(cur.start));
    if cur.count >= limit {
        return Verdict::Limited { retry_after: reset };
    }
    cur.count += 1;
    Verdict::Allowed { count: cur.count, reset }
}

/// Whole seconds, rounded up, at least 1 (how Genesys states waits).
pub fn ceil_secs(d: Duration) -> u64 {
    let ms = d.as_millis() as u64;
    ms.div_ceil(1000).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_arithmetic() {
        let t0 = Instant::now();
        let mut w = None;
        let win = Duration::from_secs(2);
        for i in 1..=3 {
            assert_eq!(check(&mut w, 3, win, t0), Verdict::Allowed { count: i, reset: win });
        }
        assert_eq!(check(&mut w, 3, win, t0 + Duration::from_millis(500)), Verdict::Limited { retry_after: Duration::from_millis(1500) });
        assert_eq!(check(&mut w, 3, win, t0 + win), Verdict::Allowed { count: 1, reset: win });
        assert_eq!(ceil_secs(Duration::from_millis(1500)), 2);
        assert_eq!(ceil_secs(Duration::ZERO), 1);
    }
}

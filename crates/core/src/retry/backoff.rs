//! Backoff delays: exponential with full jitter for failures, a small jitter on top of delays the
//! server asked for (so waiting callers do not all retry in the same millisecond).

use std::time::Duration;

/// First backoff step.
pub const BASE_DELAY: Duration = Duration::from_millis(200);
/// Largest jitter added to a server-requested wait.
pub const MAX_SMALL_JITTER: Duration = Duration::from_millis(250);

/// `U(0, min(cap, BASE × 2^(attempt-1)))`, never below 10 ms.
///
/// ```
/// use genesys_tenants_core::retry::backoff::full_jitter;
/// use std::time::Duration;
/// for attempt in 1..20 {
///     assert!(full_jitter(attempt, Duration::from_secs(5)) <= Duration::from_secs(5));
/// }
/// ```
pub fn full_jitter(attempt: u32, cap: Duration) -> Duration {
    full_jitter_with(attempt, cap, rand::random())
}

/// [`full_jitter`] with the random draw (0..1) given, for tests.
pub fn full_jitter_with(attempt: u32, cap: Duration, draw: f64) -> Duration {
    let exp = BASE_DELAY.saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
    exp.min(cap).mul_f64(draw.clamp(0.0, 1.0)).max(Duration::from_millis(10)).min(cap.max(Duration::from_millis(10)))
}

/// `U(0, 250 ms)`.
pub fn small_jitter() -> Duration {
    small_jitter_with(rand::random())
}

/// [`small_jitter`] with the random draw (0..1) given, for tests.
pub fn small_jitter_with(draw: f64) -> Duration {
    MAX_SMALL_JITTER.mul_f64(draw.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_then_caps() {
        let cap = Duration::from_secs(2);
        assert_eq!(full_jitter_with(1, cap, 1.0), Duration::from_millis(200));
        assert_eq!(full_jitter_with(3, cap, 1.0), Duration::from_millis(800));
        assert_eq!(full_jitter_with(10, cap, 1.0), cap);
        assert_eq!(full_jitter_with(10, cap, 0.0), Duration::from_millis(10));
        assert_eq!(full_jitter_with(u32::MAX, cap, 0.5), Duration::from_secs(1));
    }
}

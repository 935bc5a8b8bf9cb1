//! An access token and its timing: when it was obtained, when to refresh it ahead of expiry, and
//! until when it may still be used.

use crate::secret::Secret;
use std::time::Duration;
use tokio::time::Instant;

/// Smallest refresh window for long-lived tokens: refresh at least this long before expiry…
pub const MIN_REFRESH_WINDOW: Duration = Duration::from_secs(60);
/// …but never more than this fraction of the lifetime (so a 2 s token is not refreshed on every call).
pub const MAX_WINDOW_FRACTION: f64 = 0.25;
/// A token is not handed out when less than this much of its life is left (clock skew, transit).
pub const MAX_EXPIRY_SKEW: Duration = Duration::from_secs(5);

/// A token held for one tenant.
#[derive(Debug)]
pub struct AccessToken {
    /// The bearer value.
    pub value: Secret,
    /// Process-unique id, used to tell tokens apart without comparing values.
    pub id: u64,
    /// Fingerprint of the credentials that minted it.
    pub credentials_fingerprint: String,
    /// The environment it is valid for.
    pub environment: String,
    /// When the token request was sent (expiry counts from here, never from the answer).
    pub obtained_at: Instant,
    /// `obtained_at + expires_in`.
    pub expires_at: Instant,
    /// When a background refresh should start.
    pub refresh_at: Instant,
    /// Until when callers may use it.
    pub usable_until: Instant,
}

/// Timing of a token of `lifetime` obtained at `sent_at`: `(refresh_at, usable_until)`.
///
/// The refresh window is `max(ratio × lifetime, min(60 s, 25 % × lifetime))`, shortened by up to
/// 20 % at random (`jitter` in 0..=1) so a fleet of replicas does not refresh in lockstep.
///
/// ```
/// use genesys_tenants_core::token::timing;
/// use std::time::Duration;
/// let t0 = tokio::time::Instant::now();
/// let (refresh, usable) = timing(t0, Duration::from_secs(86_400), 0.1, 0.0);
/// assert_eq!(refresh - t0, Duration::from_secs(86_400 - 8_640));
/// assert_eq!(usable - t0, Duration::from_secs(86_400 - 5));
/// ```
pub fn timing(sent_at: Instant, lifetime: Duration, ratio: f64, jitter: f64) -> (Instant, Instant) {
    let life = lifetime.as_secs_f64();
    let window = (ratio * life).max(MIN_REFRESH_WINDOW.as_secs_f64().min(MAX_WINDOW_FRACTION * life));
    let window = window.min(life) * (1.0 - 0.2 * jitter.clamp(0.0, 1.0));
    let skew = MAX_EXPIRY_SKEW.as_secs_f64().min(life / 10.0);
    let refresh_at = sent_at + Duration::from_secs_f64((life - window).max(0.0));
    let usable_until = sent_at + Duration::from_secs_f64((life - skew).max(0.0));
    (refresh_at.min(usable_until), usable_until)
}

impl AccessToken {
    /// True while it may be handed to callers.
    pub fn is_usable(&self, now: Instant) -> bool {
        now < self.usable_until
    }

    /// True once a background refresh is due.
    pub fn needs_refresh(&self, now: Instant) -> bool {
        now >= self.refresh_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_by_lifetime() {
        let t0 = Instant::now();
        let secs = |i: Instant| (i - t0).as_secs_f64();
        let (r, u) = timing(t0, Duration::from_secs(2), 0.1, 0.0);
        assert!((secs(r) - 1.5).abs() < 1e-6, "2 s token refreshes at 1.5 s");
        assert!((secs(u) - 1.8).abs() < 1e-6);
        let (r, _) = timing(t0, Duration::from_secs(300), 0.1, 0.0);
        assert!((secs(r) - 240.0).abs() < 1e-6, "300 s token refreshes 60 s ahead");
        let (r, _) = timing(t0, Duration::from_secs(300), 0.1, 1.0);
        assert!((secs(r) - 252.0).abs() < 1e-6, "jitter shortens the window by up to 20 %");
        let (r, u) = timing(t0, Duration::from_secs(1), 1.0, 0.0);
        assert!(r <= u);
    }
}

//! The one rule by which a budget inferred from 429s (no `inin-ratelimit-*` header ever said it) is
//! probed upward, followed by the in-process limiter ([`super::Limiter`]) and by the shared window in
//! Redis (its `WINDOW` script gets [`PROBE_AFTER_FULL_WINDOWS`] as an argument from
//! [`super::shared::pace`]; Lua cannot call Rust, so the script's steps mirror [`clean_after`] and
//! [`may_probe`]).
//!
//! After [`PROBE_AFTER_FULL_WINDOWS`] windows in a row that used the whole budget without a 429, a
//! window that is full lets one call more out as a probe, and the next only once that one came back
//! admitted (which raises the budget to it). An under-estimate (a 429 another cause provoked, another
//! client of the token) is corrected within the window after; a budget that was right costs one 429
//! (the first 429 of a window re-learns the budget: what the server admitted in it).

/// Full windows in a row without a 429 after which an inferred budget is probed upward, one call at a
/// time. Before: a tenth more in one burst after 10 windows — a tenth of the budget in 429s when it
/// was right, and 13 took 77 windows to reach 20.
pub const PROBE_AFTER_FULL_WINDOWS: u32 = 3;

/// The count of full windows in a row without a 429 once a window that ran out (not one a 429 ended)
/// took `used` of `allowed`: one more when it was full, else none.
///
/// ```
/// use genesys_tenants_core::pipeline::rate_limit::probing::clean_after;
/// assert_eq!(clean_after(2, 13, 13), 3);
/// assert_eq!(clean_after(2, 12, 13), 0, "a window not used whole starts the count again");
/// ```
pub fn clean_after(clean: u32, used: u32, allowed: u32) -> u32 {
    if used >= allowed {
        clean.saturating_add(1)
    } else {
        0
    }
}

/// Whether a full window may let one call beyond the inferred budget out: enough full windows in a
/// row without a 429, and no probe waiting for its answer.
///
/// ```
/// use genesys_tenants_core::pipeline::rate_limit::probing::{may_probe, PROBE_AFTER_FULL_WINDOWS};
/// assert!(may_probe(PROBE_AFTER_FULL_WINDOWS, false));
/// assert!(!may_probe(PROBE_AFTER_FULL_WINDOWS, true), "one probe at a time");
/// assert!(!may_probe(PROBE_AFTER_FULL_WINDOWS - 1, false));
/// ```
pub fn may_probe(clean: u32, pending: bool) -> bool {
    clean >= PROBE_AFTER_FULL_WINDOWS && !pending
}

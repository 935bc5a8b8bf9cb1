//! A fixed-bucket latency histogram made of atomics: recording is a few relaxed adds (no lock, no
//! allocation), cheap enough for every call. Buckets are Prometheus-style upper bounds.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the buckets, in seconds (the last, `+Inf`, is implicit).
pub const BUCKETS_S: [f64; 12] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// Durations, counted by bucket, with their sum.
///
/// ```
/// use genesys_tenants_core::histogram::Histogram;
/// use std::time::Duration;
/// let h = Histogram::default();
/// h.record(Duration::from_millis(7));
/// h.record(Duration::from_secs(60));
/// let s = h.snapshot();
/// assert_eq!((s.count, s.cumulative[0], s.cumulative[1], s.cumulative[11]), (2, 0, 1, 1));
/// ```
#[derive(Debug, Default)]
pub struct Histogram {
    /// Per bucket (not cumulative); index 12 is above the last bound.
    counts: [AtomicU64; BUCKETS_S.len() + 1],
    sum_us: AtomicU64,
}

/// A histogram read at one moment.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HistogramSnapshot {
    /// Observations at or under each bound of [`BUCKETS_S`] (cumulative, as Prometheus wants).
    pub cumulative: Vec<u64>,
    /// All observations (the `+Inf` bucket).
    pub count: u64,
    /// Their sum, in seconds.
    pub sum_seconds: f64,
}

impl Histogram {
    /// Counts one observation.
    pub fn record(&self, d: Duration) {
        let s = d.as_secs_f64();
        let i = BUCKETS_S.iter().position(|b| s <= *b).unwrap_or(BUCKETS_S.len());
        self.counts[i].fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add(d.as_micros().min(u64::MAX as u128) as u64, Ordering::Relaxed);
    }

    /// The counts so far.
    pub fn snapshot(&self) -> HistogramSnapshot {
        let mut running = 0;
        let mut cumulative = Vec::with_capacity(BUCKETS_S.len());
        for c in &self.counts[..BUCKETS_S.len()] {
            running += c.load(Ordering::Relaxed);
            cumulative.push(running);
        }
        let count = running + self.counts[BUCKETS_S.len()].load(Ordering::Relaxed);
        HistogramSnapshot { cumulative, count, sum_seconds: self.sum_us.load(Ordering::Relaxed) as f64 / 1e6 }
    }
}

//! Metrics operators scrape: per tenant, calls by outcome, call latency, retries, 429s and the time
//! held, limiter waits, token requests and rotations, real-time events (channels, sockets, events
//! delivered, dropped and suppressed, moves, renewals, lost sockets and rebuilds); the config source's reads and staleness; the
//! shared store's availability. Read from the same atomics `stats()` reads (nothing extra on the hot
//! path but the latency histogram and the outcome counter), and rendered in the Prometheus text
//! exposition format (0.0.4), which Prometheus, prom-client's registry merge and OpenTelemetry's
//! Prometheus receiver all read.
//!
//! Cardinality is bounded: the only labels are `tenant` (the config's tenant ids), `outcome` (`OK` or
//! one of the fixed error codes) and the histogram's `le`. No path, no id from an API answer.

use crate::histogram::{HistogramSnapshot, BUCKETS_S};
use crate::notifications::figures::{Figure, FIGURES};
use crate::notifications::NotificationStats;
use crate::pipeline::RequestCounters;
use crate::stats::Stats;
use serde::Serialize;
use std::fmt::Write;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// One tenant's metrics.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantMetrics {
    /// Calls by outcome (`OK` or an error code); outcomes never seen are left out.
    pub calls: std::collections::BTreeMap<&'static str, u64>,
    /// Call latency, `request()` to answer, retries and waits included.
    pub latency: HistogramSnapshot,
    /// Retries (401 refresh, 429, 5xx, transport).
    pub retries: u64,
    /// 429 answers received.
    pub throttled: u64,
    /// Time this process held the tenant's calls for 429s, in ms.
    pub held_ms: u64,
    /// Time calls waited in the client-side limiter, in ms.
    pub limiter_wait_ms: u64,
    /// Token requests sent.
    pub token_requests: u64,
    /// Token requests refused or failed.
    pub token_failures: u64,
    /// Tokens obtained (first ones and refreshes).
    pub tokens_acquired: u64,
    /// Rotations.
    pub rotations: u64,
    /// The config entry is usable.
    pub valid: bool,
    /// Tokens in its pool, for a tenant with more than one (`tokensPerTenant`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_slots: Option<u32>,
    /// Of those, the ones holding a usable token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_slots_valid: Option<u32>,
    /// Real-time events, for a tenant that subscribed in this process.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notifications: Option<NotificationStats>,
}

/// Everything [`crate::Orchestrator::metrics`] reports.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Metrics {
    /// The upper bounds (seconds) of every latency histogram's buckets, `+Inf` left out.
    pub latency_buckets_seconds: &'static [f64],
    /// The real-time-event figures' names, kinds, units and meanings (what `registerMetrics` makes
    /// instruments of): [`FIGURES`].
    pub notification_figures: &'static [Figure],
    /// By tenant id.
    pub tenants: std::collections::BTreeMap<String, TenantMetrics>,
    /// Config reads (the service or the file), 304s included.
    pub config_reads: u64,
    /// Reads answered 304 Not Modified.
    pub config_not_modified: u64,
    /// Failed reads in a row (0 when the last one worked).
    pub config_consecutive_failures: u32,
    /// When the config was last read successfully (Unix ms).
    pub config_last_success_at: Option<u64>,
    /// The config in use came from the snapshot (the service was unreachable at start).
    pub config_from_snapshot: bool,
    /// `true`/`false` with `redisUrl` (shared / in-process fallback); absent without.
    pub store_up: Option<bool>,
    /// Store operations that failed.
    pub store_failures: u64,
    /// Times the store went down.
    pub store_outages: u64,
}

impl Metrics {
    /// Gathers them from `stats` and the tenants' request counters.
    pub fn gather(stats: Stats, counters: impl Fn(&str) -> Option<Arc<RequestCounters>>) -> Metrics {
        let tenants = stats
            .tenants
            .into_iter()
            .map(|(id, t)| {
                let c = counters(&id).unwrap_or_default();
                let m = TenantMetrics {
                    calls: c.outcomes.nonzero().into_iter().collect(),
                    latency: c.latency.snapshot(),
                    retries: t.retries,
                    throttled: t.throttled,
                    held_ms: c.held_ms.load(Ordering::Relaxed),
                    limiter_wait_ms: t.limiter_wait_ms,
                    token_requests: t.token.token_requests,
                    token_failures: t.token.token_failures,
                    tokens_acquired: t.token.tokens_acquired,
                    rotations: t.token.rotations,
                    valid: t.valid,
                    token_slots: t.slots.as_ref().map(|s| s.len() as u32),
                    token_slots_valid: t
                        .slots
                        .as_ref()
                        .map(|s| s.iter().filter(|s| matches!(s.state, "valid" | "refresh-due")).count() as u32),
                    notifications: t.notifications,
                };
                (id, m)
            })
            .collect();
        let store = stats.store.as_ref();
        Metrics {
            latency_buckets_seconds: &BUCKETS_S,
            notification_figures: FIGURES,
            tenants,
            config_reads: stats.config.reads,
            config_not_modified: stats.config.not_modified,
            config_consecutive_failures: stats.config.consecutive_failures,
            config_last_success_at: stats.config.last_success_at,
            config_from_snapshot: stats.config.from_snapshot,
            store_up: store.map(|s| s.mode == "shared"),
            store_failures: store.map_or(0, |s| s.failures),
            store_outages: store.map_or(0, |s| s.outages),
        }
    }

    /// The Prometheus text exposition format.
    ///
    /// ```
    /// use genesys_tenants_core::metrics::Metrics;
    /// let m = Metrics { latency_buckets_seconds: &[], notification_figures: &[], tenants: Default::default(), config_reads: 3, config_not_modified: 1, config_consecutive_failures: 0,
    ///     config_last_success_at: None, config_from_snapshot: false, store_up: None, store_failures: 0, store_outages: 0 };
    /// assert!(m.render_text().contains("genesys_tenants_config_reads_total 3\n"));
    /// ```
    pub fn render_text(&self) -> String {
        let mut out = String::with_capacity(4096 + self.tenants.len() * 2048);
        let per_tenant = |out: &mut String, name: &str, kind: &str, help: &str, value: &dyn Fn(&TenantMetrics) -> f64| {
            header(out, name, kind, help);
            for (id, t) in &self.tenants {
                let _ = writeln!(out, "{name}{{tenant=\"{}\"}} {}", escape(id), num(value(t)));
            }
        };
        header(&mut out, "genesys_tenants_calls_total", "counter", "Calls through the pipeline, by outcome (OK or the error code).");
        for (id, t) in &self.tenants {
            for (outcome, n) in &t.calls {
                let _ = writeln!(out, "genesys_tenants_calls_total{{tenant=\"{}\",outcome=\"{outcome}\"}} {n}", escape(id));
            }
        }
        header(
            &mut out,
            "genesys_tenants_call_duration_seconds",
            "histogram",
            "Call latency, request() to answer, retries and waits included.",
        );
        for (id, t) in &self.tenants {
            let id = escape(id);
            for (bound, n) in BUCKETS_S.iter().zip(&t.latency.cumulative) {
                let _ = writeln!(out, "genesys_tenants_call_duration_seconds_bucket{{tenant=\"{id}\",le=\"{bound}\"}} {n}");
            }
            let _ = writeln!(out, "genesys_tenants_call_duration_seconds_bucket{{tenant=\"{id}\",le=\"+Inf\"}} {}", t.latency.count);
            let _ = writeln!(out, "genesys_tenants_call_duration_seconds_sum{{tenant=\"{id}\"}} {}", num(t.latency.sum_seconds));
            let _ = writeln!(out, "genesys_tenants_call_duration_seconds_count{{tenant=\"{id}\"}} {}", t.latency.count);
        }
        per_tenant(&mut out, "genesys_tenants_retries_total", "counter", "Retries (401 refresh, 429, 5xx, transport).", &|t| {
            t.retries as f64
        });
        per_tenant(&mut out, "genesys_tenants_throttled_total", "counter", "429 answers received.", &|t| t.throttled as f64);
        per_tenant(&mut out, "genesys_tenants_held_seconds_total", "counter", "Time calls were held for 429s.", &|t| {
            t.held_ms as f64 / 1e3
        });
        per_tenant(
            &mut out,
            "genesys_tenants_limiter_wait_seconds_total",
            "counter",
            "Time calls waited in the client-side limiter.",
            &|t| t.limiter_wait_ms as f64 / 1e3,
        );
        per_tenant(&mut out, "genesys_tenants_token_requests_total", "counter", "OAuth token requests sent.", &|t| t.token_requests as f64);
        per_tenant(&mut out, "genesys_tenants_token_failures_total", "counter", "Token requests refused or failed.", &|t| {
            t.token_failures as f64
        });
        per_tenant(&mut out, "genesys_tenants_tokens_acquired_total", "counter", "Tokens obtained (first ones and refreshes).", &|t| {
            t.tokens_acquired as f64
        });
        per_tenant(&mut out, "genesys_tenants_rotations_total", "counter", "Credential rotations.", &|t| t.rotations as f64);
        per_tenant(&mut out, "genesys_tenants_tenant_valid", "gauge", "1 when the tenant's config entry is usable.", &|t| {
            f64::from(u8::from(t.valid))
        });
        // Only tenants with a token pool (`tokensPerTenant` > 1) have these series.
        if self.tenants.values().any(|t| t.token_slots.is_some()) {
            let pooled = |out: &mut String, name: &str, help: &str, value: fn(&TenantMetrics) -> Option<u32>| {
                header(out, name, "gauge", help);
                for (id, t) in &self.tenants {
                    if let Some(v) = value(t) {
                        let _ = writeln!(out, "{name}{{tenant=\"{}\"}} {v}", escape(id));
                    }
                }
            };
            pooled(&mut out, "genesys_tenants_token_slots", "Tokens in the tenant's pool (tokensPerTenant).", |t| t.token_slots);
            pooled(&mut out, "genesys_tenants_token_slots_valid", "Tokens of the tenant's pool holding a usable token.", |t| {
                t.token_slots_valid
            });
        }
        // Only tenants that subscribed to real-time events have these series.
        if self.tenants.values().any(|t| t.notifications.is_some()) {
            for f in FIGURES {
                let name = format!("genesys_tenants_{}{}", f.name, if f.kind == "counter" { "_total" } else { "" });
                header(&mut out, &name, f.kind, f.help);
                for (id, t) in &self.tenants {
                    if let Some(n) = &t.notifications {
                        let _ = writeln!(out, "{name}{{tenant=\"{}\"}} {}", escape(id), (f.value)(n));
                    }
                }
            }
        }
        let single = |out: &mut String, name: &str, kind: &str, help: &str, v: f64| {
            header(out, name, kind, help);
            let _ = writeln!(out, "{name} {}", num(v));
        };
        single(&mut out, "genesys_tenants_config_reads_total", "counter", "Config reads, 304s included.", self.config_reads as f64);
        single(
            &mut out,
            "genesys_tenants_config_not_modified_total",
            "counter",
            "Config reads answered 304.",
            self.config_not_modified as f64,
        );
        single(
            &mut out,
            "genesys_tenants_config_consecutive_failures",
            "gauge",
            "Failed config reads in a row.",
            f64::from(self.config_consecutive_failures),
        );
        if let Some(at) = self.config_last_success_at {
            single(
                &mut out,
                "genesys_tenants_config_last_success_timestamp_seconds",
                "gauge",
                "Last successful config read.",
                at as f64 / 1e3,
            );
        }
        single(
            &mut out,
            "genesys_tenants_config_from_snapshot",
            "gauge",
            "1 while the config in use came from the snapshot.",
            f64::from(u8::from(self.config_from_snapshot)),
        );
        if let Some(up) = self.store_up {
            single(&mut out, "genesys_tenants_store_up", "gauge", "1 while the shared store (Redis) is in use.", f64::from(u8::from(up)));
            single(
                &mut out,
                "genesys_tenants_store_failures_total",
                "counter",
                "Shared-store operations that failed.",
                self.store_failures as f64,
            );
            single(
                &mut out,
                "genesys_tenants_store_outages_total",
                "counter",
                "Times the shared store went down.",
                self.store_outages as f64,
            );
        }
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A label value as the format wants it: `\`, `"` and newlines escaped (tenant ids come from the
/// config service and may hold anything).
fn escape(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_tenant_ids_cannot_break_a_line_or_a_label() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        assert_eq!(num(3.0), "3");
        assert_eq!(num(0.25), "0.25");
    }
}

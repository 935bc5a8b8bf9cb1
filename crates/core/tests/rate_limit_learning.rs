//! Learning the first window without `inin-ratelimit-*` headers (issue 27, item 2): a cold tenant's
//! burst against a server that answers only `Retry-After` on its 429s. Counts, not timings.

mod common;

use common::{emulator, get};
use futures::future::join_all;
use serde_json::json;

/// The emulator's 429s for `tenant` so far.
async fn throttled(env: &common::Env, tenant: &str) -> u64 {
    env.counters(tenant).await["apiCalls"]["429"].as_u64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_burst_without_headers_costs_at_most_one_window_of_429s() {
    let env = emulator().await;
    env.control("PUT", "rate-limit-headers", json!({"enabled": false})).await;
    env.patch_client("acme", json!({"rateLimit": {"limit": 20, "windowSeconds": 2}})).await;
    let o = env.orchestrator().await;
    // A token first (token requests are not API calls), then 100 concurrent calls on a limiter that
    // knows nothing: the configured 300/min, no header will ever say 20 per 2 s.
    o.access_token("acme").await.unwrap();
    // A round trip as to a real region: every call is in flight together, as from Node, so a burst
    // is out before its first answer (in-process, the emulator would answer each before the next left).
    env.control("POST", "faults", json!({"method": "GET", "path": "/api/v2/organizations/me", "status": 0, "latencyMs": 20})).await;
    let calls = (0..100).map(|_| {
        let o = o.clone();
        async move { o.request("acme", get("/api/v2/organizations/me")).await }
    });
    let results = join_all(calls).await;
    assert_eq!(results.iter().filter(|r| r.is_err()).count(), 0, "{:?}", results.iter().find(|r| r.is_err()));
    let n429 = throttled(&env, "acme").await;
    // Before: the whole burst went out before the first 429 came back (80 of 100 refused).
    assert!(n429 <= 20, "429s: {n429} (at most one window's worth, 20)");
    assert!(n429 >= 1, "the budget can only be learned from a 429: {n429}");
    o.close().await;
}

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

/// One process whose budget was learned too low (a 429 another cause provoked after 13 calls, for the
/// server's 20 per 2 s) probes it upward by the rule the shared window follows: after 3 full windows
/// without a 429, one call beyond the budget at a time (each once the previous one came back
/// admitted), so it reaches the server's 20 in the fourth window — not a tenth more every 10 windows
/// (13 → 14 after 10 windows). The first 429, the one beyond 20, re-learns 20. Counts only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_under_estimated_budget_is_probed_up_to_the_servers_in_one_process() {
    let env = emulator().await;
    env.control("PUT", "rate-limit-headers", json!({"enabled": false})).await;
    env.patch_client("acme", json!({"rateLimit": {"limit": 20, "windowSeconds": 2}})).await;
    let o = env.orchestrator().await;
    o.access_token("acme").await.unwrap();
    // 13 calls one after the other, then a 429 the server's budget did not cause: the limiter learns 13.
    for _ in 0..13 {
        o.request("acme", get("/api/v2/organizations/me")).await.unwrap();
    }
    env.control("POST", "faults", json!({"path": "/api/v2/organizations/me", "status": 429, "count": 1, "retryAfterSeconds": 2})).await;
    o.request("acme", get("/api/v2/organizations/me")).await.unwrap();
    assert_eq!(o.stats().tenants["acme"].rate_limit.allowed, 13, "learned too low");
    let before = throttled(&env, "acme").await;
    // Three full windows of 13, then the probing one (13, then 14…20 one at a time, the 21st a 429),
    // then 20 more: 99 calls, in flight together.
    let calls = (0..99).map(|_| {
        let o = o.clone();
        async move { o.request("acme", get("/api/v2/organizations/me")).await }
    });
    let results = join_all(calls).await;
    assert_eq!(results.iter().filter(|r| r.is_err()).count(), 0, "{:?}", results.iter().find(|r| r.is_err()));
    let n429 = throttled(&env, "acme").await - before;
    let allowed = o.stats().tenants["acme"].rate_limit.allowed;
    assert_eq!(allowed, 20, "probed up to the server's budget ({n429} 429s)");
    assert!(n429 <= 1, "429s: {n429} (the probe beyond 20, at most)");
    o.close().await;
}

//! Fairness between tenants (issue 27, item 4): a tenant's bulk listing waits its turn per token —
//! at most `maxInFlightPerToken` (default [`DEFAULT_MAX_IN_FLIGHT`]) of its calls past admission at
//! once, the rest queued in order, asleep — so another tenant's call is not queued behind it. The
//! emulator's latency fault is the gate: it holds every heavy call on the server, counted in its
//! `maxConcurrency`. Counts, no timing.

mod common;

use common::get;
use genesys_tenants_core::pipeline::rate_limit::DEFAULT_MAX_IN_FLIGHT;
use serde_json::json;
use std::time::Duration;

const HEAVY_CALLS: usize = 100;

fn page(n: usize) -> genesys_tenants_core::ApiRequest {
    let mut r = get("/api/v2/users");
    r.query = vec![("pageSize".into(), "1".into()), ("pageNumber".into(), n.to_string())];
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_listing_waits_its_turn_and_another_tenants_call_goes_first() {
    let env = common::emulator().await;
    for tenant in ["acme", "acme-corp"] {
        env.patch_client(tenant, json!({"rateLimit": {"limit": 1_000_000, "windowSeconds": 60}})).await;
    }
    let o = env.orchestrator().await;
    o.access_token("acme").await.unwrap();
    o.access_token("acme-corp").await.unwrap();
    // The gate: every page of the heavy tenant is held 1.5 s on the server.
    env.control("POST", "faults", json!({"path": "/api/v2/users", "status": 0, "latencyMs": 1500})).await;
    let heavy: Vec<_> = (1..=HEAVY_CALLS)
        .map(|n| {
            let o = o.clone();
            tokio::spawn(async move { o.request("acme", page(n)).await })
        })
        .collect();
    // Wait (bounded) until the first turns are held on the server.
    for _ in 0..200 {
        if env.counters("acme").await["inFlight"].as_u64().unwrap_or(0) >= DEFAULT_MAX_IN_FLIGHT as u64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The interactive tenant's call is not queued behind the heavy tenant's remaining calls.
    let r = o.request("acme-corp", get("/api/v2/organizations/me")).await.unwrap();
    assert_eq!(r.status, 200);
    let c = env.counters("acme").await;
    assert_eq!(c["apiCallsTotal"].as_u64(), Some(0), "no heavy call was even answered before it: {c}");
    assert_eq!(c["inFlight"].as_u64(), Some(DEFAULT_MAX_IN_FLIGHT as u64), "the rest of the listing still waits its turn");
    for h in heavy {
        assert_eq!(h.await.unwrap().unwrap().status, 200);
    }
    let c = env.counters("acme").await;
    assert_eq!(c["apiCallsTotal"].as_u64(), Some(HEAVY_CALLS as u64));
    assert_eq!(c["maxConcurrency"].as_u64(), Some(DEFAULT_MAX_IN_FLIGHT as u64), "never more than the cap in flight: {c}");
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fetch_all_asking_for_more_concurrency_than_the_cap_gets_the_cap() {
    let env = common::emulator().await;
    env.patch_client("acme-corp", json!({"rateLimit": {"limit": 1_000_000, "windowSeconds": 60}})).await;
    let o = env.orchestrator().await;
    env.control("POST", "faults", json!({"path": "/api/v2/users", "status": 0, "latencyMs": 200})).await;
    let opts = genesys_tenants_core::pipeline::paginate::PageOptions { page_size: 10, concurrency: 100, ..Default::default() };
    let all = o.fetch_all("acme-corp", get("/api/v2/users"), opts).await.unwrap();
    assert_eq!(all.entities.len(), 1234, "every user of acme-corp, nothing lost");
    let c = env.counters("acme-corp").await;
    assert_eq!(c["maxConcurrency"].as_u64(), Some(DEFAULT_MAX_IN_FLIGHT as u64), "{c}");
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cap_is_the_option_and_is_per_token() {
    let env = common::emulator().await;
    env.patch_client("acme", json!({"rateLimit": {"limit": 1_000_000, "windowSeconds": 60}})).await;
    let mut options = env.options();
    options.max_in_flight_per_token = 4;
    options.tokens_per_tenant = 2;
    let o = env.orchestrator_with(options).await;
    // Both tokens' limiters know the budget before the gate (no cold probe held on the server).
    let warm: Vec<_> = (0..8).map(|_| o.request("acme", get("/api/v2/organizations/me"))).collect();
    for r in futures::future::join_all(warm).await {
        assert_eq!(r.unwrap().status, 200);
    }
    env.control("POST", "faults", json!({"path": "/api/v2/users", "status": 0, "latencyMs": 300})).await;
    let calls: Vec<_> = (1..=40).map(|n| o.request("acme", page(n))).collect();
    for r in futures::future::join_all(calls).await {
        assert_eq!(r.unwrap().status, 200);
    }
    let c = env.counters("acme").await;
    assert_eq!(c["maxConcurrency"].as_u64(), Some(8), "4 a token, 2 tokens: {c}");
    o.close().await;
}

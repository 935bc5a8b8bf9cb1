//! Metrics after a scripted run equal what the emulator counted (issue 18, part 3).

mod common;

use common::get;
use genesys_tenants_core::ApiRequest;
use serde_json::json;

#[tokio::test]
async fn metrics_after_a_scripted_run_equal_the_emulator_s_counts() {
    let env = common::emulator().await;
    let o = env.orchestrator().await;
    for _ in 0..5 {
        o.request("acme", get("/api/v2/organizations/me")).await.unwrap();
    }
    // One 429 with Retry-After: 1, then the retry succeeds.
    env.control("POST", "faults", json!({"path": "/api/v2/organizations/me", "status": 429, "count": 1, "retryAfterSeconds": 1})).await;
    o.request("acme", get("/api/v2/organizations/me")).await.unwrap();
    // globex lacks directory:user:view: one PERMISSION_MISSING.
    let search =
        ApiRequest::from_json(&json!({"method": "POST", "path": "/api/v2/users/search", "body": {"query": [{"type": "MATCH_ALL"}]}}))
            .unwrap();
    assert_eq!(o.request("globex", search).await.unwrap_err().code(), "PERMISSION_MISSING");

    let m = o.metrics();
    let acme = &m.tenants["acme"];
    let counted = env.counters("acme").await;
    assert_eq!(acme.calls.get("OK"), Some(&6));
    assert_eq!(acme.calls.len(), 1, "{:?}", acme.calls);
    assert_eq!(acme.latency.count, 6);
    assert!(acme.latency.sum_seconds >= 1.0, "the held call took over a second: {}", acme.latency.sum_seconds);
    assert_eq!(acme.throttled, counted["apiCalls"]["429"].as_u64().unwrap());
    assert_eq!(acme.throttled, 1);
    assert_eq!(acme.retries, 1);
    assert!((1000..1500).contains(&acme.held_ms), "held {} ms", acme.held_ms);
    assert_eq!(acme.token_requests, counted["tokenRequests"].as_u64().unwrap());
    assert_eq!(m.tenants["globex"].calls.get("PERMISSION_MISSING"), Some(&1));
    assert_eq!(m.tenants["globex"].token_requests, env.token_requests("globex").await);
    assert_eq!(m.tenants["umbrella"].latency.count, 0, "an idle tenant has empty series");

    let text = m.render_text();
    for line in [
        "genesys_tenants_calls_total{tenant=\"acme\",outcome=\"OK\"} 6",
        "genesys_tenants_calls_total{tenant=\"globex\",outcome=\"PERMISSION_MISSING\"} 1",
        "genesys_tenants_call_duration_seconds_count{tenant=\"acme\"} 6",
        "genesys_tenants_call_duration_seconds_bucket{tenant=\"acme\",le=\"+Inf\"} 6",
        "genesys_tenants_throttled_total{tenant=\"acme\"} 1",
        "genesys_tenants_retries_total{tenant=\"acme\"} 1",
        &format!("genesys_tenants_token_requests_total{{tenant=\"acme\"}} {}", acme.token_requests),
        "# TYPE genesys_tenants_call_duration_seconds histogram",
    ] {
        assert!(text.lines().any(|l| l == line), "missing `{line}` in\n{text}");
    }
    // The one labels: tenant, outcome, le. No path.
    assert!(!text.contains("/api/v2"), "no path in a label");
    o.close().await;
}

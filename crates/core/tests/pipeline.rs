//! The request pipeline and pagination against the emulator.

mod common;

use common::{emulator, get};
use futures::future::join_all;
use genesys_tenants_core::{ApiRequest, Error, PageOptions, PageStyle, PermissionMode};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::time::{Duration, Instant};

const INTERVAL: &str = "2024-01-01T00:00:00.000Z/2024-01-08T00:00:00.000Z";

fn post(path: &str, body: Value) -> ApiRequest {
    ApiRequest { method: "POST".into(), path: path.into(), body: Some(body), ..Default::default() }
}

fn ids(items: &[Value], key: &str) -> HashSet<String> {
    items.iter().filter_map(|i| i[key].as_str().map(str::to_string)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limited_burst_completes_near_the_theoretical_minimum() {
    let env = emulator().await;
    env.patch_client("acme", json!({"rateLimit": {"limit": 20, "windowSeconds": 2}})).await;
    let o = env.orchestrator().await;
    o.request("acme", get("/api/v2/organizations/me")).await.unwrap(); // warm-up: the limiter sees the headers
    tokio::time::sleep(Duration::from_millis(2100)).await; // let the warm-up's window pass
    let before = env.counters("acme").await;
    let t0 = Instant::now();
    let calls = (0..100).map(|_| {
        let o = o.clone();
        async move { o.request("acme", get("/api/v2/organizations/me")).await }
    });
    let results = join_all(calls).await;
    let elapsed = t0.elapsed();
    assert!(results.iter().all(Result::is_ok), "{:?}", results.iter().find(|r| r.is_err()));
    let after = env.counters("acme").await;
    let n429 = after["apiCalls"]["429"].as_u64().unwrap_or(0) - before["apiCalls"]["429"].as_u64().unwrap_or(0);
    assert!(n429 <= 5, "429s: {n429}");
    assert!(elapsed <= Duration::from_secs_f64(8.0 * 1.1 + 1.0), "took {elapsed:?}");
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_on_page_one_is_honoured() {
    let env = emulator().await;
    let o = env.orchestrator().await;
    o.access_token("acme-corp").await.unwrap();
    env.control("POST", "faults", json!({"method": "GET", "path": "/api/v2/users", "status": 429, "count": 1, "retryAfterSeconds": 3}))
        .await;
    let t0 = Instant::now();
    let all = o.fetch_all("acme-corp", get("/api/v2/users"), PageOptions::default()).await.unwrap();
    assert!(t0.elapsed() >= Duration::from_secs(3), "retried after {:?}", t0.elapsed());
    assert!(t0.elapsed() < Duration::from_secs(6), "the wait ended with Retry-After, not a whole minute later: {:?}", t0.elapsed());
    assert_eq!(all.entities.len(), 1234);
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_user_exactly_once() {
    let env = emulator().await;
    let o = env.orchestrator().await;
    let all = o.fetch_all("acme-corp", get("/api/v2/users"), PageOptions::default()).await.unwrap();
    assert_eq!((all.entities.len(), all.total_count, all.pages), (1234, 1234, 13));
    assert_eq!(ids(&all.entities, "id").len(), 1234);
    // Sequential cursor gives the same items in the same order.
    let mut pager = o.paginate("acme-corp", get("/api/v2/users"), PageOptions { page_size: 500, ..Default::default() });
    let mut seq = Vec::new();
    while let Some(p) = pager.next_page().await.unwrap() {
        seq.extend(p.items);
    }
    assert_eq!(seq, all.entities);
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conversations_exactly_once_by_query_and_by_job() {
    let env = emulator().await;
    let o = env.orchestrator().await;
    let q = o
        .fetch_all(
            "acme-corp",
            post("/api/v2/analytics/conversations/details/query", json!({"interval": INTERVAL})),
            PageOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!((q.entities.len(), q.total_count), (437, 437));
    assert_eq!(ids(&q.entities, "conversationId").len(), 437);
    let j = o
        .fetch_all("acme-corp", post("/api/v2/analytics/conversations/details/jobs", json!({"interval": INTERVAL})), PageOptions::default())
        .await
        .unwrap();
    assert_eq!(ids(&j.entities, "conversationId"), ids(&q.entities, "conversationId"));
    assert_eq!(j.entities.len(), 437);
    let s = o
        .fetch_all(
            "acme-corp",
            post("/api/v2/users/search", json!({"query": [{"type": "MATCH_ALL"}]})),
            PageOptions { style: Some(PageStyle::Search), page_size: 100, ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!(ids(&s.entities, "id").len(), 1234);
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_pages_is_an_error_not_a_truncation() {
    let env = emulator().await;
    let o = env.orchestrator().await;
    let e = o.fetch_all("acme-corp", get("/api/v2/users"), PageOptions { max_pages: 3, ..Default::default() }).await.unwrap_err();
    assert_eq!(e.code(), "TOO_MANY_PAGES");
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_permission_is_named_exactly() {
    let env = emulator().await;
    let o = env.orchestrator().await;
    let e = o.request("globex", post("/api/v2/users/search", json!({"query": [{"type": "MATCH_ALL"}]}))).await.unwrap_err();
    match &e {
        Error::PermissionMissing { missing_permissions, mode, correlation_id, .. } => {
            assert_eq!(missing_permissions, &vec!["directory:user:view".to_string()]);
            assert_eq!(*mode, PermissionMode::Any);
            assert!(correlation_id.is_some());
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("directory:user:view"));
    assert_eq!(e.fields()["status"], 403);
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scope_enforcement_and_preflight() {
    let env = emulator().await;
    let o = env.orchestrator().await;
    // The server's answer (initech's org enforces scopes; its client lacks users:readonly), in the
    // shape Genesys sends: the accepted scopes in brackets, any one of them.
    let e = o.request("initech", get("/api/v2/users")).await.unwrap_err();
    match &e {
        Error::ScopeMissing { missing_scopes, mode, preflight, status, body, .. } => {
            assert_eq!(missing_scopes, &vec!["users".to_string(), "users:readonly".to_string()]);
            assert_eq!((*mode, *preflight, *status), (PermissionMode::Any, false, Some(403)));
            assert_eq!(body["code"], "app.not.authorized.for.scope");
            assert!(body.get("messageParams").is_none());
        }
        other => panic!("{other:?}"),
    }
    assert!(e.correlation_id().is_some());
    // The older shape (WWW-Authenticate, messageParams) is still read.
    env.control("PUT", "scope-errors", json!({"shape": "legacy"})).await;
    let e = o.request("initech", get("/api/v2/users")).await.unwrap_err();
    assert_eq!((e.code(), e.fields()["missingScopes"].clone()), ("SCOPE_MISSING", json!(["users:readonly"])));
    env.control("PUT", "scope-errors", json!({"shape": "genesys"})).await;
    o.close().await;

    // Pre-flight: declare scopes that lack users:readonly; nothing reaches the emulator.
    let mut tenants = env.tenants().await;
    for t in tenants.iter_mut() {
        if t["tenantId"] == "acme" {
            t["requiredScopes"] = json!(["organization:readonly"]);
        }
    }
    env.control("PUT", "config-service/tenants", Value::Array(tenants)).await;
    let o = env.orchestrator().await;
    let before = env.api_calls("acme").await;
    let e = o.request("acme", get("/api/v2/users")).await.unwrap_err();
    assert_eq!(e.code(), "SCOPE_MISSING");
    assert_eq!(e.fields()["preflight"], true);
    assert_eq!(e.fields()["missingScopes"], json!(["users", "users:readonly"]));
    assert_eq!(e.fields()["mode"], "ANY");
    assert_eq!(env.api_calls("acme").await, before);
    assert!(o.request("acme", get("/api/v2/organizations/me")).await.is_ok());
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_token_is_replaced_once_mid_run() {
    let env = emulator().await;
    let o = env.orchestrator().await;
    for i in 0..20 {
        if i == 10 {
            env.revoke("acme").await;
        }
        o.request("acme", get("/api/v2/organizations/me")).await.expect("no failure");
    }
    assert_eq!(env.token_requests("acme").await, 2);
    assert_eq!(env.counters("acme").await["apiCalls"]["401"], 1);
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_retry_only_when_safe() {
    let env = emulator().await;
    let o = env.orchestrator().await;
    o.access_token("acme-corp").await.unwrap();
    env.control("POST", "faults", json!({"method": "GET", "path": "/api/v2/organizations/me", "status": 503, "count": 2})).await;
    assert!(o.request("acme-corp", get("/api/v2/organizations/me")).await.is_ok());
    let id = env.client_id("acme-corp").await;
    env.control(
        "POST",
        "faults",
        json!({"method": "POST", "path": format!("/api/v2/oauth/clients/{id}/secret"), "status": 503, "count": 1}),
    )
    .await;
    let e = o.request("acme-corp", post(&format!("/api/v2/oauth/clients/{id}/secret"), json!({}))).await.unwrap_err();
    assert_eq!((e.code(), e.fields()["status"].as_u64()), ("UPSTREAM_ERROR", Some(503)));
    // A read-only query POST is retried.
    env.control(
        "POST",
        "faults",
        json!({"method": "POST", "path": "/api/v2/analytics/conversations/details/query", "status": 503, "count": 1}),
    )
    .await;
    assert!(o.request("acme-corp", post("/api/v2/analytics/conversations/details/query", json!({"interval": INTERVAL}))).await.is_ok());
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urls_off_the_api_host_are_refused_before_sending() {
    let env = emulator().await;
    let o = env.orchestrator().await;
    let e = o.request("acme", get("https://evil.example.com/api/v2/users")).await.unwrap_err();
    assert_eq!((e.code(), e.fields()["option"].as_str()), ("INVALID_OPTIONS", Some("path")));
    assert_eq!(env.token_requests("acme").await, 0);
    o.close().await;
}

//! A traced call's record (trace.rs) against the emulator, without Node: what the spans are made from.

mod common;

use common::{emulator, get};
use futures::future::join_all;
use genesys_tenants_core::trace;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_that_met_a_429_and_a_401_records_three_attempts_and_its_token_waits() {
    let env = emulator().await;
    let o = env.orchestrator().await;
    let mut list = get("/api/v2/users");
    list.query = vec![("pageSize".into(), "1".into())];
    let users = o.request("acme-corp", list).await.unwrap();
    let id = users.body["entities"][0]["id"].as_str().unwrap().to_string();
    let path = format!("/api/v2/users/{id}");
    env.control("POST", "faults", json!({"method": "GET", "path": path, "status": 429, "count": 1, "retryAfterSeconds": 1})).await;
    env.control("POST", "faults", json!({"method": "GET", "path": path, "status": 401, "count": 1})).await;

    let (r, record) = trace::collect(true, o.request("acme-corp", get(&path))).await;
    assert_eq!(r.unwrap().status, 200);
    let record = record.expect("asked for");
    assert!(record.tokens.is_empty(), "every token wait was inside the request");
    let [req] = &record.requests[..] else { panic!("one request: {record:?}") };
    assert_eq!(
        (req.method.as_str(), req.url_template, req.server_address.as_deref(), req.server_port, req.status, req.error_code, req.retries),
        ("GET", Some("/api/v2/users/{userId}"), Some("127.0.0.1"), Some(env.port()), Some(200), None, 2)
    );
    assert_eq!(req.attempts.iter().map(|a| a.status).collect::<Vec<_>>(), [Some(429), Some(401), Some(200)]);
    assert!(req.hold_ms >= 1000 && req.attempts[0].hold_ms == req.hold_ms, "the 429's Retry-After: 1 held it: {req:?}");
    assert_eq!(req.attempts.iter().map(|a| a.token_refreshed).collect::<Vec<_>>(), [false, true, false]);
    assert_eq!(req.tokens.iter().map(|t| (t.cache, t.joined)).collect::<Vec<_>>(), [("hit", false), ("hit", false), ("miss", false)]);
    let third = &req.attempts[2];
    assert!(req.tokens[2].start_us >= third.start_us && req.tokens[2].end_us <= third.end_us, "the new token inside the third attempt");
    assert!(req.start_us <= req.attempts[0].start_us && third.end_us <= req.end_us);

    // Nothing secret or id-bearing in it.
    let text = serde_json::to_string(&record).unwrap();
    let token = o.access_token("acme-corp").await.unwrap();
    assert!(!text.contains(token.expose()) && !text.contains(&id), "{text}");
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_flight_shows_as_one_wait_started_and_the_others_joined() {
    let env = emulator().await;
    let o = env.orchestrator().await;
    // A slow token endpoint: every waiter asks while the first one's request is under way.
    env.control("POST", "faults", json!({"method": "POST", "path": "/oauth/token", "status": 0, "latencyMs": 300, "count": 1})).await;
    let waits = join_all((0..5).map(|_| trace::collect(true, o.access_token("acme-corp")))).await;
    let mut seen = Vec::new();
    for (r, record) in waits {
        assert!(r.is_ok());
        let record = record.unwrap();
        assert!(record.requests.is_empty());
        let [t] = &record.tokens[..] else { panic!("one wait: {record:?}") };
        seen.push((t.cache, t.joined));
    }
    assert_eq!(seen, [("miss", false), ("miss", true), ("miss", true), ("miss", true), ("miss", true)]);
    assert_eq!(env.token_requests("acme-corp").await, 1);
    // Not asked for: no record, and the next call is a hit.
    assert!(trace::collect(false, o.access_token("acme-corp")).await.1.is_none());
    let (_, again) = trace::collect(true, o.access_token("acme-corp")).await;
    assert_eq!(again.unwrap().tokens[0].cache, "hit");
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_operation_has_no_template_and_a_failure_keeps_its_code() {
    let env = emulator().await;
    let o = env.orchestrator().await;
    let (r, record) = trace::collect(true, o.request("acme-corp", get("/api/v2/no-such-thing/1234"))).await;
    let e = r.unwrap_err();
    let req = &record.unwrap().requests[0];
    assert_eq!((req.url_template, req.error_code), (None, Some(e.code())));
    assert_eq!(req.status, e.fields().get("status").and_then(|s| s.as_u64()).map(|s| s as u16));
    o.close().await;
}

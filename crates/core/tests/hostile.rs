//! Hostile input and faults (issue 12): paths and `nextUri`s that would send a token elsewhere,
//! servers that echo secrets, holds no caller can wait out, `close()` under load, config documents
//! with one poisoned entry, credentials in URLs.

mod common;

use common::raw::{self, Answer};
use common::{emulator, get};
use futures::future::join_all;
use genesys_tenants_core::events::Event;
use genesys_tenants_core::{Error, Orchestrator, PageOptions, PageStyle, Secret};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

/// Everything an error shows a caller: message and fields.
fn surface(e: &Error) -> String {
    format!("{e} {}", Value::Object(e.fields()))
}

fn drain(rx: &mut broadcast::Receiver<Event>) -> String {
    let mut all = String::new();
    while let Ok(ev) = rx.try_recv() {
        all.push_str(&serde_json::to_string(&ev).unwrap());
        all.push('\n');
    }
    all
}

/// Path forms that reached another host before: `{P}` is the recording listener's port.
const CALLER_PATHS: &[&str] = &[
    "HTTP://127.0.0.1:{P}/x",
    "Http://127.0.0.1:{P}/api/v2/x",
    "http://127.0.0.1:{P}/api/v2/x",
    "http:\\\\127.0.0.1:{P}/api/v2/x",
    "\\\\127.0.0.1:{P}/api/v2/x",
    "\\/127.0.0.1:{P}/api/v2/x",
    "//127.0.0.1:{P}/api/v2/x",
    " http://127.0.0.1:{P}/api/v2/x",
    "\thttp://127.0.0.1:{P}/api/v2/x",
    "\nhttp://127.0.0.1:{P}/api/v2/x",
    "\0http://127.0.0.1:{P}/api/v2/x",
    "http:127.0.0.1:{P}/api/v2/x",
    "/api/v2/../../x",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callers_path_never_reaches_another_host() {
    let env = emulator().await;
    let recorder = raw::serve(|_| Answer::json(200, "{}")).await;
    let o = env.orchestrator().await;
    for form in CALLER_PATHS {
        let path = form.replace("{P}", &recorder.port.to_string());
        let e = o.request("acme", get(&path)).await.unwrap_err();
        assert_eq!((e.code(), e.fields()["option"].as_str()), ("INVALID_OPTIONS", Some("path")), "{path:?}: {e}");
    }
    assert_eq!(recorder.connections(), 0, "the recording listener was reached");
    assert_eq!(env.token_requests("acme").await, 0, "refused before any token was fetched");
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_servers_next_uri_never_reaches_another_host() {
    let env = emulator().await;
    let recorder = raw::serve(|_| Answer::json(200, r#"{"entities":[]}"#)).await;
    let o = env.orchestrator().await;
    let cursor = PageOptions { style: Some(PageStyle::Cursor), ..PageOptions::default() };
    for form in CALLER_PATHS {
        let next_uri = form.replace("{P}", &recorder.port.to_string());
        let page = json!({"entities": [{"id": "u1"}], "nextUri": next_uri});
        env.control("POST", "faults", json!({"method": "GET", "path": "/api/v2/users", "status": 200, "count": 1, "body": page})).await;
        let e = o.fetch_all("acme", get("/api/v2/users"), cursor.clone()).await.unwrap_err();
        assert_eq!(e.code(), "UPSTREAM_ERROR", "{next_uri:?}: {e}");
        assert!(e.to_string().contains("nextUri"), "the error names the field: {e}");
        env.control("DELETE", "faults", Value::Null).await;
    }
    assert_eq!(recorder.connections(), 0, "the recording listener was reached");
    // An honest nextUri is still followed.
    let all = o.fetch_all("acme", get("/api/v2/users"), cursor).await.unwrap();
    assert_eq!(all.entities.len(), 50);
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_a_server_echoes_are_redacted_from_errors_and_events() {
    let env = emulator().await;
    let tenants = env.tenants().await;
    let entry = |id: &str| tenants.iter().find(|t| t["tenantId"] == id).cloned().unwrap();
    let o = env.orchestrator().await;
    let mut rx = o.subscribe();

    // The token endpoint quotes the client secret.
    let secret = entry("acme")["clientSecret"].as_str().unwrap().to_string();
    let body = json!({"error": "invalid_client", "error_description": format!("client secret {secret} is not valid")});
    env.control("POST", "faults", json!({"path": "/oauth/token", "status": 400, "count": 1, "body": body})).await;
    let e = o.access_token("acme").await.unwrap_err();
    assert_eq!(e.code(), "AUTH_FAILED");
    assert!(surface(&e).contains("client secret [redacted] is not valid"), "{}", surface(&e));
    let events = drain(&mut rx);
    assert!(events.contains("token.rejected") && !events.contains(&secret), "{events}");

    // A 401 quotes the Authorization header: base64 of clientId:secret.
    use base64::Engine;
    let t = entry("acme-corp");
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        t["clientId"].as_str().unwrap(),
        t["clientSecret"].as_str().unwrap()
    ));
    let body = json!({"error": "invalid_client", "error_description": format!("refused Authorization: Basic {basic}")});
    env.control("POST", "faults", json!({"path": "/oauth/token", "status": 401, "count": 1, "body": body})).await;
    let e = o.access_token("acme-corp").await.unwrap_err();
    assert!(!surface(&e).contains(&basic) && surface(&e).contains("Basic [redacted]"), "{}", surface(&e));
    assert!(!drain(&mut rx).contains(&basic));

    // An API 400 quotes the bearer token.
    let token = o.access_token("globex").await.unwrap().expose().to_string();
    let body = json!({"code": "bad.request", "status": 400, "message": format!("malformed header: Bearer {token}"), token.clone(): "echo"});
    env.control("POST", "faults", json!({"method": "GET", "path": "/api/v2/routing/queues", "status": 400, "count": 1, "body": body}))
        .await;
    let e = o.request("globex", get("/api/v2/routing/queues")).await.unwrap_err();
    assert_eq!(e.code(), "UPSTREAM_ERROR");
    assert!(!surface(&e).contains(&token) && surface(&e).contains("Bearer [redacted]"), "{}", surface(&e));
    assert!(!drain(&mut rx).contains(&token));
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_in_urls_are_never_printed() {
    let env = emulator().await;
    let mut opts = env.options();
    opts.config_endpoint = Some("http://svc:hunter2-config-pw@127.0.0.1:1".into());
    let o = Orchestrator::new(opts).unwrap();
    let e = o.initialize().await.unwrap_err();
    assert_eq!(e.code(), "CONFIG_UNAVAILABLE");
    assert!(!surface(&e).contains("hunter2") && surface(&e).contains("http://127.0.0.1:1/"), "{}", surface(&e));

    let mut opts = env.options();
    opts.redis_url = Some("redis://default:hunter2-redis-pw@127.0.0.1:1".into());
    opts.encryption_key = Some(Secret::new("ab".repeat(32)));
    let o = env.orchestrator_with(opts).await;
    let mut rx = o.subscribe();
    o.access_token("acme").await.expect("Redis down: in-process");
    let seen = format!("{} {}", drain(&mut rx), serde_json::to_string(&o.stats()).unwrap());
    assert!(seen.contains("store.unavailable") && !seen.contains("hunter2"), "{seen}");
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_no_caller_can_wait_out_fails_the_later_calls_at_once() {
    let env = emulator().await;
    let o = env.orchestrator().await;
    o.request("acme", get("/api/v2/organizations/me")).await.unwrap();
    env.control(
        "POST",
        "faults",
        json!({"path": "/api/v2/organizations/me", "status": 429, "count": 1, "retryAfterSeconds": 99_999_999u64}),
    )
    .await;
    let e = o.request("acme", get("/api/v2/organizations/me")).await.unwrap_err();
    assert_eq!(e.code(), "RATE_LIMITED");
    let sent = env.api_calls("acme").await;
    for _ in 0..3 {
        let t0 = Instant::now();
        let e = o.request("acme", get("/api/v2/organizations/me")).await.unwrap_err();
        assert_eq!(e.code(), "RATE_LIMITED");
        assert!(e.fields()["retryAfterMs"].as_u64().unwrap() > 3_000_000, "{e}");
        assert!(t0.elapsed() < Duration::from_millis(200), "failed fast: {:?}", t0.elapsed());
    }
    assert_eq!(env.api_calls("acme").await, sent, "nothing was sent into the pause");
    let t0 = Instant::now();
    o.close().await;
    assert!(t0.elapsed() < Duration::from_millis(200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_settles_every_waiter_at_once() {
    let env = emulator().await;
    let o = env.orchestrator().await;
    o.request("acme", get("/api/v2/organizations/me")).await.unwrap();
    env.control("POST", "faults", json!({"path": "/api/v2/organizations/me", "status": 429, "count": 1, "retryAfterSeconds": 20})).await;
    // One call meets the 429 and waits in the 20 s hold; 200 more queue behind it.
    let spawn = |o: &Orchestrator| {
        let o = o.clone();
        tokio::spawn(async move { o.request("acme", get("/api/v2/organizations/me")).await })
    };
    let mut calls = vec![spawn(&o)];
    while o.stats().tenants["acme"].throttled == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(20)).await; // the hold is set just after the count
    calls.extend((0..200).map(|_| spawn(&o)));
    // And one caller waits for a token the endpoint is slow to give.
    env.control("POST", "faults", json!({"path": "/oauth/token", "status": 0, "latencyMs": 10_000, "count": 1})).await;
    let token_waiter = {
        let o = o.clone();
        tokio::spawn(async move { o.access_token("acme-corp").await })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(calls.iter().all(|c| !c.is_finished()), "every call is waiting");
    let t0 = Instant::now();
    o.close().await;
    let results = join_all(calls).await;
    let token = token_waiter.await.unwrap();
    let settled = t0.elapsed();
    assert!(settled < Duration::from_millis(500), "settled {settled:?} after close()");
    assert!(
        results.iter().all(|r| matches!(r, Ok(Err(Error::Closed)))),
        "{:?}",
        results.iter().find(|r| !matches!(r, Ok(Err(Error::Closed))))
    );
    assert!(matches!(token, Err(Error::Closed)), "{token:?}");
    let token_requests = env.token_requests("acme-corp").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(env.token_requests("acme-corp").await, token_requests, "no token request after close()");
}

fn write_config(path: &std::path::Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_poisoned_entry_never_sinks_the_document() {
    let env = emulator().await;
    let tenants = env.tenants().await;
    let entry = |id: &str| serde_json::to_string(tenants.iter().find(|t| t["tenantId"] == id).unwrap()).unwrap();
    let dir = std::env::temp_dir().join(format!("gt-hostile-{}-{}", std::process::id(), rand::random::<u32>()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("tenants.json");
    let poison = r#"{"tenantId":"surrogate","clientId":"x","clientSecret":"\ud800"}"#;
    write_config(&file, format!("[{},{poison}]", entry("acme")).as_bytes());
    let mut opts = env.options();
    opts.config_endpoint = None;
    opts.config_file = Some(file.clone());
    let o = env.orchestrator_with(opts).await;
    assert_eq!(o.tenant_ids(), vec!["acme"]);
    let e = o.access_token("surrogate").await.unwrap_err();
    assert_eq!((e.code(), e.fields()["field"].as_str()), ("TENANT_INVALID", Some("clientSecret")));

    // A reload with more poison still applies every good change.
    let deep = "[".repeat(300) + &"]".repeat(300);
    let mut doc = format!(
        r#"[{},{},{{"tenantId":"huge","clientId":"x","clientSecret":"s","rotationIntervalMs":1e400}},{{"tenantId":"deep","clientId":"x","clientSecret":"s","x":{deep}}},{{"tenantId":"utf8","clientId":"x","clientSecret":""#,
        entry("acme"),
        entry("acme-corp")
    )
    .into_bytes();
    doc.extend_from_slice(&[0xff, 0xfe, b'"', b'}', b']']);
    write_config(&file, &doc);
    let diff = o.reload_config().await.unwrap();
    assert!(diff.added.contains(&"acme-corp".to_string()), "{diff:?}");
    for (id, field) in [("huge", "rotationIntervalMs"), ("deep", "x"), ("utf8", "clientSecret")] {
        let e = o.access_token(id).await.unwrap_err();
        assert_eq!((e.code(), e.fields()["field"].as_str()), ("TENANT_INVALID", Some(field)), "{id}: {e}");
    }
    assert!(o.access_token("acme-corp").await.is_ok());

    // An empty list after a good one keeps the good one, and says so.
    let mut rx = o.subscribe();
    write_config(&file, b"[]");
    assert_eq!(o.reload_config().await.unwrap_err().code(), "CONFIG_UNAVAILABLE");
    assert_eq!(o.tenant_ids(), vec!["acme", "acme-corp"]);
    assert!(drain(&mut rx).contains("config.stale"));
    o.close().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_304_to_the_first_read_is_not_a_config() {
    let server = raw::serve(|_| Answer::Bytes(b"HTTP/1.1 304 Not Modified\r\nconnection: close\r\n\r\n".to_vec())).await;
    let opts = genesys_tenants_core::Options { config_endpoint: Some(server.url()), ..Default::default() };
    let o = Orchestrator::new(opts).unwrap();
    let e = o.initialize().await.unwrap_err();
    assert_eq!(e.code(), "CONFIG_UNAVAILABLE");
    assert!(e.to_string().contains("304"), "{e}");
    o.close().await;
}

//! Token lifecycle against the emulator: single-flight, refresh-ahead, rotation, isolation.

mod common;

use common::{emulator, get};
use futures::future::join_all;
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const FIVE: [&str; 5] = ["acme-corp", "acme", "globex", "initech", "umbrella"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cold_storm_makes_one_token_request_per_tenant() {
    let env = emulator().await;
    let o = env.orchestrator().await;
    for wave in 0..2 {
        let calls = FIVE.iter().flat_map(|t| (0..25).map(move |_| *t)).map(|t| {
            let o = o.clone();
            async move { o.access_token(t).await.map(|_| ()) }
        });
        let results = join_all(calls).await;
        assert!(results.iter().all(Result::is_ok), "wave {wave}: {results:?}");
        for t in FIVE {
            assert_eq!(env.token_requests(t).await, 1, "tenant {t} after wave {wave}");
        }
    }
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_lived_tokens_are_refreshed_ahead_without_failures() {
    let env = emulator().await;
    env.patch_client("acme", json!({"tokenLifetimeSeconds": 2})).await;
    let o = env.orchestrator().await;
    let failures = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        if o.request("acme", get("/api/v2/organizations/me")).await.is_err() {
            failures.fetch_add(1, Ordering::Relaxed);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(failures.load(Ordering::Relaxed), 0);
    let n = env.token_requests("acme").await;
    // Lifetime 2 s, refreshed 0.4–0.5 s ahead: 5 s of calls need 3 or 4 tokens, never one per call.
    assert!((3..=5).contains(&n), "token requests: {n}");
    o.close().await;
}

async fn flow_calls(o: &genesys_tenants_core::Orchestrator, tenant: &str, for_how_long: Duration) -> (u64, u64, Option<Duration>) {
    // Calls every 20 ms; returns (ok, failed, time from first failure to the next success).
    let mut ok = 0;
    let mut failed = 0;
    let mut first_fail: Option<Instant> = None;
    let mut recovery = None;
    let start = Instant::now();
    while start.elapsed() < for_how_long {
        match o.request(tenant, get("/api/v2/organizations/me")).await {
            Ok(_) => {
                ok += 1;
                if let (Some(f), None) = (first_fail, recovery) {
                    recovery = Some(f.elapsed());
                }
            }
            Err(_) => {
                failed += 1;
                first_fail.get_or_insert_with(Instant::now);
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (ok, failed, recovery)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn announced_rotation_fails_no_call() {
    let env = emulator().await;
    let o = env.orchestrator().await;
    let before = o.access_token("acme-corp").await.unwrap();
    let flow = {
        let o = o.clone();
        tokio::spawn(async move { flow_calls(&o, "acme-corp", Duration::from_secs(2)).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    env.regenerate_secret("acme-corp").await;
    o.rotate_credentials("acme-corp").await.expect("rotation succeeds");
    env.revoke("acme-corp").await; // the old token is gone for good
    let (ok, failed, _) = flow.await.unwrap();
    assert_eq!(failed, 0, "{ok} ok");
    assert!(ok > 20);
    let after = o.access_token("acme-corp").await.unwrap();
    assert_ne!(before.expose(), after.expose());
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unannounced_rotation_recovers_within_two_seconds() {
    let env = emulator().await;
    let o = env.orchestrator().await;
    o.access_token("acme-corp").await.unwrap();
    let flow = {
        let o = o.clone();
        tokio::spawn(async move { flow_calls(&o, "acme-corp", Duration::from_secs(3)).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    env.regenerate_secret("acme-corp").await; // the config service serves the new secret
    env.revoke("acme-corp").await; // nobody told the orchestrator
    let (ok, failed, recovery) = flow.await.unwrap();
    assert!(failed <= 2, "failed {failed}");
    assert!(recovery.is_none_or(|r| r < Duration::from_secs(2)), "{recovery:?}");
    assert!(ok > 30);
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotating_one_tenant_never_touches_a_prefix_twin() {
    let env = emulator().await;
    let o = env.orchestrator().await;
    let corp = o.access_token("acme-corp").await.unwrap();
    let acme = o.access_token("acme").await.unwrap();
    o.rotate_credentials("acme").await.unwrap();
    assert_ne!(o.access_token("acme").await.unwrap().expose(), acme.expose());
    assert_eq!(o.access_token("acme-corp").await.unwrap().expose(), corp.expose());
    assert_eq!(env.token_requests("acme-corp").await, 1);
    assert_eq!(env.token_requests("acme").await, 2);
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_secret_without_config_change_is_auth_failed() {
    let env = emulator().await;
    let o = env.orchestrator().await;
    let id = env.client_id("globex").await;
    env.control("POST", &format!("clients/{id}/secret"), json!({"updateConfig": false})).await;
    let err = o.access_token("globex").await.unwrap_err();
    assert_eq!(err.code(), "AUTH_FAILED");
    let f = err.fields();
    assert_eq!(f["tenantId"], "globex");
    assert_eq!(f["clientId"], id.as_str());
    // Other tenants are unaffected.
    assert!(o.access_token("acme").await.is_ok());
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_rotation_renews_the_token() {
    let env = emulator().await;
    let mut tenants = env.tenants().await;
    for t in tenants.iter_mut() {
        if t["tenantId"] == "umbrella" {
            t["rotationIntervalMs"] = json!(1000);
        } else {
            t["rotationIntervalMs"] = json!(0);
        }
    }
    env.control("PUT", "config-service/tenants", serde_json::Value::Array(tenants)).await;
    let o = env.orchestrator().await;
    o.access_token("umbrella").await.unwrap();
    tokio::time::sleep(Duration::from_millis(2600)).await;
    let n = env.token_requests("umbrella").await;
    assert!((3..=4).contains(&n), "token requests {n}");
    assert_eq!(env.token_requests("acme").await, 0);
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_appear_in_errors_events_or_debug() {
    let env = emulator().await;
    let o = env.orchestrator().await;
    let mut rx = o.subscribe();
    let secrets: Vec<String> = env.tenants().await.iter().filter_map(|t| t["clientSecret"].as_str().map(str::to_string)).collect();
    let token = o.access_token("acme").await.unwrap();
    o.rotate_credentials("acme").await.unwrap();
    let id = env.client_id("globex").await;
    env.control("POST", &format!("clients/{id}/secret"), json!({"updateConfig": false})).await;
    let err = o.access_token("globex").await.unwrap_err();
    let mut seen = format!("{err} {err:?} {:?} {o:?} {token:?}", err.fields());
    seen.push_str(&serde_json::to_string(&o.stats()).unwrap());
    while let Ok(ev) = rx.try_recv() {
        seen.push_str(&serde_json::to_string(&ev).unwrap());
    }
    for s in &secrets {
        assert!(!seen.contains(s.as_str()), "a client secret leaked");
    }
    assert!(!seen.contains(token.expose()), "a token leaked");
    assert!(seen.contains("token.acquired"));
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_synchronous_cache_serves_only_tokens_that_need_no_work() {
    let env = emulator().await;
    env.patch_client("acme", json!({"tokenLifetimeSeconds": 2})).await;
    let o = env.orchestrator().await;
    assert!(o.cached_access_token("acme").is_none(), "nothing before the first fetch");
    let first = o.access_token("acme").await.expect("token").expose().to_string();
    assert_eq!(o.cached_access_token("acme").map(|s| s.expose().to_string()), Some(first.clone()));
    assert!(o.cached_access_token("no-such-tenant").is_none());
    // A 2 s token is refreshed 0.4–0.5 s ahead and blocks callers only in its last 0.2 s: at
    // 1.65 s it is still usable but due, so only the async path may serve it (and refresh it).
    tokio::time::sleep(Duration::from_millis(1650)).await;
    assert!(o.cached_access_token("acme").is_none(), "a token due for refresh is not served synchronously");
    assert_eq!(o.access_token("acme").await.expect("still valid").expose(), first, "the async path serves it and refreshes");
    let deadline = Instant::now() + Duration::from_secs(2);
    let renewed = loop {
        if let Some(t) = o.cached_access_token("acme") {
            break t.expose().to_string();
        }
        assert!(Instant::now() < deadline, "the background refresh landed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_ne!(renewed, first);
    assert_eq!(env.token_requests("acme").await, 2);
    o.close().await;
    assert!(o.cached_access_token("acme").is_none(), "nothing after close");
}

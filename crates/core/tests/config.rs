//! Tenant config against the reference config service: last-known-good, validation, snapshot,
//! file source.

mod common;

use common::{emulator, get};
use genesys_tenants_core::{Orchestrator, Secret};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_at_start_fails_fast_then_recovers() {
    let env = emulator().await;
    env.control("PUT", "config-service", json!({"mode": "refuse"})).await;
    let mut o = env.options();
    o.config_endpoint = Some(env.emulator.config_url.clone());
    let orch = Orchestrator::new(o).unwrap();
    let t0 = Instant::now();
    let err = orch.initialize().await.unwrap_err();
    assert_eq!(err.code(), "CONFIG_UNAVAILABLE");
    assert!(t0.elapsed() < Duration::from_secs(5));
    assert_eq!(orch.access_token("acme").await.unwrap_err().code(), "NOT_INITIALIZED");
    env.control("PUT", "config-service", json!({"mode": "ok"})).await;
    let ids = orch.initialize().await.expect("second initialize succeeds");
    assert!(ids.contains(&"acme".to_string()));
    assert!(orch.access_token("acme").await.is_ok());
    orch.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_config_service_is_bounded() {
    let env = emulator().await;
    env.control("PUT", "config-service", json!({"mode": "slow", "delayMs": 10000})).await;
    let mut o = env.options();
    o.config_timeout = Duration::from_millis(500);
    let orch = Orchestrator::new(o).unwrap();
    let t0 = Instant::now();
    assert_eq!(orch.initialize().await.unwrap_err().code(), "CONFIG_UNAVAILABLE");
    assert!(t0.elapsed() < Duration::from_secs(2));
    orch.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outages_later_keep_the_last_good_config() {
    let env = emulator().await;
    let mut o = env.options();
    o.config_endpoint = Some(env.emulator.config_url.clone());
    o.config_poll_interval = Duration::from_millis(100);
    let orch = env.orchestrator_with(o).await;
    let mut rx = orch.subscribe();
    let mut failed = 0;
    for mode in ["error503", "refuse", "garbage", "nonArray", "ok"] {
        env.control("PUT", "config-service", json!({"mode": mode})).await;
        for _ in 0..10 {
            if orch.request("acme", get("/api/v2/organizations/me")).await.is_err() {
                failed += 1;
            }
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
        assert!(orch.tenant_ids().len() >= 5, "mode {mode} kept the tenants");
    }
    assert_eq!(failed, 0);
    let mut stale = 0;
    while let Ok(ev) = rx.try_recv() {
        if ev.kind == "config.stale" {
            stale += 1;
        }
    }
    assert!(stale >= 2, "config.stale events: {stale}");
    orch.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_entries_disturb_nothing_else() {
    let env = emulator().await;
    let mut tenants = env.tenants().await;
    let template = tenants.iter().find(|t| t["tenantId"] == "acme").cloned().unwrap();
    let mut no_secret = template.clone();
    no_secret["tenantId"] = json!("no-secret");
    no_secret.as_object_mut().unwrap().remove("clientSecret");
    let mut foreign = template.clone();
    foreign["tenantId"] = json!("foreign");
    foreign["region"] = json!("evil.example.com");
    let mut bad_scopes = template.clone();
    bad_scopes["tenantId"] = json!("bad-scopes");
    bad_scopes["requiredScopes"] = json!("users");
    tenants.extend([no_secret, foreign, bad_scopes, json!(17), json!({"clientId": "orphan"})]);
    env.control("PUT", "config-service/tenants", Value::Array(tenants)).await;

    let o = env.orchestrator().await;
    let mut rx = o.subscribe();
    let e = o.access_token("no-secret").await.unwrap_err();
    assert_eq!((e.code(), e.fields()["field"].as_str()), ("TENANT_INVALID", Some("clientSecret")));
    let e = o.access_token("bad-scopes").await.unwrap_err();
    assert_eq!((e.code(), e.fields()["field"].as_str()), ("TENANT_INVALID", Some("requiredScopes")));
    let e = o.access_token("foreign").await.unwrap_err();
    assert_eq!(e.code(), "HOST_NOT_ALLOWED");
    assert_eq!(e.fields()["host"], "evil.example.com");
    assert_eq!(o.access_token("nobody").await.unwrap_err().code(), "UNKNOWN_TENANT");
    assert!(o.access_token("acme").await.is_ok());
    assert!(!o.tenant_ids().contains(&"foreign".to_string()));
    // Nothing was sent for the foreign tenant.
    assert_eq!(env.token_requests("acme").await, 1);

    // A wholly invalid document never replaces the good one.
    env.control("PUT", "config-service/tenants", json!([{"tenantId": "x"}])).await;
    assert_eq!(o.reload_config().await.unwrap_err().code(), "CONFIG_UNAVAILABLE");
    assert!(o.access_token("acme").await.is_ok());
    let _ = rx.try_recv();
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_reports_exact_changes() {
    let env = emulator().await;
    let o = env.orchestrator().await;
    let mut tenants = env.tenants().await;
    tenants.retain(|t| t["tenantId"] != "umbrella");
    for t in tenants.iter_mut() {
        if t["tenantId"] == "acme" {
            t["requiredScopes"] = json!(["users:readonly"]);
        }
    }
    env.control("PUT", "config-service/tenants", Value::Array(tenants)).await;
    let d = o.reload_config().await.unwrap();
    assert_eq!((d.added.len(), d.removed.clone(), d.changed.clone()), (0, vec!["umbrella".to_string()], vec!["acme".to_string()]));
    assert_eq!(o.access_token("umbrella").await.unwrap_err().code(), "UNKNOWN_TENANT");
    // Unchanged document: 304, nothing changed.
    let d = o.reload_config().await.unwrap();
    assert!(d.added.is_empty() && d.removed.is_empty() && d.changed.is_empty());
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_serves_when_the_service_is_down_at_start() {
    let env = emulator().await;
    let dir = std::env::temp_dir().join(format!("gt-snapshot-{}", rand_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut o = env.options();
    o.config_endpoint = Some(env.emulator.config_url.clone());
    o.snapshot_path = Some(dir.join("tenants.snapshot"));
    o.encryption_key = Some(Secret::new("ab".repeat(32)));
    let first = env.orchestrator_with(o.clone()).await;
    first.close().await;
    let on_disk = std::fs::read_to_string(dir.join("tenants.snapshot")).unwrap();
    for t in env.tenants().await {
        assert!(!on_disk.contains(t["clientSecret"].as_str().unwrap()), "plaintext secret in the snapshot");
    }
    env.control("PUT", "config-service", json!({"mode": "refuse"})).await;
    let second = Orchestrator::new(o).unwrap();
    let ids = second.initialize().await.expect("starts from the snapshot");
    assert!(ids.contains(&"acme-corp".to_string()));
    assert!(second.access_token("acme-corp").await.is_ok());
    assert!(second.stats().config.from_snapshot);
    second.close().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_source_is_watched() {
    let env = emulator().await;
    let dir = std::env::temp_dir().join(format!("gt-file-{}", rand_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tenants.json");
    let mut tenants = env.tenants().await;
    tenants.retain(|t| t["tenantId"] == "acme");
    std::fs::write(&path, serde_json::to_vec(&tenants).unwrap()).unwrap();
    let mut o = env.options();
    o.config_endpoint = None;
    o.config_file = Some(path.clone());
    let orch = env.orchestrator_with(o).await;
    assert_eq!(orch.tenant_ids(), vec!["acme"]);
    let all = env.tenants().await;
    std::fs::write(&path, serde_json::to_vec(&all).unwrap()).unwrap();
    let t0 = Instant::now();
    while orch.tenant_ids().len() < 5 && t0.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(orch.tenant_ids().len(), all.len());
    orch.close().await;
    let _ = std::fs::remove_dir_all(dir);
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0) ^ std::process::id() as u64
}

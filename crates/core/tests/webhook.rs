//! The rotation webhook against the emulator: an accepted delivery rotates once, a refused one
//! rotates nothing, and in shared mode a delivery accepted by one replica is a replay for another.

mod common;

use genesys_tenants_core::store::unix_ms_now;
use genesys_tenants_core::webhook::{sign, WebhookSettings};
use genesys_tenants_core::{Orchestrator, Secret, WebhookAnswer, ROTATION_CONCURRENCY};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn settings() -> WebhookSettings {
    WebhookSettings::new(Secret::new("whsec-0123456789abcdef"), None).unwrap()
}

async fn wait_for_token_requests(env: &common::Env, tenant: &str, n: u64) {
    let t0 = Instant::now();
    while env.token_requests(tenant).await < n {
        assert!(t0.elapsed() < Duration::from_secs(5), "token requests stayed below {n}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn an_accepted_delivery_rotates_once_and_refusals_rotate_nothing() {
    let env = common::emulator().await;
    let o = env.orchestrator().await;
    let first = o.access_token("acme").await.unwrap();
    let s = settings();
    let body = br#"{"tenantIds":["acme","no-such-tenant"]}"#;
    let header = sign(&s.secret, unix_ms_now() / 1000, body);
    let a = o.rotation_webhook(&s, Some(&header), body).await;
    assert_eq!(a.status, 202, "{}", a.body);
    assert_eq!(a.body["unknown"], serde_json::json!(["no-such-tenant"]));
    wait_for_token_requests(&env, "acme", 2).await;
    let t0 = Instant::now();
    while o.access_token("acme").await.unwrap().expose() == first.expose() {
        assert!(t0.elapsed() < Duration::from_secs(5), "the token was not renewed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let again = o.rotation_webhook(&s, Some(&header), body).await;
    assert_eq!((again.status, again.body["error"].as_str()), (401, Some("replayed")));
    let stale = sign(&s.secret, unix_ms_now() / 1000 - 3600, body);
    assert_eq!(o.rotation_webhook(&s, Some(&stale), body).await.status, 401);
    assert_eq!(o.rotation_webhook(&s, None, body).await.status, 401);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(env.token_requests("acme").await, 2, "only the accepted delivery rotated");
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_shared_mode_a_delivery_accepted_by_one_replica_is_a_replay_for_another() {
    let env = common::emulator().await;
    let prefix = format!("gt-webhook-{}-{}:", std::process::id(), rand::random::<u32>());
    let replica = || {
        let mut o = env.options();
        o.redis_url = Some("redis://127.0.0.1:6379".into());
        o.encryption_key = Some(Secret::new("ab".repeat(32)));
        o.redis_key_prefix = prefix.clone();
        env.orchestrator_with(o)
    };
    let (a, b) = (replica().await, replica().await);
    let s = settings();
    let body = br#"{"tenantId":"acme"}"#;
    let header = sign(&s.secret, unix_ms_now() / 1000, body);
    assert_eq!(a.rotation_webhook(&s, Some(&header), body).await.status, 202);
    let replay = b.rotation_webhook(&s, Some(&header), body).await;
    assert_eq!((replay.status, replay.body["error"].as_str()), (401, Some("replayed")));
    a.close().await;
    b.close().await;
}

/// Signs `body` at `now - ago_s` and hands it to `o` (distinct timestamps are distinct deliveries).
async fn deliver(o: &Orchestrator, body: &[u8], ago_s: u64) -> WebhookAnswer {
    let s = settings();
    o.rotation_webhook(&s, Some(&sign(&s.secret, unix_ms_now() / 1000 - ago_s, body)), body).await
}

/// Waits until `n` forced rotations (the webhook's) were reported (`credentials.rotated` or
/// `rotation.failed`; a `config-change` one is reported before its token arrives, so it is not counted).
async fn rotations(rx: &mut tokio::sync::broadcast::Receiver<genesys_tenants_core::events::Event>, n: usize) {
    let mut seen = 0;
    while seen < n {
        match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
            Ok(Ok(e)) if (e.kind == "credentials.rotated" || e.kind == "rotation.failed") && e.data["reason"] == "forced" => seen += 1,
            Ok(_) => {}
            Err(_) => panic!("{seen} of {n} rotations within 10 s"),
        }
    }
}

/// Five `{ all: true }` deliveries at once share one cap of 4 rotations for the process
/// (issue 23, item 7: each delivery had its own cap, 6–18 token requests in flight).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_deliveries_share_one_rotation_cap() {
    let env = common::emulator().await;
    let o = env.orchestrator().await;
    let mut rx = o.subscribe();
    let tenants = o.tenant_ids().len();
    // Slow token answers, so rotations overlap.
    env.control("POST", "faults", json!({"path": "/oauth/token", "status": 0, "latencyMs": 150})).await;
    let answers = futures::future::join_all((0..5).map(|i| deliver(&o, br#"{"all":true}"#, i))).await;
    assert!(answers.iter().all(|a| a.status == 202), "{answers:?}");
    rotations(&mut rx, 5 * tenants).await;
    let c = env.control("GET", "counters", Value::Null).await;
    assert_eq!(c["tokenEndpoint"]["maxInFlight"], json!(ROTATION_CONCURRENCY), "{c}");
    o.close().await;
}

/// A closed orchestrator refuses a delivery with 503 and rotates nothing.
#[tokio::test]
async fn a_closed_orchestrator_answers_503() {
    let env = common::emulator().await;
    let o = env.orchestrator().await;
    o.access_token("acme").await.unwrap();
    o.close().await;
    let a = deliver(&o, br#"{"tenantId":"acme"}"#, 0).await;
    assert_eq!((a.status, a.body["error"].as_str(), a.body["accepted"].as_bool()), (503, Some("closed"), Some(false)), "{}", a.body);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(env.token_requests("acme").await, 1);
}

/// A delivery that arrives after the tenant's secret changed costs one token request (the new
/// secret's), not a `config-change` one and then a `forced` one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_after_a_secret_change_costs_one_token_request() {
    let env = common::emulator().await;
    let o = env.orchestrator().await;
    let mut rx = o.subscribe();
    let old = o.access_token("acme").await.unwrap();
    env.regenerate_secret("acme").await;
    assert_eq!(deliver(&o, br#"{"tenantId":"acme"}"#, 0).await.status, 202);
    rotations(&mut rx, 1).await;
    let new = o.access_token("acme").await.unwrap();
    assert_ne!(new.expose(), old.expose(), "the rotation ends with the new secret's token");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(env.token_requests("acme").await, 2, "the first token, then one with the new secret");
    o.close().await;
}

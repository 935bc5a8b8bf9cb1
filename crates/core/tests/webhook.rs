//! The rotation webhook against the emulator: an accepted delivery rotates once, a refused one
//! rotates nothing, and in shared mode a delivery accepted by one replica is a replay for another.

mod common;

use genesys_tenants_core::store::unix_ms_now;
use genesys_tenants_core::webhook::{sign, WebhookSettings};
use genesys_tenants_core::Secret;
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

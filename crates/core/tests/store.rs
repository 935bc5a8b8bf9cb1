//! The Redis store against the real Redis on 127.0.0.1:6379 (started by .ci/run).

use genesys_tenants_core::config::{parse_entry, ParsedEntry, Tenant};
use genesys_tenants_core::crypto::EncryptionKey;
use genesys_tenants_core::egress::EgressPolicy;
use genesys_tenants_core::events::Events;
use genesys_tenants_core::store::{unix_ms_now, RateWait, SharedStore, SharedToken, StoreSettings};
use serde_json::json;
use std::time::Duration;

const REDIS: &str = "redis://127.0.0.1:6379";

fn prefix() -> String {
    format!("gt-test-{}-{}:", std::process::id(), rand_u32())
}

fn rand_u32() -> u32 {
    (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos()) ^ 0x5bd1e995
}

fn store(prefix: &str, url: &str) -> SharedStore {
    let settings = StoreSettings {
        url: url.into(),
        prefix: prefix.into(),
        op_timeout: Duration::from_millis(300),
        retry_pause: Duration::from_millis(200),
        lease: Duration::from_millis(500),
        tls: None,
    };
    SharedStore::new(settings, EncryptionKey::parse(&"cd".repeat(32)).unwrap(), Events::default()).unwrap()
}

fn tenant(secret: &str) -> Tenant {
    match parse_entry(&json!({"tenantId": "acme", "clientId": "client-1", "clientSecret": secret}), 0, &EgressPolicy::default()) {
        ParsedEntry::Valid(t) => t,
        other => panic!("{other:?}"),
    }
}

async fn all_keys(prefix: &str) -> Vec<(String, String)> {
    let client = redis::Client::open(REDIS).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS").arg(format!("{prefix}*")).query_async(&mut c).await.unwrap();
    let mut out = Vec::new();
    for k in keys {
        let v: redis::Value = redis::cmd("DUMP").arg(&k).query_async(&mut c).await.unwrap();
        out.push((k, format!("{v:?}")));
    }
    out
}

async fn cleanup(prefix: &str) {
    let client = redis::Client::open(REDIS).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS").arg(format!("{prefix}*")).query_async(&mut c).await.unwrap();
    for k in keys {
        let _: i64 = redis::cmd("DEL").arg(k).query_async(&mut c).await.unwrap();
    }
}

#[tokio::test]
async fn lease_put_get_and_no_plaintext() {
    let p = prefix();
    let s = store(&p, REDIS);
    let t = tenant("the-client-secret");
    let kfp = s.fingerprint(&t);
    assert!(s.get_token("acme", &kfp).await.unwrap().is_none());
    let lease = s.try_lease("acme", &kfp).await.unwrap().expect("first lease");
    assert!(s.try_lease("acme", &kfp).await.unwrap().is_none(), "the lease is exclusive");
    let tok = SharedToken { value: "the-access-token".into(), obtained_at_ms: unix_ms_now(), expires_at_ms: unix_ms_now() + 60_000 };
    assert!(s.put_token("acme", &kfp, &lease, &tok).await.unwrap());
    let got = s.get_token("acme", &kfp).await.unwrap().unwrap();
    assert_eq!(got.value, "the-access-token");
    assert!(s.try_lease("acme", &kfp).await.unwrap().is_some(), "put released the lease");
    for (k, v) in all_keys(&p).await {
        assert!(!k.contains("the-client-secret") && !k.contains("the-access-token") && !k.contains("client-1"), "{k}");
        assert!(!v.contains("the-client-secret") && !v.contains("the-access-token"), "plaintext in {k}");
    }
    cleanup(&p).await;
}

#[tokio::test]
async fn a_stale_lease_holder_cannot_overwrite() {
    let p = prefix();
    let s = store(&p, REDIS);
    let kfp = s.fingerprint(&tenant("x"));
    let old = s.try_lease("acme", &kfp).await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await; // the old holder's lease lapses
    let new = s.try_lease("acme", &kfp).await.unwrap().expect("lease after expiry");
    let newer = SharedToken { value: "newer".into(), obtained_at_ms: unix_ms_now(), expires_at_ms: unix_ms_now() + 60_000 };
    assert!(s.put_token("acme", &kfp, &new, &newer).await.unwrap());
    let stale = SharedToken { value: "stale".into(), obtained_at_ms: unix_ms_now(), expires_at_ms: unix_ms_now() + 60_000 };
    assert!(!s.put_token("acme", &kfp, &old, &stale).await.unwrap());
    assert_eq!(s.get_token("acme", &kfp).await.unwrap().unwrap().value, "newer");
    cleanup(&p).await;
}

#[tokio::test]
async fn other_credentials_other_keys() {
    let p = prefix();
    let s = store(&p, REDIS);
    assert_ne!(s.fingerprint(&tenant("a")), s.fingerprint(&tenant("b")));
    assert_eq!(s.fingerprint(&tenant("a")), store(&p, REDIS).fingerprint(&tenant("a")), "replicas agree");
}

#[tokio::test]
async fn gcra_paces_evenly() {
    let p = prefix();
    let s = store(&p, REDIS);
    let mut go = 0;
    let mut waits = Vec::new();
    for _ in 0..5 {
        match s.rate_wait("acme", 10, Duration::from_secs(1)).await.unwrap() {
            RateWait::Go => go += 1,
            RateWait::Pace(w) => waits.push(w),
            RateWait::Paused(p) => panic!("no pause was set: {p:?}"),
        }
    }
    assert_eq!(go, 1, "burst of one");
    assert!(waits.iter().all(|w| *w <= Duration::from_millis(100)), "{waits:?}");
    cleanup(&p).await;
}

#[tokio::test]
async fn a_pause_one_replica_sets_holds_every_replica_and_takes_no_budget() {
    let p = prefix();
    let (a, b) = (store(&p, REDIS), store(&p, REDIS));
    assert_eq!(b.rate_wait("acme", 10, Duration::from_secs(1)).await.unwrap(), RateWait::Go);
    let left = a.pause("acme", Duration::from_millis(800)).await.unwrap();
    assert_eq!(left, Duration::from_millis(800));
    // A shorter pause does not shorten it; other tenants are not paused.
    assert!(b.pause("acme", Duration::from_millis(100)).await.unwrap() > Duration::from_millis(600));
    assert_eq!(b.rate_wait("globex", 10, Duration::from_secs(1)).await.unwrap(), RateWait::Go);
    for _ in 0..3 {
        match b.rate_wait("acme", 10, Duration::from_secs(1)).await.unwrap() {
            RateWait::Paused(d) => assert!(d > Duration::from_millis(500) && d <= Duration::from_millis(800), "{d:?}"),
            other => panic!("the other replica must see the pause: {other:?}"),
        }
    }
    tokio::time::sleep(Duration::from_millis(850)).await;
    // Over: the budget goes on where it was (the paused calls took no slot).
    assert_eq!(b.rate_wait("acme", 10, Duration::from_secs(1)).await.unwrap(), RateWait::Go);
    cleanup(&p).await;
}

#[tokio::test]
async fn redis_down_is_reported_fast_and_recovers() {
    let s = store(&prefix(), "redis://127.0.0.1:1");
    let t0 = std::time::Instant::now();
    assert!(s.get_token("acme", "k").await.is_err());
    assert!(s.is_down());
    assert!(t0.elapsed() < Duration::from_secs(2));
    // In the retry pause, calls fail without touching the network.
    let t1 = std::time::Instant::now();
    assert!(s.try_lease("acme", "k").await.is_err());
    assert!(t1.elapsed() < Duration::from_millis(50));
}

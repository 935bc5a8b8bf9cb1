//! The Redis store against the real Redis on 127.0.0.1:6379 (started by .ci/run).

use genesys_tenants_core::config::{parse_entry, ParsedEntry, Tenant};
use genesys_tenants_core::crypto::EncryptionKey;
use genesys_tenants_core::egress::EgressPolicy;
use genesys_tenants_core::events::Events;
use genesys_tenants_core::pipeline::rate_limit::probing::PROBE_AFTER_FULL_WINDOWS;
use genesys_tenants_core::store::{
    unix_ms_now, Budget, RateWait, Said, SharedStore, SharedToken, Slot, StoreSettings, SHARED_WINDOW_MARGIN,
};
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

fn budget(allowed: u32, window_s: u64, said: Said) -> Budget {
    Budget { allowed, window: Duration::from_secs(window_s), said }
}

async fn window_hash(prefix: &str, tenant: &str) -> std::collections::HashMap<String, String> {
    let client = redis::Client::open(REDIS).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let key = genesys_tenants_core::store::Keys::new(prefix, tenant, "-").rate;
    redis::cmd("HGETALL").arg(key).query_async(&mut c).await.unwrap()
}

#[tokio::test]
async fn the_shared_window_lets_its_whole_budget_go_at_once_across_replicas() {
    let p = prefix();
    let (a, b) = (store(&p, REDIS), store(&p, REDIS));
    let mut slots = Vec::new();
    for i in 0..10 {
        let s = if i % 2 == 0 { &a } else { &b };
        match s.rate_wait("acme", budget(10, 60, Said::Opener), PROBE_AFTER_FULL_WINDOWS).await.unwrap() {
            RateWait::Go(slot) => slots.push(slot),
            other => panic!("slot {} of 10 must go at once: {other:?}", i + 1),
        }
    }
    assert!(slots.iter().all(|s| s.generation == slots[0].generation), "one window: {slots:?}");
    assert_eq!(slots.iter().map(|s| s.number).collect::<Vec<_>>(), (1..=10).collect::<Vec<_>>());
    // The 11th waits for the window's end (60 s and the margin, from its start), not 60 s / 10.
    match b.rate_wait("acme", budget(10, 60, Said::Opener), PROBE_AFTER_FULL_WINDOWS).await.unwrap() {
        RateWait::Pace(d) => assert!(d > Duration::from_secs(50) && d <= Duration::from_secs(60) + SHARED_WINDOW_MARGIN, "{d:?}"),
        other => panic!("the window is full: {other:?}"),
    }
    // Another tenant has its own window.
    assert!(matches!(
        a.rate_wait("globex", budget(10, 60, Said::Opener), PROBE_AFTER_FULL_WINDOWS).await.unwrap(),
        RateWait::Go(Slot { number: 1, .. })
    ));
    cleanup(&p).await;
}

#[tokio::test]
async fn a_replica_that_heard_no_header_goes_by_the_budget_another_one_heard() {
    let p = prefix();
    let (a, b) = (store(&p, REDIS), store(&p, REDIS));
    assert!(matches!(a.rate_wait("acme", budget(3, 60, Said::Opener), PROBE_AFTER_FULL_WINDOWS).await.unwrap(), RateWait::Go(_)));
    // b only knows the configured 300 a minute: the stored 3 a minute holds it.
    for _ in 0..2 {
        assert!(matches!(b.rate_wait("acme", budget(300, 60, Said::Configured), PROBE_AFTER_FULL_WINDOWS).await.unwrap(), RateWait::Go(_)));
    }
    assert!(matches!(b.rate_wait("acme", budget(300, 60, Said::Configured), PROBE_AFTER_FULL_WINDOWS).await.unwrap(), RateWait::Pace(_)));
    // A countdown seen mid-window (Said::Headers) does not shorten the window the opener measured.
    let _ = b.rate_wait("acme", budget(3, 20, Said::Headers), PROBE_AFTER_FULL_WINDOWS).await.unwrap();
    assert_eq!(window_hash(&p, "acme").await["w"], "60000");
    cleanup(&p).await;
}

#[tokio::test]
async fn the_answer_that_opened_the_servers_window_re_anchors_the_shared_one() {
    let p = prefix();
    let s = store(&p, REDIS);
    assert!(matches!(s.rate_wait("acme", budget(1, 60, Said::Opener), PROBE_AFTER_FULL_WINDOWS).await.unwrap(), RateWait::Go(_)));
    // The opener's answer comes 1.5 s later (say, after a token request): the server's window
    // started then at the earliest, so the shared window must not end before that plus 60 s.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    s.align("acme", 1, Duration::from_secs(60)).await.unwrap();
    match s.rate_wait("acme", budget(1, 60, Said::Opener), PROBE_AFTER_FULL_WINDOWS).await.unwrap() {
        // Without the re-anchoring, at most 58.52 s would be left.
        RateWait::Pace(d) => assert!(d > Duration::from_secs(59), "{d:?}"),
        other => panic!("{other:?}"),
    }
    cleanup(&p).await;
}

#[tokio::test]
async fn a_pause_one_replica_sets_holds_every_replica_and_takes_no_budget() {
    let p = prefix();
    let (a, b) = (store(&p, REDIS), store(&p, REDIS));
    assert!(matches!(b.rate_wait("acme", budget(10, 1, Said::Opener), PROBE_AFTER_FULL_WINDOWS).await.unwrap(), RateWait::Go(_)));
    let left = a.pause("acme", Duration::from_millis(800), None).await.unwrap();
    assert_eq!(left, Duration::from_millis(800));
    // A shorter pause does not shorten it; other tenants are not paused.
    assert!(b.pause("acme", Duration::from_millis(100), None).await.unwrap() > Duration::from_millis(600));
    assert!(matches!(b.rate_wait("globex", budget(10, 1, Said::Opener), PROBE_AFTER_FULL_WINDOWS).await.unwrap(), RateWait::Go(_)));
    for _ in 0..3 {
        match b.rate_wait("acme", budget(10, 1, Said::Opener), PROBE_AFTER_FULL_WINDOWS).await.unwrap() {
            RateWait::Paused(d) => assert!(d > Duration::ZERO && d <= Duration::from_millis(800), "{d:?}"),
            other => panic!("the other replica must see the pause: {other:?}"),
        }
    }
    tokio::time::sleep(Duration::from_millis(850)).await;
    // Over: a new window opens (the server's reset when the pause ended); the paused calls took no slot.
    assert!(matches!(
        b.rate_wait("acme", budget(10, 1, Said::Opener), PROBE_AFTER_FULL_WINDOWS).await.unwrap(),
        RateWait::Go(Slot { number: 1, .. })
    ));
    cleanup(&p).await;
}

#[tokio::test]
async fn without_headers_the_429s_of_a_window_teach_every_replica_the_budget() {
    let p = prefix();
    let (a, b) = (store(&p, REDIS), store(&p, REDIS));
    let configured = budget(300, 60, Said::Configured);
    let mut slots = Vec::new();
    for _ in 0..12 {
        match a.rate_wait("acme", configured, PROBE_AFTER_FULL_WINDOWS).await.unwrap() {
            RateWait::Go(slot) => slots.push(slot),
            other => panic!("{other:?}"),
        }
    }
    // The server admitted 9 of the 12 (a fixed window of 9): three 429s, each pausing for 1 s.
    for slot in &slots[9..] {
        a.pause("acme", Duration::from_millis(1000), Some(*slot)).await.unwrap();
    }
    assert!(matches!(b.rate_wait("acme", configured, PROBE_AFTER_FULL_WINDOWS).await.unwrap(), RateWait::Paused(_)));
    tokio::time::sleep(Duration::from_millis(1050)).await;
    // After the pause, replica b (which heard nothing) goes by the learned 9 per 1 s.
    let mut went = 0;
    let waited = loop {
        match b.rate_wait("acme", configured, PROBE_AFTER_FULL_WINDOWS).await.unwrap() {
            RateWait::Go(slot) => {
                went += 1;
                assert_eq!(slot.generation, slots[0].generation + 1, "a new window");
            }
            RateWait::Pace(d) => break d,
            other => panic!("{other:?}"),
        }
        assert!(went <= 9, "more than the learned budget went");
    };
    assert_eq!(went, 9);
    assert!(waited <= Duration::from_secs(1) + SHARED_WINDOW_MARGIN, "the window learned is 1 s: {waited:?}");
    let h = window_hash(&p, "acme").await;
    assert_eq!((h["a"].as_str(), h["w"].as_str(), h["src"].as_str()), ("9", "1000", "i"));
    cleanup(&p).await;
}

/// Takes a slot, or panics with what the window said.
async fn go(s: &SharedStore, b: Budget) -> Slot {
    match s.rate_wait("acme", b, PROBE_AFTER_FULL_WINDOWS).await.unwrap() {
        RateWait::Go(slot) => slot,
        other => panic!("expected a slot: {other:?}"),
    }
}

/// Learns `admitted` per 1 s from 429s, as without headers: `admitted + 1` slots, the last one a 429.
async fn learn(s: &SharedStore, admitted: usize) {
    let configured = budget(300, 60, Said::Configured);
    let mut last = None;
    for _ in 0..=admitted {
        last = Some(go(s, configured).await);
    }
    s.pause("acme", Duration::from_millis(1000), last).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1050)).await;
}

#[tokio::test]
async fn without_headers_the_answer_to_a_windows_first_slot_re_anchors_it() {
    let p = prefix();
    let s = store(&p, REDIS);
    let slot = go(&s, budget(1, 60, Said::Configured)).await;
    // Its answer comes 1.5 s later: the server's window opened when it arrived, so after the slot.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    s.anchor("acme", slot).await.unwrap();
    match s.rate_wait("acme", budget(1, 60, Said::Configured), PROBE_AFTER_FULL_WINDOWS).await.unwrap() {
        // Without the re-anchoring, at most 58.52 s would be left.
        RateWait::Pace(d) => assert!(d > Duration::from_secs(59), "{d:?}"),
        other => panic!("{other:?}"),
    }
    cleanup(&p).await;
}

#[tokio::test]
async fn a_slot_never_sent_is_not_counted_as_admitted() {
    let p = prefix();
    let s = store(&p, REDIS);
    let configured = budget(300, 60, Said::Configured);
    let mut slots = Vec::new();
    for _ in 0..12 {
        slots.push(go(&s, configured).await);
    }
    // One slot was handed back (its replica's hold started before it was sent), two met 429s: the
    // server admitted 9.
    s.unused("acme", slots[5]).await.unwrap();
    for slot in &slots[10..] {
        s.pause("acme", Duration::from_millis(300), Some(*slot)).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(350)).await;
    let _ = go(&s, configured).await;
    assert_eq!(window_hash(&p, "acme").await["a"], "9");
    cleanup(&p).await;
}

#[tokio::test]
async fn an_inferred_budget_is_probed_one_slot_at_a_time_after_full_windows_without_a_429() {
    let p = prefix();
    let (a, b) = (store(&p, REDIS), store(&p, REDIS));
    let configured = budget(300, 60, Said::Configured);
    learn(&a, 3).await;
    // Windows that use the learned 3 whole, without a 429: no slot beyond it.
    for _ in 0..PROBE_AFTER_FULL_WINDOWS {
        for _ in 0..3 {
            assert!(!go(&a, configured).await.probe);
        }
        let RateWait::Pace(d) = b.rate_wait("acme", configured, PROBE_AFTER_FULL_WINDOWS).await.unwrap() else {
            panic!("the window is full")
        };
        tokio::time::sleep(d + Duration::from_millis(5)).await;
    }
    // Then one slot beyond it, and no second one while the first is unanswered.
    for _ in 0..3 {
        assert!(!go(&a, configured).await.probe);
    }
    let probe = go(&b, configured).await;
    assert!(probe.probe && probe.number == 4, "{probe:?}");
    assert!(matches!(a.rate_wait("acme", configured, PROBE_AFTER_FULL_WINDOWS).await.unwrap(), RateWait::Pace(_)), "one probe at a time");
    // Admitted: the budget is 4 for every replica, and the next probe may go.
    b.probed("acme", probe).await.unwrap();
    assert_eq!(window_hash(&p, "acme").await["a"], "4");
    let next = go(&a, configured).await;
    assert!(next.probe && next.number == 5, "{next:?}");
    // Refused: the window's 429 re-learns the budget (4 admitted), as the first one did.
    a.pause("acme", Duration::from_millis(500), Some(next)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(550)).await;
    assert!(!go(&b, configured).await.probe);
    let h = window_hash(&p, "acme").await;
    assert_eq!((h["a"].as_str(), h["src"].as_str(), h["c"].as_str()), ("4", "i", "0"));
    cleanup(&p).await;
}

#[tokio::test]
async fn headers_heard_during_a_pause_hold_the_replicas_that_heard_none_after_it() {
    // The shared-redis "Retry-After: 3" proof, once in ~14 runs: the first call met an injected 429
    // (no headers) and the pause was written before the replica whose first answer said 20 per 2 s
    // asked for a slot; the pause answer came before the budget was stored, so when it ended the
    // other replicas burst their configured 300 a minute (26-29 429s).
    let p = prefix();
    let (a, b) = (store(&p, REDIS), store(&p, REDIS));
    let configured = budget(300, 60, Said::Configured);
    let first = go(&a, configured).await;
    a.pause("acme", Duration::from_millis(300), Some(first)).await.unwrap();
    assert!(matches!(b.rate_wait("acme", budget(3, 2, Said::Opener), PROBE_AFTER_FULL_WINDOWS).await.unwrap(), RateWait::Paused(_)));
    tokio::time::sleep(Duration::from_millis(350)).await;
    for _ in 0..3 {
        let _ = go(&a, configured).await;
    }
    assert!(matches!(a.rate_wait("acme", configured, PROBE_AFTER_FULL_WINDOWS).await.unwrap(), RateWait::Pace(_)), "held by the 3 b heard");
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

//! Token pools (issue 27, item 3): `tokensPerTenant` gives a tenant N tokens, each with its own rate
//! budget. Counts from the emulator (token requests, 429s) and from `stats()`; no timings.

mod common;

use common::{emulator, get, Env};
use futures::future::join_all;
use genesys_tenants_core::store::Keys;
use genesys_tenants_core::token::pool_store_id;
use genesys_tenants_core::{Error, Orchestrator, Secret};
use serde_json::json;
use std::time::Duration;

const PATH: &str = "/api/v2/organizations/me";

async fn pooled(env: &Env, n: u32) -> Orchestrator {
    let mut o = env.options();
    o.tokens_per_tenant = n;
    env.orchestrator_with(o).await
}

/// `calls` concurrent calls of `tenant`, each its own task (as from many callers); the errors' codes.
async fn burst(o: &Orchestrator, tenant: &str, calls: usize) -> Vec<&'static str> {
    let all = (0..calls).map(|_| {
        let o = o.clone();
        let tenant = tenant.to_string();
        tokio::spawn(async move { o.request(&tenant, get(PATH)).await })
    });
    join_all(all).await.into_iter().filter_map(|r| r.expect("call task").err().map(|e: Error| e.code())).collect()
}

/// A round trip as to a real region (20 ms): the calls of a burst are in flight together whatever
/// the machine's load, instead of each finishing before the next starts.
async fn slow(env: &Env) {
    env.control("POST", "faults", json!({"method": "GET", "path": PATH, "status": 0, "latencyMs": 20})).await;
}

async fn throttled(env: &Env, tenant: &str) -> u64 {
    env.counters(tenant).await["apiCalls"]["429"].as_u64().unwrap_or(0)
}

fn slots(o: &Orchestrator, tenant: &str) -> Vec<serde_json::Value> {
    let stats = serde_json::to_value(o.stats()).unwrap();
    stats["tenants"][tenant]["slots"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cold_burst_on_three_tokens_makes_exactly_three_token_requests() {
    let env = emulator().await;
    slow(&env).await;
    let o = pooled(&env, 3).await;
    assert_eq!(burst(&o, "acme", 100).await, Vec::<&str>::new());
    assert_eq!(env.token_requests("acme").await, 3, "one token request per slot, not per caller");
    let slots = slots(&o, "acme");
    assert_eq!(slots.len(), 3);
    assert!(slots.iter().all(|s| s["state"] == "valid"), "{slots:?}");
    let attempts: Vec<u64> = slots.iter().map(|s| s["attempts"].as_u64().unwrap()).collect();
    assert_eq!(attempts.iter().sum::<u64>(), 100);
    assert!(attempts.iter().all(|a| *a > 0), "every slot served calls: {attempts:?}");
    // getAccessToken() hands out slot 0's token: no further request.
    o.access_token("acme").await.unwrap();
    assert_eq!(env.token_requests("acme").await, 3);
    let m = o.metrics();
    assert_eq!((m.tenants["acme"].token_slots, m.tenants["acme"].token_slots_valid), (Some(3), Some(3)));
    assert!(o.metrics().render_text().contains("genesys_tenants_token_slots{tenant=\"acme\"} 3\n"));
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_token_is_as_before_pools() {
    let env = emulator().await;
    let o = pooled(&env, 1).await;
    assert_eq!(burst(&o, "acme", 50).await, Vec::<&str>::new());
    assert_eq!(env.token_requests("acme").await, 1);
    assert!(slots(&o, "acme").is_empty(), "no slots in stats for a tenant with one token");
    assert!(!o.metrics().render_text().contains("genesys_tenants_token_slots"));
    o.close().await;
}

/// 60 concurrent calls on a token limited to 20 per 2 s, each call allowed to wait 0.5 s at most:
/// one window's worth goes out. One token serves 20 of them (the rest fail fast, RATE_LIMITED,
/// without a 429); three tokens serve all 60 — three windows' worth in one — with no 429 either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_tokens_serve_three_times_one_tokens_window() {
    let env = emulator().await;
    env.patch_client("acme", json!({"rateLimit": {"limit": 20, "windowSeconds": 2}})).await;
    slow(&env).await;
    let with = |n: u32| {
        let mut o = env.options();
        o.tokens_per_tenant = n;
        o.max_retry_delay = Duration::from_millis(500);
        o
    };
    let one = env.orchestrator_with(with(1)).await;
    let failed = burst(&one, "acme", 60).await;
    assert_eq!(failed.len(), 40, "one token: one window's worth (20) served");
    assert!(failed.iter().all(|c| *c == "RATE_LIMITED"), "{failed:?}");
    one.close().await;
    assert_eq!(throttled(&env, "acme").await, 0);

    let three = env.orchestrator_with(with(3)).await;
    assert_eq!(burst(&three, "acme", 60).await, Vec::<&str>::new(), "three tokens: 60 served in the window");
    assert_eq!(throttled(&env, "acme").await, 0, "each token kept to its own budget");
    let attempts: Vec<u64> = slots(&three, "acme").iter().map(|s| s["attempts"].as_u64().unwrap()).collect();
    assert_eq!(attempts, vec![20, 20, 20], "each token sent its own window's worth");
    three.close().await;
    assert_eq!(env.token_requests("acme").await, 1 + 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_renews_every_slot_and_one_401_drops_them_all() {
    let env = emulator().await;
    slow(&env).await;
    let o = pooled(&env, 3).await;
    assert_eq!(burst(&o, "acme", 30).await, Vec::<&str>::new());
    assert_eq!(env.token_requests("acme").await, 3, "{:?}", slots(&o, "acme"));
    let before: Vec<u64> = slots(&o, "acme").iter().map(|s| s["expiresInMs"].as_u64().unwrap()).collect();
    assert_eq!(before.len(), 3);

    o.rotate_credentials("acme").await.unwrap();
    assert_eq!(env.token_requests("acme").await, 6, "a rotation renews each of the 3 slots");
    let stats = serde_json::to_value(o.stats()).unwrap();
    assert_eq!(stats["tenants"]["acme"]["tokensAcquired"], 6);
    assert!(slots(&o, "acme").iter().all(|s| s["state"] == "valid"));

    // Every token revoked: the first 401 drops all the pool's tokens of that client, so each slot
    // fetches when next used instead of meeting its own 401.
    env.revoke("acme").await;
    o.request("acme", get(PATH)).await.unwrap();
    let states: Vec<_> = slots(&o, "acme").iter().map(|s| s["state"].as_str().unwrap().to_string()).collect();
    assert_eq!(states.iter().filter(|s| *s == "none").count(), 2, "{states:?}");
    assert_eq!(env.counters("acme").await["apiCalls"]["401"], 1, "one 401 for the pool");
    assert_eq!(env.token_requests("acme").await, 7);
    assert_eq!(burst(&o, "acme", 30).await, Vec::<&str>::new());
    assert_eq!(env.token_requests("acme").await, 9, "one new token per slot after the revocation");
    assert_eq!(env.counters("acme").await["apiCalls"]["401"], 1, "no slot met a 401 of its own");
    o.close().await;
}

/// Two replicas on the real Redis share the three slots: three token requests for the fleet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_share_the_three_slots_through_redis() {
    let env = emulator().await;
    slow(&env).await;
    let prefix = format!("gt-pools-{}-{}:", std::process::id(), rand::random::<u32>());
    let replica = || {
        let mut o = env.options();
        o.redis_url = Some("redis://127.0.0.1:6379".into());
        o.encryption_key = Some(Secret::new("ab".repeat(32)));
        o.redis_key_prefix = prefix.clone();
        o.tokens_per_tenant = 3;
        env.orchestrator_with(o)
    };
    let (a, b) = (replica().await, replica().await);
    let (fa, fb) = tokio::join!(burst(&a, "acme", 50), burst(&b, "acme", 50));
    assert_eq!((fa, fb), (vec![], vec![]));
    assert_eq!(env.token_requests("acme").await, 3, "one token request per slot for both replicas");
    for o in [&a, &b] {
        let s = slots(o, "acme");
        assert!(s.len() == 3 && s.iter().all(|s| s["state"] == "valid"), "{s:?}");
    }
    // Slot 0 keeps the tenant's own key: a replica with one token takes slot 0's, no new request.
    let mut o = env.options();
    o.redis_url = Some("redis://127.0.0.1:6379".into());
    o.encryption_key = Some(Secret::new("ab".repeat(32)));
    o.redis_key_prefix = prefix.clone();
    let single = env.orchestrator_with(o).await;
    assert_eq!(burst(&single, "acme", 5).await, Vec::<&str>::new());
    assert_eq!(env.token_requests("acme").await, 3);
    for o in [a, b, single] {
        o.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_size_out_of_bounds_is_refused() {
    let env = emulator().await;
    for n in [0, 21] {
        let mut o = env.options();
        o.tokens_per_tenant = n;
        match Orchestrator::new(o) {
            Err(Error::InvalidOptions { option, .. }) => assert_eq!(option, "tokensPerTenant"),
            other => panic!("expected INVALID_OPTIONS, got {:?}", other.err()),
        }
    }
}

/// A pinned entry's pool: the organization check is once per credential for the whole pool, not
/// once per token — and a pasted client of another organization is refused on every slot, having
/// been sent that one check only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_pool_checks_its_organization_once() {
    let env = emulator().await;
    slow(&env).await;
    let org_of = |id: String| {
        let env = &env;
        async move {
            let o = env.orchestrator().await;
            let me = o.request(&id, get(PATH)).await.unwrap().body["id"].as_str().unwrap().to_string();
            o.close().await;
            me
        }
    };
    let acme_org = org_of("acme".into()).await;
    let mut doc = env.tenants().await;
    let globex = doc.iter().find(|t| t["tenantId"] == "globex").cloned().unwrap();
    for t in doc.iter_mut() {
        if t["tenantId"] == "acme" {
            t["organizationId"] = json!(acme_org);
            t["tokensPerTenant"] = json!(3);
        }
        if t["tenantId"] == "acme-corp" {
            // Another customer's client pasted under a pinned entry.
            t["clientId"] = globex["clientId"].clone();
            t["clientSecret"] = globex["clientSecret"].clone();
            t["organizationId"] = json!(acme_org);
            t["tokensPerTenant"] = json!(3);
        }
    }
    env.control("PUT", "config-service/tenants", serde_json::Value::Array(doc)).await;
    let (calls_before, tokens_before) = (env.api_calls("acme").await, env.token_requests("acme").await);
    let globex_before = env.api_calls("globex").await;
    let o = env.orchestrator().await;

    assert_eq!(burst(&o, "acme", 30).await, Vec::<&str>::new());
    assert_eq!(env.token_requests("acme").await - tokens_before, 3);
    assert_eq!(env.api_calls("acme").await - calls_before, 30 + 1, "the 30 calls and one check for the 3 tokens");

    let refused = burst(&o, "acme-corp", 30).await;
    assert_eq!(refused.len(), 30);
    assert!(refused.iter().all(|c| *c == "ORGANIZATION_MISMATCH"), "{refused:?}");
    assert_eq!(env.api_calls("globex").await - globex_before, 1, "the check, and nothing else, on any slot");
    o.close().await;
}

/// Shared mode: each slot's budget is shared by the replicas under that slot's keys — two replicas
/// with a pool of 3, 30 calls each on tokens limited to 20 per 2 s and 0.5 s to wait: the 60 go out
/// in one window (20 per token, whichever replica sends them), without a 429.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_share_each_slots_budget() {
    let env = emulator().await;
    env.patch_client("acme", json!({"rateLimit": {"limit": 20, "windowSeconds": 2}})).await;
    slow(&env).await;
    let prefix = format!("gt-pools-budget-{}-{}:", std::process::id(), rand::random::<u32>());
    let replica = || {
        let mut o = env.options();
        o.redis_url = Some("redis://127.0.0.1:6379".into());
        o.encryption_key = Some(Secret::new("ab".repeat(32)));
        o.redis_key_prefix = prefix.clone();
        o.tokens_per_tenant = 3;
        o.max_retry_delay = Duration::from_millis(500);
        env.orchestrator_with(o)
    };
    let (a, b) = (replica().await, replica().await);
    let (fa, fb) = tokio::join!(burst(&a, "acme", 30), burst(&b, "acme", 30));
    assert_eq!((fa, fb), (vec![], vec![]), "3 tokens' budgets serve the 60");
    assert_eq!(throttled(&env, "acme").await, 0);
    assert_eq!(env.token_requests("acme").await, 3);
    // Each slot's shared window is its own, under its own key; slot 0's is the tenant's as before pools.
    let redis = redis::Client::open("redis://127.0.0.1:6379").unwrap();
    let mut c = redis.get_multiplexed_async_connection().await.unwrap();
    for k in 0..3 {
        let key = Keys::new(&prefix, &pool_store_id("acme", k), "-").rate;
        let window: std::collections::HashMap<String, String> = redis::cmd("HGETALL").arg(&key).query_async(&mut c).await.unwrap();
        assert!(!window.is_empty(), "slot {k}'s shared budget at {key}");
    }
    assert_eq!(pool_store_id("acme", 0), "acme");
    for o in [a, b] {
        o.close().await;
    }
}

//! The shared budget uses the whole window (issue 27, item 1): replicas on one Redis take their
//! slots in one fixed window, as Genesys counts, so together they burst up to the window's budget
//! instead of pacing one call every window ÷ limit — and meet no 429 doing it. Without the
//! `inin-ratelimit-*` headers, the 429s of the first window teach every replica the budget.
//! Three orchestrators on one Redis prefix are three replicas (each has its own limiter).
//! Counts come from the emulator's counters; nothing here depends on timing.

mod common;

use common::{get, Env};
use genesys_tenants_core::Orchestrator;
use serde_json::json;
use std::collections::HashMap;

const REPLICAS: usize = 3;

async fn replicas(env: &Env) -> (String, Vec<Orchestrator>) {
    let prefix = format!("gt-window-{}-{}:", std::process::id(), rand::random::<u32>());
    let mut out = Vec::new();
    for _ in 0..REPLICAS {
        out.push(env.replica(&prefix).await);
    }
    (prefix, out)
}

/// `per_replica` concurrent calls on every replica at once; the number that failed.
async fn burst(replicas: &[Orchestrator], per_replica: usize) -> usize {
    let calls = replicas.iter().flat_map(|o| (0..per_replica).map(move |_| o.request("acme", get("/api/v2/organizations/me"))));
    futures::future::join_all(calls).await.into_iter().filter(Result::is_err).count()
}

async fn status_count(env: &Env, status: &str) -> u64 {
    env.counters("acme").await["apiCalls"][status].as_u64().unwrap_or(0)
}

async fn window_hash(prefix: &str) -> HashMap<String, String> {
    let client = redis::Client::open("redis://127.0.0.1:6379").unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let key = genesys_tenants_core::store::Keys::new(prefix, "acme", "-").rate;
    redis::cmd("HGETALL").arg(key).query_async(&mut c).await.unwrap()
}

async fn close(replicas: Vec<Orchestrator>) {
    for o in replicas {
        o.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_burst_into_one_server_window_without_a_429() {
    let env = common::emulator().await;
    // 20 a minute: paced evenly, 18 calls would take 51 s; in one burst they all fall in the
    // server's first window, which the next call's countdown shows barely started.
    env.patch_client("acme", json!({"rateLimit": {"limit": 20, "windowSeconds": 60}})).await;
    let (_, rs) = replicas(&env).await;
    assert_eq!(burst(&rs, 6).await, 0);
    let r = rs[0].request("acme", get("/api/v2/organizations/me")).await.unwrap();
    assert_eq!(r.headers["inin-ratelimit-count"], "19", "every call so far was counted in one server window");
    let reset: u64 = r.headers["inin-ratelimit-reset"].parse().unwrap();
    assert!(reset > 30, "the 18 calls went in a burst, not one every 3 s ({reset} s left)");
    assert_eq!(status_count(&env, "429").await, 0);
    assert_eq!(env.token_requests("acme").await, 1, "one shared token");
    close(rs).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_at_20_per_2_s_fill_every_window_with_at_most_5_429s() {
    let env = common::emulator().await;
    env.patch_client("acme", json!({"rateLimit": {"limit": 20, "windowSeconds": 2}})).await;
    let (prefix, rs) = replicas(&env).await;
    assert_eq!(burst(&rs, 33).await, 0, "none failed");
    assert_eq!(status_count(&env, "200").await, 99);
    let throttled = status_count(&env, "429").await;
    assert!(throttled <= 5, "{throttled} 429s");
    assert_eq!(env.token_requests("acme").await, 1);
    let h = window_hash(&prefix).await;
    assert_eq!((h["a"].as_str(), h["w"].as_str(), h["src"].as_str()), ("20", "2000", "h"), "the budget the headers said, shared");
    close(rs).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_headers_the_first_429s_teach_every_replica_the_budget() {
    let env = common::emulator().await;
    env.control("PUT", "rate-limit-headers", json!({"enabled": false})).await;
    env.patch_client("acme", json!({"rateLimit": {"limit": 20, "windowSeconds": 2}})).await;
    let (prefix, rs) = replicas(&env).await;
    assert_eq!(burst(&rs, 33).await, 0, "none failed");
    assert_eq!(status_count(&env, "200").await, 99);
    // Each replica ramps up on its own (at most as many in flight as the server admitted it), so the
    // first window costs about a window's worth (13-27 seen; 79 with no ramp: all 99 at once less
    // the 20 admitted); after it, the learned budget holds (below).
    let throttled = status_count(&env, "429").await;
    assert!(throttled <= 40, "{throttled} 429s");
    let h = window_hash(&prefix).await;
    // What every replica sent in the window the 429s closed, less the 429s and the slots never sent:
    // the server's 20. (13 was seen under load before the shared window was re-anchored on its first
    // answer and a slot taken before its replica's hold was handed back: a later window, shifted or
    // carrying old slots, re-taught a lower budget; tests/shared_learning.rs repeats this.)
    assert_eq!((h["a"].as_str(), h["w"].as_str(), h["src"].as_str()), ("20", "2000", "i"), "20 per 2 s, learned from 429s");
    assert_eq!(env.token_requests("acme").await, 1);
    close(rs).await;
}

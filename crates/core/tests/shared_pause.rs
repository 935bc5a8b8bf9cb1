//! The cluster-wide 429 pause (issue 17): when one replica meets a 429 with `Retry-After`, every
//! replica sharing the tenant's token holds its calls until the pause ends — no replica sends into
//! a known pause. Two orchestrators on one Redis are two replicas (each has its own limiter).

mod common;

use common::get;
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_replica_sends_into_a_429_pause_another_one_met() {
    let env = common::emulator().await;
    let prefix = format!("gt-pause-{}-{}:", std::process::id(), rand::random::<u32>());
    let (a, b) = (env.replica(&prefix).await, env.replica(&prefix).await);
    a.access_token("acme").await.unwrap();
    b.access_token("acme").await.unwrap();
    assert_eq!(env.token_requests("acme").await, 1, "one shared token");
    let before = env.api_calls("acme").await;

    env.control("POST", "faults", json!({"path": "/api/v2/organizations/me", "status": 429, "count": 1, "retryAfterSeconds": 2})).await;
    let started = Instant::now();
    let first = tokio::spawn({
        let a = a.clone();
        async move { a.request("acme", get("/api/v2/organizations/me")).await }
    });
    // Wait until replica A has met its 429.
    while env.api_calls("acme").await == before {
        assert!(started.elapsed() < Duration::from_secs(5), "the 429 never came");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let met = Instant::now();
    let second = tokio::spawn({
        let b = b.clone();
        async move {
            let r = b.request("acme", get("/api/v2/organizations/me")).await;
            (r, Instant::now())
        }
    });
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(env.api_calls("acme").await, before + 1, "one second into the 2 s pause, nothing more was sent by either replica");

    assert_eq!(first.await.unwrap().unwrap().status, 200);
    let (r, done) = second.await.unwrap();
    assert_eq!(r.unwrap().status, 200);
    assert!(done - met >= Duration::from_millis(1500), "replica B waited out the pause: {:?}", done - met);
    assert_eq!(env.api_calls("acme").await, before + 3, "the 429, A's retry, B's call");
    a.close().await;
    b.close().await;
}

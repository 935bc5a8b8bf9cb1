//! The Notifications API's channel manager against the emulator: packing, moves without loss or
//! duplicates (socket_closing, expiry, rotation), replaced sockets (killed, silenced), the channel
//! budget, the egress guard on `connectUri`, and close(). Counts come from the emulator's counters
//! (`GET /__control/notifications`) and the events received; no timing thresholds.

mod common;

use common::Env;
use genesys_tenants_core::notifications::Subscription;
use genesys_tenants_core::{NotificationOptions, Options, Orchestrator};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;
use tokio::time::{timeout, Instant};

/// Longest any wait in these tests may take (a bound, not a threshold: the test fails if reached).
const BOUND: Duration = Duration::from_secs(60);

fn options(env: &Env, n: NotificationOptions) -> Options {
    Options { notifications: n, rate_limit_per_minute: 6000, ..env.options() }
}

async fn notif(env: &Env) -> Value {
    env.control("GET", "notifications", Value::Null).await
}

async fn settings(env: &Env, body: Value) {
    env.control("PUT", "notifications/settings", body).await;
}

/// The emulator's channels of `tenant`'s OAuth client.
async fn channels_of(env: &Env, tenant: &str) -> Vec<Value> {
    let client = env.client_id(tenant).await;
    notif(env).await["channels"].as_array().unwrap().iter().filter(|c| c["clientId"] == client.as_str()).cloned().collect()
}

async fn evictions(env: &Env) -> u64 {
    notif(env).await["clients"].as_object().unwrap().values().map(|c| c["evictions"].as_u64().unwrap()).sum()
}

/// Waits until `check` holds, polling; panics after [`BOUND`].
async fn until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let end = Instant::now() + BOUND;
    while !check().await {
        assert!(Instant::now() < end, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn user_topic(i: usize) -> String {
    format!("v2.users.00000000-0000-4000-8000-{i:012}.presence")
}

/// Reads batches until `want` events (or [`BOUND`]), calling `mid` with the count so far (a fault it
/// starts is awaited), then a moment more for any duplicate; returns every event's `eventBody.seq`.
async fn collect(sub: &Subscription, want: usize, mut mid: impl FnMut(usize) -> Option<tokio::task::JoinHandle<()>>) -> Vec<u64> {
    let mut seqs = Vec::with_capacity(want);
    let mut side = Vec::new();
    let end = Instant::now() + BOUND;
    while seqs.len() < want {
        let left = end.saturating_duration_since(Instant::now());
        let Ok(Some(batch)) = timeout(left, sub.next_batch()).await else { break };
        let v: Value = serde_json::from_str(&batch).unwrap();
        assert_eq!(v["dropped"], 0, "no event dropped by a queue");
        for e in v["events"].as_array().unwrap() {
            assert!(e["tenantId"].is_string() && e["metadata"].is_object());
            seqs.push(e["eventBody"]["seq"].as_u64().unwrap());
        }
        if let Some(t) = mid(seqs.len()) {
            side.push(t);
        }
    }
    for t in side {
        t.await.unwrap();
    }
    // Anything after the last expected event would be a duplicate: give it a moment to show.
    if let Ok(Some(batch)) = timeout(Duration::from_millis(300), sub.next_batch()).await {
        let v: Value = serde_json::from_str(&batch).unwrap();
        for e in v["events"].as_array().unwrap() {
            seqs.push(e["eventBody"]["seq"].as_u64().unwrap());
        }
    }
    seqs
}

async fn publish(env: &Env, topic: &str, count: u64, rate: f64) -> u64 {
    let v = env
        .control("POST", "notifications/publish", json!({"topic": topic, "count": count, "ratePerSecond": rate, "background": true}))
        .await;
    v["id"].as_u64().unwrap()
}

fn assert_exact(seqs: &[u64], n: u64) {
    let set: BTreeSet<u64> = seqs.iter().copied().collect();
    let lost = n as usize - set.iter().filter(|s| (1..=n).contains(s)).count();
    let dup = seqs.len() - set.len();
    assert_eq!((lost, dup), (0, 0), "lost and duplicated of {n}");
    assert_eq!(set, (1..=n).collect::<BTreeSet<u64>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_tenants_of_1500_topics_take_two_channels_each() {
    let env = common::emulator().await;
    let o = env.orchestrator_with(options(&env, NotificationOptions::default())).await;
    let tenants = ["acme-corp", "acme", "globex"];
    let mut subs = Vec::new();
    for t in tenants {
        let topics: Vec<String> = (0..1500).map(|i| format!("v2.routing.queues.{t}-{i}.conversations")).collect();
        subs.push(o.notifications().subscribe(t, topics).await.unwrap());
    }
    for t in tenants {
        let chans = channels_of(&env, t).await;
        let mut sizes: Vec<u64> = chans.iter().map(|c| c["topics"].as_u64().unwrap()).collect();
        sizes.sort();
        assert_eq!(sizes, [500, 1000], "{t}");
        assert!(chans.iter().all(|c| c["connected"] == true), "{t}: each channel has its socket");
        // The exact topic sets, as the server holds them.
        let mut all = BTreeSet::new();
        for c in &chans {
            let path = format!("/api/v2/notifications/channels/{}/subscriptions", c["id"].as_str().unwrap());
            let r = o.request(t, common::get(&path)).await.unwrap();
            for e in r.body["entities"].as_array().unwrap() {
                assert!(all.insert(e["id"].as_str().unwrap().to_string()), "a topic on one channel only");
            }
        }
        let want: BTreeSet<String> = (0..1500).map(|i| format!("v2.routing.queues.{t}-{i}.conversations")).collect();
        assert_eq!(all, want, "{t}");
        assert_eq!(o.notifications().stats(t).unwrap().channels.load(std::sync::atomic::Ordering::Relaxed), 2);
    }
    // 500 more on one tenant fill its second channel; no third one.
    subs[0].add((1500..2000).map(|i| format!("v2.routing.queues.acme-corp-{i}.conversations")).collect()).await.unwrap();
    let sizes: BTreeSet<u64> = channels_of(&env, "acme-corp").await.iter().map(|c| c["topics"].as_u64().unwrap()).collect();
    assert_eq!(sizes, BTreeSet::from([1000]));
    // Removing a channel's every topic closes it.
    subs[1].remove((0..1000).map(|i| format!("v2.routing.queues.acme-{i}.conversations")).collect()).await.unwrap();
    assert_eq!(o.notifications().stats("acme").unwrap().channels.load(std::sync::atomic::Ordering::Relaxed), 1);
    assert_eq!(evictions(&env).await, 0);
    o.close().await;
}

/// Publishes 10,000 events on one topic and does `fault` once 2,000 have arrived; every event
/// arrives exactly once.
async fn ten_thousand_through(env: &Env, o: &Orchestrator, tenant: &str, fault: impl FnOnce(String) -> tokio::task::JoinHandle<()>) {
    let topic = user_topic(7);
    let sub = o.notifications().subscribe(tenant, vec![topic.clone()]).await.unwrap();
    let channel = channels_of(env, tenant).await[0]["id"].as_str().unwrap().to_string();
    publish(env, &topic, 10_000, 2_000.0).await;
    let mut fault = Some(fault);
    let seqs = collect(&sub, 10_000, |n| if n >= 2_000 { fault.take().map(|f| f(channel.clone())) } else { None }).await;
    assert!(fault.is_none(), "the fault happened mid-stream");
    assert_exact(&seqs, 10_000);
    sub.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_closing_mid_stream_loses_and_doubles_nothing() {
    let env = common::emulator().await;
    let o = env.orchestrator_with(options(&env, NotificationOptions::default())).await;
    let ctl = env.http.clone();
    let (url, token) = (env.emulator.url.clone(), env.emulator.config_service_token.clone());
    ten_thousand_through(&env, &o, "acme", move |channel| {
        tokio::spawn(async move {
            let r = ctl
                .post(format!("{url}/__control/notifications/channels/{channel}/socket-closing"))
                .header("X-Service-Token", token)
                .json(&json!({"graceMs": 3000}))
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success());
        })
    })
    .await;
    let stats = o.notifications().stats("acme").unwrap();
    assert_eq!(stats.moves.load(std::sync::atomic::Ordering::Relaxed), 1);
    assert_eq!(evictions(&env).await, 0);
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_mid_stream_renews_in_place_and_loses_and_doubles_nothing() {
    let env = common::emulator().await;
    // Channels live 2 s: 10,000 events at 2,000 a second outlive two lifetimes. Each is renewed in
    // place (its subscriptions set again) ahead of its expiry: the same channel and socket throughout.
    settings(&env, json!({"channelLifetimeMs": 2000})).await;
    let o = env.orchestrator_with(options(&env, NotificationOptions::default())).await;
    ten_thousand_through(&env, &o, "acme", |_| tokio::spawn(async {})).await;
    let f = o.notifications().figures("acme").unwrap();
    assert!(f.renewals >= 2, "renewed ahead of each expiry ({})", f.renewals);
    assert_eq!((f.moves, f.channels_created, f.connections, f.duplicates, f.delivered), (0, 1, 1, 0, 10_000));
    let client = env.client_id("acme").await;
    let n = notif(&env).await;
    assert_eq!(n["clients"][client.as_str()]["expired"].as_u64(), Some(0), "no channel expired on the server");
    let live: Vec<&Value> = n["channels"].as_array().unwrap().iter().filter(|c| c["clientId"] == client.as_str()).collect();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0]["connections"].as_u64(), Some(1), "one socket throughout");
    assert_eq!(evictions(&env).await, 0);
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewal_that_fails_falls_back_to_a_move() {
    let env = common::emulator().await;
    settings(&env, json!({"channelLifetimeMs": 2000})).await;
    let o = env.orchestrator_with(options(&env, NotificationOptions::default())).await;
    let topic = user_topic(8);
    let sub = o.notifications().subscribe("acme", vec![topic.clone()]).await.unwrap();
    // The next PUT of subscriptions (the renewal's) is refused; the move's own PUT goes through.
    env.control("POST", "faults", json!({"method": "PUT", "path": "/api/v2/notifications/channels/*", "status": 400, "count": 1})).await;
    publish(&env, &topic, 6_000, 2_000.0).await;
    let seqs = collect(&sub, 6_000, |_| None).await;
    assert_exact(&seqs, 6_000);
    let f = o.notifications().figures("acme").unwrap();
    assert!(f.moves >= 1, "the failed renewal became a move ({f:?})");
    assert!(f.renewals >= 1, "the moved channel is renewed ({f:?})");
    sub.close().await;
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_mid_stream_keeps_events_flowing() {
    let env = common::emulator().await;
    let o = env.orchestrator_with(options(&env, NotificationOptions::default())).await;
    let o2 = o.clone();
    ten_thousand_through(&env, &o, "globex", move |_| {
        tokio::spawn(async move {
            o2.rotate_credentials("globex").await.unwrap();
        })
    })
    .await;
    assert!(
        o.notifications().stats("globex").unwrap().moves.load(std::sync::atomic::Ordering::Relaxed) >= 1,
        "moved to a channel made with the new token"
    );
    assert_eq!(evictions(&env).await, 0);
    o.close().await;
}

async fn replaced_after(action: &str, heartbeat: Option<u64>) {
    let env = common::emulator().await;
    let mut n = NotificationOptions::default();
    if let Some(ms) = heartbeat {
        settings(&env, json!({"heartbeatMs": ms})).await;
        n.heartbeat_timeout = Duration::from_millis(ms * 5 / 2);
    }
    let o = env.orchestrator_with(options(&env, n)).await;
    let topic = user_topic(1);
    let sub = o.notifications().subscribe("acme-corp", vec![topic.clone()]).await.unwrap();
    let channel = channels_of(&env, "acme-corp").await[0]["id"].as_str().unwrap().to_string();
    env.control("POST", &format!("notifications/channels/{channel}/{action}"), json!({})).await;
    let stats = o.notifications().stats("acme-corp").unwrap();
    until("the socket replaced", || {
        let env = &env;
        let stats = &stats;
        async move { stats.rebuilds.load(std::sync::atomic::Ordering::Relaxed) == 1 && notif(env).await["liveSockets"] == 1 }
    })
    .await;
    let chans = channels_of(&env, "acme-corp").await;
    let connections: u64 = chans.iter().map(|c| c["connections"].as_u64().unwrap()).sum();
    assert_eq!(connections, 2, "one more connection, {action}");
    assert!(chans.iter().all(|c| c["silenced"] == false || c["connected"] == false));
    publish(&env, &topic, 100, 1000.0).await;
    let seqs = collect(&sub, 100, |_| None).await;
    assert_exact(&seqs, 100);
    assert_eq!(evictions(&env).await, 0);
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_socket_is_replaced() {
    replaced_after("kill", None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silenced_socket_is_replaced() {
    replaced_after("silence", Some(200)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_channel_budget_is_never_exceeded() {
    let env = common::emulator().await;
    let n = NotificationOptions { channel_budget: 2, ..Default::default() };
    let o = env.orchestrator_with(options(&env, n)).await;
    let topics: Vec<String> = (0..2001).map(user_topic).collect();
    let e = o.notifications().subscribe("acme", topics.clone()).await.unwrap_err();
    assert_eq!((e.code(), e.fields()["option"].as_str()), ("INVALID_OPTIONS", Some("topics")));
    assert_eq!(notif(&env).await["clients"].as_object().map_or(0, |c| c.len()), 0, "nothing was created");
    let sub = o.notifications().subscribe("acme", topics[..2000].to_vec()).await.unwrap();
    assert_eq!(sub.add(vec![topics[2000].clone()]).await.unwrap_err().code(), "INVALID_OPTIONS");
    // Moves use one channel more for a moment, never more: 6 rounds of 2 moves.
    let mut bus = o.subscribe();
    for round in 0..6 {
        let stats = o.notifications().stats("acme").unwrap();
        let before = stats.moves.load(std::sync::atomic::Ordering::Relaxed);
        for c in channels_of(&env, "acme").await {
            if c["connected"] == true {
                env.control(
                    "POST",
                    &format!("notifications/channels/{}/socket-closing", c["id"].as_str().unwrap()),
                    json!({"graceMs": 100}),
                )
                .await;
            }
        }
        let end = Instant::now() + BOUND;
        while stats.moves.load(std::sync::atomic::Ordering::Relaxed) < before + 2 {
            if Instant::now() > end {
                while let Ok(e) = bus.try_recv() {
                    eprintln!("{}", serde_json::to_string(&e).unwrap());
                }
                panic!("round {round}: {}", serde_json::to_string_pretty(&notif(&env).await).unwrap());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    // 2 + 12 channels created; the emulator's 20 per client never reached an eviction.
    assert_eq!(notif(&env).await["clients"][env.client_id("acme").await]["channelsCreated"], 14);
    assert_eq!(evictions(&env).await, 0);
    let bad = NotificationOptions { channel_budget: 20, ..Default::default() };
    assert_eq!(Orchestrator::new(options(&env, bad)).unwrap_err().fields()["option"], "notifications.channelBudget");
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connect_uri_on_another_host_is_refused() {
    let env = common::emulator().await;
    settings(&env, json!({"connectUriBase": "ws://127.0.0.2:9"})).await;
    let o = env.orchestrator_with(options(&env, NotificationOptions::default())).await;
    let e = o.notifications().subscribe("acme", vec![user_topic(1)]).await.unwrap_err();
    assert_eq!(e.code(), "HOST_NOT_ALLOWED");
    assert_eq!(e.tenant_id(), Some("acme"));
    let n = notif(&env).await;
    assert_eq!(n["liveSockets"], 0);
    assert!(n["channels"].as_array().unwrap().iter().all(|c| c["connections"] == 0), "no connection was made");
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_ends_every_subscription_and_socket() {
    let env = common::emulator().await;
    let o = env.orchestrator_with(options(&env, NotificationOptions::default())).await;
    let mut readers = Vec::new();
    for (i, t) in ["acme-corp", "acme", "globex"].iter().enumerate() {
        for j in 0..2 {
            let sub = o.notifications().subscribe(t, vec![user_topic(i * 10 + j)]).await.unwrap();
            readers.push(tokio::spawn(async move {
                let mut n = 0;
                while sub.next_batch().await.is_some() {
                    n += 1;
                }
                n
            }));
        }
    }
    assert_eq!(notif(&env).await["liveSockets"], 3);
    o.close().await;
    for r in readers {
        timeout(BOUND, r).await.expect("every reader ends").unwrap();
    }
    until("every socket closed", || {
        let env = &env;
        async move { notif(env).await["liveSockets"] == 0 }
    })
    .await;
    let e = o.notifications().subscribe("acme", vec![user_topic(1)]).await.unwrap_err();
    assert_eq!(e.code(), "CLOSED");
}

/// Shared mode: three replicas on one Redis subscribe the same tenants; each tenant's channels are
/// opened once (by the replica holding its lease) and every replica receives every event; when the
/// holder closes, another takes over and the events keep reaching the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_open_each_tenants_channels_once_and_all_receive_every_event() {
    let env = common::emulator().await;
    let prefix = format!("gt-ntf-{}:", std::process::id());
    let mut replicas = Vec::new();
    for _ in 0..3 {
        let mut o = options(&env, NotificationOptions::default());
        o.redis_url = Some("redis://127.0.0.1:6379".into());
        o.encryption_key = Some(genesys_tenants_core::Secret::new("ab".repeat(32)));
        o.redis_key_prefix = prefix.clone();
        o.redis_lease = Duration::from_millis(1000);
        replicas.push(env.orchestrator_with(o).await);
    }
    let tenants = ["acme", "globex"];
    let topic = user_topic(5);
    let mut subs = Vec::new();
    for r in &replicas {
        for t in tenants {
            subs.push((t, r.notifications().subscribe(t, vec![topic.clone()]).await.unwrap()));
        }
    }
    for t in tenants {
        let chans = channels_of(&env, t).await;
        assert_eq!(chans.len(), 1, "{t}: one channel for three replicas");
        assert_eq!(chans[0]["topics"], 1);
    }
    publish(&env, &topic, 1000, 5000.0).await;
    for (_, sub) in &subs {
        assert_exact(&collect(sub, 1000, |_| None).await, 1000);
    }
    // The holder of acme's channels leaves: another replica takes over and opens them again.
    let holder = replicas
        .iter()
        .position(|r| r.notifications().stats("acme").unwrap().channels.load(std::sync::atomic::Ordering::Relaxed) == 1)
        .unwrap();
    let gone = replicas.remove(holder);
    gone.close().await;
    let client = env.client_id("acme").await;
    until("another replica holds acme's channels", || {
        let (env, client) = (&env, &client);
        async move {
            let n = notif(env).await;
            n["clients"][client]["channelsCreated"] == 2
                && n["channels"].as_array().unwrap().iter().filter(|c| c["clientId"] == client.as_str() && c["connected"] == true).count()
                    == 1
        }
    })
    .await;
    publish(&env, &topic, 500, 5000.0).await;
    let mut checked = 0;
    for (_, sub) in subs.iter().filter(|(t, _)| *t == "acme") {
        // Subscriptions of the replica that left are closed (their batches end).
        let seqs = collect(sub, 500, |_| None).await;
        if seqs.is_empty() {
            continue;
        }
        assert_exact(&seqs, 500);
        checked += 1;
    }
    assert_eq!(checked, 2, "the two remaining replicas receive every event");
    assert_eq!(evictions(&env).await, 0);
    for r in replicas {
        r.close().await;
    }
}

/// A tenant that leaves the config: its channels close and its subscriptions end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_removed_from_the_config_loses_its_channels_and_subscriptions() {
    let env = common::emulator().await;
    let o = env.orchestrator_with(options(&env, NotificationOptions::default())).await;
    let gone = o.notifications().subscribe("acme", vec![user_topic(1)]).await.unwrap();
    let kept = o.notifications().subscribe("globex", vec![user_topic(1)]).await.unwrap();
    assert_eq!(notif(&env).await["liveSockets"], 2);
    let rest: Vec<Value> = env.tenants().await.into_iter().filter(|t| t["tenantId"] != "acme").collect();
    env.control("PUT", "config-service/tenants", Value::Array(rest)).await;
    assert_eq!(o.reload_config().await.unwrap().removed, ["acme"]);
    assert_eq!(timeout(BOUND, gone.next_batch()).await.unwrap(), None, "acme's subscription ended");
    until("acme's socket closed", || {
        let env = &env;
        async move { notif(env).await["liveSockets"] == 1 }
    })
    .await;
    publish(&env, &user_topic(1), 3, 1000.0).await;
    assert_exact(&collect(&kept, 3, |_| None).await, 3);
    o.close().await;
}

/// A channel that dies with its token (the emulator's `channelsDieWithToken`): the token is revoked,
/// the channel closes, and the manager rebuilds it with a new token; later events arrive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_whose_token_died_is_rebuilt_with_a_new_token() {
    let env = common::emulator().await;
    settings(&env, json!({"channelsDieWithToken": true})).await;
    let o = env.orchestrator_with(options(&env, NotificationOptions::default())).await;
    let topic = user_topic(3);
    let sub = o.notifications().subscribe("acme", vec![topic.clone()]).await.unwrap();
    let tokens_before = env.token_requests("acme").await;
    env.revoke("acme").await;
    let client = env.client_id("acme").await;
    until("a new channel, connected", || {
        let (env, client) = (&env, &client);
        async move {
            let n = notif(env).await;
            n["clients"][client]["channelsCreated"] == 2
                && n["channels"].as_array().unwrap().iter().any(|c| c["clientId"] == client.as_str() && c["connected"] == true)
        }
    })
    .await;
    assert!(env.token_requests("acme").await > tokens_before, "the new channel was made with a new token");
    assert_eq!(o.notifications().stats("acme").unwrap().rebuilds.load(std::sync::atomic::Ordering::Relaxed), 1);
    publish(&env, &topic, 100, 1000.0).await;
    assert_exact(&collect(&sub, 100, |_| None).await, 100);
    o.close().await;
}

//! Shared mode on Redis as production runs it (issue 17): TLS with a private CA and mutual TLS, an
//! ACL user, and a Redis Cluster — each a real `redis-server` started here on 127.0.0.1.

mod common;

use common::servers::{cli, free_port, temp_dir, Certs, Cluster, EchoRedis, Server};
use genesys_tenants_core::crypto::EncryptionKey;
use genesys_tenants_core::events::Events;
use genesys_tenants_core::pipeline::rate_limit::probing::PROBE_AFTER_FULL_WINDOWS;
use genesys_tenants_core::store::{unix_ms_now, Budget, RateWait, Said, SharedStore, SharedToken, StageRecord, StoreError, StoreSettings};
use genesys_tenants_core::{RedisTls, Secret};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn settings(url: &str, tls: Option<RedisTls>) -> StoreSettings {
    StoreSettings {
        url: url.into(),
        prefix: format!("gt-prod-{}:", rand::random::<u32>()),
        op_timeout: Duration::from_millis(1000),
        retry_pause: Duration::from_millis(100),
        lease: Duration::from_millis(2000),
        tls,
    }
}

fn store(url: &str, tls: Option<RedisTls>) -> SharedStore {
    store_with(url, tls, Events::default())
}

fn store_at(url: &str, prefix: &str, events: Events) -> SharedStore {
    let settings = StoreSettings { prefix: prefix.into(), ..settings(url, None) };
    SharedStore::new(settings, EncryptionKey::parse(&"cd".repeat(32)).unwrap(), events).unwrap()
}

fn store_with(url: &str, tls: Option<RedisTls>, events: Events) -> SharedStore {
    SharedStore::new(settings(url, tls), EncryptionKey::parse(&"cd".repeat(32)).unwrap(), events).unwrap()
}

/// Every event received so far, as JSON text.
fn drain(rx: &mut tokio::sync::broadcast::Receiver<genesys_tenants_core::events::Event>) -> Vec<String> {
    let mut out = Vec::new();
    while let Ok(e) = rx.try_recv() {
        out.push(serde_json::to_string(&e).unwrap());
    }
    out
}

fn budget() -> Budget {
    Budget { allowed: 100, window: Duration::from_secs(1), said: Said::Configured }
}

/// Every store operation a replica uses, for one tenant: lease, put, get, budget, pause.
async fn round_trip(s: &SharedStore, tenant: &str) -> Result<(), StoreError> {
    let lease = s.try_lease(tenant, "fp").await?.expect("a free lease");
    let tok = SharedToken { value: format!("token-of-{tenant}"), obtained_at_ms: unix_ms_now(), expires_at_ms: unix_ms_now() + 60_000 };
    assert!(s.put_token(tenant, "fp", &lease, &tok).await?);
    assert_eq!(s.get_token(tenant, "fp").await?.expect("stored").value, tok.value);
    assert!(matches!(s.rate_wait(tenant, budget(), PROBE_AFTER_FULL_WINDOWS).await?, RateWait::Go(_)));
    assert_eq!(s.pause(tenant, Duration::from_secs(5), None).await?, Duration::from_secs(5));
    assert!(matches!(s.rate_wait(tenant, budget(), PROBE_AFTER_FULL_WINDOWS).await?, RateWait::Paused(_)), "the pause is seen");
    Ok(())
}

fn reason(r: Result<(), StoreError>) -> String {
    match r {
        Err(StoreError::Unavailable(why)) => why,
        Ok(()) => panic!("expected the store to refuse"),
    }
}

fn tls(certs: &Certs, client: bool) -> RedisTls {
    RedisTls {
        ca: Some(certs.read("ca.pem")),
        cert: client.then(|| certs.read("client.pem")),
        key: client.then(|| Secret::new(certs.read("client.key"))),
    }
}

#[tokio::test]
async fn rediss_with_a_private_ca_works_and_a_bad_certificate_never_falls_back_to_plain_text() {
    let certs = Certs::generate("tls", "IP:127.0.0.1,DNS:localhost");
    let server = certs.server(false);
    let url = format!("rediss://127.0.0.1:{}", server.port);
    round_trip(&store(&url, Some(tls(&certs, false))), "acme").await.unwrap();
    round_trip(&store(&format!("rediss://localhost:{}", server.port), Some(tls(&certs, false))), "acme").await.unwrap();

    // The system's roots do not know our CA.
    let why = reason(round_trip(&store(&url, None), "acme").await);
    assert!(why.contains("invalid peer certificate: UnknownIssuer"), "{why}");

    // A certificate signed by the right CA for another name.
    let wrong = Certs::generate("tls-wrong", "DNS:other.example");
    let other = wrong.server(false);
    let why = reason(round_trip(&store(&format!("rediss://127.0.0.1:{}", other.port), Some(tls(&wrong, false))), "acme").await);
    assert!(why.to_lowercase().contains("certificate"), "{why}");

    // A plain client never talks to the TLS port as if it were plain (the URL decides, nothing else).
    let why = reason(round_trip(&store(&format!("redis://127.0.0.1:{}", server.port), None), "acme").await);
    assert!(!why.is_empty());
}

#[tokio::test]
async fn mutual_tls_needs_the_client_certificate_and_its_key_stays_secret() {
    let certs = Certs::generate("mtls", "IP:127.0.0.1");
    let server = certs.server(true);
    let url = format!("rediss://127.0.0.1:{}", server.port);
    let why = reason(round_trip(&store(&url, Some(tls(&certs, false))), "acme").await);
    assert!(!why.is_empty());
    round_trip(&store(&url, Some(tls(&certs, true))), "acme").await.unwrap();
    let debug = format!("{:?}", tls(&certs, true));
    assert!(!debug.contains("PRIVATE KEY"), "the key is redacted in Debug: {debug}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acl_user_works_and_a_wrong_password_falls_back_without_showing_it() {
    let dir = temp_dir("acl");
    let port = free_port();
    let _server = Server::start(port, &dir, &["--port", &port.to_string()]);
    assert_eq!(cli(port, &["ACL", "SETUSER", "gt-svc", "on", ">Acl-Pass-7f3a9", "~*", "&*", "+@all"]).trim(), "OK");
    assert_eq!(cli(port, &["ACL", "SETUSER", "default", "off"]).trim(), "OK");
    assert!(cli(port, &["GET", "x"]).contains("NOAUTH"), "the default user is off");
    round_trip(&store(&format!("redis://gt-svc:Acl-Pass-7f3a9@127.0.0.1:{port}"), None), "acme").await.unwrap();

    // Through the orchestrator: calls still succeed in-process, and the reason never shows the password.
    let env = common::emulator().await;
    let mut o = env.options();
    o.redis_url = Some(format!("redis://gt-svc:Wrong-Pass-0c1d2@127.0.0.1:{port}"));
    o.encryption_key = Some(Secret::new("ab".repeat(32)));
    let orch = env.orchestrator_with(o).await;
    let mut rx = orch.subscribe();
    assert_eq!(orch.request("acme", common::get("/api/v2/organizations/me")).await.unwrap().status, 200);
    let mut events = String::new();
    while let Ok(e) = rx.try_recv() {
        events.push_str(&serde_json::to_string(&e).unwrap());
    }
    assert!(events.contains("store.unavailable"), "{events}");
    assert!(!events.contains("Wrong-Pass-0c1d2"), "{events}");
    let stats = serde_json::to_string(&orch.stats()).unwrap();
    assert!(stats.contains("in-process") && !stats.contains("Wrong-Pass-0c1d2"), "{stats}");
    let last = orch.stats().store.and_then(|s| s.last_error).unwrap_or_default();
    assert!(last.contains("AuthenticationFailed"), "the reason says why: {last}");
    orch.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_runs_every_script_on_its_tenant_s_slot_and_a_plain_url_to_one_node_is_detected() {
    let cluster = Cluster::start(3, 0);
    let s = store(&cluster.url(), None);
    let prefix = s.keys("x", "fp").token.split('{').next().unwrap().to_string();
    for i in 0..30 {
        round_trip(&s, &format!("tenant-{i}")).await.unwrap();
    }
    let spread = cluster.keys_per_node(&format!("{prefix}*"));
    assert_eq!(spread.iter().map(|(_, n)| n).sum::<usize>(), 30 * 4, "token, fence, budget and pause per tenant: {spread:?}");
    assert!(spread.iter().all(|(_, n)| *n > 0), "the tenants land on every master: {spread:?}");

    // A plain URL to one node: detected as a Cluster, so tenants on the other masters work too.
    let one = store(&format!("redis://127.0.0.1:{}", cluster.nodes[1].port), None);
    for i in 0..30 {
        round_trip(&one, &format!("detected-{i}")).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_fan_out_crosses_the_cluster_s_nodes() {
    let cluster = Cluster::start(3, 0);
    // The listener subscribes on the third node only; the publisher's PUBLISH lands wherever the
    // channel's slot lives. Redis Cluster forwards it to every node.
    fan_out(&format!("redis+cluster://127.0.0.1:{}", cluster.nodes[2].port), &cluster.url(), "gt-fanout:").await;
}

/// A rotation published through `publisher_url` reaches a replica listening through `listener_url`.
async fn fan_out(listener_url: &str, publisher_url: &str, prefix: &str) {
    let listener = Arc::new(store_at(listener_url, prefix, Events::default()));
    let publisher = store_at(publisher_url, prefix, Events::default());
    let heard = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let cancel = tokio_util::sync::CancellationToken::new();
    let task = tokio::spawn({
        let (listener, heard, cancel) = (Arc::clone(&listener), Arc::clone(&heard), cancel.clone());
        async move { listener.listen(move |t| heard.lock().unwrap().push(t), cancel).await }
    });
    let t0 = Instant::now();
    // Publish until heard (the subscription may not be in place yet).
    while heard.lock().unwrap().is_empty() {
        assert!(t0.elapsed() < Duration::from_secs(5), "the rotation never reached the listener");
        publisher.publish_rotation("acme").await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(heard.lock().unwrap()[0], "acme");
    assert_eq!(publisher.describe().failures, 0, "{:?}", publisher.describe());
    cancel.cancel();
    task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_master_killed_mid_run_fails_no_call_and_the_cluster_is_used_again_after_failover() {
    let mut cluster = Cluster::start(3, 1);
    let env = common::emulator().await;
    let mut o = env.options();
    o.redis_url = Some(cluster.url());
    o.encryption_key = Some(Secret::new("ab".repeat(32)));
    o.redis_key_prefix = format!("gt-failover-{}:", rand::random::<u32>());
    let prefix = o.redis_key_prefix.clone();
    let orch = env.orchestrator_with(o).await;
    let mut rx = orch.subscribe();
    assert_eq!(orch.request("acme", common::get("/api/v2/organizations/me")).await.unwrap().status, 200);

    let victim = cluster.master_of(&format!("{prefix}{{{}}}", hex_of("acme")));
    let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let flow = tokio::spawn({
        let (orch, ok, failed) = (orch.clone(), Arc::clone(&ok), Arc::clone(&failed));
        async move {
            let t0 = Instant::now();
            while t0.elapsed() < Duration::from_secs(8) {
                match orch.request("acme", common::get("/api/v2/organizations/me")).await {
                    Ok(r) if r.status == 200 => ok.fetch_add(1, Ordering::Relaxed),
                    _ => failed.fetch_add(1, Ordering::Relaxed),
                };
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    cluster.kill(victim);
    flow.await.unwrap();
    assert_eq!(failed.load(Ordering::Relaxed), 0, "no call failed");
    assert!(ok.load(Ordering::Relaxed) > 50, "{} calls", ok.load(Ordering::Relaxed));
    cluster.wait_ok(Duration::from_secs(10));
    assert_ne!(cluster.master_of(&format!("{prefix}{{{}}}", hex_of("acme"))), victim, "a replica took over");

    // The shared token is still there on the promoted replica or is shared again: one more
    // replica on the cluster needs no token request of its own.
    let before = env.token_requests("acme").await;
    let mut o2 = env.options();
    o2.redis_url = Some(cluster.url());
    o2.encryption_key = Some(Secret::new("ab".repeat(32)));
    o2.redis_key_prefix = prefix.clone();
    let second = env.orchestrator_with(o2).await;
    let t0 = Instant::now();
    loop {
        // The first replica's store comes back after its retry pause; its next refresh writes again.
        if orch.stats().store.is_some_and(|s| s.mode == "shared") {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(10), "the store never came back: {:?}", orch.stats().store);
        let _ = orch.request("acme", common::get("/api/v2/organizations/me")).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    second.access_token("acme").await.unwrap();
    assert!(env.token_requests("acme").await <= before + 1, "at most one new token after the failover");
    let mut kinds = Vec::new();
    while let Ok(e) = rx.try_recv() {
        kinds.push(e.kind);
    }
    assert!(
        kinds.contains(&"store.unavailable") && kinds.contains(&"store.available"),
        "the failover was seen and recovered from: {kinds:?}"
    );
    orch.close().await;
    second.close().await;
}

fn hex_of(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Issue 23, item 4: a server that quotes what it was sent (`AUTH` included) cannot put the
/// password into a reason, an event or `stats()`: not when it is short, not in its decoded form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_password_is_redacted_whatever_its_length_and_in_its_decoded_form() {
    let echo = EchoRedis::start();
    // (as written in the URL, as sent to the server)
    for (in_url, sent) in [("pw1", "pw1"), ("Q", "Q"), ("p%40ss%2Fw%3A", "p@ss/w:"), ("%E2%82%AC9", "\u{20ac}9")] {
        let events = Events::default();
        let mut rx = events.subscribe();
        let s = store_with(&format!("redis://gt-svc:{in_url}@127.0.0.1:{}", echo.port), None, events);
        let why = reason(round_trip(&s, "acme").await);
        assert!(why.contains("heard AUTH gt-svc [redacted] CLIENT SETINFO"), "the server quoted the password, replaced: {why}");
        let mut texts = vec![why, s.describe().last_error.unwrap_or_default()];
        texts.extend(drain(&mut rx));
        assert_eq!(texts.len(), 3, "store.unavailable was emitted once: {texts:?}");
        for t in &texts {
            assert!(t.contains("[redacted]") && !t.contains(sent) && !t.contains(in_url), "{in_url}: {t}");
        }
    }
    // unix:// carries the password as ?pass=; a URL the redis crate refuses is quoted without it.
    let refused = SharedStore::new(
        settings("unix:///tmp/gt-none.sock?pass=pw2&db=x", None),
        EncryptionKey::parse(&"cd".repeat(32)).unwrap(),
        Events::default(),
    );
    let text = refused.map(|_| ()).unwrap_err().to_string();
    assert!(text.contains("Invalid database number") && text.contains("pass=[redacted]") && !text.contains("pw2"), "{text}");
}

/// Issue 23, item 9: a burst of calls against a server whose certificate does not verify keeps the
/// certificate failure as the outage's cause; its consequences (timeouts, the retry pause) do not
/// overwrite it. The cause of the next outage replaces it, once the store has answered between.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_cause_of_an_outage_stays_until_the_store_answers_again() {
    let certs = Certs::generate("tls-burst", "IP:127.0.0.1");
    let server = certs.server(false);
    let env = common::emulator().await;
    let mut o = env.options();
    // The system's roots do not know the test's CA.
    o.redis_url = Some(format!("rediss://127.0.0.1:{}", server.port));
    o.encryption_key = Some(Secret::new("ab".repeat(32)));
    let orch = env.orchestrator_with(o).await;
    let calls = (0..20).map(|_| {
        let orch = orch.clone();
        tokio::spawn(async move { orch.request("acme", common::get("/api/v2/organizations/me")).await.map(|r| r.status) })
    });
    for call in futures::future::join_all(calls).await {
        assert_eq!(call.unwrap().unwrap(), 200, "calls go on in-process");
    }
    let health = orch.stats().store.unwrap();
    assert_eq!(health.mode, "in-process (fallback)");
    assert_eq!(health.outages, 1);
    let last = health.last_error.unwrap_or_default();
    assert!(last.contains("invalid peer certificate: UnknownIssuer"), "the root cause, not its consequences: {last}");
    orch.close().await;

    // One store through two outages with the store answering between them.
    let dir = temp_dir("acl-outages");
    let port = free_port();
    let mut plain = Server::start(port, &dir, &["--port", &port.to_string()]);
    assert_eq!(cli(port, &["ACL", "SETUSER", "gt-svc", "on", ">Acl-Pass-7f3a9", "~*", "&*", "+@all"]).trim(), "OK");
    let s = Arc::new(store(&format!("redis://gt-svc:Acl-Pass-7f3a9@127.0.0.1:{port}"), None));
    round_trip(&s, "acme").await.unwrap();
    assert_eq!(s.describe().last_error, None);
    assert_eq!(cli(port, &["ACL", "SETUSER", "gt-svc", "-@all"]).trim(), "OK");
    let burst = |tag: &'static str| {
        let ops = (0..20).map(|i| {
            let s = Arc::clone(&s);
            tokio::spawn(async move { s.rate_wait(&format!("{tag}-{i}"), budget(), PROBE_AFTER_FULL_WINDOWS).await })
        });
        futures::future::join_all(ops)
    };
    assert!(burst("refused").await.into_iter().all(|r| r.unwrap().is_err()));
    let first = s.describe().last_error.unwrap_or_default();
    assert!(first.contains("NoPerm") && first.contains("'evalsha'"), "{first}");
    assert_eq!(cli(port, &["ACL", "SETUSER", "gt-svc", "+@all"]).trim(), "OK");
    tokio::time::sleep(Duration::from_millis(150)).await;
    round_trip(&s, "back").await.unwrap();
    assert_eq!(s.describe().mode, "shared");
    plain.kill();
    assert!(burst("gone").await.into_iter().all(|r| r.unwrap().is_err()));
    let second = s.describe();
    assert_eq!(second.outages, 2);
    let second = second.last_error.unwrap_or_default();
    assert!(!second.is_empty() && !second.contains("NoPerm"), "the second outage has its own cause: {second}");
}

/// The minimal ACL of a shared-mode user, as the README gives it, for key prefix `prefix`: the
/// commands the store sends (the scripts' own commands included, since Redis checks those against
/// the user too), its keys and its rotation channel, nothing else — not `INFO`.
fn minimal_acl(prefix: &str, except: &[&str]) -> Vec<String> {
    let mut rules: Vec<String> = ["ACL", "SETUSER", "gt-min", "reset", "on", ">Min-Pass-5e1a"].map(String::from).to_vec();
    rules.push(format!("~{prefix}*"));
    rules.push(format!("&{prefix}events"));
    let commands = [
        "+evalsha",
        "+script|load",
        "+get",
        "+set",
        "+del",
        "+incr",
        "+hmget",
        "+hset",
        "+hdel",
        "+hincrby",
        "+pexpire",
        "+pttl",
        "+time",
        "+publish",
        "+subscribe",
        "+cluster|slots",
        "+ping",
        "+asking",
    ];
    rules.extend(commands.iter().filter(|c| !except.contains(c)).map(|c| c.to_string()));
    rules
}

fn grant(port: u16, rules: &[String]) {
    let args: Vec<&str> = rules.iter().map(String::as_str).collect();
    assert_eq!(cli(port, &args).trim(), "OK", "{rules:?}");
    assert!(cli(port, &["--user", "gt-min", "--pass", "Min-Pass-5e1a", "--no-auth-warning", "INFO"]).contains("NOPERM"));
}

/// Every operation of the store, through `url`: lease, token, budget, pause, drop, webhook
/// claim, staged-credential record, rotation fan-out — and none failed.
async fn every_operation(url: &str, prefix: &str) {
    let s = store_at(url, prefix, Events::default());
    for i in 0..12 {
        round_trip(&s, &format!("tenant-{i}")).await.unwrap();
    }
    s.drop_token_if("tenant-0", "fp", "token-of-tenant-0").await;
    assert!(s.get_token("tenant-0", "fp").await.unwrap().is_none(), "the refused token is deleted");
    assert!(s.claim_delivery("delivery-1", Duration::from_secs(5)).await.unwrap());
    assert!(!s.claim_delivery("delivery-1", Duration::from_secs(5)).await.unwrap(), "claimed once");
    let record = StageRecord { promoted: true, reason: None, status: None, organization_id: Some("org-1".into()) };
    s.put_stage_record("tenant-1", "kfp", &record, Duration::from_secs(5)).await.unwrap();
    assert_eq!(s.stage_record("tenant-1", "kfp").await.unwrap(), Some(record));
    fan_out(url, url, prefix).await;
    let health = s.describe();
    assert_eq!((health.mode, health.failures, health.outages), ("shared", 0, 0), "{health:?}");
}

/// 10 tenants, each called 3 times at once by each of 2 orchestrators sharing `url`: the token
/// requests the emulator counted, in all.
async fn token_requests_for_ten_tenants_on_two_replicas(url: &str, prefix: &str) -> u64 {
    let env = common::emulator().await;
    let like = env.client_id("acme-corp").await;
    let base = env.tenants().await.into_iter().find(|t| t["tenantId"] == "acme-corp").unwrap();
    let (mut doc, mut clients) = (Vec::new(), Vec::new());
    for i in 0..10 {
        let v = env.control("POST", "clients", json!({ "like": like })).await;
        let mut t = base.clone();
        t["tenantId"] = json!(format!("tenant-{i}"));
        t["clientId"] = v["clientId"].clone();
        t["clientSecret"] = v["secret"].clone();
        clients.push(v["clientId"].as_str().unwrap().to_string());
        doc.push(t);
    }
    env.control("PUT", "config-service/tenants", Value::Array(doc)).await;
    let mut replicas = Vec::new();
    for _ in 0..2 {
        let mut o = env.options();
        o.redis_url = Some(url.into());
        o.encryption_key = Some(Secret::new("ab".repeat(32)));
        o.redis_key_prefix = prefix.into();
        replicas.push(env.orchestrator_with(o).await);
    }
    let mut calls = Vec::new();
    for orch in &replicas {
        for i in 0..10 {
            for _ in 0..3 {
                let orch = orch.clone();
                calls.push(tokio::spawn(async move {
                    orch.request(&format!("tenant-{i}"), common::get("/api/v2/organizations/me")).await.map(|r| r.status)
                }));
            }
        }
    }
    for call in futures::future::join_all(calls).await {
        assert_eq!(call.unwrap().unwrap(), 200);
    }
    for orch in &replicas {
        let health = orch.stats().store.unwrap();
        assert_eq!((health.mode, health.failures), ("shared", 0), "{health:?}");
        orch.close().await;
    }
    let mut total = 0;
    for id in clients {
        total += env.control("GET", &format!("counters/{id}"), Value::Null).await["tokenRequests"].as_u64().unwrap_or(0);
    }
    total
}

/// Issue 23, item 10: the documented minimal ACL works for everything the store does, on one
/// Redis and on a 3-master Cluster reached through a plain redis:// URL to one node (the user may
/// not run INFO: the Cluster is detected by CLUSTER SLOTS), and sharing holds: 10 tenants on 2
/// replicas cost exactly 10 token requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_minimal_acl_serves_shared_mode_on_one_redis_and_on_a_cluster_behind_a_plain_url() {
    let prefix = "gt-acl:";
    let dir = temp_dir("acl-minimal");
    let port = free_port();
    let _one = Server::start(port, &dir, &["--port", &port.to_string()]);
    grant(port, &minimal_acl(prefix, &[]));
    let one = format!("redis://gt-min:Min-Pass-5e1a@127.0.0.1:{port}");
    every_operation(&one, prefix).await;
    assert_eq!(token_requests_for_ten_tenants_on_two_replicas(&one, prefix).await, 10);

    let cluster = Cluster::start(3, 0);
    for n in &cluster.nodes {
        grant(n.port, &minimal_acl(prefix, &[]));
    }
    let plain = format!("redis://gt-min:Min-Pass-5e1a@127.0.0.1:{}", cluster.nodes[1].port);
    every_operation(&plain, prefix).await;
    let spread = cluster.keys_per_node(&format!("{prefix}*"));
    assert!(spread.iter().all(|(_, n)| *n > 0), "the tenants are on every master: {spread:?}");
    assert_eq!(token_requests_for_ten_tenants_on_two_replicas(&plain, prefix).await, 10);
}

/// Issue 23, item 10: a Cluster node behind a plain URL whose user may run neither INFO nor
/// CLUSTER SLOTS cannot be used as a Cluster; the store refuses it whole (no tenant half-shared)
/// with a reason that names the fix.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_whose_slot_map_cannot_be_read_is_refused_with_a_reason_naming_the_fix() {
    let prefix = "gt-acl:";
    let cluster = Cluster::start(3, 0);
    for n in &cluster.nodes {
        grant(n.port, &minimal_acl(prefix, &["+cluster|slots"]));
    }
    let events = Events::default();
    let mut rx = events.subscribe();
    let node = cluster.nodes[0].port;
    let s = store_at(&format!("redis://gt-min:Min-Pass-5e1a@127.0.0.1:{node}"), prefix, events);
    let on = |here: bool| {
        let t = (0..).map(|i| format!("tenant-{i}")).find(|t| (cluster.master_of(&format!("{prefix}{{{}}}", hex_of(t))) == node) == here);
        t.unwrap()
    };
    // A tenant on another master: the node answers MOVED.
    assert!(round_trip(&s, &on(false)).await.is_err());
    // Then every tenant is refused, those whose slots the node holds too (past the retry pause).
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert!(round_trip(&s, &on(true)).await.is_err(), "no tenant is shared through one node of the Cluster");
    }
    let texts = drain(&mut rx);
    let unavailable: Vec<&String> = texts.iter().filter(|t| t.contains("store.unavailable")).collect();
    assert_eq!(unavailable.len(), 1, "one outage, not a flapping store: {texts:?}");
    assert!(!texts.iter().any(|t| t.contains("store.available")), "{texts:?}");
    let last = s.describe().last_error.unwrap_or_default();
    for needle in ["is a Redis Cluster", "CLUSTER SLOTS", "+cluster|slots", "redis+cluster://"] {
        assert!(last.contains(needle) && unavailable[0].contains(needle), "{needle}: {last}");
    }
    assert!(!last.contains("Min-Pass-5e1a"), "{last}");
}

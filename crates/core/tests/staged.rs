//! Staged credentials (issue 18, part 2) against the emulator: a pending OAuth client is tested
//! (token request, `tokens/me`, same organization) before any call uses it; promoted under load
//! with no failed call; a failing one leaves the current client in use; one test across replicas.

mod common;

use common::{get, Env};
use genesys_tenants_core::events::Event;
use genesys_tenants_core::Orchestrator;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

const TENANT: &str = "acme-corp";

/// A second client in acme-corp's org: `(client id, secret)`.
async fn second_client(env: &Env) -> (String, String) {
    let like = env.client_id(TENANT).await;
    let v = env.control("POST", "clients", json!({"like": like})).await;
    (v["clientId"].as_str().unwrap().to_string(), v["secret"].as_str().unwrap().to_string())
}

/// Serves the demo document with `tenant`'s entry changed by `edit`.
async fn serve_with(env: &Env, tenant: &str, edit: impl FnOnce(&mut Value)) {
    let mut doc: Vec<Value> = env.tenants().await;
    edit(doc.iter_mut().find(|t| t["tenantId"] == tenant).unwrap());
    env.control("PUT", "config-service/tenants", Value::Array(doc)).await;
}

async fn stage(env: &Env, client_id: &str, secret: &str) {
    serve_with(env, TENANT, |t| {
        t["pendingClientId"] = json!(client_id);
        t["pendingClientSecret"] = json!(secret);
    })
    .await;
}

async fn counters(env: &Env, client_id: &str) -> Value {
    env.control("GET", &format!("counters/{client_id}"), Value::Null).await
}

/// The next event of `kind` for the tenant, within `within`.
async fn next_event(rx: &mut broadcast::Receiver<Event>, kind: &str, within: Duration) -> Event {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Ok(e)) if e.kind == kind && e.tenant_id.as_deref() == Some(TENANT) => return e,
            Ok(Ok(_)) | Ok(Err(broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(e)) => panic!("event bus: {e}"),
            Err(_) => panic!("no {kind} event within {within:?}"),
        }
    }
}

fn stats_of(o: &Orchestrator) -> Value {
    serde_json::to_value(o.stats()).unwrap()["tenants"][TENANT].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_client_is_promoted_under_load_with_no_failed_call() {
    let env = common::emulator().await;
    let o = env.orchestrator().await;
    let current = env.client_id(TENANT).await;
    o.access_token(TENANT).await.unwrap();
    let (pending, secret) = second_client(&env).await;
    let mut rx = o.subscribe();

    // Four callers for 2.5 s while the tenant moves to its second client.
    let failed = Arc::new(AtomicU64::new(0));
    let ok = Arc::new(AtomicU64::new(0));
    let load: Vec<_> = (0..4)
        .map(|_| {
            let (o, failed, ok) = (o.clone(), Arc::clone(&failed), Arc::clone(&ok));
            tokio::spawn(async move {
                let start = Instant::now();
                while start.elapsed() < Duration::from_millis(2500) {
                    match o.request(TENANT, get("/api/v2/organizations/me")).await {
                        Ok(_) => ok.fetch_add(1, Ordering::Relaxed),
                        Err(e) => {
                            eprintln!("failed call: {e}");
                            failed.fetch_add(1, Ordering::Relaxed)
                        }
                    };
                    // ~150 calls in all: inside the 300-per-minute budget of one token.
                    tokio::time::sleep(Duration::from_millis(60)).await;
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The test's last step (the current client's probe) takes 300 ms: a call sent with the pending
    // client before the promotion would arrive inside that gap.
    env.control("POST", "faults", json!({"path": "/api/v2/tokens/me", "clientId": current, "latencyMs": 300, "count": 1})).await;
    stage(&env, &pending, &secret).await;
    o.reload_config().await.unwrap();
    let promoted = next_event(&mut rx, "credentials.promoted", Duration::from_secs(5)).await;
    for l in load {
        l.await.unwrap();
    }

    assert_eq!(failed.load(Ordering::Relaxed), 0, "{} calls succeeded", ok.load(Ordering::Relaxed));
    assert_eq!(promoted.data["clientId"], json!(pending));
    assert_eq!(promoted.data["previousClientId"], json!(current));
    assert_eq!(promoted.data["tested"], json!("here"));
    assert!(promoted.data["organizationId"].as_str().is_some_and(|s| !s.is_empty()));
    let p = counters(&env, &pending).await;
    assert_eq!(p["tokenRequests"], json!(1), "the tested token is the one used: no second request");
    // Untested, the pending client sent nothing but its probe (≥ 300 ms before the promotion):
    // every other call of it came after the promotion.
    let at = promoted.at;
    let early: Vec<&Value> = p["recentCalls"].as_array().unwrap().iter().filter(|c| c[0].as_u64().unwrap() + 100 < at).collect();
    assert_eq!(early.len(), 1, "only the probe before the promotion: {early:?}");
    assert!(p["apiCallsTotal"].as_u64().unwrap() > 10, "the calls after the promotion used the new client: {p}");
    let s = stats_of(&o);
    assert_eq!((s["clientId"].as_str(), s["promotedFrom"].as_str()), (Some(pending.as_str()), Some(current.as_str())));
    assert!(s.get("pendingClientId").is_none());
    // Calls from now on use the new client only.
    let before = counters(&env, &current).await["apiCallsTotal"].as_u64().unwrap();
    o.request(TENANT, get("/api/v2/organizations/me")).await.unwrap();
    assert_eq!(counters(&env, &current).await["apiCallsTotal"].as_u64().unwrap(), before);
    // The config service completes the move: nothing changes, no token request.
    serve_with(&env, TENANT, |t| {
        t["clientId"] = json!(pending);
        t["clientSecret"] = json!(secret);
        t.as_object_mut().unwrap().remove("pendingClientId");
        t.as_object_mut().unwrap().remove("pendingClientSecret");
    })
    .await;
    o.reload_config().await.unwrap();
    o.request(TENANT, get("/api/v2/organizations/me")).await.unwrap();
    assert_eq!(counters(&env, &pending).await["tokenRequests"], json!(1));
    assert!(stats_of(&o).get("promotedFrom").is_none());
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_pending_client_leaves_the_current_one_in_use() {
    let env = common::emulator().await;
    let o = env.orchestrator().await;
    let current = env.client_id(TENANT).await;
    let mut rx = o.subscribe();

    // A wrong secret: its token request is refused.
    let (pending, secret) = second_client(&env).await;
    stage(&env, &pending, "not-the-secret").await;
    o.reload_config().await.unwrap();
    let e = next_event(&mut rx, "credentials.pending-failed", Duration::from_secs(5)).await;
    assert_eq!((e.data["step"].as_str(), e.data["status"].as_u64()), (Some("token"), Some(401)), "{e:?}");
    assert_eq!(e.data["clientId"], json!(pending));
    assert_eq!(e.data["retryInMs"], json!(30_000));
    assert!(!serde_json::to_string(&e).unwrap().contains(&secret));
    o.request(TENANT, get("/api/v2/organizations/me")).await.expect("the current client still serves");
    let s = stats_of(&o);
    assert_eq!((s["clientId"].as_str(), s["pendingClientId"].as_str()), (Some(current.as_str()), Some(pending.as_str())));

    // The right secret, but its probe is refused (401): still not used.
    let fault = env.control("POST", "faults", json!({"path": "/api/v2/tokens/me", "status": 401, "clientId": pending})).await;
    stage(&env, &pending, &secret).await;
    o.reload_config().await.unwrap();
    let e = next_event(&mut rx, "credentials.pending-failed", Duration::from_secs(5)).await;
    assert_eq!((e.data["step"].as_str(), e.data["status"].as_u64()), (Some("probe"), Some(401)), "{e:?}");
    // rotateCredentials retests it at once (the fault is still there).
    o.rotate_credentials(TENANT).await.unwrap();
    let e = next_event(&mut rx, "credentials.pending-failed", Duration::from_secs(5)).await;
    assert_eq!(e.data["step"], json!("probe"));
    assert_eq!(e.data["retryInMs"], json!(60_000), "the pause doubles");
    let p = counters(&env, &pending).await;
    assert_eq!(p["apiCallsTotal"], json!(2), "only its two probes: {p}");
    assert_eq!(stats_of(&o)["clientId"], json!(current));

    // Once the probe passes, the next retest promotes it.
    env.control("DELETE", &format!("faults/{}", fault["id"]), Value::Null).await;
    o.rotate_credentials(TENANT).await.unwrap();
    let e = next_event(&mut rx, "credentials.promoted", Duration::from_secs(5)).await;
    assert_eq!(e.data["clientId"], json!(pending));
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_client_of_another_org_is_refused() {
    let env = common::emulator().await;
    let o = env.orchestrator().await;
    let mut rx = o.subscribe();
    // globex's client works, but belongs to another customer's org.
    let globex = env.tenants().await.into_iter().find(|t| t["tenantId"] == "globex").unwrap();
    stage(&env, globex["clientId"].as_str().unwrap(), globex["clientSecret"].as_str().unwrap()).await;
    o.reload_config().await.unwrap();
    let e = next_event(&mut rx, "credentials.pending-failed", Duration::from_secs(5)).await;
    assert_eq!(e.data["step"], json!("organization"), "{e:?}");
    let before = env.api_calls("globex").await;
    o.request(TENANT, get("/api/v2/organizations/me")).await.unwrap();
    assert_eq!(env.api_calls("globex").await, before, "no call for acme-corp went to globex's org");
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_replaced_credential_is_the_fallback_while_its_token_lives() {
    let env = common::emulator().await;
    let o = env.orchestrator().await;
    let mut rx = o.subscribe();
    o.access_token(TENANT).await.unwrap();
    let (pending, secret) = second_client(&env).await;
    stage(&env, &pending, &secret).await;
    o.reload_config().await.unwrap();
    next_event(&mut rx, "credentials.promoted", Duration::from_secs(5)).await;
    o.request(TENANT, get("/api/v2/organizations/me")).await.unwrap();

    // The new client is disabled: its tokens stop working and it gets no new one.
    env.control("PATCH", &format!("clients/{pending}"), json!({"state": "disabled"})).await;
    o.request(TENANT, get("/api/v2/organizations/me")).await.expect("served with the replaced credential's token");
    let e = next_event(&mut rx, "token.failed", Duration::from_secs(5)).await;
    assert!(e.data["fallback"].as_str().is_some(), "{e:?}");
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_sharing_redis_test_once_and_all_promote() {
    let env = common::emulator().await;
    let prefix = format!("gt-staged-{}-{}:", std::process::id(), rand::random::<u32>());
    let replicas = [env.replica(&prefix).await, env.replica(&prefix).await, env.replica(&prefix).await];
    for r in &replicas {
        r.access_token(TENANT).await.unwrap();
    }
    let (pending, secret) = second_client(&env).await;
    let mut rxs: Vec<_> = replicas.iter().map(|r| r.subscribe()).collect();
    stage(&env, &pending, &secret).await;
    for r in &replicas {
        r.reload_config().await.unwrap();
    }
    let mut tested_here = 0;
    for rx in &mut rxs {
        let e = next_event(rx, "credentials.promoted", Duration::from_secs(10)).await;
        tested_here += usize::from(e.data["tested"] == json!("here"));
    }
    assert_eq!(tested_here, 1, "one replica tested it, the others read the outcome");
    let p = counters(&env, &pending).await;
    assert_eq!(p["tokenRequests"], json!(1), "one test, one token for every replica: {p}");
    let tokens: Vec<String> = futures::future::join_all(replicas.iter().map(|r| r.access_token(TENANT)))
        .await
        .into_iter()
        .map(|t| t.unwrap().expose().to_string())
        .collect();
    assert!(tokens.windows(2).all(|w| w[0] == w[1]), "every replica uses the shared token of the new client");
    for r in &replicas {
        r.request(TENANT, get("/api/v2/organizations/me")).await.unwrap();
        assert_eq!(stats_of(r)["clientId"], json!(pending));
    }
    assert_eq!(counters(&env, &pending).await["apiCallsTotal"], json!(4), "the probe and one call per replica");
    for r in &replicas {
        r.close().await;
    }
}

/// A hostile API echoes the probe's bearer token — as the 401's `code`, then as the 200's
/// `organization.id`: no event carries it (issue 23, item 1).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_probe_answer_that_echoes_its_token_never_reaches_an_event() {
    let env = common::emulator().await;
    let o = env.orchestrator().await;
    let mut rx = o.subscribe();
    let (pending, secret) = second_client(&env).await;

    let echo = |status: u16, body: Value| json!({"path": "/api/v2/tokens/me", "status": status, "clientId": pending, "echoBearer": true, "body": body});
    let fault = env.control("POST", "faults", echo(401, json!({"status": 401, "code": "$bearer", "message": "$bearer"}))).await;
    stage(&env, &pending, &secret).await;
    o.reload_config().await.unwrap();
    let e = next_event(&mut rx, "credentials.pending-failed", Duration::from_secs(5)).await;
    assert_eq!(e.data["reason"], json!("GET /api/v2/tokens/me answered 401 (a code not of Genesys's shape)"), "{e:?}");

    env.control("DELETE", &format!("faults/{}", fault["id"]), Value::Null).await;
    env.control("POST", "faults", echo(200, json!({"organization": {"id": "$bearer", "name": "x"}, "token": "$bearer"}))).await;
    o.rotate_credentials(TENANT).await.unwrap();
    let e = next_event(&mut rx, "credentials.pending-failed", Duration::from_secs(5)).await;
    assert_eq!(e.data["reason"], json!("GET /api/v2/tokens/me answered 200 without an organization id (a UUID)"), "{e:?}");
    assert_eq!(counters(&env, &pending).await["tokenRequests"], json!(2));
    o.close().await;
}

//! A tenant pinned to its organization (issue 26, part 3) against the emulator: an entry's
//! `organizationId` is checked with `GET /api/v2/tokens/me` once per credential before anything
//! else is sent with its token; another organization's client is refused (`ORGANIZATION_MISMATCH`)
//! having been sent only that check; an unpinned entry is reported once (`config.unpinned`) with
//! the organization observed; replicas share the check; a staged client is held to the pin.

mod common;

use common::{get, Env};
use genesys_tenants_core::events::Event;
use genesys_tenants_core::{Options, Orchestrator};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

const TENANT: &str = "acme-corp";

/// Serves the demo document with `tenant`'s entry changed by `edit`.
async fn serve_with(env: &Env, tenant: &str, edit: impl FnOnce(&mut Value)) {
    let mut doc: Vec<Value> = env.tenants().await;
    edit(doc.iter_mut().find(|t| t["tenantId"] == tenant).unwrap());
    env.control("PUT", "config-service/tenants", Value::Array(doc)).await;
}

/// The organization id the emulator gives `tenant`'s org (asked directly of the API).
async fn org_of(env: &Env, tenant: &str) -> String {
    let t = env.tenants().await.into_iter().find(|t| t["tenantId"] == tenant).unwrap();
    let form = [("grant_type", "client_credentials")];
    let tok: Value = env
        .http
        .post(format!("{}/oauth/token", env.emulator.url))
        .basic_auth(t["clientId"].as_str().unwrap(), t["clientSecret"].as_str())
        .form(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let me: Value = env
        .http
        .get(format!("{}/api/v2/organizations/me", env.emulator.url))
        .bearer_auth(tok["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    me["id"].as_str().unwrap().to_string()
}

async fn next_event(rx: &mut broadcast::Receiver<Event>, kind: &str, within: Duration) -> Option<Event> {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Ok(e)) if e.kind == kind && e.tenant_id.as_deref() == Some(TENANT) => return Some(e),
            Ok(Ok(_)) | Ok(Err(broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(_)) | Err(_) => return None,
        }
    }
}

async fn calls_of(env: &Env, client_id: &str) -> u64 {
    env.control("GET", &format!("counters/{client_id}"), Value::Null).await["apiCallsTotal"].as_u64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unpinned_entry_is_reported_once_with_the_organization_observed() {
    let env = common::emulator().await;
    let org = org_of(&env, TENANT).await;
    let base = env.api_calls(TENANT).await;
    // By default the lookup waits a minute after the first token: nothing is spent meanwhile.
    let idle = env.orchestrator().await;
    let mut rx_idle = idle.subscribe();
    idle.request(TENANT, get("/api/v2/organizations/me")).await.unwrap();
    idle.request(TENANT, get("/api/v2/organizations/me")).await.unwrap();
    assert!(next_event(&mut rx_idle, "config.unpinned", Duration::from_millis(300)).await.is_none());
    assert_eq!(env.api_calls(TENANT).await, base + 2, "no lookup in the first minute");
    idle.close().await;
    let base = base + 2;
    let o = env.orchestrator_with(Options { organization_hint_delay: Duration::ZERO, ..env.options() }).await;
    let mut rx = o.subscribe();
    o.request(TENANT, get("/api/v2/organizations/me")).await.unwrap();
    let e = next_event(&mut rx, "config.unpinned", Duration::from_secs(5)).await.expect("config.unpinned");
    assert_eq!(e.data["observedOrganizationId"], json!(org));
    assert_eq!(e.data["clientId"], json!(env.client_id(TENANT).await));
    assert!(e.data["message"].as_str().unwrap().contains(&format!("\"organizationId\": \"{org}\"")), "{e:?}");
    for _ in 0..3 {
        o.request(TENANT, get("/api/v2/organizations/me")).await.unwrap();
    }
    assert!(next_event(&mut rx, "config.unpinned", Duration::from_millis(300)).await.is_none(), "once per tenant");
    assert_eq!(env.api_calls(TENANT).await, base + 4 + 1, "four calls and one lookup");
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_entry_of_its_own_organization_costs_one_check_per_credential() {
    let env = common::emulator().await;
    let org = org_of(&env, TENANT).await;
    serve_with(&env, TENANT, |t| t["organizationId"] = json!(org.to_ascii_uppercase())).await;
    let (calls, tokens) = (env.api_calls(TENANT).await, env.token_requests(TENANT).await);
    let o = env.orchestrator().await;
    let mut rx = o.subscribe();
    let answers = futures::future::join_all((0..8).map(|_| o.request(TENANT, get("/api/v2/organizations/me")))).await;
    assert!(answers.iter().all(Result::is_ok), "{answers:?}");
    assert_eq!(env.api_calls(TENANT).await, calls + 8 + 1, "one check for eight concurrent callers");
    // A new token of the same credential needs no new check.
    o.rotate_credentials(TENANT).await.unwrap();
    o.request(TENANT, get("/api/v2/organizations/me")).await.unwrap();
    assert_eq!(env.token_requests(TENANT).await, tokens + 2);
    assert_eq!(env.api_calls(TENANT).await, calls + 8 + 1 + 1);
    assert!(o.cached_access_token(TENANT).is_some(), "a checked token is served without work");
    assert!(next_event(&mut rx, "config.unpinned", Duration::from_millis(200)).await.is_none(), "a pinned entry gets no hint");
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_organization_s_client_under_a_pinned_entry_is_refused_and_sent_only_the_check() {
    let env = common::emulator().await;
    let acme_org = org_of(&env, TENANT).await;
    let globex_org = org_of(&env, "globex").await;
    assert_ne!(acme_org, globex_org);
    let globex = env.tenants().await.into_iter().find(|t| t["tenantId"] == "globex").unwrap();
    let globex_client = globex["clientId"].as_str().unwrap().to_string();
    // Another customer's client pasted under acme-corp.
    serve_with(&env, TENANT, |t| {
        t["clientId"] = globex["clientId"].clone();
        t["clientSecret"] = globex["clientSecret"].clone();
        t["organizationId"] = json!(acme_org);
    })
    .await;
    let before = calls_of(&env, &globex_client).await;
    let o = env.orchestrator().await;
    let mut rx = o.subscribe();
    for _ in 0..3 {
        let e = o.request(TENANT, get("/api/v2/organizations/me")).await.expect_err("refused");
        assert_eq!(e.code(), "ORGANIZATION_MISMATCH", "{e}");
        let f = e.fields();
        assert_eq!(f["tenantId"], json!(TENANT));
        assert_eq!(f["clientId"], json!(globex_client));
        assert_eq!(f["expectedOrganizationId"], json!(acme_org));
        assert_eq!(f["actualOrganizationId"], json!(globex_org));
    }
    assert_eq!(o.access_token(TENANT).await.expect_err("no token is handed out").code(), "ORGANIZATION_MISMATCH");
    assert!(o.cached_access_token(TENANT).is_none());
    assert_eq!(calls_of(&env, &globex_client).await, before + 1, "the check, and nothing else");
    let failed = next_event(&mut rx, "token.failed", Duration::from_secs(1)).await.expect("reported");
    assert_eq!(failed.data["code"], json!("ORGANIZATION_MISMATCH"));
    assert_eq!(failed.data["actualOrganizationId"], json!(globex_org));
    assert!(next_event(&mut rx, "token.failed", Duration::from_millis(200)).await.is_none(), "reported once, when found");
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_read_the_check_recorded_beside_the_shared_token() {
    let env = common::emulator().await;
    let org = org_of(&env, TENANT).await;
    serve_with(&env, TENANT, |t| t["organizationId"] = json!(org)).await;
    let (calls, tokens) = (env.api_calls(TENANT).await, env.token_requests(TENANT).await);
    let prefix = format!("gt-org-{}:", rand::random::<u32>());
    let mut replicas: Vec<Orchestrator> = Vec::new();
    for _ in 0..3 {
        replicas.push(env.replica(&prefix).await);
    }
    for r in &replicas {
        r.request(TENANT, get("/api/v2/organizations/me")).await.unwrap();
    }
    assert_eq!(env.token_requests(TENANT).await, tokens + 1);
    assert_eq!(env.api_calls(TENANT).await, calls + 3 + 1, "one check for three replicas");
    for r in &replicas {
        r.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staged_client_is_held_to_the_pin_and_can_replace_a_wrong_current_one() {
    let env = common::emulator().await;
    let acme_org = org_of(&env, TENANT).await;
    let globex = env.tenants().await.into_iter().find(|t| t["tenantId"] == "globex").unwrap();
    let acme = env.tenants().await.into_iter().find(|t| t["tenantId"] == TENANT).unwrap();
    // The current client is another organization's; the pending one is acme-corp's own.
    serve_with(&env, TENANT, |t| {
        t["clientId"] = globex["clientId"].clone();
        t["clientSecret"] = globex["clientSecret"].clone();
        t["organizationId"] = json!(acme_org);
    })
    .await;
    let o = env.orchestrator().await;
    let mut rx = o.subscribe();
    assert_eq!(o.request(TENANT, get("/api/v2/organizations/me")).await.unwrap_err().code(), "ORGANIZATION_MISMATCH");
    serve_with(&env, TENANT, |t| {
        t["clientId"] = globex["clientId"].clone();
        t["clientSecret"] = globex["clientSecret"].clone();
        t["organizationId"] = json!(acme_org);
        t["pendingClientId"] = acme["clientId"].clone();
        t["pendingClientSecret"] = acme["clientSecret"].clone();
    })
    .await;
    o.reload_config().await.unwrap();
    let promoted = next_event(&mut rx, "credentials.promoted", Duration::from_secs(5)).await.expect("promoted");
    assert_eq!(promoted.data["organizationId"], json!(acme_org));
    let acme_client = acme["clientId"].as_str().unwrap();
    let before = calls_of(&env, acme_client).await;
    o.request(TENANT, get("/api/v2/organizations/me")).await.expect("the promoted client serves");
    assert_eq!(calls_of(&env, acme_client).await, before + 1, "its test's check counts: no second one");
    o.close().await;

    // A pending client of another organization is refused by the pin.
    serve_with(&env, TENANT, |t| {
        t["clientId"] = acme["clientId"].clone();
        t["clientSecret"] = acme["clientSecret"].clone();
        t["organizationId"] = json!(acme_org);
        t["pendingClientId"] = globex["clientId"].clone();
        t["pendingClientSecret"] = globex["clientSecret"].clone();
    })
    .await;
    let o = Orchestrator::new(env.options()).unwrap();
    let mut rx = o.subscribe();
    o.initialize().await.unwrap();
    let failed = next_event(&mut rx, "credentials.pending-failed", Duration::from_secs(5)).await.expect("refused");
    assert_eq!(failed.data["step"], json!("organization"));
    assert!(failed.data["reason"].as_str().unwrap().contains(&format!("pinned to {acme_org}")), "{failed:?}");
    o.request(TENANT, get("/api/v2/organizations/me")).await.expect("the current client serves");
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organization_id_that_is_not_a_uuid_makes_only_that_entry_invalid() {
    let env = common::emulator().await;
    serve_with(&env, TENANT, |t| t["organizationId"] = json!("acme-corp-org")).await;
    let o = env.orchestrator().await;
    let e = o.request(TENANT, get("/api/v2/organizations/me")).await.unwrap_err();
    assert_eq!(e.code(), "TENANT_INVALID");
    assert_eq!(e.fields()["field"], json!("organizationId"));
    o.request("globex", get("/api/v2/organizations/me")).await.expect("the others work");
    o.close().await;
}

//! 403s that name no permission (issue 23, item 12), as the emulator answers them: the pipeline
//! reads them against the operation catalogue and says so.

mod common;

use common::{emulator, get};
use genesys_tenants_core::{ApiRequest, Error, PermissionMode};
use serde_json::json;

fn refusal(e: &Error) -> (Vec<String>, PermissionMode, bool) {
    match e {
        Error::PermissionMissing { missing_permissions, mode, from_catalogue, .. } => (missing_permissions.clone(), *mode, *from_catalogue),
        other => panic!("expected PERMISSION_MISSING, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_division_403_naming_nothing_is_answered_with_the_catalogue_s_permissions() {
    let env = emulator().await;
    let o = env.orchestrator().await;
    let plural = json!({"message": "At least one of the required division permissions is missing",
        "code": "missing.division.permissions", "status": 403});
    env.control("POST", "faults", json!({"method": "GET", "path": "/api/v2/routing/queues/*", "status": 403, "body": plural})).await;
    env.control("POST", "faults", json!({"method": "POST", "path": "/api/v2/users/search", "status": 403, "body": plural})).await;

    let e = o.request("acme-corp", get("/api/v2/routing/queues/q-1")).await.unwrap_err();
    assert_eq!(refusal(&e), (vec!["routing:queue:view".to_string()], PermissionMode::All, true));
    let f = e.fields();
    assert_eq!(
        (f["permissionsFrom"].as_str(), f["status"].as_u64(), f["tenantId"].as_str()),
        (Some("catalogue"), Some(403), Some("acme-corp"))
    );
    assert_eq!(f["body"], plural);
    let text = e.to_string();
    assert!(text.contains("named none") && text.contains("operation catalogue lists for GET /api/v2/routing/queues/{queueId}"), "{text}");

    let search =
        ApiRequest { method: "POST".into(), path: "/api/v2/users/search".into(), body: Some(json!({"query": []})), ..Default::default() };
    let e = o.request("acme-corp", search).await.unwrap_err();
    assert_eq!(refusal(&e), (vec!["directory:user:view".to_string()], PermissionMode::Any, true));

    // The same answer for an operation that needs no permission by the docs: nothing to name.
    env.control("POST", "faults", json!({"method": "GET", "path": "/api/v2/organizations/me", "status": 403, "body": plural})).await;
    let e = o.request("acme-corp", get("/api/v2/organizations/me")).await.unwrap_err();
    assert_eq!((e.code(), e.fields()["status"].as_u64()), ("UPSTREAM_ERROR", Some(403)));
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_division_403_that_names_its_permissions_is_taken_at_its_word() {
    let env = emulator().await;
    let o = env.orchestrator().await;
    let named = json!({"code": "missing.any.division.permissions", "status": 403,
        "message": "Unable to perform the requested action. You must have at least one of the following permissions assigned: routing:queue:edit in at least one of the following division(s): 5f8c0b0e-1111-4e4e-8a8a-000000000001"});
    env.control("POST", "faults", json!({"method": "GET", "path": "/api/v2/routing/queues/*", "status": 403, "body": named})).await;
    let e = o.request("acme-corp", get("/api/v2/routing/queues/q-1")).await.unwrap_err();
    assert_eq!(refusal(&e), (vec!["routing:queue:edit".to_string()], PermissionMode::Any, false));
    assert_eq!(e.fields()["permissionsFrom"], "server");
    o.close().await;
}

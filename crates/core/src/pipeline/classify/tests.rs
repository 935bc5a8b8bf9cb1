//! Tests of `classify.rs`.
use super::*;
use serde_json::json;

fn classify(body: Value, www: Option<&str>) -> Error {
    to_error(&Answer { tenant_id: "t", status: 403, body: &body, www_authenticate: www, correlation_id: Some("c"), call: None })
}

fn perms(e: &Error) -> (Vec<String>, PermissionMode) {
    match e {
        Error::PermissionMissing { missing_permissions, mode, .. } => (missing_permissions.clone(), *mode),
        other => panic!("expected PERMISSION_MISSING, got {other:?}"),
    }
}

#[test]
fn answers_met_outside_the_pipeline() {
    fn a(status: u16, body: &Value) -> Answer<'_> {
        Answer { tenant_id: "t", status, body, www_authenticate: None, correlation_id: Some("c"), call: None }
    }
    let msg = json!({"status": 429, "message": "Rate limit exceeded the maximum. Retry the request in [4] seconds"});
    // The header wins over the message; the message over the default; the default when neither says.
    let cases = [(Some(Duration::from_millis(2500)), &msg, 2500), (None, &msg, 4000), (None, &json!({}), 1000)];
    for (header, body, want) in cases {
        match classify_answer(&a(429, body), header) {
            Error::RateLimited { retry_after_ms, correlation_id, .. } => {
                assert_eq!(retry_after_ms, want, "{header:?} {body}");
                assert_eq!(correlation_id.as_deref(), Some("c"));
            }
            other => panic!("expected RATE_LIMITED, got {other:?}"),
        }
    }
    let forbidden = json!({"code": "missing.permissions", "message": "You are missing the following permission(s): oauth:client:view"});
    assert_eq!(classify_answer(&a(403, &forbidden), None).code(), "PERMISSION_MISSING");
    assert_eq!(classify_answer(&a(404, &json!({"code": "not.found"})), None).code(), "UPSTREAM_ERROR");
}

#[test]
fn permission_bodies() {
    let any = json!({"message":"Unable to perform the requested action. You must have at least one of the following permissions assigned: directory:user:view",
        "code":"missing.any.permissions","status":403,"messageWithParams":"Unable to perform the requested action. You must have at least one of the following permissions assigned: {permissions}",
        "messageParams":{"permissions":"directory:user:view"}});
    let e = classify(any, None);
    assert_eq!(perms(&e), (vec!["directory:user:view".to_string()], PermissionMode::Any));
    assert!(e.to_string().contains("directory:user:view") && e.to_string().contains("Roles"));
    assert_eq!(e.correlation_id(), Some("c"));

    // No messageParams: read the message, bracketed list.
    let all = json!({"code":"missing.permissions","message":"Unable to perform the requested action. You are missing the following permission(s): [routing:queue:view, routing:queue:edit]"});
    assert_eq!(
        perms(&classify(all, None)),
        (vec!["routing:queue:view".to_string(), "routing:queue:edit".to_string()], PermissionMode::All)
    );

    // Params under another key, as an array.
    let other_key = json!({"code":"missing.any.permissions","messageParams":{"perms":"analytics:conversationDetail:view, analytics:agentConversationDetail:view"}});
    assert_eq!(perms(&classify(other_key, None)).0.len(), 2);
}

#[test]
fn scope_bodies() {
    let e = classify(
        json!({"code":"missing.scopes","message":"… scope(s): users:readonly","messageParams":{"scopes":"users:readonly"}}),
        Some(r#"Bearer error="insufficient_scope", scope="users:readonly""#),
    );
    match e {
        Error::ScopeMissing { missing_scopes, preflight, status, .. } => {
            assert_eq!(missing_scopes, vec!["users:readonly"]);
            assert!(!preflight);
            assert_eq!(status, Some(403));
        }
        other => panic!("{other:?}"),
    }
    // Header only, body unhelpful.
    let e = classify(json!("forbidden"), Some(r#"Bearer error="insufficient_scope", scope="analytics""#));
    assert_eq!(e.code(), "SCOPE_MISSING");
}

fn scopes_of(e: &Error) -> (Vec<String>, PermissionMode) {
    match e {
        Error::ScopeMissing { missing_scopes, mode, preflight: false, status: Some(403), .. } => (missing_scopes.clone(), *mode),
        other => panic!("expected SCOPE_MISSING from the server, got {other:?}"),
    }
}

#[test]
fn the_scope_refusal_genesys_sends() {
    // As captured: no messageParams, no WWW-Authenticate.
    let e = classify(
        json!({"message":"App not authorized to use scope [telephony:readonly, telephony]","code":"app.not.authorized.for.scope","status":403}),
        None,
    );
    assert_eq!(scopes_of(&e), (vec!["telephony:readonly".to_string(), "telephony".to_string()], PermissionMode::Any));
    assert!(e.to_string().contains("one of the OAuth scopes telephony:readonly, telephony (any one suffices)"), "{e}");
    assert_eq!(e.fields()["mode"], "ANY");
    assert_eq!(e.correlation_id(), Some("c"));
    let one = classify(json!({"message":"App not authorized to use scope [user-basic-info]","code":"app.not.authorized.for.scope"}), None);
    assert_eq!(scopes_of(&one).0, vec!["user-basic-info"]);
}

#[test]
fn a_missing_division_permission() {
    let e = classify(
        json!({"code":"missing.division.permission","status":403,
        "message":"Unable to perform the requested action. You are missing the following permission 'routing:queue:view' in the provided division(s)."}),
        None,
    );
    assert_eq!(perms(&e), (vec!["routing:queue:view".to_string()], PermissionMode::All));
    assert!(e.to_string().contains("in the division(s)"), "{e}");
    // Named nowhere: not a permission problem we can name.
    assert_eq!(
        classify(json!({"code":"missing.division.permission","message":"You are not authorized to perform the requested action."}), None)
            .code(),
        "UPSTREAM_ERROR"
    );
}

/// A 403 for `GET /api/v2/routing/queues/q-1` (the catalogue: ALL of routing:queue:view).
fn refused(body: Value, call: Option<(&str, &str)>) -> Error {
    to_error(&Answer { tenant_id: "t", status: 403, body: &body, www_authenticate: None, correlation_id: Some("c"), call })
}

const QUEUE: Option<(&str, &str)> = Some(("GET", "/api/v2/routing/queues/q-1"));

fn catalogue_perms(e: &Error) -> (Vec<String>, PermissionMode) {
    match e {
        Error::PermissionMissing { missing_permissions, mode, from_catalogue: true, .. } => (missing_permissions.clone(), *mode),
        other => panic!("expected PERMISSION_MISSING from the catalogue, got {other:?}"),
    }
}

#[test]
fn a_division_403_that_names_nothing_is_read_against_the_catalogue() {
    // As the published definition words it: no permission named, no messageParams.
    let plural = json!({"code": "missing.division.permissions", "status": 403,
        "message": "At least one of the required division permissions is missing"});
    let e = refused(plural.clone(), QUEUE);
    assert_eq!(catalogue_perms(&e), (vec!["routing:queue:view".to_string()], PermissionMode::All));
    let f = e.fields();
    assert_eq!((f["permissionsFrom"].as_str(), f["mode"].as_str(), f["status"].as_u64()), (Some("catalogue"), Some("ALL"), Some(403)));
    assert_eq!(f["body"], plural, "the server's body is kept as it was");
    assert_eq!(e.correlation_id(), Some("c"));
    assert_eq!(
        e.to_string(),
        "tenant 't' is missing permission routing:queue:view in the division(s) of the object it asked for \
         (Genesys's 403 missing.division.permissions named none: this is what the operation catalogue lists for \
         GET /api/v2/routing/queues/{queueId}): grant it to a role of the tenant's OAuth client (Admin > Integrations > OAuth > the client > Roles)"
    );
    // ANY in the catalogue: ANY here.
    let search = refused(plural.clone(), Some(("POST", "/api/v2/users/search")));
    assert_eq!(catalogue_perms(&search), (vec!["directory:user:view".to_string()], PermissionMode::Any));
    let two = refused(plural.clone(), Some(("POST", "/api/v2/analytics/conversations/details/query?x=1")));
    assert_eq!(
        catalogue_perms(&two),
        (vec!["analytics:conversationDetail:view".to_string(), "analytics:agentConversationDetail:view".to_string()], PermissionMode::Any)
    );
    assert!(
        two.to_string().contains("one of the permissions analytics:conversationDetail:view, analytics:agentConversationDetail:view"),
        "{two}"
    );
    // Nothing to name: the operation is unknown, needs none by the docs, is not documented, or
    // the answer was met outside the pipeline (no request known).
    for call in [
        None,
        Some(("GET", "/api/v2/no-such-thing")),
        Some(("GET", "/api/v2/users/me")),
        Some(("GET", "/api/v2/fax/f-1/status")),
        Some(("PUT", "/api/v2/routing/queues/q-1/members")),
    ] {
        let e = refused(plural.clone(), call);
        assert_eq!(e.code(), "UPSTREAM_ERROR", "{call:?}");
        assert_eq!(e.fields()["status"], 403);
    }
}

#[test]
fn the_403_codes_of_the_permission_family_are_treated_alike() {
    // Every code of the published definition's x-inin-error-codes (403) by which Genesys says
    // the caller lacks a permission, with the wordings that name none.
    let unnamed = [
        ("missing.permissions", "You are not authorized to perform the requested action."),
        ("missing.permission", "You are not authorized to perform the requested action."),
        ("missing.any.permissions", "You are not authorized to perform the requested action."),
        ("missing.division.permission", "Missing required division permission"),
        ("missing.division.permissions", "User doesn't have required permissions to the division"),
        ("missing.any.division.permissions", "At least one of the required division permissions is missing"),
        ("missing.division.permission.implied", "User does not have access permissions for this division."),
        ("architect.missing.permission", "You are not authorized to perform the requested action."),
        ("case.missing.any.division.permissions", "User is missing the required permission in the case division."),
        ("case.missing.permission.in.divisions", "User is missing the required permission in one or more divisions."),
        ("caseref.missing.any.division.permissions", "You do not have permission to view the case reference."),
        ("workitem.missing.any.division.permissions", "No permission in any division to perform the query."),
        ("workitem.missing.required.division.permissions", "Missing division permissions to view the job."),
    ];
    for (code, message) in unnamed {
        let body = json!({"code": code, "message": message, "status": 403});
        assert_eq!(refused(body.clone(), QUEUE).fields()["permissionsFrom"], "catalogue", "{code}");
        assert_eq!(catalogue_perms(&refused(body.clone(), QUEUE)).0, vec!["routing:queue:view"], "{code}");
        assert_eq!(refused(body, None).code(), "UPSTREAM_ERROR", "{code}: outside the pipeline nothing names them");
    }
    // The division wording that names them: the server's list, ANY, not the division ids.
    let named = json!({"code": "missing.any.division.permissions", "status": 403,
        "message": "Unable to perform the requested action. You must have at least one of the following permissions assigned: \
                    routing:queue:edit, routing:queue:add in at least one of the following division(s): 5f8c0b0e-1111-4e4e-8a8a-000000000001"});
    let e = refused(named, QUEUE);
    assert_eq!(perms(&e), (vec!["routing:queue:edit".to_string(), "routing:queue:add".to_string()], PermissionMode::Any));
    assert_eq!(e.fields()["permissionsFrom"], "server");
    assert!(e.to_string().contains("in the division(s)"), "{e}");
    // What the server names wins over the catalogue.
    let server = refused(
        json!({"code": "missing.permissions", "message": "You are missing the following permission(s): routing:queue:edit"}),
        QUEUE,
    );
    assert_eq!(perms(&server).0, vec!["routing:queue:edit"]);
    assert_eq!(server.fields()["permissionsFrom"], "server");
    // Codes about someone else's permissions (an owner, an assignee, a trusting org), or not a
    // missing permission at all, stay UPSTREAM_ERROR even for a known operation.
    for (code, message) in [
        ("owner.missing.any.division.permissions", "Owner must have required permissions in the case division."),
        ("assignee.missing.any.permissions", "Assignee does not have permissions assigned"),
        ("assignee.missing.any.division.permissions", "Assignee does not have permissions assigned in the division"),
        ("missing.trustor.permissions", "Missing required permission(s)"),
        ("not.authorized", "You are not authorized to perform the requested action."),
        ("authz.policy.denied", "Unable to perform the requested action. Your organization's security policies have denied access."),
        ("feature.forbidden", "This feature is not enabled for this organization."),
    ] {
        assert_eq!(refused(json!({"code": code, "message": message}), QUEUE).code(), "UPSTREAM_ERROR", "{code}");
    }
}

#[test]
fn everything_else_stays_upstream() {
    for body in [
        json!({"code":"not.authorized","message":"You are not authorized to perform the requested action."}),
        json!({"code":"missing.permissions","message":"no list here"}),
        json!({"code":"missing.any.permissions","messageParams":5}),
        json!(null),
        json!([1, 2]),
        json!("<html>"),
        json!({"code": 7, "message": {"x": 1}}),
    ] {
        let e = classify(body.clone(), None);
        assert_eq!(e.code(), "UPSTREAM_ERROR", "{body}");
        assert_eq!(e.fields()["status"], 403);
    }
    let e = classify(json!({}), Some("Bearer error=\"insufficient_scope\""));
    assert_eq!(e.code(), "UPSTREAM_ERROR");
}

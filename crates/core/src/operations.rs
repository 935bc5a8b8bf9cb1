//! What the operation catalogue (`crates/catalogue`, generated from Genesys's published definitions)
//! means for a call: may it be sent again, does a tenant's declared `requiredScopes` let its token
//! call it, which declared names are not Genesys scopes at all.

pub use genesys_catalogue::{catalogue, closest_scopes, Operation, Permissions};

use crate::error::PermissionMode;

/// Whether a request may be sent again after a 5xx or a lost answer: the catalogue's flag (idempotent
/// methods, query and search POSTs); for an operation it does not know, only the idempotent methods.
///
/// ```
/// use genesys_tenants_core::operations::retry_safe;
/// assert!(retry_safe("POST", "/api/v2/analytics/conversations/details/query"));
/// assert!(!retry_safe("POST", "/api/v2/analytics/conversations/details/jobs"));
/// ```
pub fn retry_safe(method: &str, api_path: &str) -> bool {
    match catalogue().lookup(method, api_path) {
        Some(op) => op.replay_safe,
        None => matches!(method.to_ascii_uppercase().as_str(), "GET" | "HEAD" | "OPTIONS" | "PUT" | "DELETE"),
    }
}

/// True when `declared` holds `scope`, or `area` for `area:readonly`.
fn covers(declared: &[String], scope: &str) -> bool {
    let has = |s: &str| declared.iter().any(|d| d == s);
    has(scope) || scope.strip_suffix(":readonly").is_some_and(has)
}

/// The scopes the call accepts, any one of which `declared` would need, when it holds none of them;
/// `None` when it holds one, when the operation needs none, or when the catalogue does not know the
/// operation or its scopes (then the API decides).
///
/// ```
/// use genesys_tenants_core::operations::missing_scopes;
/// let declared = vec!["analytics:readonly".to_string()];
/// assert_eq!(missing_scopes("GET", "/api/v2/users", &declared), Some(vec!["users".to_string(), "users:readonly".to_string()]));
/// assert_eq!(missing_scopes("POST", "/api/v2/analytics/conversations/details/jobs", &declared), None);
/// ```
pub fn missing_scopes(method: &str, api_path: &str, declared: &[String]) -> Option<Vec<String>> {
    let Some(op) = catalogue().lookup(method, api_path) else {
        tracing::debug!(method, path = api_path, "not in the operation catalogue: no pre-flight scope check");
        return None;
    };
    let accepted = op.scopes.filter(|s| !s.is_empty())?;
    if accepted.iter().any(|s| covers(declared, s)) {
        None
    } else {
        Some(accepted.iter().map(|s| s.to_string()).collect())
    }
}

/// What the catalogue lists in permissions for a call: its operation, ANY or ALL, and the list;
/// `None` when the catalogue does not know the operation, or knows it needs none or not which. For
/// a 403 that names no permission (`missing.division.permissions`): the likely cause, from the
/// published definitions rather than from the server's answer.
///
/// ```
/// use genesys_tenants_core::{operations::required_permissions, PermissionMode};
/// let (op, mode, list) = required_permissions("GET", "/api/v2/routing/queues/q-1").unwrap();
/// assert_eq!((op.template, mode, list), ("/api/v2/routing/queues/{queueId}", PermissionMode::All, &["routing:queue:view"][..]));
/// assert!(required_permissions("GET", "/api/v2/users/me").is_none(), "needs none");
/// ```
pub fn required_permissions(method: &str, api_path: &str) -> Option<(&'static Operation, PermissionMode, &'static [&'static str])> {
    let op = catalogue().lookup(method, api_path)?;
    let mode = match op.permissions {
        Permissions::Any(_) => PermissionMode::Any,
        Permissions::All(_) => PermissionMode::All,
        Permissions::None | Permissions::Unknown => return None,
    };
    Some((op, mode, op.permissions.list())).filter(|(_, _, list)| !list.is_empty())
}

/// The declared names Genesys has no scope by (`user:read`, from the common tutorial), in order.
pub fn unknown_scopes(declared: &[String]) -> Vec<String> {
    declared.iter().filter(|s| !catalogue().is_scope(s)).cloned().collect()
}

/// The scopes of `required` that `declared` does not cover (`area` covers `area:readonly`), in the
/// order given, without repeats. Names that are not Genesys scopes are not checked: they mean
/// nothing to the API either.
///
/// ```
/// use genesys_tenants_core::operations::uncovered_scopes;
/// let declared = vec!["users".to_string(), "analytics:readonly".to_string()];
/// let required = ["users:readonly", "analytics", "routing:readonly", "user:read"].map(String::from);
/// assert_eq!(uncovered_scopes(&required, &declared), vec!["analytics", "routing:readonly"]);
/// ```
pub fn uncovered_scopes(required: &[String], declared: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in required {
        if catalogue().is_scope(r) && !covers(declared, r) && !out.contains(r) {
            out.push(r.clone());
        }
    }
    out
}

/// What the catalogue says of a call, for people (`genesys-tenants explain`, `doctor`): `{ method,
/// template, sdkMethod, permissions: { mode, list }, scopes: [...] | null, replaySafe, inSdk, sdk }`, or
/// `None` when the API has no such operation. `path` may be concrete (`/api/v2/users/abc`).
///
/// ```
/// use genesys_tenants_core::operations::explain;
/// let e = explain("get", "/api/v2/routing/queues/q1").unwrap();
/// assert_eq!(e["permissions"]["mode"], "ALL");
/// assert_eq!(e["scopes"], serde_json::json!(["routing", "routing:readonly"]));
/// ```
pub fn explain(method: &str, path: &str) -> Option<serde_json::Value> {
    let c = catalogue();
    let op = c.lookup(method, path)?;
    Some(serde_json::json!({
        "method": op.method,
        "template": op.template,
        "sdkMethod": op.sdk_method,
        "permissions": {"mode": op.permissions.mode(), "list": op.permissions.list()},
        "scopes": op.scopes,
        "replaySafe": op.replay_safe,
        "inSdk": op.in_sdk,
        "sdk": c.sdk,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn coverage_of_required_scopes() {
        assert!(uncovered_scopes(&s(&["users:readonly", "users"]), &s(&["users"])).is_empty());
        assert_eq!(uncovered_scopes(&s(&["users", "users"]), &s(&["users:readonly"])), s(&["users"]));
        assert_eq!(uncovered_scopes(&s(&["routing:readonly"]), &s(&[])), s(&["routing:readonly"]));
        assert!(uncovered_scopes(&s(&["x:readonly"]), &s(&[])).is_empty(), "not a Genesys scope: not checked");
    }

    #[test]
    fn the_rows_the_hand_written_table_had_wrong() {
        // A read-only scope suffices for these analytics calls…
        for (m, p) in [
            ("POST", "/api/v2/analytics/conversations/details/jobs"),
            ("POST", "/api/v2/analytics/conversations/aggregates/jobs"),
            ("DELETE", "/api/v2/analytics/conversations/details/jobs/j1"),
        ] {
            assert_eq!(missing_scopes(m, p, &s(&["analytics:readonly"])), None, "{m} {p}");
        }
        // …but the jobs are not replayed blindly.
        assert!(!retry_safe("POST", "/api/v2/analytics/conversations/details/jobs"));
        assert!(!retry_safe("POST", "/api/v2/analytics/conversations/aggregates/jobs"));
        // users/me and the token routes need user-basic-info.
        for (m, p) in
            [("GET", "/api/v2/users/me"), ("DELETE", "/api/v2/tokens/u1"), ("GET", "/api/v2/tokens/me"), ("DELETE", "/api/v2/tokens/me")]
        {
            assert_eq!(missing_scopes(m, p, &s(&["users"])), Some(s(&["user-basic-info"])), "{m} {p}");
            assert_eq!(missing_scopes(m, p, &s(&["user-basic-info"])), None, "{m} {p}");
        }
    }

    #[test]
    fn replay_safety() {
        assert!(retry_safe("GET", "/api/v2/users"));
        assert!(retry_safe("POST", "/api/v2/users/search"));
        assert!(!retry_safe("POST", "/api/v2/oauth/clients/x/secret"));
        assert!(!retry_safe("PATCH", "/api/v2/users/x"));
        assert!(retry_safe("GET", "/api/v2/not-in-the-catalogue"));
        assert!(!retry_safe("POST", "/api/v2/not-in-the-catalogue/query"), "unknown POSTs are not replayed");
    }

    /// For every operation of the API and each scope it accepts: a tenant declaring exactly that
    /// scope is never refused by pre-flight (exhaustive, not sampled: ~4,800 checks).
    #[test]
    fn declaring_any_one_accepted_scope_is_enough_for_every_operation() {
        let mut checked = 0;
        for op in catalogue().operations() {
            let path: String =
                op.template.split('/').map(|seg| if seg.starts_with('{') { "p-1" } else { seg }).collect::<Vec<_>>().join("/");
            for scope in op.scopes.unwrap_or_default() {
                assert_eq!(missing_scopes(op.method, &path, &s(&[scope])), None, "{} {} with {scope}", op.method, op.template);
                checked += 1;
            }
            if let Some(accepted) = op.scopes.filter(|a| !a.is_empty()) {
                // And a tenant holding only unrelated scopes is told exactly what would do.
                let other = if accepted.contains(&"user-basic-info") { "webchat" } else { "user-basic-info" };
                if !accepted.contains(&other) {
                    let missing = missing_scopes(op.method, &path, &s(&[other]));
                    assert_eq!(missing, Some(accepted.iter().map(|x| x.to_string()).collect()), "{} {}", op.method, op.template);
                }
            }
        }
        assert!(checked > 4500, "{checked}");
    }

    /// Issue 23: a sample's pre-flight let these through. One only the published definition lists
    /// (the SDK dropped it; the API serves it), one whose path the definition writes as a long key.
    #[test]
    fn preflight_knows_the_routes_the_sample_missed() {
        assert_eq!(missing_scopes("DELETE", "/api/v2/webchat/settings", &s(&["users"])), Some(s(&["web-chat"])));
        assert_eq!(missing_scopes("DELETE", "/api/v2/webchat/settings", &s(&["web-chat"])), None);
        let version = "/api/v2/socialmedia/topics/t-1/dataingestionrules/facebook/r-1/versions/2";
        assert_eq!(missing_scopes("GET", version, &s(&["users"])), Some(s(&["social-media", "social-media:readonly"])));
        assert_eq!(missing_scopes("GET", version, &s(&["social-media:readonly"])), None);
        // The write before it no longer accepts a read-only scope it never did.
        let rule = "/api/v2/socialmedia/topics/t-1/dataingestionrules/facebook/r-1";
        assert_eq!(missing_scopes("PATCH", rule, &s(&["social-media:readonly"])), Some(s(&["social-media"])));
        let e = explain("delete", "/api/v2/webchat/settings").unwrap();
        assert_eq!((e["sdkMethod"].as_str(), e["inSdk"].as_bool()), (Some("deleteWebchatSettings"), Some(false)));
        assert_eq!(explain("GET", version).unwrap()["inSdk"], true);
    }

    #[test]
    fn outside_the_catalogue_passes() {
        assert_eq!(missing_scopes("GET", "/api/v2/not-in-the-catalogue", &s(&[])), None);
        assert_eq!(
            unknown_scopes(&s(&["user:read", "users:readonly", "analytics:report:read"])),
            s(&["user:read", "analytics:report:read"])
        );
    }
}

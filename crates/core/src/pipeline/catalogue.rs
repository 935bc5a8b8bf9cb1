//! What each Genesys Cloud endpoint requires: permissions (ANY or ALL) and the OAuth scope area,
//! from the official SDK's per-operation documentation ("Requires ANY permissions: …").
//! The scope areas follow Genesys's naming (`users`, `analytics`, …); a read accepts
//! `<area>:readonly` or `<area>`, a write needs `<area>`.

use crate::error::PermissionMode;

/// One endpoint's requirements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// HTTP method, upper case.
    pub method: &'static str,
    /// Path template, `{name}` for a path parameter.
    pub template: &'static str,
    /// Permissions the SDK documents (empty: none).
    pub permissions: &'static [&'static str],
    /// ANY or ALL of `permissions`.
    pub mode: PermissionMode,
    /// OAuth scope area (`None`: no scope needed).
    pub scope_area: Option<&'static str>,
    /// True for reads, including query/search POSTs (safe to retry; `:readonly` scopes suffice).
    pub read_only: bool,
}

macro_rules! ep {
    ($m:literal, $t:literal, $mode:ident [$($p:literal),*], $area:expr, $ro:literal) => {
        Endpoint { method: $m, template: $t, permissions: &[$($p),*], mode: PermissionMode::$mode, scope_area: $area, read_only: $ro }
    };
}

const ANALYTICS_DETAIL: [&str; 2] = ["analytics:conversationDetail:view", "analytics:agentConversationDetail:view"];

/// The catalogue (facts sheet §6, plus the endpoints the demo and tests use).
pub static CATALOGUE: &[Endpoint] = &[
    ep!("GET", "/api/v2/organizations/me", Any[], Some("organization"), true),
    ep!("GET", "/api/v2/organizations/limits/namespaces", Any[], Some("organization"), true),
    ep!("GET", "/api/v2/organizations/limits/namespaces/{namespaceName}", Any[], Some("organization"), true),
    ep!("GET", "/api/v2/organizations/limits/namespaces/{namespaceName}/defaults", Any[], Some("organization"), true),
    ep!("GET", "/api/v2/users", Any[], Some("users"), true),
    ep!("GET", "/api/v2/users/me", Any[], Some("users"), true),
    ep!("POST", "/api/v2/users/search", Any["directory:user:view"], Some("users"), true),
    ep!("GET", "/api/v2/users/search", Any["directory:user:view"], Some("users"), true),
    ep!("GET", "/api/v2/users/{userId}", Any[], Some("users"), true),
    ep!("GET", "/api/v2/routing/queues", Any["routing:queue:view"], Some("routing"), true),
    ep!("GET", "/api/v2/routing/queues/{queueId}", All["routing:queue:view"], Some("routing"), true),
    Endpoint {
        method: "POST",
        template: "/api/v2/analytics/conversations/details/query",
        permissions: &ANALYTICS_DETAIL,
        mode: PermissionMode::Any,
        scope_area: Some("analytics"),
        read_only: true,
    },
    Endpoint {
        method: "POST",
        template: "/api/v2/analytics/conversations/details/jobs",
        permissions: &ANALYTICS_DETAIL,
        mode: PermissionMode::Any,
        scope_area: Some("analytics"),
        // Submitting creates a job: reads data, but a blind retry could start a second job.
        read_only: false,
    },
    ep!("GET", "/api/v2/analytics/conversations/details/jobs/availability", Any["analytics:conversationDetail:view"], Some("analytics"), true),
    Endpoint {
        method: "GET",
        template: "/api/v2/analytics/conversations/details/jobs/{jobId}",
        permissions: &ANALYTICS_DETAIL,
        mode: PermissionMode::Any,
        scope_area: Some("analytics"),
        read_only: true,
    },
    Endpoint {
        method: "DELETE",
        template: "/api/v2/analytics/conversations/details/jobs/{jobId}",
        permissions: &ANALYTICS_DETAIL,
        mode: PermissionMode::Any,
        scope_area: Some("analytics"),
        read_only: false,
    },
    Endpoint {
        method: "GET",
        template: "/api/v2/analytics/conversations/details/jobs/{jobId}/results",
        permissions: &ANALYTICS_DETAIL,
        mode: PermissionMode::Any,
        scope_area: Some("analytics"),
        read_only: true,
    },
    ep!("POST", "/api/v2/analytics/conversations/aggregates/query", Any["analytics:conversationAggregate:view"], Some("analytics"), true),
    ep!("POST", "/api/v2/analytics/conversations/aggregates/jobs", Any["analytics:conversationAggregate:view"], Some("analytics"), false),
    ep!("GET", "/api/v2/tokens/me", Any[], None, true),
    ep!("HEAD", "/api/v2/tokens/me", Any[], None, true),
    ep!("DELETE", "/api/v2/tokens/me", Any[], None, false),
    ep!("DELETE", "/api/v2/tokens/{userId}", Any["oauth:token:delete"], Some("oauth"), false),
    ep!("GET", "/api/v2/oauth/clients", Any["oauth:client:view"], Some("oauth"), true),
    ep!("POST", "/api/v2/oauth/clients", Any["oauth:client:add"], Some("oauth"), false),
    ep!("GET", "/api/v2/oauth/clients/{clientId}", Any["oauth:client:view"], Some("oauth"), true),
    ep!("PUT", "/api/v2/oauth/clients/{clientId}", Any["oauth:client:edit"], Some("oauth"), false),
    ep!("POST", "/api/v2/oauth/clients/{clientId}/secret", Any["oauth:client:edit"], Some("oauth"), false),
];

fn matches(template: &str, path: &str) -> bool {
    let mut t = template.trim_matches('/').split('/');
    let mut p = path.trim_matches('/').split('/');
    loop {
        match (t.next(), p.next()) {
            (None, None) => return true,
            (Some(ts), Some(ps)) => {
                let param = ts.starts_with('{') && ts.ends_with('}');
                if !(param && !ps.is_empty() || ts == ps) {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

/// The catalogue entry for a method and path (query string ignored). Literal segments win over
/// parameters (`/users/search` is not `/users/{userId}`).
///
/// ```
/// use genesys_tenants_core::pipeline::catalogue::lookup;
/// let e = lookup("post", "/api/v2/users/search").unwrap();
/// assert_eq!(e.permissions, &["directory:user:view"]);
/// assert_eq!(lookup("GET", "/api/v2/users/abc-123").unwrap().template, "/api/v2/users/{userId}");
/// ```
pub fn lookup(method: &str, path: &str) -> Option<&'static Endpoint> {
    let path = path.split(['?', '#']).next().unwrap_or("");
    let method = method.to_ascii_uppercase();
    let params = |e: &Endpoint| e.template.matches('{').count();
    CATALOGUE
        .iter()
        .filter(|e| e.method == method && matches(e.template, path))
        .min_by_key(|e| params(e))
}

/// Whether a request may be retried after a 5xx or a transport failure: idempotent methods, and
/// POSTs to read-only query endpoints (analytics queries, searches).
pub fn retry_safe(method: &str, path: &str) -> bool {
    match method.to_ascii_uppercase().as_str() {
        "GET" | "HEAD" | "OPTIONS" | "PUT" | "DELETE" => true,
        "POST" => match lookup(method, path) {
            Some(e) => e.read_only,
            None => {
                let p = path.split('?').next().unwrap_or("").trim_end_matches('/');
                p.ends_with("/query") || p.ends_with("/search")
            }
        },
        _ => false,
    }
}

/// The scope a request needs, given the scopes the tenant declares: `None` when a declared scope
/// covers it (or nothing is known), else the least-privilege scope to add.
pub fn missing_scope(method: &str, path: &str, declared: &[String]) -> Option<String> {
    let e = lookup(method, path)?;
    let area = e.scope_area?;
    let needed = if e.read_only { format!("{area}:readonly") } else { area.to_string() };
    uncovered_scopes(&[needed], declared).pop()
}

/// The scopes of `required` that `declared` does not cover (`area` covers `area:readonly`), in
/// the order given, without repeats.
///
/// ```
/// use genesys_tenants_core::pipeline::catalogue::uncovered_scopes;
/// let declared = vec!["users".to_string(), "analytics:readonly".to_string()];
/// let required = ["users:readonly", "analytics", "routing:readonly"].map(String::from);
/// assert_eq!(uncovered_scopes(&required, &declared), vec!["analytics", "routing:readonly"]);
/// ```
pub fn uncovered_scopes(required: &[String], declared: &[String]) -> Vec<String> {
    let has = |s: &str| declared.iter().any(|d| d == s);
    let mut out: Vec<String> = Vec::new();
    for r in required {
        let covered = has(r) || r.strip_suffix(":readonly").is_some_and(has);
        if !covered && !out.contains(r) {
            out.push(r.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_of_required_scopes() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(uncovered_scopes(&s(&["users:readonly", "users"]), &s(&["users"])).is_empty());
        assert_eq!(uncovered_scopes(&s(&["users", "users"]), &s(&["users:readonly"])), s(&["users"]));
        assert_eq!(uncovered_scopes(&s(&["x:readonly"]), &s(&[])), s(&["x:readonly"]));
    }

    #[test]
    fn lookup_prefers_literals() {
        assert_eq!(lookup("GET", "/api/v2/users/search?q64=x").unwrap().permissions, &["directory:user:view"]);
        assert_eq!(lookup("GET", "/api/v2/analytics/conversations/details/jobs/availability").unwrap().permissions.len(), 1);
        assert_eq!(lookup("GET", "/api/v2/analytics/conversations/details/jobs/j1").unwrap().permissions.len(), 2);
        assert!(lookup("GET", "/api/v2/unknown").is_none());
        assert!(lookup("GET", "/api/v2/users//x").is_none());
        assert_eq!(lookup("GET", "/api/v2/routing/queues/q").unwrap().mode, PermissionMode::All);
    }

    #[test]
    fn retry_safety() {
        assert!(retry_safe("GET", "/api/v2/users"));
        assert!(retry_safe("POST", "/api/v2/analytics/conversations/details/query"));
        assert!(retry_safe("POST", "/api/v2/users/search"));
        assert!(!retry_safe("POST", "/api/v2/oauth/clients/x/secret"));
        assert!(!retry_safe("POST", "/api/v2/analytics/conversations/details/jobs"));
        assert!(retry_safe("POST", "/api/v2/whatever/query"));
        assert!(!retry_safe("PATCH", "/api/v2/users/x"));
    }

    #[test]
    fn scopes() {
        let d = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(missing_scope("GET", "/api/v2/users", &d(&["analytics:readonly"])), Some("users:readonly".into()));
        assert_eq!(missing_scope("GET", "/api/v2/users", &d(&["users"])), None);
        assert_eq!(missing_scope("GET", "/api/v2/users", &d(&["users:readonly"])), None);
        assert_eq!(missing_scope("POST", "/api/v2/oauth/clients/x/secret", &d(&["oauth:readonly"])), Some("oauth".into()));
        assert_eq!(missing_scope("GET", "/api/v2/tokens/me", &d(&[])), None);
        assert_eq!(missing_scope("GET", "/api/v2/unknown", &d(&[])), None);
    }
}

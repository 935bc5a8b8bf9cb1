//! The routes the emulator serves under /api/v2, with what each requires. One table, so adding a
//! route means adding a line here and a match arm in `api.rs`.

/// ANY or ALL of the permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One is enough (`missing.any.permissions`).
    Any,
    /// Each is needed (`missing.permissions`).
    All,
}

/// A route.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// Stable name used by the handlers.
    pub name: &'static str,
    /// Method.
    pub method: &'static str,
    /// Template; `{x}` is a parameter.
    pub template: &'static str,
    /// Permissions and mode.
    pub permissions: &'static [&'static str],
    /// ANY / ALL.
    pub mode: Mode,
    /// Scope area (`None`: no scope needed).
    pub scope: Option<&'static str>,
    /// Reads (and query POSTs) accept `<area>:readonly`.
    pub read_only: bool,
}

const DETAIL: &[&str] = &["analytics:conversationDetail:view", "analytics:agentConversationDetail:view"];

macro_rules! r {
    ($n:literal, $m:literal, $t:literal, $mode:ident, $p:expr, $s:expr, $ro:literal) => {
        Route { name: $n, method: $m, template: $t, permissions: $p, mode: Mode::$mode, scope: $s, read_only: $ro }
    };
}

/// All routes.
pub static ROUTES: &[Route] = &[
    r!("org.me", "GET", "/api/v2/organizations/me", Any, &[], Some("organization"), true),
    r!("limits.ns", "GET", "/api/v2/organizations/limits/namespaces/{ns}", Any, &[], Some("organization"), true),
    r!("users.list", "GET", "/api/v2/users", Any, &[], Some("users"), true),
    r!("users.search", "POST", "/api/v2/users/search", Any, &["directory:user:view"], Some("users"), true),
    r!("users.search.q64", "GET", "/api/v2/users/search", Any, &["directory:user:view"], Some("users"), true),
    r!("users.get", "GET", "/api/v2/users/{id}", Any, &[], Some("users"), true),
    r!("queues.list", "GET", "/api/v2/routing/queues", Any, &["routing:queue:view"], Some("routing"), true),
    r!("queues.get", "GET", "/api/v2/routing/queues/{id}", All, &["routing:queue:view"], Some("routing"), true),
    r!("details.query", "POST", "/api/v2/analytics/conversations/details/query", Any, DETAIL, Some("analytics"), true),
    r!("aggregates.query", "POST", "/api/v2/analytics/conversations/aggregates/query", Any, &["analytics:conversationAggregate:view"], Some("analytics"), true),
    r!("jobs.submit", "POST", "/api/v2/analytics/conversations/details/jobs", Any, DETAIL, Some("analytics"), true),
    r!("jobs.availability", "GET", "/api/v2/analytics/conversations/details/jobs/availability", Any, &["analytics:conversationDetail:view"], Some("analytics"), true),
    r!("jobs.get", "GET", "/api/v2/analytics/conversations/details/jobs/{id}", Any, DETAIL, Some("analytics"), true),
    r!("jobs.delete", "DELETE", "/api/v2/analytics/conversations/details/jobs/{id}", Any, DETAIL, Some("analytics"), false),
    r!("jobs.results", "GET", "/api/v2/analytics/conversations/details/jobs/{id}/results", Any, DETAIL, Some("analytics"), true),
    r!("tokens.me", "GET", "/api/v2/tokens/me", Any, &[], None, true),
    r!("tokens.me.head", "HEAD", "/api/v2/tokens/me", Any, &[], None, true),
    r!("tokens.me.delete", "DELETE", "/api/v2/tokens/me", Any, &[], None, false),
    r!("oauth.client", "GET", "/api/v2/oauth/clients/{id}", Any, &["oauth:client:view"], Some("oauth"), true),
    r!("oauth.secret", "POST", "/api/v2/oauth/clients/{id}/secret", Any, &["oauth:client:edit"], Some("oauth"), false),
];

fn matches(template: &str, path: &str) -> Option<Vec<String>> {
    let t: Vec<&str> = template.trim_matches('/').split('/').collect();
    let p: Vec<&str> = path.trim_end_matches('/').trim_start_matches('/').split('/').collect();
    if t.len() != p.len() {
        return None;
    }
    let mut params = Vec::new();
    for (ts, ps) in t.iter().zip(p.iter()) {
        if ts.starts_with('{') {
            if ps.is_empty() {
                return None;
            }
            params.push((*ps).to_string());
        } else if ts != ps {
            return None;
        }
    }
    Some(params)
}

/// What a method and path resolve to.
pub enum Found {
    /// A route and its path parameters.
    Route(&'static Route, Vec<String>),
    /// The path exists with another method.
    WrongMethod,
    /// No such path.
    NotFound,
}

/// Finds the route; literal segments win over parameters.
pub fn find(method: &str, path: &str) -> Found {
    let mut best: Option<(&'static Route, Vec<String>)> = None;
    let mut path_known = false;
    for r in ROUTES {
        if let Some(params) = matches(r.template, path) {
            path_known = true;
            if r.method == method && best.as_ref().is_none_or(|(b, _)| params.len() < b.template.matches('{').count()) {
                best = Some((r, params));
            }
        }
    }
    match best {
        Some((r, p)) => Found::Route(r, p),
        None if path_known => Found::WrongMethod,
        None => Found::NotFound,
    }
}

/// The permissions missing for a client holding `held`, or `None` when allowed.
pub fn missing_permissions(route: &Route, held: &[String]) -> Option<Vec<String>> {
    if route.permissions.is_empty() {
        return None;
    }
    let has = |p: &str| held.iter().any(|h| h == p);
    match route.mode {
        Mode::Any if route.permissions.iter().any(|p| has(p)) => None,
        Mode::Any => Some(route.permissions.iter().map(|s| s.to_string()).collect()),
        Mode::All => {
            let missing: Vec<String> = route.permissions.iter().filter(|p| !has(p)).map(|s| s.to_string()).collect();
            (!missing.is_empty()).then_some(missing)
        }
    }
}

/// The scope missing for a token holding `scopes`, or `None`.
pub fn missing_scope(route: &Route, scopes: &[String]) -> Option<String> {
    let area = route.scope?;
    let has = |s: &str| scopes.iter().any(|h| h == s);
    if has(area) || (route.read_only && has(&format!("{area}:readonly"))) {
        return None;
    }
    Some(if route.read_only { format!("{area}:readonly") } else { area.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(method: &str, path: &str) -> &'static Route {
        match find(method, path) {
            Found::Route(r, _) => r,
            _ => panic!("{method} {path}"),
        }
    }

    #[test]
    fn routing() {
        assert_eq!(route("GET", "/api/v2/users/search").name, "users.search.q64");
        assert_eq!(route("GET", "/api/v2/users/abc").name, "users.get");
        assert_eq!(route("GET", "/api/v2/analytics/conversations/details/jobs/availability").name, "jobs.availability");
        assert!(matches!(find("PUT", "/api/v2/users"), Found::WrongMethod));
        assert!(matches!(find("GET", "/api/v2/nope"), Found::NotFound));
        assert!(matches!(find("GET", "/api/v2/users//x"), Found::NotFound));
    }

    #[test]
    fn any_and_all() {
        let held = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let details = route("POST", "/api/v2/analytics/conversations/details/query");
        assert_eq!(missing_permissions(details, &held(&["analytics:agentConversationDetail:view"])), None);
        assert_eq!(missing_permissions(details, &held(&[])).unwrap().len(), 2);
        let q = route("GET", "/api/v2/routing/queues/x");
        assert_eq!(missing_permissions(q, &held(&[])), Some(vec!["routing:queue:view".to_string()]));
        assert_eq!(missing_permissions(route("GET", "/api/v2/users"), &held(&[])), None);
    }

    #[test]
    fn scopes() {
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let users = route("GET", "/api/v2/users");
        assert_eq!(missing_scope(users, &s(&["users:readonly"])), None);
        assert_eq!(missing_scope(users, &s(&["users"])), None);
        assert_eq!(missing_scope(users, &s(&["analytics"])), Some("users:readonly".into()));
        let secret = route("POST", "/api/v2/oauth/clients/x/secret");
        assert_eq!(missing_scope(secret, &s(&["oauth:readonly"])), Some("oauth".into()));
        assert_eq!(missing_scope(route("GET", "/api/v2/tokens/me"), &s(&[])), None);
    }
}

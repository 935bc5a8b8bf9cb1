//! The routes the emulator serves under /api/v2. What each requires — permissions (ANY/ALL) and the
//! OAuth scopes it accepts — comes from the operation catalogue generated from Genesys's published
//! definitions (`crates/catalogue`), the same table the client's pre-flight reads; this file only
//! names the routes, so adding one means a line here and a match arm in `api.rs`.

use genesys_catalogue::{Operation, Permissions};

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
}

impl Route {
    /// The catalogue's operation for this route (every route is one: a test checks).
    pub fn operation(&self) -> Option<&'static Operation> {
        genesys_catalogue::catalogue().lookup(self.method, self.template)
    }
}

macro_rules! r {
    ($n:literal, $m:literal, $t:literal) => {
        Route { name: $n, method: $m, template: $t }
    };
}

/// All routes.
pub static ROUTES: &[Route] = &[
    r!("org.me", "GET", "/api/v2/organizations/me"),
    r!("limits.ns", "GET", "/api/v2/organizations/limits/namespaces/{ns}"),
    r!("users.list", "GET", "/api/v2/users"),
    r!("users.search", "POST", "/api/v2/users/search"),
    r!("users.search.q64", "GET", "/api/v2/users/search"),
    r!("users.get", "GET", "/api/v2/users/{id}"),
    r!("queues.list", "GET", "/api/v2/routing/queues"),
    r!("queues.get", "GET", "/api/v2/routing/queues/{id}"),
    r!("details.query", "POST", "/api/v2/analytics/conversations/details/query"),
    r!("aggregates.query", "POST", "/api/v2/analytics/conversations/aggregates/query"),
    r!("jobs.submit", "POST", "/api/v2/analytics/conversations/details/jobs"),
    r!("jobs.availability", "GET", "/api/v2/analytics/conversations/details/jobs/availability"),
    r!("jobs.get", "GET", "/api/v2/analytics/conversations/details/jobs/{id}"),
    r!("jobs.delete", "DELETE", "/api/v2/analytics/conversations/details/jobs/{id}"),
    r!("jobs.results", "GET", "/api/v2/analytics/conversations/details/jobs/{id}/results"),
    r!("tokens.me", "GET", "/api/v2/tokens/me"),
    r!("tokens.me.head", "HEAD", "/api/v2/tokens/me"),
    r!("tokens.me.delete", "DELETE", "/api/v2/tokens/me"),
    r!("oauth.client", "GET", "/api/v2/oauth/clients/{id}"),
    r!("oauth.secret", "POST", "/api/v2/oauth/clients/{id}/secret"),
    r!("notifications.channels.create", "POST", "/api/v2/notifications/channels"),
    r!("notifications.channels.list", "GET", "/api/v2/notifications/channels"),
    r!("notifications.channel.head", "HEAD", "/api/v2/notifications/channels/{channelId}"),
    r!("notifications.subscriptions", "GET", "/api/v2/notifications/channels/{channelId}/subscriptions"),
    r!("notifications.subscriptions", "PUT", "/api/v2/notifications/channels/{channelId}/subscriptions"),
    r!("notifications.subscriptions", "POST", "/api/v2/notifications/channels/{channelId}/subscriptions"),
    r!("notifications.subscriptions", "DELETE", "/api/v2/notifications/channels/{channelId}/subscriptions"),
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

/// The permissions missing for a client holding `held` and how the API words it (ANY: one of
/// them would do; ALL: each listed one is missing), or `None` when allowed.
pub fn missing_permissions(route: &Route, held: &[String]) -> Option<(Vec<String>, Mode)> {
    let has = |p: &str| held.iter().any(|h| h == p);
    match route.operation()?.permissions {
        Permissions::Any(list) if !list.is_empty() && !list.iter().any(|p| has(p)) => {
            Some((list.iter().map(|s| s.to_string()).collect(), Mode::Any))
        }
        Permissions::All(list) => {
            let missing: Vec<String> = list.iter().filter(|p| !has(p)).map(|s| s.to_string()).collect();
            (!missing.is_empty()).then_some((missing, Mode::All))
        }
        _ => None,
    }
}

/// The scopes the route accepts, when a token holding `scopes` has none of them; `None` when allowed.
pub fn refused_scopes(route: &Route, scopes: &[String]) -> Option<&'static [&'static str]> {
    let accepted = route.operation()?.scopes.filter(|s| !s.is_empty())?;
    (!accepted.iter().any(|a| scopes.iter().any(|s| s == a))).then_some(accepted)
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
    fn every_route_is_a_catalogue_operation() {
        for r in ROUTES {
            let op = r.operation().unwrap_or_else(|| panic!("{} {} is not in the catalogue", r.method, r.template));
            assert_eq!(op.method, r.method);
        }
    }

    #[test]
    fn any_and_all() {
        let held = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let details = route("POST", "/api/v2/analytics/conversations/details/query");
        assert_eq!(missing_permissions(details, &held(&["analytics:agentConversationDetail:view"])), None);
        assert_eq!(missing_permissions(details, &held(&[])).unwrap().0.len(), 2);
        let q = route("GET", "/api/v2/routing/queues/x");
        assert_eq!(missing_permissions(q, &held(&[])), Some((vec!["routing:queue:view".to_string()], Mode::All)));
        assert_eq!(missing_permissions(route("GET", "/api/v2/users"), &held(&[])), None);
    }

    #[test]
    fn scopes() {
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let users = route("GET", "/api/v2/users");
        assert_eq!(refused_scopes(users, &s(&["users:readonly"])), None);
        assert_eq!(refused_scopes(users, &s(&["users"])), None);
        assert_eq!(refused_scopes(users, &s(&["analytics"])), Some(&["users", "users:readonly"][..]));
        let secret = route("POST", "/api/v2/oauth/clients/x/secret");
        assert_eq!(refused_scopes(secret, &s(&["oauth:readonly"])), Some(&["oauth"][..]));
        assert_eq!(refused_scopes(route("GET", "/api/v2/tokens/me"), &s(&[])), Some(&["user-basic-info"][..]));
        assert_eq!(refused_scopes(route("POST", "/api/v2/analytics/conversations/details/jobs"), &s(&["analytics:readonly"])), None);
    }
}

//! `/api/v2/*`: bearer auth, the per-token rate limit (with the `inin-ratelimit-*` headers),
//! scope and permission checks, then the route handlers.

use crate::call::{Call, MAX_BODY};
use crate::catalogue::{find, missing_permissions, refused_scopes, Found, Route};
use crate::error_body::ApiError;
use crate::rate_limit::{self, Verdict};
use crate::reply::Reply;
use crate::routes;
use crate::state::{lock, read, State};
use serde_json::json;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Handles an API request; `authorization` is the raw header.
pub fn handle(
    state: &State,
    method: &str,
    path: &str,
    query: Vec<(String, String)>,
    authorization: Option<&str>,
    body: &[u8],
    corr: &str,
) -> Reply {
    // Bearer auth.
    let token = match authorization.and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer "))) {
        Some(t) if !t.trim().is_empty() => t.trim().to_string(),
        _ => {
            return Reply::error(
                &ApiError::new(401, "authentication.required", "No authentication bearer token specified in authorization header."),
                corr,
            )
        }
    };
    let rec = read(&state.tokens).get(&token).cloned();
    let Some(rec) = rec else {
        return Reply::error(&ApiError::new(401, "bad.credentials", "Invalid login credentials."), corr);
    };
    let Some(client) = state.client(&rec.client_id) else {
        return Reply::error(&ApiError::new(401, "bad.credentials", "Invalid login credentials."), corr);
    };
    let counted = |status: u16| {
        state.count(&rec.client_id, |c| c.api_call(status));
    };
    if rec.revoked || client.state == "disabled" {
        counted(401);
        return Reply::error(&ApiError::new(401, "bad.credentials", "Invalid login credentials."), corr);
    }
    if rec.expires_at <= Instant::now() {
        counted(401);
        return Reply::error(&ApiError::new(401, "credentials.expired", "The supplied credentials are expired and cannot be used."), corr);
    }

    // Per-token rate limit.
    let budget = client.rate_limit;
    let window = Duration::from_secs(budget.window_seconds as u64);
    let verdict = {
        let mut w = lock(&state.windows);
        rate_limit::check(w.entry(token.clone()).or_default(), budget.limit, window, Instant::now())
    };
    let headers_on = state.rate_limit_headers.load(Ordering::Relaxed);
    let (count, reset) = match verdict {
        Verdict::Allowed { count, reset } => (count, reset),
        Verdict::Limited { retry_after } => {
            counted(429);
            let secs = rate_limit::ceil_secs(retry_after);
            let mut e = ApiError::new(
                429,
                "too.many.requests.retry.after",
                &format!("Rate limit exceeded the maximum. Retry the request in [{secs}] seconds"),
            );
            e.message_with_params = Some("Rate limit exceeded the maximum. Retry the request in [{retryAfter}] seconds".into());
            e.message_params.insert("retryAfter".into(), json!(secs.to_string()));
            let mut r = Reply::error(&e, corr).header("retry-after", secs.to_string());
            if headers_on {
                r = r
                    .header("inin-ratelimit-allowed", budget.limit.to_string())
                    .header("inin-ratelimit-count", budget.limit.to_string())
                    .header("inin-ratelimit-reset", secs.to_string());
            }
            return r;
        }
    };

    let mut reply = route(state, method, path, query, body, client, token, rec.issued_ms, corr);
    counted(reply.status);
    if headers_on {
        reply = reply
            .header("inin-ratelimit-allowed", budget.limit.to_string())
            .header("inin-ratelimit-count", count.to_string())
            .header("inin-ratelimit-reset", rate_limit::ceil_secs(reset).to_string());
    }
    reply
}

#[allow(clippy::too_many_arguments)]
fn route(
    state: &State,
    method: &str,
    path: &str,
    query: Vec<(String, String)>,
    body: &[u8],
    client: crate::world::Client,
    token: String,
    issued_ms: i64,
    corr: &str,
) -> Reply {
    let (route, params): (&Route, Vec<String>) = match find(method, path) {
        Found::Route(r, p) => (r, p),
        Found::WrongMethod => {
            return Reply::error(&ApiError::new(405, "method.not.allowed", "The requested method is not allowed on this resource."), corr)
        }
        Found::NotFound => return Reply::error(&ApiError::not_found(), corr),
    };
    if body.len() > MAX_BODY {
        return Reply::error(
            &ApiError::new(413, "request.entity.too.large", &format!("The request is over the size limit. Maximum bytes: {MAX_BODY}")),
            corr,
        );
    }
    let org = state.orgs.get(&client.org_id);
    if org.is_some_and(|(o, _)| o.scope_enforcement) {
        if let Some(accepted) = refused_scopes(route, &client.scopes) {
            return Reply::error(&scope_refusal(accepted, state.legacy_scope_errors.load(std::sync::atomic::Ordering::Relaxed)), corr);
        }
    }
    if let Some((missing, mode)) = missing_permissions(route, &client.permissions) {
        let list = missing.join(", ");
        let (code, text) = match mode {
            crate::catalogue::Mode::Any => (
                "missing.any.permissions",
                "Unable to perform the requested action. You must have at least one of the following permissions assigned: ",
            ),
            crate::catalogue::Mode::All => {
                ("missing.permissions", "Unable to perform the requested action. You are missing the following permission(s): ")
            }
        };
        let mut e = ApiError::new(403, code, &format!("{text}{list}"));
        e.message_with_params = Some(format!("{text}{{permissions}}"));
        e.message_params.insert("permissions".into(), json!(list));
        return Reply::error(&e, corr);
    }
    let call = Call { method, path, query, body, params, client, token };
    let result = routes::dispatch(state, route.name, &call, issued_ms);
    match result {
        Ok(r) => r,
        Err(e) => Reply::error(&e, corr),
    }
}

/// A token without any scope the route accepts. What Genesys sends (its published definition lists
/// `app.not.authorized.for.scope` on every operation; a captured answer reads "App not authorized to
/// use scope [telephony:readonly, telephony]"): the accepted scopes in brackets, no `messageParams`,
/// no `WWW-Authenticate`. `legacy`: the shape this emulator sent before that was known
/// (`missing.scopes`, `messageParams.scopes`, `WWW-Authenticate`), kept for the client's fallbacks.
fn scope_refusal(accepted: &[&str], legacy: bool) -> ApiError {
    if legacy {
        // The least-privilege scope: the read-only one when accepted.
        let scope = accepted.iter().find(|s| s.ends_with(":readonly")).or(accepted.first()).copied().unwrap_or_default();
        let mut e = ApiError::new(
            403,
            "missing.scopes",
            &format!("Unable to perform the requested action. The access token is missing the following scope(s): {scope}"),
        );
        e.message_with_params =
            Some("Unable to perform the requested action. The access token is missing the following scope(s): {scopes}".into());
        e.message_params.insert("scopes".into(), json!(scope));
        e.headers.push(("www-authenticate".into(), format!("Bearer error=\"insufficient_scope\", scope=\"{scope}\"")));
        return e;
    }
    let mut e = ApiError::new(403, "app.not.authorized.for.scope", &format!("App not authorized to use scope [{}]", accepted.join(", ")));
    e.minimal = true;
    e
}

/// Query pairs from a raw query string (percent-decoded; bad pairs skipped).
pub fn parse_query(raw: Option<&str>) -> Vec<(String, String)> {
    raw.map(|q| crate::oauth::url_form(q.as_bytes())).unwrap_or_default()
}

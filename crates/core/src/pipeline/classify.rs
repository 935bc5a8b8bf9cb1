//! Turning a non-2xx answer into the right error. 403s are classified from what the server said
//! — `code`, `messageParams`, `messageWithParams`, `message`, `WWW-Authenticate` — never from
//! what the caller guessed; anything unrecognised stays `UPSTREAM_ERROR` with status and body.

use crate::error::{Error, PermissionMode};
use serde_json::Value;
use std::time::Duration;

/// The wait reported for a 429 that names none (Genesys's own messages speak in whole seconds).
pub const UNSTATED_RETRY_AFTER: Duration = Duration::from_secs(1);

/// Where to fix a missing permission, in Genesys Cloud Admin terms.
pub const PERMISSION_FIX: &str = "grant it to a role of the tenant's OAuth client (Admin > Integrations > OAuth > the client > Roles)";
/// Where to fix a missing scope.
pub const SCOPE_FIX: &str = "add it to the tenant's OAuth client (Admin > Integrations > OAuth > the client > Scope)";

/// The pieces of a response the classifier reads.
#[derive(Debug, Clone, Copy)]
pub struct Answer<'a> {
    /// Tenant the request was for.
    pub tenant_id: &'a str,
    /// HTTP status.
    pub status: u16,
    /// Parsed body (JSON, or a string).
    pub body: &'a Value,
    /// `WWW-Authenticate`, if any.
    pub www_authenticate: Option<&'a str>,
    /// `inin-correlation-id`, if any.
    pub correlation_id: Option<&'a str>,
    /// The request answered — method and path as sent (`GET`, `/api/v2/routing/queues/q-1`) —
    /// when known: a 403 that names no permission is then read against the operation catalogue.
    pub call: Option<(&'a str, &'a str)>,
}

/// "tenant 'x'", or "the OAuth client" for an answer met outside any tenant (empty id).
fn who(tenant_id: &str) -> String {
    if tenant_id.is_empty() {
        "the OAuth client".into()
    } else {
        format!("tenant '{tenant_id}'")
    }
}

fn text<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    body.get(key).and_then(Value::as_str)
}

/// What a list item must look like.
#[derive(Clone, Copy)]
enum Item {
    /// `domain:entity:action`.
    Permission,
    /// `area` or `area:readonly`.
    Scope,
}

impl Item {
    fn accepts(self, p: &str) -> bool {
        match self {
            Item::Permission => looks_like_permission(p),
            Item::Scope => looks_like_scope(p),
        }
    }
}

/// Splits a list the way Genesys writes them: `a, b`, `[a, b]`, `a,b`, `"a" "b"`.
fn split_list(s: &str, item: Item) -> Vec<String> {
    s.split([',', ' ', '[', ']', '"', '\''])
        .map(|p| p.trim().trim_end_matches('.'))
        .filter(|p| item.accepts(p))
        .map(str::to_string)
        .collect()
}

/// `domain:entity:action` (`routing:queue:view`, `analytics:*:view`): not "division(s):" or a
/// division id from the same sentence.
fn looks_like_permission(p: &str) -> bool {
    let word =
        |w: &str, star: bool| !w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || (star && c == '*'));
    let mut parts = p.split(':');
    p.len() < 128 && parts.next().is_some_and(|d| word(d, false)) && p.contains(':') && parts.all(|w| word(w, true))
}

fn looks_like_scope(p: &str) -> bool {
    // Bare scope areas (`users`, `oauth`) have no colon; accept lower-case words with dashes.
    !p.is_empty() && p.len() < 64 && p.chars().all(|c| c.is_ascii_lowercase() || c == '-' || c == ':')
}

/// The list after the last ':' of a sentence like "… the following permission(s): a, b".
fn list_after_colon(message: &str, item: Item) -> Vec<String> {
    let Some(idx) = message.find("following") else { return Vec::new() };
    let rest = &message[idx..];
    let Some(colon) = rest.find(':') else { return Vec::new() };
    split_list(&rest[colon + 1..], item)
}

fn from_params(body: &Value, keys: &[&str], item: Item) -> Vec<String> {
    let Some(params) = body.get("messageParams").and_then(Value::as_object) else { return Vec::new() };
    let mut out = Vec::new();
    for key in keys {
        if let Some(v) = params.get(*key) {
            match v {
                Value::String(s) => out.extend(split_list(s, item)),
                Value::Array(items) => out.extend(items.iter().filter_map(Value::as_str).flat_map(|s| split_list(s, item))),
                _ => {}
            }
        }
    }
    if out.is_empty() {
        // Unknown key names: take every value that reads as a list of permissions.
        for v in params.values().filter_map(Value::as_str) {
            out.extend(split_list(v, item).into_iter().filter(|p| p.contains(':')));
        }
    }
    out
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    v.retain(|x| seen.insert(x.clone()));
    v
}

/// The scope named in `WWW-Authenticate: Bearer error="insufficient_scope", scope="a b"`.
fn scopes_from_www_authenticate(h: &str) -> Option<Vec<String>> {
    if !h.contains("insufficient_scope") {
        return None;
    }
    let scopes = h
        .find("scope=\"")
        .map(|i| {
            let rest = &h[i + 7..];
            let end = rest.find('"').unwrap_or(rest.len());
            rest[..end].split_whitespace().map(str::to_string).collect::<Vec<_>>()
        })
        .unwrap_or_default();
    Some(scopes)
}

/// The names inside the first `[…]` of a message: "App not authorized to use scope [a, b]".
fn bracketed(message: &str, item: Item) -> Vec<String> {
    let Some(open) = message.find('[') else { return Vec::new() };
    let Some(len) = message[open..].find(']') else { return Vec::new() };
    split_list(&message[open + 1..open + len], item)
}

/// The names between single quotes: "You are missing the following permission 'a:b:c' in …".
fn quoted_names(message: &str, item: Item) -> Vec<String> {
    message.split('\'').skip(1).step_by(2).filter(|p| item.accepts(p)).map(str::to_string).collect()
}

/// "scope x" / "one of the scopes x, y" / "the scopes x, y".
fn scope_phrase(scopes: &[String], mode: PermissionMode) -> String {
    match (scopes.len(), mode) {
        (1, _) => format!("OAuth scope {}", scopes[0]),
        (_, PermissionMode::Any) => format!("one of the OAuth scopes {} (any one suffices)", scopes.join(", ")),
        (_, PermissionMode::All) => format!("the OAuth scopes {}", scopes.join(", ")),
    }
}

/// Classifies a 403. Returns `None` when it is not a permission or scope problem.
///
/// The shapes, in the order they are tried:
/// - `app.not.authorized.for.scope` "App not authorized to use scope [a, b]" (what Genesys sends: the
///   bracket lists the scopes the operation accepts, any one of them) → `SCOPE_MISSING`, mode ANY;
/// - older scope shapes: `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"`, a code
///   naming a scope with `messageParams` or "…the following scope(s): a" → `SCOPE_MISSING`;
/// - `missing.any.permissions` / `missing.permissions` (`messageParams`, the message, or
///   `messageWithParams`) → `PERMISSION_MISSING`, ANY / ALL;
/// - `missing.division.permission` "…missing the following permission 'a:b:c' in the provided
///   division(s)" → `PERMISSION_MISSING`, the named permission, for the object's division(s).
pub fn classify_forbidden(a: &Answer<'_>) -> Option<Error> {
    let code = text(a.body, "code").unwrap_or("");
    let message = text(a.body, "message").unwrap_or("");
    let with_params = text(a.body, "messageWithParams").unwrap_or("");
    let correlation_id = a.correlation_id.map(str::to_string);

    let scope_hint = a.www_authenticate.and_then(scopes_from_www_authenticate);
    if scope_hint.is_some() || code.contains("scope") {
        let any_of = code == "app.not.authorized.for.scope";
        let mut scopes = scope_hint.unwrap_or_default();
        if scopes.is_empty() {
            scopes = from_params(a.body, &["scopes", "scope", "missingScopes"], Item::Scope);
        }
        if scopes.is_empty() {
            scopes = bracketed(message, Item::Scope);
        }
        if scopes.is_empty() {
            scopes = list_after_colon(message, Item::Scope);
        }
        let scopes = dedup(scopes);
        if scopes.is_empty() {
            return None;
        }
        let mode = if any_of { PermissionMode::Any } else { PermissionMode::All };
        return Some(Error::ScopeMissing {
            tenant_id: a.tenant_id.to_string(),
            message: format!("{} is missing {}: {}", who(a.tenant_id), scope_phrase(&scopes, mode), SCOPE_FIX),
            missing_scopes: scopes,
            mode,
            preflight: false,
            status: Some(a.status),
            body: a.body.clone(),
            correlation_id,
        });
    }

    let (mode, division) = permission_code(code)?;
    let mut perms = from_params(a.body, &["permissions", "permission", "missingPermissions"], Item::Permission);
    if perms.is_empty() && division {
        perms = quoted_names(message, Item::Permission);
    }
    if perms.is_empty() {
        perms = list_after_colon(message, Item::Permission);
    }
    if perms.is_empty() && !with_params.contains('{') {
        perms = list_after_colon(with_params, Item::Permission);
    }
    let perms = dedup(perms);
    let scope = if division { " in the division(s) of the object it asked for" } else { "" };
    if perms.is_empty() {
        // The server named none: what the catalogue lists for the refused operation, said to be that.
        let (op, mode, list) = a.call.and_then(|(method, path)| crate::operations::required_permissions(method, path))?;
        let perms: Vec<String> = list.iter().map(|p| p.to_string()).collect();
        return Some(Error::PermissionMissing {
            tenant_id: a.tenant_id.to_string(),
            message: format!(
                "{} is missing {} {}{scope} (Genesys's 403 {code} named none: this is what the operation catalogue lists for {} {}): {}",
                who(a.tenant_id),
                how_many(mode, perms.len()),
                perms.join(", "),
                op.method,
                op.template,
                PERMISSION_FIX
            ),
            missing_permissions: perms,
            mode,
            body: a.body.clone(),
            correlation_id,
            from_catalogue: true,
        });
    }
    Some(Error::PermissionMissing {
        tenant_id: a.tenant_id.to_string(),
        message: format!("{} is missing {} {}{scope}: {}", who(a.tenant_id), how_many(mode, perms.len()), perms.join(", "), PERMISSION_FIX),
        missing_permissions: perms,
        mode,
        body: a.body.clone(),
        correlation_id,
        from_catalogue: false,
    })
}

/// "permission" / "one of the permissions" / "all of the permissions".
fn how_many(mode: PermissionMode, n: usize) -> &'static str {
    match (mode, n) {
        (_, 1) => "permission",
        (PermissionMode::Any, _) => "one of the permissions",
        (PermissionMode::All, _) => "all of the permissions",
    }
}

/// The 403 codes by which Genesys says the caller lacks permissions — every such code in the
/// `x-inin-error-codes` of the published definition — with the mode a list they name has, and
/// whether it is about the object's division(s). Codes about someone else's permissions
/// (`owner.…`, `assignee.…`, `missing.trustor.permissions`) or a refusal of another kind
/// (`not.authorized`, `authz.policy.denied`) are not here: they stay `UPSTREAM_ERROR`.
fn permission_code(code: &str) -> Option<(PermissionMode, bool)> {
    Some(match code {
        "missing.any.permissions" => (PermissionMode::Any, false),
        "missing.permissions" | "missing.permission" | "architect.missing.permission" => (PermissionMode::All, false),
        "missing.any.division.permissions"
        | "case.missing.any.division.permissions"
        | "caseref.missing.any.division.permissions"
        | "workitem.missing.any.division.permissions" => (PermissionMode::Any, true),
        "missing.division.permission"
        | "missing.division.permissions"
        | "missing.division.permission.implied"
        | "case.missing.permission.in.divisions"
        | "workitem.missing.required.division.permissions" => (PermissionMode::All, true),
        _ => return None,
    })
}

/// The pre-flight refusal: the tenant's declared `requiredScopes` include none of `missing` (mode
/// ANY: the scopes the operation `needed_by` accepts) or not all of them (mode ALL: scopes a caller
/// named). Nothing was sent.
pub fn preflight_refusal(
    tenant_id: &str,
    missing: Vec<String>,
    mode: PermissionMode,
    declared: &[String],
    needed_by: Option<&str>,
) -> Error {
    let by = needed_by.map(|c| format!(" that {c} needs")).unwrap_or_default();
    let pronoun = if missing.len() == 1 || mode == PermissionMode::Any { "it" } else { "them" };
    Error::ScopeMissing {
        tenant_id: tenant_id.to_string(),
        message: format!(
            "tenant '{tenant_id}' does not declare {}{by} (requiredScopes: {}): {SCOPE_FIX}, and list {pronoun} in requiredScopes",
            scope_phrase(&missing, mode),
            declared.join(", ")
        ),
        missing_scopes: missing,
        mode,
        preflight: true,
        status: None,
        body: Value::Null,
        correlation_id: None,
    }
}

/// The error for a non-2xx answer met outside the pipeline (an official-SDK call made with a
/// client of the caller's own): 403s classified as [`to_error`] does, a 429 as `RATE_LIMITED`
/// with the wait from `retry_after` (the headers), else from the message, else
/// [`UNSTATED_RETRY_AFTER`].
///
/// ```
/// use genesys_tenants_core::pipeline::classify::{classify_answer, Answer};
/// let body = serde_json::json!({"status": 429, "code": "too.many.requests",
///     "message": "Rate limit exceeded the maximum. Retry the request in [4] seconds"});
/// let a = Answer { tenant_id: "acme", status: 429, body: &body, www_authenticate: None, correlation_id: None, call: None };
/// assert_eq!(classify_answer(&a, None).fields()["retryAfterMs"], 4000);
/// ```
pub fn classify_answer(a: &Answer<'_>, retry_after: Option<Duration>) -> Error {
    if a.status == 429 {
        let wait = retry_after
            .or_else(|| text(a.body, "message").and_then(crate::retry::retry_after::from_message))
            .unwrap_or(UNSTATED_RETRY_AFTER);
        return Error::RateLimited {
            tenant_id: a.tenant_id.to_string(),
            retry_after_ms: wait.as_millis() as u64,
            correlation_id: a.correlation_id.map(str::to_string),
        };
    }
    to_error(a)
}

/// [`classify_answer`] from loose parts — body text (JSON or not) and headers in any case — as
/// an official-SDK rejection carries them.
///
/// ```
/// use genesys_tenants_core::pipeline::classify::classify_parts;
/// let body = r#"{"code":"missing.any.permissions","message":"You must have at least one of the following permissions assigned: directory:user:view"}"#;
/// let e = classify_parts("acme", 403, body, &[("Inin-Correlation-Id".into(), "c-1".into())]);
/// assert_eq!((e.code(), e.correlation_id()), ("PERMISSION_MISSING", Some("c-1")));
/// ```
pub fn classify_parts(tenant_id: &str, status: u16, body: &str, headers: &[(String, String)]) -> Error {
    let value = serde_json::from_str::<Value>(body).unwrap_or_else(|_| Value::String(body.to_string()));
    // Header names match in any case here; malformed names or values are skipped.
    let map: reqwest::header::HeaderMap = headers
        .iter()
        .filter_map(|(k, v)| {
            Some((reqwest::header::HeaderName::try_from(k.as_str()).ok()?, reqwest::header::HeaderValue::try_from(v.as_str()).ok()?))
        })
        .collect();
    let header = |name: &str| map.get(name).and_then(|v| v.to_str().ok());
    let retry_after = crate::retry::retry_after::wait_after_429(&map);
    let answer = Answer {
        tenant_id,
        status,
        body: &value,
        www_authenticate: header("www-authenticate"),
        correlation_id: header("inin-correlation-id"),
        call: None,
    };
    classify_answer(&answer, retry_after)
}

/// The error for any non-2xx answer that the pipeline does not recover from.
pub fn to_error(a: &Answer<'_>) -> Error {
    if a.status == 403 {
        if let Some(e) = classify_forbidden(a) {
            return e;
        }
    }
    // The server's words, as one bounded line (the body keeps them as they came).
    let message = text(a.body, "message").or_else(|| a.body.as_str().filter(|s| !s.is_empty())).map(crate::untrusted::message);
    Error::Upstream {
        tenant_id: a.tenant_id.to_string(),
        status: a.status,
        body: a.body.clone(),
        message,
        correlation_id: a.correlation_id.map(str::to_string),
    }
}

#[cfg(test)]
mod tests;

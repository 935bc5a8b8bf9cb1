//! The control API under `/__control/` (X-Service-Token): secrets, revocation, client settings,
//! faults, the config service's mode and document, counters, reset.

use crate::error_body::ApiError;
use crate::ids::random_token;
use crate::reply::Reply;
use crate::state::{lock, read, write, ConfigMode, Fault, State};
use crate::world::Budget;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;

/// What the control API asks of the server beyond the state (the config listener).
pub enum Effect {
    /// Nothing.
    None,
    /// The config service mode changed.
    ConfigMode(ConfigMode),
}

fn bad(msg: &str) -> Reply {
    Reply::error(&ApiError::bad_request("bad.request", msg), "control")
}

fn body_json(body: &[u8]) -> Result<Value, Reply> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|e| bad(&format!("invalid JSON: {e}")))
}

/// 401 unless `token` is the service token.
pub fn check_token(state: &State, token: Option<&str>) -> Result<(), Reply> {
    if token != Some(state.service_token.as_str()) {
        return Err(Reply::status_json(401, json!({"error": "unauthorized", "message": "missing or wrong X-Service-Token"})));
    }
    Ok(())
}

/// Handles `/__control/<rest>` (`/__control/notifications/…` is [`crate::notifications::control`]).
pub fn handle(state: &State, method: &str, rest: &str, token: Option<&str>, body: &[u8]) -> (Reply, Effect) {
    if let Err(refused) = check_token(state, token) {
        return (refused, Effect::None);
    }
    let parts: Vec<&str> = rest.trim_matches('/').split('/').collect();
    let r = match (method, parts.as_slice()) {
        ("POST", ["clients"]) => add_client(state, body),
        ("POST", ["clients", id, "secret"]) => regenerate(state, id, body),
        ("POST", ["clients", id, "revoke"]) => revoke(state, id),
        ("PATCH", ["clients", id]) => patch_client(state, id, body),
        ("POST", ["faults"]) => add_fault(state, body),
        ("DELETE", ["faults"]) => {
            lock(&state.faults).clear();
            Ok(Reply::empty(204))
        }
        ("DELETE", ["faults", id]) => {
            let id: u64 = id.parse().unwrap_or(0);
            lock(&state.faults).retain(|f| f.id != id);
            Ok(Reply::empty(204))
        }
        ("PUT", ["config-service"]) => return set_mode(state, body),
        ("PUT", ["config-service", "tenants"]) => body_json(body).map(|v| {
            *lock(&state.config_override) = Some(v);
            Reply::empty(204)
        }),
        ("DELETE", ["config-service", "tenants"]) => {
            *lock(&state.config_override) = None;
            Ok(Reply::empty(204))
        }
        ("GET", ["counters"]) => Ok(Reply::json(state.counters_json())),
        ("GET", ["counters", id]) => {
            Ok(Reply::json(serde_json::to_value(lock(&state.counters).get(*id).cloned().unwrap_or_default()).unwrap_or(Value::Null)))
        }
        ("POST", ["reset"]) => body_json(body).map(|b| {
            state.reset(b.get("world").and_then(Value::as_bool).unwrap_or(false));
            Reply::empty(204)
        }),
        ("PUT", ["rate-limit-headers"]) => body_json(body).map(|b| {
            state.rate_limit_headers.store(b.get("enabled").and_then(Value::as_bool).unwrap_or(true), Ordering::Relaxed);
            Reply::empty(204)
        }),
        ("PUT", ["scope-errors"]) => body_json(body).and_then(|b| match b.get("shape").and_then(Value::as_str) {
            Some(shape @ ("genesys" | "legacy")) => {
                state.legacy_scope_errors.store(shape == "legacy", Ordering::Relaxed);
                Ok(Reply::empty(204))
            }
            _ => Err(bad("shape must be 'genesys' or 'legacy'")),
        }),
        ("GET", ["world"]) => Ok(Reply::json(json!({"initial": state.initial, "clients": &*read(&state.clients)}))),
        _ => Err(Reply::error(&ApiError::not_found(), "control")),
    };
    (r.unwrap_or_else(|e| e), Effect::None)
}

fn regenerate(state: &State, id: &str, body: &[u8]) -> Result<Reply, Reply> {
    let b = body_json(body)?;
    let update_config = b.get("updateConfig").and_then(Value::as_bool).unwrap_or(true);
    let secret = b.get("secret").and_then(Value::as_str).map(str::to_string).unwrap_or_else(|| random_token(30));
    // What the config service served before: kept when the change is not to reach it.
    let served_before = state.tenants_document();
    let mut clients = write(&state.clients);
    let c = clients.get_mut(id).ok_or_else(|| Reply::error(&ApiError::not_found(), "control"))?;
    c.secret = secret.clone();
    drop(clients);
    let mut o = lock(&state.config_override);
    if !update_config {
        if o.is_none() {
            *o = Some(served_before);
        }
    } else if let Some(Value::Array(entries)) = o.as_mut() {
        // A custom document is being served: carry the new secret into it.
        for t in entries.iter_mut().filter(|t| t["clientId"] == id) {
            t["clientSecret"] = json!(secret);
        }
    }
    Ok(Reply::json(json!({"clientId": id, "secret": secret})))
}

/// A second OAuth client in the org of an existing one (`like`), with its permissions, scopes and
/// limits unless the body says otherwise: what a team creates to move a tenant to a new client. It
/// is not in the config service's document: a test stages it there.
fn add_client(state: &State, body: &[u8]) -> Result<Reply, Reply> {
    let b = body_json(body)?;
    let like = b.get("like").and_then(Value::as_str).ok_or_else(|| bad("like (an existing client id) is required"))?;
    let mut clients = write(&state.clients);
    let mut c = clients.get(like).cloned().ok_or_else(|| Reply::error(&ApiError::not_found(), "control"))?;
    c.client_id = match b.get("clientId").and_then(Value::as_str) {
        Some(id) if !id.is_empty() => id.to_string(),
        _ => crate::ids::random_uuid(),
    };
    if clients.contains_key(&c.client_id) {
        return Err(Reply::status_json(409, json!({"error": "conflict", "message": "a client with that id exists"})));
    }
    c.secret = b.get("secret").and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string).unwrap_or_else(|| random_token(30));
    c.name = format!("{} (second client)", c.tenant_id);
    if let Some(p) = strings(&b, "permissions")? {
        c.permissions = p;
    }
    let answer = json!({"clientId": c.client_id, "secret": c.secret, "orgId": c.org_id});
    clients.insert(c.client_id.clone(), c);
    Ok(Reply::json(answer))
}

fn revoke(state: &State, id: &str) -> Result<Reply, Reply> {
    let mut revoked = Vec::new();
    for (token, t) in write(&state.tokens).iter_mut().filter(|(_, t)| t.client_id == id) {
        t.revoked = true;
        revoked.push(token.clone());
    }
    state.notifications.tokens_gone(revoked.iter().map(String::as_str));
    Ok(Reply::json(json!({"revoked": revoked.len()})))
}

fn budget(v: &Value, name: &str) -> Result<Option<Budget>, Reply> {
    match v.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(b) => {
            let limit = b
                .get("limit")
                .and_then(Value::as_u64)
                .filter(|n| *n >= 1)
                .ok_or_else(|| bad(&format!("{name}.limit must be a positive integer")))?;
            let window = b
                .get("windowSeconds")
                .and_then(Value::as_u64)
                .filter(|n| *n >= 1)
                .ok_or_else(|| bad(&format!("{name}.windowSeconds must be a positive integer")))?;
            Ok(Some(Budget { limit: limit.min(u32::MAX as u64) as u32, window_seconds: window.min(u32::MAX as u64) as u32 }))
        }
    }
}

fn strings(v: &Value, name: &str) -> Result<Option<Vec<String>>, Reply> {
    match v.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => Ok(Some(a.iter().filter_map(Value::as_str).map(str::to_string).collect())),
        Some(_) => Err(bad(&format!("{name} must be an array of strings"))),
    }
}

fn patch_client(state: &State, id: &str, body: &[u8]) -> Result<Reply, Reply> {
    let b = body_json(body)?;
    let rate = budget(&b, "rateLimit")?;
    let token_rate = budget(&b, "tokenRateLimit")?;
    let permissions = strings(&b, "permissions")?;
    let scopes = strings(&b, "scopes")?;
    let lifetime = match b.get("tokenLifetimeSeconds") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_u64().filter(|n| *n >= 1).ok_or_else(|| bad("tokenLifetimeSeconds must be a positive integer"))?),
    };
    let st = match b.get("state") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if ["active", "disabled", "inactive"].contains(&s.as_str()) => Some(s.clone()),
        Some(_) => return Err(bad("state must be active, disabled or inactive")),
    };
    let mut clients = write(&state.clients);
    let c = clients.get_mut(id).ok_or_else(|| Reply::error(&ApiError::not_found(), "control"))?;
    if let Some(r) = rate {
        c.rate_limit = r;
    }
    if let Some(r) = token_rate {
        c.token_rate_limit = r;
    }
    if let Some(p) = permissions {
        c.permissions = p;
    }
    if let Some(s) = scopes {
        c.scopes = s;
    }
    if let Some(l) = lifetime {
        c.token_lifetime_seconds = l;
    }
    if let Some(s) = st {
        c.state = s;
    }
    let v = serde_json::to_value(&*c).unwrap_or(Value::Null);
    drop(clients);
    if rate.is_some() {
        lock(&state.windows).clear();
    }
    Ok(Reply::json(v))
}

fn add_fault(state: &State, body: &[u8]) -> Result<Reply, Reply> {
    let mut f: Fault = serde_json::from_slice(body).map_err(|e| bad(&format!("invalid fault: {e}")))?;
    if f.status != 0 && !(100..=599).contains(&f.status) {
        return Err(bad("status must be 0 (latency only) or an HTTP status"));
    }
    if f.probability.is_some_and(|p| !(0.0..=1.0).contains(&p)) {
        return Err(bad("probability must be between 0 and 1"));
    }
    f.id = state.next_fault.fetch_add(1, Ordering::Relaxed);
    let id = f.id;
    lock(&state.faults).push(f);
    Ok(Reply::json(json!({"id": id})))
}

fn set_mode(state: &State, body: &[u8]) -> (Reply, Effect) {
    let b = match body_json(body) {
        Ok(b) => b,
        Err(r) => return (r, Effect::None),
    };
    let mode: ConfigMode = match b.get("mode").cloned().map(serde_json::from_value) {
        Some(Ok(m)) => m,
        _ => return (bad("mode must be ok, error503, slow, refuse, garbage or nonArray"), Effect::None),
    };
    let delay = b.get("delayMs").and_then(Value::as_u64).unwrap_or(10_000);
    *lock(&state.config_mode) = (mode, delay);
    (Reply::empty(204), Effect::ConfigMode(mode))
}

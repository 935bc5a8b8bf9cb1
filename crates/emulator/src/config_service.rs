//! The reference config service: `GET /api/v1/genesys/tenants` with `X-Service-Token`, a strong
//! ETag and `If-None-Match` → 304, and failure modes set over the control API.

use crate::reply::{Payload, Reply};
use crate::state::{lock, ConfigMode, State};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Serves the tenants document (`dedicated`: the request came to the config listener).
pub async fn tenants(state: &State, token: Option<&str>, if_none_match: Option<&str>) -> Reply {
    state.config_requests.fetch_add(1, Ordering::Relaxed);
    if token != Some(state.service_token.as_str()) {
        state.config_failures.fetch_add(1, Ordering::Relaxed);
        return Reply::status_json(401, json!({"error": "unauthorized", "message": "missing or wrong X-Service-Token"}));
    }
    let (mode, delay) = *lock(&state.config_mode);
    match mode {
        ConfigMode::Error503 | ConfigMode::Refuse => {
            state.config_failures.fetch_add(1, Ordering::Relaxed);
            return Reply::status_json(503, json!({"error": "unavailable", "message": "config service unavailable"}));
        }
        ConfigMode::Slow => tokio::time::sleep(Duration::from_millis(delay)).await,
        ConfigMode::Garbage => {
            return Reply { status: 200, headers: vec![], body: Payload::Text("{\"tenants\": [oops".into(), "application/json") }
        }
        ConfigMode::NonArray => return Reply::json(json!({"tenants": state.tenants_document()})),
        ConfigMode::Ok => {}
    }
    let doc = state.tenants_document();
    let bytes = serde_json::to_vec(&doc).unwrap_or_default();
    let etag = format!("\"{}\"", hex::encode(&Sha256::digest(&bytes)[..16]));
    if if_none_match.is_some_and(|v| v.split(',').any(|t| t.trim() == etag)) {
        state.config_not_modified.fetch_add(1, Ordering::Relaxed);
        return Reply::empty(304).header("etag", etag);
    }
    Reply::json(doc).header("etag", etag)
}

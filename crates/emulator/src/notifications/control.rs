//! The Notifications API's control calls, under `/__control/notifications/` (the same
//! `X-Service-Token` as the rest of the control API; listed in the README).

use super::publish::Spec;
use super::{Ctl, Hub, Removal};
use crate::error_body::ApiError;
use crate::reply::Reply;
use crate::sync::lock;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The most events one publish call may ask for.
const MAX_EVENTS: u64 = 1_000_000;

fn bad(msg: &str) -> Reply {
    Reply::error(&ApiError::bad_request("bad.request", msg), "control")
}

fn not_found() -> Reply {
    Reply::error(&ApiError::not_found(), "control")
}

fn body_json(body: &[u8]) -> Result<Map<String, Value>, Reply> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(Map::new());
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(bad("the body must be a JSON object")),
        Err(e) => Err(bad(&format!("invalid JSON: {e}"))),
    }
}

/// A positive integer field within `range`, or its default.
fn int(b: &Map<String, Value>, name: &str, default: u64, range: std::ops::RangeInclusive<u64>) -> Result<u64, Reply> {
    match b.get(name) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v
            .as_u64()
            .filter(|n| range.contains(n))
            .ok_or_else(|| bad(&format!("{name} must be an integer from {} to {}", range.start(), range.end()))),
    }
}

fn text(b: &Map<String, Value>, name: &str) -> Result<Option<String>, Reply> {
    match b.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.is_empty() && s.len() <= 512 => Ok(Some(s.clone())),
        Some(_) => Err(bad(&format!("{name} must be a non-empty string of at most 512 characters"))),
    }
}

/// Handles `/__control/notifications/<rest>` (the caller has checked the service token).
pub async fn handle(hub: &Arc<Hub>, method: &str, rest: &str, body: &[u8]) -> Reply {
    let parts: Vec<&str> = rest.trim_matches('/').split('/').filter(|p| !p.is_empty()).collect();
    let r = match (method, parts.as_slice()) {
        ("GET", [] | ["counters"]) => Ok(Reply::json(hub.counters_json())),
        ("PUT", ["settings"]) => settings(hub, body),
        ("POST", ["publish"]) => publish(hub, body).await,
        ("GET", ["publish", id]) => id.parse().ok().and_then(|id| hub.publication(id)).map(|s| Reply::json(s.json())).ok_or_else(not_found),
        ("DELETE", ["publish", id]) => id
            .parse()
            .ok()
            .and_then(|id| hub.publication(id))
            .map(|s| {
                s.cancel();
                Reply::json(s.json())
            })
            .ok_or_else(not_found),
        ("POST", [scope @ ("channels" | "clients"), key, action]) => act(hub, scope == &"clients", key, action, body),
        _ => Err(not_found()),
    };
    r.unwrap_or_else(|e| e)
}

fn settings(hub: &Hub, body: &[u8]) -> Result<Reply, Reply> {
    let b = body_json(body)?;
    let mut s = hub.settings();
    s.heartbeat_ms = int(&b, "heartbeatMs", s.heartbeat_ms, 1..=86_400_000)?;
    s.channel_lifetime_ms = int(&b, "channelLifetimeMs", s.channel_lifetime_ms, 1..=30 * 86_400_000)?;
    s.max_channels_per_client = int(&b, "maxChannelsPerClient", s.max_channels_per_client as u64, 1..=1_000)? as usize;
    s.max_topics_per_channel = int(&b, "maxTopicsPerChannel", s.max_topics_per_channel as u64, 1..=100_000)? as usize;
    s.socket_queue = int(&b, "socketQueue", s.socket_queue as u64, 1..=65_536)? as usize;
    match b.get("channelsDieWithToken") {
        None | Some(Value::Null) => {}
        Some(Value::Bool(on)) => s.channels_die_with_token = *on,
        Some(_) => return Err(bad("channelsDieWithToken must be a boolean")),
    }
    match b.get("connectUriBase") {
        None => {}
        Some(Value::Null) => s.connect_uri_base = None,
        Some(Value::String(u)) if (u.starts_with("ws://") || u.starts_with("wss://")) && u.len() <= 512 => {
            s.connect_uri_base = Some(u.clone())
        }
        Some(_) => return Err(bad("connectUriBase must be a ws:// or wss:// URL, or null")),
    }
    lock(&hub.inner).settings = s.clone();
    Ok(Reply::json(serde_json::to_value(s).unwrap_or(Value::Null)))
}

async fn publish(hub: &Arc<Hub>, body: &[u8]) -> Result<Reply, Reply> {
    let b = body_json(body)?;
    let topic = text(&b, "topic")?.ok_or_else(|| bad("topic is required"))?;
    let rate = match b.get("ratePerSecond") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_f64().filter(|r| r.is_finite() && *r > 0.0 && *r <= 1e6).ok_or_else(|| bad("ratePerSecond must be > 0"))?),
    };
    let event_body = match b.get("eventBody") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(bad("eventBody must be an object")),
    };
    let spec = Spec {
        topic,
        count: int(&b, "count", 1, 1..=MAX_EVENTS)?,
        org_id: text(&b, "orgId")?,
        client_id: text(&b, "clientId")?,
        rate,
        event_body,
        start_seq: int(&b, "startSeq", 1, 0..=u64::MAX / 2)?,
    };
    let background = b.get("background").and_then(Value::as_bool).unwrap_or(false);
    let status = hub.new_publication(spec);
    if background {
        let (hub, s) = (Arc::clone(hub), Arc::clone(&status));
        tokio::spawn(async move { hub.publish(s).await });
        return Ok(Reply::status_json(202, status.json()));
    }
    hub.publish(Arc::clone(&status)).await;
    Ok(Reply::json(status.json()))
}

/// `POST channels/{id}/{action}` or `POST clients/{clientId}/{action}` (every channel of the client).
fn act(hub: &Hub, by_client: bool, key: &str, action: &str, body: &[u8]) -> Result<Reply, Reply> {
    if !["expire", "socket-closing", "kill", "silence"].contains(&action) {
        return Err(not_found());
    }
    let b = body_json(body)?;
    let grace = Duration::from_millis(int(&b, "graceMs", 60_000, 0..=86_400_000)?);
    let mut g = lock(&hub.inner);
    let inner = &mut *g;
    let ids: Vec<String> = if by_client {
        inner.order.get(key).map(|o| o.iter().cloned().collect()).unwrap_or_default()
    } else {
        inner.channels.get(key).map(|_| vec![key.to_string()]).unwrap_or_default()
    };
    if ids.is_empty() && !by_client {
        return Err(not_found());
    }
    let mut sockets = 0;
    for id in &ids {
        if action == "expire" {
            // Due now: the socket (if any) is closed as at `expires`, the channel is gone.
            if let Some(ch) = inner.channels.get_mut(id) {
                ch.expires_at = Instant::now();
                sockets += usize::from(ch.socket.is_some());
            }
            super::remove(inner, id, Removal::Expired);
            continue;
        }
        let Some(ch) = inner.channels.get_mut(id) else { continue };
        let ctl = match action {
            "socket-closing" => Ctl::Closing(grace),
            "kill" => Ctl::Kill,
            "silence" => {
                ch.silenced = true;
                Ctl::Silence
            }
            _ => return Err(not_found()),
        };
        if let Some(s) = &ch.socket {
            s.tell(ctl);
            sockets += 1;
        }
    }
    Ok(Reply::json(json!({"channels": ids.len(), "sockets": sockets})))
}

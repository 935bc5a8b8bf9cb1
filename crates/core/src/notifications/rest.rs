//! The channel REST calls, through the pipeline (tokens, 401 recovery, 429 holds, the limiter and
//! typed errors apply): create a channel, set its subscriptions (which also renews it), read its expiry. The answers are untrusted: the
//! channel's fields are checked for their shape, its `connectUri` by the egress guard.

use crate::error::{Error, Result};
use crate::pipeline::request::ApiRequest;
use crate::pipeline::Pipeline;
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use url::Url;

/// A channel as the server described it, checked.
#[derive(Debug, Clone)]
pub struct ChannelInfo {
    /// `streaming-0-…`: letters, digits, `-` and `_`, at most 128.
    pub id: String,
    /// Where its socket is, passed by the egress guard.
    pub connect_uri: Url,
    /// When the server expires it, if it said.
    pub expires: Option<SystemTime>,
}

#[derive(Deserialize)]
struct Wire {
    id: Option<String>,
    #[serde(rename = "connectUri")]
    connect_uri: Option<String>,
    expires: Option<String>,
}

fn malformed(tenant_id: &str, what: &str) -> Error {
    Error::Upstream {
        tenant_id: tenant_id.into(),
        status: 200,
        body: Value::Null,
        message: Some(format!("the notification channel answer {what}")),
        correlation_id: None,
    }
}

/// `POST /api/v2/notifications/channels`, its answer checked.
pub async fn create_channel(pipeline: &Pipeline, tenant_id: &str) -> Result<ChannelInfo> {
    let req = ApiRequest { method: "POST".into(), path: "/api/v2/notifications/channels".into(), ..Default::default() };
    let answer = pipeline.request(tenant_id, req).await?;
    let wire: Wire = serde_json::from_value(answer.body).map_err(|_| malformed(tenant_id, "is not a channel"))?;
    let id = wire
        .id
        .filter(|id| !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .ok_or_else(|| malformed(tenant_id, "has no usable id"))?;
    let raw = wire.connect_uri.ok_or_else(|| malformed(tenant_id, "has no connectUri"))?;
    let environment = pipeline.tenant(tenant_id)?.environment.clone();
    let connect_uri = pipeline.egress.verify_stream_url(&environment, &raw).map_err(|e| e.with_tenant(tenant_id))?;
    Ok(ChannelInfo { id, connect_uri, expires: wire.expires.as_deref().and_then(parse_utc) })
}

/// `PUT …/channels/{id}/subscriptions` with exactly `topics` (idempotent: safe to repeat).
pub async fn set_subscriptions(pipeline: &Pipeline, tenant_id: &str, channel_id: &str, topics: &[String]) -> Result<()> {
    let body: Vec<Value> = topics.iter().map(|t| json!({ "id": t })).collect();
    let req = ApiRequest {
        method: "PUT".into(),
        path: format!("/api/v2/notifications/channels/{channel_id}/subscriptions"),
        body: Some(Value::Array(body)),
        ..Default::default()
    };
    pipeline.request(tenant_id, req).await.map(|_| ())
}

/// `GET /api/v2/notifications/channels`: when the server now expires channel `channel_id`
/// (`None`: not listed — the listing shows the calling token's channels only — or no `expires`).
pub async fn channel_expires(pipeline: &Pipeline, tenant_id: &str, channel_id: &str) -> Result<Option<SystemTime>> {
    let req = ApiRequest { method: "GET".into(), path: "/api/v2/notifications/channels".into(), ..Default::default() };
    let answer = pipeline.request(tenant_id, req).await?;
    let listed = answer.body.get("entities").and_then(Value::as_array).and_then(|all| {
        all.iter()
            .find(|c| c.get("id").and_then(Value::as_str) == Some(channel_id))
            .and_then(|c| c.get("expires")?.as_str().and_then(parse_utc))
    });
    Ok(listed)
}

/// An ISO-8601 UTC time as Genesys writes it (`2026-12-06T15:25:27.123Z`, `…+00:00`); `None`
/// for anything else.
///
/// ```
/// use genesys_tenants_core::notifications::rest::parse_utc;
/// use std::time::{Duration, UNIX_EPOCH};
/// assert_eq!(parse_utc("1970-01-02T00:00:01.500Z"), Some(UNIX_EPOCH + Duration::from_millis(86_401_500)));
/// assert_eq!(parse_utc("2026-12-06T15:25:27Z").map(|t| t.duration_since(UNIX_EPOCH).unwrap().as_secs()), Some(1_796_570_727));
/// assert_eq!(parse_utc("tomorrow"), None);
/// ```
pub fn parse_utc(s: &str) -> Option<SystemTime> {
    let s = s.strip_suffix('Z').or_else(|| s.strip_suffix("+00:00")).or_else(|| s.strip_suffix("+0000"))?;
    let (date, time) = s.split_once('T')?;
    let mut d = date.split('-');
    let (y, m, day): (i64, i64, i64) = (d.next()?.parse().ok()?, d.next()?.parse().ok()?, d.next()?.parse().ok()?);
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let mut t = hms.split(':');
    let (h, mi, sec): (u64, u64, u64) = (t.next()?.parse().ok()?, t.next()?.parse().ok()?, t.next()?.parse().ok()?);
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || !(1..=31).contains(&day) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let ms: u64 = match frac.len() {
        0 => 0,
        n if n <= 9 && frac.bytes().all(|b| b.is_ascii_digit()) => format!("{frac:0<3}")[..3].parse().ok()?,
        _ => return None,
    };
    // Days since the epoch of a civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = u64::try_from(era * 146_097 + doe - 719_468).ok()?;
    Some(UNIX_EPOCH + Duration::from_millis((days * 86_400 + h * 3600 + mi * 60 + sec) * 1000 + ms))
}

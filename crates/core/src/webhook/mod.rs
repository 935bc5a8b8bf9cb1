//! The rotation webhook: who may ask this service to rotate credentials, and what they asked.
//!
//! A delivery is signed like Stripe's: the header `X-Genesys-Tenants-Signature: t=<unix seconds>,v1=<hex>`
//! carries the HMAC-SHA256, under the shared secret, of `"<t>.<raw body>"`. A delivery is accepted once:
//! its timestamp must be within the tolerance of now (either side), and its signature must not have been
//! seen before ([`SeenDeliveries`] here, and Redis in shared mode so another replica behind the same
//! load balancer refuses a replay too). The body names what to rotate: `{ "tenantId": "acme" }`,
//! `{ "tenantIds": ["a", "b"] }` or `{ "all": true }`.
//!
//! This file is pure (the clock is passed in): the signature, freshness and body rules. [`SeenDeliveries`]
//! remembers what was accepted; [`WebhookReceiver`] runs one delivery end to end (claims it in the store,
//! starts the rotations).

use crate::secret::Secret;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use std::time::Duration;

mod receiver;
mod seen;

pub use receiver::{Rotate, WebhookAnswer, WebhookReceiver, ROTATION_CONCURRENCY};
pub use seen::SeenDeliveries;

/// The header that carries the signature (HTTP header names are case-insensitive).
pub const SIGNATURE_HEADER: &str = "x-genesys-tenants-signature";
/// Largest body accepted; a longer one is answered 413 without being read further.
pub const MAX_BODY: usize = 64 * 1024;
/// Default `toleranceMs`: how far a delivery's timestamp may be from now.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);
/// Most tenant ids one delivery may name.
pub const MAX_TENANTS: usize = 1000;
pub use seen::SEEN_CAPACITY;
/// How much longer than its acceptance window a delivery is remembered in Redis, for replicas whose
/// clocks run behind the one that accepted it.
pub const CLOCK_SKEW_MARGIN: Duration = Duration::from_secs(60);

/// Settings of one webhook receiver.
///
/// ```
/// use genesys_tenants_core::webhook::{sign, WebhookSettings};
/// use genesys_tenants_core::Secret;
/// let s = WebhookSettings::new(Secret::new("whsec-0123456789abcdef"), None).unwrap();
/// let header = sign(&s.secret, 1_700_000_000, br#"{"tenantId":"acme"}"#);
/// assert!(s.verify(Some(&header), br#"{"tenantId":"acme"}"#, 1_700_000_010_000).is_ok());
/// ```
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// The shared secret (at least 16 characters).
    pub secret: Secret,
    /// How far a timestamp may be from now, either side.
    pub tolerance: Duration,
}

/// Why a delivery was refused; `status()` is the HTTP answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// No signature header, or not `t=…,v1=…`.
    #[error("missing or malformed X-Genesys-Tenants-Signature (want t=<unix seconds>,v1=<hex HMAC-SHA256>)")]
    Unsigned,
    /// The signature does not match the body under the secret.
    #[error("signature does not match")]
    BadSignature,
    /// The timestamp is outside the tolerance.
    #[error("timestamp outside the tolerance of {tolerance_ms} ms")]
    Stale {
        /// The tolerance.
        tolerance_ms: u64,
    },
    /// This delivery was accepted before.
    #[error("delivery already accepted (replay)")]
    Replayed,
    /// The body is longer than [`MAX_BODY`].
    #[error("body larger than {MAX_BODY} bytes")]
    TooLarge,
    /// The body is not one of the accepted shapes.
    #[error("bad body: {0}")]
    BadBody(String),
    /// More live deliveries than can be remembered: refused rather than risk accepting a replay.
    #[error("too many deliveries within the tolerance window; retry later")]
    Busy,
    /// The orchestrator is closed: nothing will be rotated.
    #[error("the orchestrator is closed")]
    Closed,
}

impl Refusal {
    /// The HTTP status to answer with.
    pub fn status(&self) -> u16 {
        match self {
            Refusal::Unsigned | Refusal::BadSignature | Refusal::Stale { .. } | Refusal::Replayed => 401,
            Refusal::TooLarge => 413,
            Refusal::BadBody(_) => 400,
            Refusal::Busy | Refusal::Closed => 503,
        }
    }

    /// A stable code for the JSON answer.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Unsigned => "unsigned",
            Refusal::BadSignature => "bad-signature",
            Refusal::Stale { .. } => "stale",
            Refusal::Replayed => "replayed",
            Refusal::TooLarge => "too-large",
            Refusal::BadBody(_) => "bad-body",
            Refusal::Busy => "busy",
            Refusal::Closed => "closed",
        }
    }
}

/// What a verified delivery asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotationTarget {
    /// These tenants (ids as given, duplicates removed, order kept).
    Tenants(Vec<String>),
    /// Every tenant.
    All,
}

/// A verified delivery: what to rotate, and the id that makes it unique (for replay protection).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// What to rotate.
    pub target: RotationTarget,
    /// Hex of the signature: unique per delivery.
    pub id: String,
    /// The delivery's timestamp (Unix seconds).
    pub timestamp: u64,
    /// The last instant (Unix ms) [`WebhookSettings::verify`] accepts this delivery: it must be
    /// remembered at least until after it.
    pub acceptable_until_ms: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Body {
    tenant_id: Option<String>,
    tenant_ids: Option<Vec<String>>,
    all: Option<bool>,
}

fn mac(secret: &Secret, timestamp: u64, body: &[u8]) -> Hmac<Sha256> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret.expose().as_bytes()).expect("hmac takes any key length");
    m.update(timestamp.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m
}

/// The signature header value for `body` at `timestamp` (Unix seconds): what a sender puts in
/// [`SIGNATURE_HEADER`].
pub fn sign(secret: &Secret, timestamp: u64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", hex::encode(mac(secret, timestamp, body).finalize().into_bytes()))
}

fn parse_header(header: &str) -> Option<(u64, Vec<Vec<u8>>)> {
    let mut t = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k {
            "t" => t = Some(v.parse::<u64>().ok()?),
            // Several v1 values are allowed: a sender rolling its secret signs with both.
            "v1" => sigs.push(hex::decode(v).ok().filter(|s| s.len() == 32)?),
            _ => {}
        }
    }
    Some((t?, sigs)).filter(|(_, s)| !s.is_empty())
}

impl WebhookSettings {
    /// Checks the settings: a secret of at least 16 characters, a tolerance of 1 s to 1 h.
    pub fn new(secret: Secret, tolerance: Option<Duration>) -> crate::error::Result<WebhookSettings> {
        let bad = |option: &str, reason: &str| crate::error::Error::InvalidOptions { option: option.into(), reason: reason.into() };
        if secret.expose().len() < 16 {
            return Err(bad("secret", "must be at least 16 characters (e.g. `openssl rand -hex 32`)"));
        }
        let tolerance = tolerance.unwrap_or(DEFAULT_TOLERANCE);
        if tolerance < Duration::from_secs(1) || tolerance > Duration::from_secs(3600) {
            return Err(bad("toleranceMs", "must be between 1000 and 3600000"));
        }
        Ok(WebhookSettings { secret, tolerance })
    }

    /// Verifies one delivery at `now_ms` (Unix ms): size, signature (constant time), timestamp, body.
    /// Replays are for the caller to refuse, by [`Delivery::id`].
    pub fn verify(&self, header: Option<&str>, body: &[u8], now_ms: u64) -> Result<Delivery, Refusal> {
        if body.len() > MAX_BODY {
            return Err(Refusal::TooLarge);
        }
        let (timestamp, sigs) = header.and_then(parse_header).ok_or(Refusal::Unsigned)?;
        let expected = mac(&self.secret, timestamp, body);
        let matched = sigs.iter().find(|s| expected.clone().verify_slice(s).is_ok()).ok_or(Refusal::BadSignature)?;
        let tolerance_ms = self.tolerance.as_millis() as u64;
        if timestamp.saturating_mul(1000).abs_diff(now_ms) > tolerance_ms {
            return Err(Refusal::Stale { tolerance_ms });
        }
        let target = parse_body(body)?;
        let acceptable_until_ms = timestamp.saturating_mul(1000).saturating_add(tolerance_ms);
        Ok(Delivery { target, id: hex::encode(matched), timestamp, acceptable_until_ms })
    }
}

fn parse_body(body: &[u8]) -> Result<RotationTarget, Refusal> {
    let b: Body = serde_json::from_slice(body).map_err(|e| {
        let msg = e.to_string();
        Refusal::BadBody(msg.split(" at line ").next().unwrap_or("not JSON").to_string())
    })?;
    let shape = "want { tenantId }, { tenantIds: [...] } or { all: true }";
    let mut ids = match (b.tenant_id, b.tenant_ids, b.all) {
        (Some(id), None, None) => vec![id],
        (None, Some(ids), None) => ids,
        (None, None, Some(true)) => return Ok(RotationTarget::All),
        _ => return Err(Refusal::BadBody(format!("exactly one of tenantId, tenantIds, all: true ({shape})"))),
    };
    if ids.is_empty() || ids.len() > MAX_TENANTS {
        return Err(Refusal::BadBody(format!("tenantIds must hold 1 to {MAX_TENANTS} ids")));
    }
    if ids.iter().any(|id| id.is_empty() || id.len() > 256 || id.chars().any(char::is_control)) {
        return Err(Refusal::BadBody("a tenant id must be 1 to 256 characters, no control characters".into()));
    }
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(id.clone()));
    Ok(RotationTarget::Tenants(ids))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const NOW: u64 = 1_700_000_000;

    pub(crate) fn settings() -> WebhookSettings {
        WebhookSettings::new(Secret::new("whsec-0123456789abcdef"), Some(Duration::from_secs(300))).unwrap()
    }

    fn verify(header: Option<&str>, body: &[u8], now_s: u64) -> Result<Delivery, Refusal> {
        settings().verify(header, body, now_s * 1000)
    }

    #[test]
    fn a_signed_fresh_delivery_is_accepted_in_each_shape() {
        let s = settings();
        for (body, want) in [
            (r#"{"tenantId":"acme"}"#, RotationTarget::Tenants(vec!["acme".into()])),
            (r#"{"tenantIds":["a","b","a"]}"#, RotationTarget::Tenants(vec!["a".into(), "b".into()])),
            (r#"{"all":true}"#, RotationTarget::All),
        ] {
            let h = sign(&s.secret, NOW, body.as_bytes());
            assert_eq!(verify(Some(&h), body.as_bytes(), NOW + 299).unwrap().target, want, "{body}");
        }
    }

    #[test]
    fn signature_timestamp_and_shape_failures_are_told_apart() {
        let s = settings();
        let body = br#"{"tenantId":"acme"}"#;
        let h = sign(&s.secret, NOW, body);
        assert_eq!(verify(None, body, NOW), Err(Refusal::Unsigned));
        assert_eq!(verify(Some("v1=abc"), body, NOW), Err(Refusal::Unsigned));
        assert_eq!(verify(Some("t=1,v1=zz"), body, NOW), Err(Refusal::Unsigned));
        assert_eq!(verify(Some(&h), br#"{"tenantId":"acme2"}"#, NOW), Err(Refusal::BadSignature), "body changed");
        let other = sign(&Secret::new("another-secret-0123"), NOW, body);
        assert_eq!(verify(Some(&other), body, NOW), Err(Refusal::BadSignature), "another secret");
        let moved = h.replace(&format!("t={NOW}"), &format!("t={}", NOW + 1));
        assert_eq!(verify(Some(&moved), body, NOW), Err(Refusal::BadSignature), "the timestamp is signed");
        assert_eq!(verify(Some(&h), body, NOW + 301), Err(Refusal::Stale { tolerance_ms: 300_000 }), "too old");
        assert_eq!(verify(Some(&h), body, NOW - 301), Err(Refusal::Stale { tolerance_ms: 300_000 }), "from the future");
        // Rolling the secret: either of two signatures may match.
        let both = format!("{},v1={}", h, "00".repeat(32));
        assert!(verify(Some(&both), body, NOW).is_ok());
        for bad in [
            &br#"{"tenantId":"a","all":true}"#[..],
            br#"{"all":false}"#,
            br#"{"tenantIds":[]}"#,
            br#"{"colour":1}"#,
            b"not json",
            br#"{"tenantId":""}"#,
        ] {
            let h = sign(&s.secret, NOW, bad);
            let r = verify(Some(&h), bad, NOW);
            assert!(matches!(r, Err(Refusal::BadBody(_))), "{}: {r:?}", String::from_utf8_lossy(bad));
        }
        let big = vec![b' '; MAX_BODY + 1];
        assert_eq!(verify(Some(&sign(&s.secret, NOW, &big)), &big, NOW), Err(Refusal::TooLarge));
    }

    #[test]
    fn settings_are_checked() {
        assert!(WebhookSettings::new(Secret::new("short"), None).is_err());
        assert!(WebhookSettings::new(Secret::new("x".repeat(16)), Some(Duration::from_millis(10))).is_err());
        assert_eq!(WebhookSettings::new(Secret::new("x".repeat(16)), None).unwrap().tolerance, DEFAULT_TOLERANCE);
    }
}

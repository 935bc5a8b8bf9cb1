//! Redaction of what a server echoes back. A token endpoint may quote the client secret in its
//! `error_description`, an API may quote the `Authorization` header it refused: every text that
//! leaves the core (error messages, reasons and bodies, event fields) has the tenant's known
//! secrets — the client secret, its HTTP Basic form and the tenant's current and previous access
//! tokens — replaced by [`MARKER`] before it is handed out.

use crate::error::Error;
use crate::secret::Secret;
use base64::Engine;
use serde_json::Value;

/// What a redacted secret is replaced with.
pub const MARKER: &str = "[redacted]";

/// Values shorter than this are not searched for: replacing every `s` of a message because a test
/// secret is `"s"` would garble everything and protect nothing.
pub const MIN_LEN: usize = 8;

mod configured;
pub use configured::ConfiguredSecrets;

/// The secret strings to find in one tenant's texts.
///
/// ```
/// use genesys_tenants_core::redact::Needles;
/// use genesys_tenants_core::Secret;
/// let mut n = Needles::default();
/// n.credentials("client-1", &Secret::new("hunter2-hunter2"));
/// let mut s = "secret hunter2-hunter2 refused; Basic Y2xpZW50LTE6aHVudGVyMi1odW50ZXIy".to_string();
/// n.redact_string(&mut s);
/// assert_eq!(s, "secret [redacted] refused; Basic [redacted]");
/// ```
#[derive(Default)]
pub struct Needles(Vec<Secret>, Option<std::sync::Arc<ConfiguredSecrets>>);

impl std::fmt::Debug for Needles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Needles({} values)", self.0.len())
    }
}

impl Needles {
    /// Adds a value to look for (ignored when shorter than [`MIN_LEN`]).
    pub fn push(&mut self, value: &str) {
        if value.len() >= MIN_LEN && !self.0.iter().any(|s| s.expose() == value) {
            self.0.push(Secret::new(value));
        }
    }

    /// Adds a client secret and every Basic-auth encoding of `client_id:secret` a server could echo.
    pub fn credentials(&mut self, client_id: &str, secret: &Secret) {
        self.push(secret.expose());
        let pair = zeroize::Zeroizing::new(format!("{client_id}:{}", secret.expose()));
        for engine in [
            &base64::engine::general_purpose::STANDARD,
            &base64::engine::general_purpose::STANDARD_NO_PAD,
            &base64::engine::general_purpose::URL_SAFE,
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ] {
            let encoded = zeroize::Zeroizing::new(engine.encode(pair.as_bytes()));
            self.push(&encoded);
        }
    }

    /// Also replaces secrets the operator configured (a proxy password), whatever their length.
    pub fn configured(&mut self, secrets: &std::sync::Arc<ConfiguredSecrets>) {
        if !secrets.is_empty() {
            self.1 = Some(std::sync::Arc::clone(secrets));
        }
    }

    /// True when there is nothing to look for.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty() && self.1.is_none()
    }

    /// Replaces every needle in `s`.
    pub fn redact_string(&self, s: &mut String) {
        // Longest first: a secret inside its own Basic form must not break the longer match.
        let mut order: Vec<&Secret> = self.0.iter().collect();
        order.sort_by_key(|n| std::cmp::Reverse(n.expose().len()));
        for n in order {
            if s.contains(n.expose()) {
                *s = s.replace(n.expose(), MARKER);
            }
        }
        if let Some(c) = &self.1 {
            c.redact_string(s);
        }
    }

    /// Replaces every needle in every string of `v`, object keys included.
    pub fn redact_value(&self, v: &mut Value) {
        if self.is_empty() {
            return;
        }
        match v {
            Value::String(s) => self.redact_string(s),
            Value::Array(items) => items.iter_mut().for_each(|i| self.redact_value(i)),
            Value::Object(map) => {
                let tainted: Vec<String> = map
                    .keys()
                    .filter(|k| self.0.iter().any(|n| k.contains(n.expose())) || self.1.as_ref().is_some_and(|c| c.found_in(k)))
                    .cloned()
                    .collect();
                for k in tainted {
                    if let Some(val) = map.remove(&k) {
                        let mut clean = k;
                        self.redact_string(&mut clean);
                        map.insert(clean, val);
                    }
                }
                map.values_mut().for_each(|i| self.redact_value(i));
            }
            _ => {}
        }
    }

    /// `err` with every text it carries redacted.
    pub fn redact_error(&self, mut err: Error) -> Error {
        if self.is_empty() {
            return err;
        }
        let s = |t: &mut String| self.redact_string(t);
        match &mut err {
            Error::UnknownTenant { .. }
            | Error::OrganizationMismatch { .. }
            | Error::Closed
            | Error::NotInitialized
            | Error::TooManyPages { .. }
            | Error::Aborted { .. }
            | Error::RateLimited { .. } => {}
            Error::TenantInvalid { reason, .. } | Error::ConfigUnavailable { reason } | Error::InvalidOptions { reason, .. } => s(reason),
            Error::HostNotAllowed { host, reason, .. } => {
                s(host);
                s(reason);
            }
            Error::AuthFailed { reason, .. } | Error::Network { reason, .. } => s(reason),
            Error::ProxyAuthFailed { proxy, reason, .. } => {
                s(proxy);
                s(reason);
            }
            Error::Timeout { what, .. } => s(what),
            Error::PermissionMissing { message, body, missing_permissions, .. } => {
                s(message);
                missing_permissions.iter_mut().for_each(s);
                self.redact_value(body);
            }
            Error::ScopeMissing { message, body, missing_scopes, .. } => {
                s(message);
                missing_scopes.iter_mut().for_each(s);
                self.redact_value(body);
            }
            Error::Upstream { message, body, .. } => {
                if let Some(m) = message {
                    s(m);
                }
                self.redact_value(body);
            }
        }
        err
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_text_of_an_error_is_redacted() {
        let mut n = Needles::default();
        n.credentials("cid", &Secret::new("the-client-secret"));
        n.push("access-token-value-1");
        n.push("short");
        let e = Error::Upstream {
            tenant_id: "t".into(),
            status: 400,
            body: json!({"message": "bad bearer access-token-value-1", "the-client-secret": ["Y2lkOnRoZS1jbGllbnQtc2VjcmV0"]}),
            message: Some("echo the-client-secret short".into()),
            correlation_id: None,
        };
        let text = format!("{:?} {}", n.redact_error(e.clone()).fields(), n.redact_error(e));
        assert!(
            !text.contains("access-token-value-1") && !text.contains("the-client-secret") && !text.contains("Y2lkOnRoZS1jbGllbnQtc2VjcmV0"),
            "{text}"
        );
        assert!(text.contains("short"), "values under MIN_LEN are left alone");
        let e = Error::AuthFailed {
            tenant_id: "t".into(),
            client_id: "cid".into(),
            reason: "no: the-client-secret".into(),
            status: Some(401),
            correlation_id: None,
        };
        assert_eq!(n.redact_error(e).fields()["reason"], "no: [redacted]");
    }
}

//! A typed [`Error`] as JSON and back, so that in shared mode a failure on the holder replica (a
//! channel-budget refusal, a REST call's error) reaches the replica whose `subscribe()` asked with
//! the same `code`, fields and message as in process. The JSON is `{code, message, fields}`:
//! `fields` is [`Error::fields`]; the variant is rebuilt from the code and those fields.

use crate::error::{Error, PermissionMode};
use serde_json::{json, Map, Value};

/// The error as `{code, message, fields}`.
pub(super) fn to_wire(e: &Error) -> Value {
    json!({"code": e.code(), "message": e.to_string(), "fields": Value::Object(e.fields())})
}

/// The error `to_wire` wrote; `None` when it is not one (another version's, or damaged). A code
/// this version does not know becomes `NETWORK_ERROR` with the message as its reason.
pub(super) fn from_wire(v: &Value) -> Option<Error> {
    let code = v.get("code")?.as_str()?;
    let message = v.get("message")?.as_str()?.to_string();
    let empty = Map::new();
    let f = v.get("fields").and_then(Value::as_object).unwrap_or(&empty);
    let s = |k: &str| f.get(k).and_then(Value::as_str).map(str::to_string);
    let text = |k: &str| s(k).unwrap_or_default();
    let tenant = s("tenantId");
    let tenant_id = || tenant.clone().unwrap_or_default();
    let correlation_id = s("correlationId");
    let status = f.get("status").and_then(Value::as_u64).and_then(|n| u16::try_from(n).ok());
    let body = f.get("body").cloned().unwrap_or(Value::Null);
    let list = |k: &str| -> Vec<String> {
        f.get(k).and_then(Value::as_array).map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default()
    };
    let mode = if s("mode").as_deref() == Some("ANY") { PermissionMode::Any } else { PermissionMode::All };
    let u64_of = |k: &str| f.get(k).and_then(Value::as_u64).unwrap_or(0);
    Some(match code {
        "UNKNOWN_TENANT" => Error::UnknownTenant { tenant_id: tenant_id() },
        "TENANT_INVALID" => Error::TenantInvalid { tenant_id: tenant_id(), field: text("field"), reason: text("reason") },
        "CONFIG_UNAVAILABLE" => Error::ConfigUnavailable { reason: text("reason") },
        "HOST_NOT_ALLOWED" => Error::HostNotAllowed { tenant_id: tenant, host: text("host"), reason: text("reason") },
        "AUTH_FAILED" => {
            Error::AuthFailed { tenant_id: tenant_id(), client_id: text("clientId"), reason: text("reason"), status, correlation_id }
        }
        "ORGANIZATION_MISMATCH" => Error::OrganizationMismatch {
            tenant_id: tenant_id(),
            client_id: text("clientId"),
            expected: text("expectedOrganizationId"),
            actual: text("actualOrganizationId"),
        },
        "PERMISSION_MISSING" => Error::PermissionMissing {
            tenant_id: tenant_id(),
            missing_permissions: list("missingPermissions"),
            mode,
            message,
            body,
            correlation_id,
            from_catalogue: s("permissionsFrom").as_deref() == Some("catalogue"),
        },
        "SCOPE_MISSING" => Error::ScopeMissing {
            tenant_id: tenant_id(),
            missing_scopes: list("missingScopes"),
            mode,
            preflight: f.get("preflight").and_then(Value::as_bool).unwrap_or(false),
            message,
            status,
            body,
            correlation_id,
        },
        "RATE_LIMITED" => Error::RateLimited { tenant_id: tenant_id(), retry_after_ms: u64_of("retryAfterMs"), correlation_id },
        "UPSTREAM_ERROR" => Error::Upstream {
            tenant_id: tenant_id(),
            status: status.unwrap_or(0),
            message: upstream_message(&message),
            body,
            correlation_id,
        },
        "NETWORK_ERROR" => Error::Network { tenant_id: tenant, reason: text("reason") },
        "PROXY_AUTH_FAILED" => Error::ProxyAuthFailed { tenant_id: tenant, proxy: text("proxy"), reason: text("reason") },
        "TIMEOUT" => Error::Timeout { tenant_id: tenant, what: text("reason"), after_ms: u64_of("timeoutMs") },
        "ABORTED" => Error::Aborted { tenant_id: tenant },
        "TOO_MANY_PAGES" => Error::TooManyPages { tenant_id: tenant_id(), max_pages: u64_of("maxPages") as u32 },
        "CLOSED" => Error::Closed,
        "NOT_INITIALIZED" => Error::NotInitialized,
        "INVALID_OPTIONS" => Error::InvalidOptions { option: text("option"), reason: text("reason") },
        _ => Error::Network { tenant_id: tenant, reason: message },
    })
}

/// An `UPSTREAM_ERROR`'s server message, read back off its display text (`…: <message>`).
fn upstream_message(display: &str) -> Option<String> {
    display.split_once(": ").map(|(_, m)| m.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(e: Error) {
        let back = from_wire(&to_wire(&e)).expect("read back");
        assert_eq!((back.code(), back.to_string(), back.fields()), (e.code(), e.to_string(), e.fields()));
    }

    #[test]
    fn every_variant_with_fields_comes_back_the_same() {
        let t = || "acme".to_string();
        same(Error::invalid_option("topics", "1001 topics would need 2 channels"));
        same(Error::HostNotAllowed { tenant_id: Some(t()), host: "evil.example".into(), reason: "not the streaming host".into() });
        same(Error::RateLimited { tenant_id: t(), retry_after_ms: 1500, correlation_id: Some("c-1".into()) });
        same(Error::Upstream {
            tenant_id: t(),
            status: 400,
            body: json!({"message": "too many topics", "code": "x"}),
            message: Some("too many topics".into()),
            correlation_id: None,
        });
        same(Error::Upstream { tenant_id: t(), status: 502, body: Value::Null, message: None, correlation_id: None });
        same(Error::PermissionMissing {
            tenant_id: t(),
            missing_permissions: vec!["a:b:c".into()],
            mode: PermissionMode::Any,
            message: "grant a:b:c".into(),
            body: json!({"code": "missing.any.permissions"}),
            correlation_id: Some("c".into()),
            from_catalogue: false,
        });
        same(Error::ScopeMissing {
            tenant_id: t(),
            missing_scopes: vec!["notifications".into()],
            mode: PermissionMode::Any,
            preflight: false,
            message: "add notifications".into(),
            status: Some(403),
            body: json!({}),
            correlation_id: None,
        });
        same(Error::AuthFailed { tenant_id: t(), client_id: "c".into(), reason: "bad".into(), status: Some(401), correlation_id: None });
        same(Error::Network { tenant_id: Some(t()), reason: "reset".into() });
        same(Error::Timeout { tenant_id: Some(t()), what: "connect".into(), after_ms: 30_000 });
        same(Error::ProxyAuthFailed { tenant_id: None, proxy: "http://p:3128".into(), reason: "no credentials".into() });
        same(Error::TooManyPages { tenant_id: t(), max_pages: 3 });
        same(Error::Closed);
    }

    #[test]
    fn what_is_not_an_error_is_refused() {
        assert!(from_wire(&json!({"code": 3})).is_none());
        assert!(from_wire(&json!("x")).is_none());
        let odd = from_wire(&json!({"code": "FROM_THE_FUTURE", "message": "m"})).unwrap();
        assert_eq!((odd.code(), odd.to_string().ends_with(": m")), ("NETWORK_ERROR", true));
    }
}

//! The one error type of the core. Every variant has a stable [`Error::code`] that the Node
//! binding exposes as `err.code`, plus structured fields ([`Error::fields`]). Messages never
//! contain a secret or a token: variants only ever hold ids, hosts, statuses and server text.

use serde_json::{json, Map, Value};

/// Whether a 403 asks for *any one* of the listed permissions or *all* of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum PermissionMode {
    /// `missing.any.permissions`: granting one of them is enough.
    Any,
    /// `missing.permissions`: every listed permission is needed.
    All,
}

impl PermissionMode {
    /// `"ANY"` or `"ALL"`.
    pub fn as_str(self) -> &'static str {
        match self {
            PermissionMode::Any => "ANY",
            PermissionMode::All => "ALL",
        }
    }
}

/// Everything that can go wrong, by cause. Match on [`Error::code`] across the FFI boundary.
///
/// ```
/// use genesys_tenants_core::Error;
/// let e = Error::UnknownTenant { tenant_id: "acme".into() };
/// assert_eq!(e.code(), "UNKNOWN_TENANT");
/// assert_eq!(e.tenant_id(), Some("acme"));
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The tenant id is not in the current configuration.
    #[error("unknown tenant '{tenant_id}': it is not in the current tenant configuration")]
    UnknownTenant {
        /// The id that was asked for.
        tenant_id: String,
    },
    /// The tenant's configuration entry is invalid; other tenants are unaffected.
    #[error("tenant '{tenant_id}' is unavailable: its config entry is invalid ({field}: {reason})")]
    TenantInvalid {
        /// The tenant whose entry is invalid.
        tenant_id: String,
        /// The offending field, in the config's spelling (`clientSecret`, `region`, …).
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// No usable tenant configuration could be read (and none was known before).
    #[error("tenant configuration unavailable: {reason}")]
    ConfigUnavailable {
        /// Why the last attempt failed.
        reason: String,
    },
    /// A secret or token would have gone to a host outside the allowed set.
    #[error("host '{host}' is not allowed{}: {reason}", for_tenant(.tenant_id))]
    HostNotAllowed {
        /// The tenant concerned, if any.
        tenant_id: Option<String>,
        /// The refused host (or URL origin).
        host: String,
        /// Why it is refused.
        reason: String,
    },
    /// The token endpoint rejected the tenant's client credentials.
    #[error("authentication failed for tenant '{tenant_id}' (OAuth client {client_id}): {reason}")]
    AuthFailed {
        /// The tenant.
        tenant_id: String,
        /// The OAuth client id that was rejected (never the secret).
        client_id: String,
        /// What the token endpoint said.
        reason: String,
        /// HTTP status of the token endpoint's answer, when there was one.
        status: Option<u16>,
        /// `inin-correlation-id` of that answer.
        correlation_id: Option<String>,
    },
    /// The tenant's entry is pinned to an organization (`organizationId`) and its OAuth client's token
    /// belongs to another: nothing was sent with that token but the check.
    #[error("tenant '{tenant_id}' is pinned to organization {expected}, but its OAuth client {client_id} belongs to organization {actual}: nothing is sent with its token (another customer's client in this entry? fix clientId/clientSecret, or organizationId)")]
    OrganizationMismatch {
        /// The tenant.
        tenant_id: String,
        /// The OAuth client whose token was checked (never the secret).
        client_id: String,
        /// The entry's `organizationId`.
        expected: String,
        /// The organization `GET /api/v2/tokens/me` named.
        actual: String,
    },
    /// The OAuth client lacks permission(s) the API asked for.
    #[error("{message}")]
    PermissionMissing {
        /// The tenant.
        tenant_id: String,
        /// Exactly what the server said is missing.
        missing_permissions: Vec<String>,
        /// ANY: one of them is enough; ALL: each is needed.
        mode: PermissionMode,
        /// Human-readable message naming the permissions and where to grant them.
        message: String,
        /// The server's error body.
        body: Value,
        /// `inin-correlation-id`.
        correlation_id: Option<String>,
        /// False: the server's 403 named `missing_permissions`. True: it named none (Genesys's
        /// `missing.division.permissions` never does), and these are what the operation catalogue
        /// lists for the operation that was refused — the likely cause, not the server's word.
        from_catalogue: bool,
    },
    /// The token lacks OAuth scope(s), as the server said or as the tenant's declared scopes show.
    #[error("{message}")]
    ScopeMissing {
        /// The tenant.
        tenant_id: String,
        /// The missing scope(s).
        missing_scopes: Vec<String>,
        /// ANY: one of them is enough (what Genesys lists: the scopes the operation accepts); ALL:
        /// each is needed (scopes a caller said the call needs).
        mode: PermissionMode,
        /// True when caught before sending (from the tenant's `requiredScopes`).
        preflight: bool,
        /// Human-readable message naming the scopes and where to add them.
        message: String,
        /// HTTP status when the server answered (403), none for a pre-flight refusal.
        status: Option<u16>,
        /// The server's error body (`null` for a pre-flight refusal).
        body: Value,
        /// `inin-correlation-id`.
        correlation_id: Option<String>,
    },
    /// Rate limited beyond the retry budget.
    #[error("rate limited{}: retry after {retry_after_ms} ms", named(.tenant_id))]
    RateLimited {
        /// The tenant.
        tenant_id: String,
        /// How long the server (or the local limiter) asked to wait.
        retry_after_ms: u64,
        /// `inin-correlation-id`.
        correlation_id: Option<String>,
    },
    /// The API answered with a status that is not a success and not classified above.
    #[error("Genesys Cloud answered {status}{}{}", named(.tenant_id), summary(.message))]
    Upstream {
        /// The tenant.
        tenant_id: String,
        /// HTTP status.
        status: u16,
        /// The response body (parsed JSON, or text).
        body: Value,
        /// The server's message, when the body had one.
        message: Option<String>,
        /// `inin-correlation-id`.
        correlation_id: Option<String>,
    },
    /// Connection failures after retries (refused, reset, DNS, TLS).
    #[error("network error{}: {reason}", for_tenant(.tenant_id))]
    Network {
        /// The tenant concerned, if any.
        tenant_id: Option<String>,
        /// What failed.
        reason: String,
    },
    /// The outbound proxy refused the request for want of (good) credentials: HTTP 407, to a
    /// request or to the `CONNECT` of an https tunnel. Not retried.
    #[error("the proxy {proxy} refused the request{}: {reason}", for_tenant(.tenant_id))]
    ProxyAuthFailed {
        /// The tenant concerned, if any.
        tenant_id: Option<String>,
        /// The proxy, without its credentials (`http://proxy.corp:3128`).
        proxy: String,
        /// Whether credentials were sent.
        reason: String,
    },
    /// The operation did not finish within its deadline.
    #[error("timed out after {after_ms} ms{}: {what}", for_tenant(.tenant_id))]
    Timeout {
        /// The tenant concerned, if any.
        tenant_id: Option<String>,
        /// What timed out.
        what: String,
        /// The deadline that passed.
        after_ms: u64,
    },
    /// The caller aborted the call (its `AbortSignal` fired); nothing more is sent for it.
    #[error("the call was aborted{}", for_tenant(.tenant_id))]
    Aborted {
        /// The tenant concerned, if any.
        tenant_id: Option<String>,
    },
    /// A listing needed more pages than `maxPages`.
    #[error("listing for tenant '{tenant_id}' needs more than maxPages={max_pages} pages; raise maxPages or narrow the query")]
    TooManyPages {
        /// The tenant.
        tenant_id: String,
        /// The limit that was reached.
        max_pages: u32,
    },
    /// The orchestrator was closed.
    #[error("the orchestrator is closed")]
    Closed,
    /// The orchestrator is not initialized yet.
    #[error("the orchestrator is not initialized: call initialize() first")]
    NotInitialized,
    /// An option passed by the caller is invalid.
    #[error("invalid option '{option}': {reason}")]
    InvalidOptions {
        /// The option's name as the caller spelled it.
        option: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// " for tenant 'x'", or nothing for an answer met outside any tenant (empty id).
fn named(t: &str) -> String {
    if t.is_empty() {
        String::new()
    } else {
        format!(" for tenant '{t}'")
    }
}

fn for_tenant(t: &Option<String>) -> String {
    t.as_deref().map(|t| format!(" for tenant '{t}'")).unwrap_or_default()
}

fn summary(m: &Option<String>) -> String {
    m.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
}

impl Error {
    /// Every `code` an error of this package can carry: the core's, then the two the JS layer
    /// makes (`SDK_NOT_INSTALLED`, `UNKNOWN_METHOD`). The one list: the JS `ErrorCodes` is read
    /// from it and the typings are checked against it.
    pub const CODES: &'static [&'static str] = &[
        "UNKNOWN_TENANT",
        "TENANT_INVALID",
        "CONFIG_UNAVAILABLE",
        "HOST_NOT_ALLOWED",
        "AUTH_FAILED",
        "ORGANIZATION_MISMATCH",
        "PERMISSION_MISSING",
        "SCOPE_MISSING",
        "RATE_LIMITED",
        "UPSTREAM_ERROR",
        "NETWORK_ERROR",
        "PROXY_AUTH_FAILED",
        "TIMEOUT",
        "ABORTED",
        "TOO_MANY_PAGES",
        "CLOSED",
        "NOT_INITIALIZED",
        "INVALID_OPTIONS",
        "SDK_NOT_INSTALLED",
        "UNKNOWN_METHOD",
    ];

    /// `INVALID_OPTIONS` for `option` (as the caller wrote it) and why — naming the value's kind or
    /// range, never the value.
    ///
    /// ```
    /// let e = genesys_tenants_core::Error::invalid_option("pageSize", "must be a whole number between 1 and 10000");
    /// assert_eq!((e.code(), e.fields()["option"].as_str()), ("INVALID_OPTIONS", Some("pageSize")));
    /// ```
    pub fn invalid_option(option: &str, reason: impl Into<String>) -> Error {
        Error::InvalidOptions { option: option.into(), reason: reason.into() }
    }

    /// The stable code exposed to JS as `err.code`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::UnknownTenant { .. } => "UNKNOWN_TENANT",
            Error::TenantInvalid { .. } => "TENANT_INVALID",
            Error::ConfigUnavailable { .. } => "CONFIG_UNAVAILABLE",
            Error::HostNotAllowed { .. } => "HOST_NOT_ALLOWED",
            Error::AuthFailed { .. } => "AUTH_FAILED",
            Error::OrganizationMismatch { .. } => "ORGANIZATION_MISMATCH",
            Error::PermissionMissing { .. } => "PERMISSION_MISSING",
            Error::ScopeMissing { .. } => "SCOPE_MISSING",
            Error::RateLimited { .. } => "RATE_LIMITED",
            Error::Upstream { .. } => "UPSTREAM_ERROR",
            Error::Network { .. } => "NETWORK_ERROR",
            Error::ProxyAuthFailed { .. } => "PROXY_AUTH_FAILED",
            Error::Timeout { .. } => "TIMEOUT",
            Error::Aborted { .. } => "ABORTED",
            Error::TooManyPages { .. } => "TOO_MANY_PAGES",
            Error::Closed => "CLOSED",
            Error::NotInitialized => "NOT_INITIALIZED",
            Error::InvalidOptions { .. } => "INVALID_OPTIONS",
        }
    }

    /// The tenant the error concerns, when there is one.
    pub fn tenant_id(&self) -> Option<&str> {
        match self {
            Error::UnknownTenant { tenant_id }
            | Error::TenantInvalid { tenant_id, .. }
            | Error::AuthFailed { tenant_id, .. }
            | Error::OrganizationMismatch { tenant_id, .. }
            | Error::PermissionMissing { tenant_id, .. }
            | Error::ScopeMissing { tenant_id, .. }
            | Error::RateLimited { tenant_id, .. }
            | Error::Upstream { tenant_id, .. }
            | Error::TooManyPages { tenant_id, .. } => Some(tenant_id),
            Error::HostNotAllowed { tenant_id, .. }
            | Error::Network { tenant_id, .. }
            | Error::ProxyAuthFailed { tenant_id, .. }
            | Error::Timeout { tenant_id, .. }
            | Error::Aborted { tenant_id } => tenant_id.as_deref(),
            _ => None,
        }
    }

    /// The `inin-correlation-id` of the response behind the error, when there was one.
    pub fn correlation_id(&self) -> Option<&str> {
        match self {
            Error::AuthFailed { correlation_id, .. }
            | Error::PermissionMissing { correlation_id, .. }
            | Error::ScopeMissing { correlation_id, .. }
            | Error::RateLimited { correlation_id, .. }
            | Error::Upstream { correlation_id, .. } => correlation_id.as_deref(),
            _ => None,
        }
    }

    /// Sets the tenant on variants that may lack one (used when a lower layer did not know it).
    pub fn with_tenant(mut self, id: &str) -> Self {
        match &mut self {
            Error::HostNotAllowed { tenant_id, .. }
            | Error::Network { tenant_id, .. }
            | Error::ProxyAuthFailed { tenant_id, .. }
            | Error::Timeout { tenant_id, .. }
                if tenant_id.is_none() =>
            {
                *tenant_id = Some(id.to_string());
            }
            _ => {}
        }
        self
    }

    /// Structured fields for JS (camelCase), besides `code` and `message`.
    pub fn fields(&self) -> Map<String, Value> {
        let mut m = Map::new();
        if let Some(t) = self.tenant_id().filter(|t| !t.is_empty()) {
            m.insert("tenantId".into(), json!(t));
        }
        if let Some(c) = self.correlation_id() {
            m.insert("correlationId".into(), json!(c));
        }
        match self {
            Error::TenantInvalid { field, reason, .. } => {
                m.insert("field".into(), json!(field));
                m.insert("reason".into(), json!(reason));
            }
            Error::ConfigUnavailable { reason } => {
                m.insert("reason".into(), json!(reason));
            }
            Error::HostNotAllowed { host, reason, .. } => {
                m.insert("host".into(), json!(host));
                m.insert("reason".into(), json!(reason));
            }
            Error::AuthFailed { client_id, reason, status, .. } => {
                m.insert("clientId".into(), json!(client_id));
                m.insert("reason".into(), json!(reason));
                if let Some(s) = status {
                    m.insert("status".into(), json!(s));
                }
            }
            Error::OrganizationMismatch { client_id, expected, actual, .. } => {
                m.insert("clientId".into(), json!(client_id));
                m.insert("expectedOrganizationId".into(), json!(expected));
                m.insert("actualOrganizationId".into(), json!(actual));
            }
            Error::PermissionMissing { missing_permissions, mode, body, from_catalogue, .. } => {
                m.insert("missingPermissions".into(), json!(missing_permissions));
                m.insert("mode".into(), json!(mode.as_str()));
                m.insert("permissionsFrom".into(), json!(if *from_catalogue { "catalogue" } else { "server" }));
                m.insert("status".into(), json!(403));
                m.insert("body".into(), body.clone());
            }
            Error::ScopeMissing { missing_scopes, mode, preflight, status, body, .. } => {
                m.insert("missingScopes".into(), json!(missing_scopes));
                m.insert("mode".into(), json!(mode.as_str()));
                m.insert("preflight".into(), json!(preflight));
                if let Some(s) = status {
                    m.insert("status".into(), json!(s));
                    m.insert("body".into(), body.clone());
                }
            }
            Error::RateLimited { retry_after_ms, .. } => {
                m.insert("retryAfterMs".into(), json!(retry_after_ms));
                m.insert("status".into(), json!(429));
            }
            Error::Upstream { status, body, .. } => {
                m.insert("status".into(), json!(status));
                m.insert("body".into(), body.clone());
            }
            Error::Network { reason, .. } => {
                m.insert("reason".into(), json!(reason));
            }
            Error::ProxyAuthFailed { proxy, reason, .. } => {
                m.insert("proxy".into(), json!(proxy));
                m.insert("reason".into(), json!(reason));
                m.insert("status".into(), json!(407));
            }
            Error::Timeout { after_ms, what, .. } => {
                m.insert("timeoutMs".into(), json!(after_ms));
                m.insert("reason".into(), json!(what));
            }
            Error::TooManyPages { max_pages, .. } => {
                m.insert("maxPages".into(), json!(max_pages));
            }
            Error::InvalidOptions { option, reason } => {
                m.insert("option".into(), json!(option));
                m.insert("reason".into(), json!(reason));
            }
            _ => {}
        }
        m
    }
}

/// Result alias of the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        let e = Error::RateLimited { tenant_id: "t".into(), retry_after_ms: 1500, correlation_id: Some("c".into()) };
        assert_eq!(e.code(), "RATE_LIMITED");
        let f = e.fields();
        assert_eq!(f["retryAfterMs"], 1500);
        assert_eq!(f["tenantId"], "t");
        assert_eq!(f["correlationId"], "c");
        assert_eq!(Error::Closed.code(), "CLOSED");
    }

    #[test]
    fn every_variant_s_code_is_listed_once() {
        let t = || "t".to_string();
        let every = [
            Error::UnknownTenant { tenant_id: t() },
            Error::TenantInvalid { tenant_id: t(), field: t(), reason: t() },
            Error::ConfigUnavailable { reason: t() },
            Error::HostNotAllowed { tenant_id: None, host: t(), reason: t() },
            Error::AuthFailed { tenant_id: t(), client_id: t(), reason: t(), status: None, correlation_id: None },
            Error::OrganizationMismatch { tenant_id: t(), client_id: t(), expected: t(), actual: t() },
            Error::PermissionMissing {
                tenant_id: t(),
                missing_permissions: vec![],
                mode: PermissionMode::Any,
                message: t(),
                body: Value::Null,
                correlation_id: None,
                from_catalogue: false,
            },
            Error::ScopeMissing {
                tenant_id: t(),
                missing_scopes: vec![],
                mode: PermissionMode::Any,
                preflight: false,
                message: t(),
                status: None,
                body: Value::Null,
                correlation_id: None,
            },
            Error::RateLimited { tenant_id: t(), retry_after_ms: 1, correlation_id: None },
            Error::Upstream { tenant_id: t(), status: 500, body: Value::Null, message: None, correlation_id: None },
            Error::Network { tenant_id: None, reason: t() },
            Error::ProxyAuthFailed { tenant_id: None, proxy: t(), reason: t() },
            Error::Timeout { tenant_id: None, what: t(), after_ms: 1 },
            Error::Aborted { tenant_id: None },
            Error::TooManyPages { tenant_id: t(), max_pages: 1 },
            Error::Closed,
            Error::NotInitialized,
            Error::InvalidOptions { option: t(), reason: t() },
        ];
        let codes: Vec<&str> = every.iter().map(Error::code).collect();
        assert_eq!(codes, Error::CODES[..every.len()], "CODES lists the core's codes in order");
        let mut unique = Error::CODES.to_vec();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), Error::CODES.len());
    }

    #[test]
    fn with_tenant_fills_only_missing() {
        let e = Error::Network { tenant_id: None, reason: "refused".into() }.with_tenant("a");
        assert_eq!(e.tenant_id(), Some("a"));
        let e = Error::Network { tenant_id: Some("b".into()), reason: "x".into() }.with_tenant("a");
        assert_eq!(e.tenant_id(), Some("b"));
    }
}

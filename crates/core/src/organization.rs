//! Which organization a token belongs to: `GET /api/v2/tokens/me` (token introspection, which every
//! token may call; the published API definition lists no permission for `TokensApi.getTokensMe`).
//! The one probe behind a tenant pinned to its `organizationId` and behind the test of a staged
//! credential. Bounded in time and size; the answer's `organization.id` is believed only when it is
//! a UUID, and its error `code` printed only in Genesys's shape (a server may echo anything).

use crate::error::Error;
use crate::network::Http;
use crate::secret::Secret;
use crate::untrusted;
use std::time::Duration;

/// The probe's path under the API base.
pub const PROBE_PATH: &str = "api/v2/tokens/me";
/// Longest probe answer read.
pub const MAX_PROBE_BODY: usize = 256 * 1024;

/// Why the probe gave no organization id: what happened, and the HTTP status when there was an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeFailure {
    /// In words (no token, no server text beyond a Genesys-shaped code).
    pub reason: String,
    /// The answer's status, if any.
    pub status: Option<u16>,
}

impl ProbeFailure {
    fn new(reason: impl Into<String>, status: Option<u16>) -> Self {
        ProbeFailure { reason: reason.into(), status }
    }

    /// As the error of a call that could not be checked (`UPSTREAM_ERROR` with the status, else
    /// `NETWORK_ERROR`): a pinned tenant's calls wait for a check that works.
    pub fn into_error(self, tenant_id: &str) -> Error {
        let reason = format!("the organization check (GET /{PROBE_PATH}) failed: {}", self.reason);
        match self.status {
            Some(status) => Error::Upstream {
                tenant_id: tenant_id.into(),
                status,
                body: serde_json::Value::Null,
                message: Some(reason),
                correlation_id: None,
            },
            None => Error::Network { tenant_id: Some(tenant_id.into()), reason },
        }
    }
}

/// The `organization.id` of `token`, asked of the API at `api_base` (a URL ending in `/`), within
/// `timeout`; `observe` sees the answer's status and headers (a rate limiter learns from them).
pub async fn probe(
    http: &Http,
    api_base: &url::Url,
    token: &Secret,
    timeout: Duration,
    observe: &mut (dyn FnMut(u16, &reqwest::header::HeaderMap) + Send),
) -> Result<String, ProbeFailure> {
    let url = api_base.join(PROBE_PATH).map_err(|e| ProbeFailure::new(format!("probe URL: {e}"), None))?;
    let call = async {
        let resp = match http.get(url.clone()).bearer_auth(token.expose()).send().await {
            Ok(r) => r,
            Err(e) => {
                let reason = match http.proxy_refusal(&url, Err(&e)) {
                    Some(refused) => refused.to_string(),
                    None => http.describe(&url, &e, timeout),
                };
                return Err(ProbeFailure::new(reason, None));
            }
        };
        let status = resp.status().as_u16();
        observe(status, resp.headers());
        if let Some(refused) = http.proxy_refusal(&url, Ok(status)) {
            return Err(ProbeFailure::new(refused.to_string(), Some(status)));
        }
        let body =
            crate::transport::read_limited(resp, MAX_PROBE_BODY).await.map_err(|e| ProbeFailure::new(e.describe(timeout), Some(status)))?;
        if !(200..300).contains(&status) {
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let code = match v.get("code").and_then(|c| c.as_str()) {
                None => "no code",
                Some(c) => untrusted::error_code(c).unwrap_or("a code not of Genesys's shape"),
            };
            return Err(ProbeFailure::new(format!("GET /{PROBE_PATH} answered {status} ({code})"), Some(status)));
        }
        let v: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|_| ProbeFailure::new(format!("GET /{PROBE_PATH} answered {status} without JSON"), Some(status)))?;
        match v.pointer("/organization/id").and_then(|o| o.as_str()).and_then(untrusted::uuid) {
            Some(org) => Ok(org.to_ascii_lowercase()),
            None => {
                Err(ProbeFailure::new(format!("GET /{PROBE_PATH} answered {status} without an organization id (a UUID)"), Some(status)))
            }
        }
    };
    match tokio::time::timeout(timeout, call).await {
        Ok(r) => r,
        Err(_) => Err(ProbeFailure::new(format!("GET /{PROBE_PATH} did not answer within {} ms", timeout.as_millis()), None)),
    }
}

/// `ORGANIZATION_MISMATCH` when `actual` is not the organization `tenant` is pinned to.
pub fn mismatch(tenant_id: &str, client_id: &str, expected: &str, actual: &str) -> Option<Error> {
    (!expected.eq_ignore_ascii_case(actual)).then(|| Error::OrganizationMismatch {
        tenant_id: tenant_id.into(),
        client_id: client_id.into(),
        expected: expected.into(),
        actual: actual.into(),
    })
}

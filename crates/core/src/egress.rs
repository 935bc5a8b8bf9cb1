//! The egress guard: where a secret or token may be sent. `https://login.<env>` and
//! `https://api.<env>` of a known Genesys region, a host listed in `allowedHosts`, or the one
//! explicit gateway — checked before any connection is made. Plain http only via the gateway.

use crate::error::{Error, Result};
use crate::region::{known_environment, normalize_host};
use url::Url;

/// Send login and API traffic to one host instead of the region's (the emulator, or a corporate
/// egress gateway), like the official SDK's `setGateway`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gateway {
    /// `http` or `https`.
    pub protocol: String,
    /// Host name or IP.
    pub host: String,
    /// Port; the scheme's default when absent.
    pub port: Option<u16>,
    /// Path prefix for login traffic (SDK: `path_params_login`).
    pub path_params_login: Option<String>,
    /// Path prefix for API traffic (SDK: `path_params_api`).
    pub path_params_api: Option<String>,
}

impl Gateway {
    /// Checks the fields; `option` names the option in errors.
    pub fn validate(&self) -> Result<()> {
        let bad = |reason: &str| Error::InvalidOptions { option: "gateway".into(), reason: reason.into() };
        if self.protocol != "http" && self.protocol != "https" {
            return Err(bad("protocol must be 'http' or 'https'"));
        }
        if self.host.trim().is_empty() || self.host.contains(['/', ' ', '@', '?', '#']) {
            return Err(bad("host must be a bare host name or IP address"));
        }
        self.base(None).map(|_| ())
    }

    fn base(&self, path: Option<&str>) -> Result<Url> {
        let host = if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let port = self.port.map(|p| format!(":{p}")).unwrap_or_default();
        let path = path.map(|p| p.trim_matches('/')).filter(|p| !p.is_empty());
        let raw = match path {
            Some(p) => format!("{}://{host}{port}/{p}/", self.protocol),
            None => format!("{}://{host}{port}/", self.protocol),
        };
        Url::parse(&raw).map_err(|e| Error::InvalidOptions { option: "gateway".into(), reason: e.to_string() })
    }
}

/// Where one tenant's traffic goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// The token URL (`…/oauth/token`).
    pub token_url: Url,
    /// The API base, ending in `/` (paths like `api/v2/users` join onto it).
    pub api_base: Url,
}

impl Endpoints {
    /// The URL for an API path such as `/api/v2/users`, refusing anything that would leave the
    /// API host (absolute URLs to other hosts, scheme-relative `//host` paths).
    pub fn api_url(&self, path: &str) -> Result<Url> {
        if path.starts_with("http://") || path.starts_with("https://") {
            let url = Url::parse(path).map_err(|e| Error::HostNotAllowed {
                tenant_id: None,
                host: path.chars().take(80).collect(),
                reason: format!("not a valid URL: {e}"),
            })?;
            if url.origin() != self.api_base.origin() {
                return Err(Error::HostNotAllowed {
                    tenant_id: None,
                    host: url.host_str().unwrap_or_default().to_string(),
                    reason: format!("only {} may receive this tenant's token", origin(&self.api_base)),
                });
            }
            return Ok(url);
        }
        if path.starts_with("//") {
            return Err(Error::HostNotAllowed {
                tenant_id: None,
                host: path.chars().take(80).collect(),
                reason: "scheme-relative URLs are not allowed; pass a path such as /api/v2/users".into(),
            });
        }
        self.api_base
            .join(path.trim_start_matches('/'))
            .map_err(|e| Error::HostNotAllowed { tenant_id: None, host: path.chars().take(80).collect(), reason: e.to_string() })
    }
}

fn origin(u: &Url) -> String {
    u.origin().ascii_serialization()
}

/// The allowed destinations for secrets and tokens.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EgressPolicy {
    /// When set, all login and API traffic goes here.
    pub gateway: Option<Gateway>,
    /// Extra environment hosts allowed besides the Genesys regions (https only).
    pub allowed_hosts: Vec<String>,
}

impl EgressPolicy {
    /// Resolves a configured region value to its environment host, or refuses it.
    pub fn environment_for(&self, region: &str) -> Result<String> {
        if let Some(env) = known_environment(region) {
            return Ok(env.to_string());
        }
        let host = normalize_host(region);
        if self.allowed_hosts.iter().any(|h| normalize_host(h) == host) {
            return Ok(host);
        }
        Err(Error::HostNotAllowed {
            tenant_id: None,
            host,
            reason: "not a Genesys Cloud region and not listed in allowedHosts".into(),
        })
    }

    /// The endpoints for an environment host returned by [`EgressPolicy::environment_for`].
    ///
    /// ```
    /// use genesys_tenants_core::egress::EgressPolicy;
    /// let e = EgressPolicy::default().endpoints("mypurecloud.ie").unwrap();
    /// assert_eq!(e.token_url.as_str(), "https://login.mypurecloud.ie/oauth/token");
    /// assert_eq!(e.api_url("/api/v2/users").unwrap().as_str(), "https://api.mypurecloud.ie/api/v2/users");
    /// ```
    pub fn endpoints(&self, environment: &str) -> Result<Endpoints> {
        let (login, api) = match &self.gateway {
            Some(g) => (g.base(g.path_params_login.as_deref())?, g.base(g.path_params_api.as_deref())?),
            None => {
                let parse = |h: String| {
                    Url::parse(&h).map_err(|e| Error::HostNotAllowed {
                        tenant_id: None,
                        host: environment.to_string(),
                        reason: e.to_string(),
                    })
                };
                (parse(format!("https://login.{environment}/"))?, parse(format!("https://api.{environment}/"))?)
            }
        };
        let token_url = login
            .join("oauth/token")
            .map_err(|e| Error::HostNotAllowed { tenant_id: None, host: login.to_string(), reason: e.to_string() })?;
        Ok(Endpoints { token_url, api_base: api })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gw() -> Gateway {
        Gateway { protocol: "http".into(), host: "127.0.0.1".into(), port: Some(8080), path_params_login: None, path_params_api: None }
    }

    #[test]
    fn gateway_routes_everything_to_one_host() {
        let p = EgressPolicy { gateway: Some(gw()), allowed_hosts: vec![] };
        let e = p.endpoints("mypurecloud.de").unwrap();
        assert_eq!(e.token_url.as_str(), "http://127.0.0.1:8080/oauth/token");
        assert_eq!(e.api_url("api/v2/users?x=1").unwrap().as_str(), "http://127.0.0.1:8080/api/v2/users?x=1");
    }

    #[test]
    fn gateway_path_params() {
        let mut g = gw();
        g.path_params_login = Some("/login".into());
        g.path_params_api = Some("api-gw/".into());
        let e = EgressPolicy { gateway: Some(g), allowed_hosts: vec![] }.endpoints("mypurecloud.com").unwrap();
        assert_eq!(e.token_url.as_str(), "http://127.0.0.1:8080/login/oauth/token");
        assert_eq!(e.api_url("/api/v2/users").unwrap().as_str(), "http://127.0.0.1:8080/api-gw/api/v2/users");
    }

    #[test]
    fn foreign_hosts_are_refused() {
        let p = EgressPolicy::default();
        let err = p.environment_for("evil.example.com").unwrap_err();
        assert_eq!(err.code(), "HOST_NOT_ALLOWED");
        let p = EgressPolicy { gateway: None, allowed_hosts: vec!["genesys.corp.example".into()] };
        assert_eq!(p.environment_for("https://api.genesys.corp.example").unwrap(), "genesys.corp.example");
    }

    #[test]
    fn absolute_urls_must_stay_on_the_api_host() {
        let e = EgressPolicy::default().endpoints("mypurecloud.com").unwrap();
        assert!(e.api_url("https://api.mypurecloud.com/api/v2/users?pageNumber=2").is_ok());
        assert_eq!(e.api_url("https://evil.example.com/api/v2/users").unwrap_err().code(), "HOST_NOT_ALLOWED");
        assert_eq!(e.api_url("http://api.mypurecloud.com/api/v2/users").unwrap_err().code(), "HOST_NOT_ALLOWED");
        assert_eq!(e.api_url("//evil.example.com/x").unwrap_err().code(), "HOST_NOT_ALLOWED");
    }

    #[test]
    fn bad_gateways_are_invalid_options() {
        let mut g = gw();
        g.protocol = "ftp".into();
        assert_eq!(g.validate().unwrap_err().code(), "INVALID_OPTIONS");
        let mut g = gw();
        g.host = "a/b".into();
        assert_eq!(g.validate().unwrap_err().code(), "INVALID_OPTIONS");
    }
}

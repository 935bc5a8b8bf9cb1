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
        let host = if self.host.contains(':') && !self.host.starts_with('[') { format!("[{}]", self.host) } else { self.host.clone() };
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

/// Longest API path (with its query) accepted from a caller or a server.
pub const MAX_PATH_LEN: usize = 8 * 1024;

/// The prefix every Platform API path has.
pub const API_PREFIX: &str = "api/v2/";

/// Checks that `raw` is a Platform API path — `/api/v2/…`, optionally with a query — and nothing a
/// URL parser could read as another host: no scheme (`HTTP://h`, `https:h`), no `//h` or `\\h`, no
/// backslash, whitespace or control character anywhere (parsers strip or reinterpret them), no
/// fragment. Pure; [`Endpoints::api_url`] also checks where the joined URL lands.
///
/// ```
/// use genesys_tenants_core::egress::check_api_path;
/// assert!(check_api_path("/api/v2/users?pageNumber=2").is_ok());
/// assert!(check_api_path("HTTP://127.0.0.1:9999/x").is_err());
/// assert!(check_api_path(" http://evil.example/api/v2/x").is_err());
/// assert!(check_api_path("\\\\evil.example/api/v2/x").is_err());
/// ```
pub fn check_api_path(raw: &str) -> std::result::Result<(), String> {
    if raw.is_empty() {
        return Err("is empty; pass a path such as /api/v2/users".into());
    }
    if raw.len() > MAX_PATH_LEN {
        return Err(format!("is longer than {MAX_PATH_LEN} bytes"));
    }
    if let Some(c) = raw.chars().find(|c| c.is_control() || c.is_whitespace() || *c == '\\') {
        return Err(format!("contains {}; a URL parser would strip or reinterpret it", describe_char(c)));
    }
    if raw.contains('#') {
        return Err("contains a fragment ('#')".into());
    }
    let rel = raw.strip_prefix('/').unwrap_or(raw);
    let path = rel.split('?').next().unwrap_or("");
    if path.split('/').any(|seg| matches!(seg.to_ascii_lowercase().replace("%2e", ".").as_str(), "." | "..")) {
        return Err("contains a '.' or '..' segment".into());
    }
    if !rel.starts_with(API_PREFIX) {
        return Err(
            "must be a path under /api/v2/ on the tenant's API host (absolute URLs, other hosts and other paths are refused)".into()
        );
    }
    Ok(())
}

fn describe_char(c: char) -> String {
    match c {
        '\\' => "a backslash".into(),
        '\0' => "a NUL character".into(),
        c if c.is_whitespace() => format!("whitespace (U+{:04X})", c as u32),
        c => format!("a control character (U+{:04X})", c as u32),
    }
}

impl Endpoints {
    /// The URL for an API path such as `/api/v2/users`: the path must pass [`check_api_path`], and
    /// the URL it joins to must be on the API host, under `/api/v2/` (a `..` cannot climb out).
    /// Anything else is `INVALID_OPTIONS` (`option: 'path'`), before any connection.
    pub fn api_url(&self, path: &str) -> Result<Url> {
        let bad = |reason: String| Error::InvalidOptions { option: "path".into(), reason };
        check_api_path(path).map_err(|r| bad(format!("{}: {r}", quoted(path))))?;
        let url = self.api_base.join(path.trim_start_matches('/')).map_err(|e| bad(format!("{}: {e}", quoted(path))))?;
        self.verify_api_url(&url).map_err(|r| bad(format!("{}: {r}", quoted(path))))?;
        Ok(url)
    }

    /// The egress check on a final URL, run before every attempt: same origin as the API base
    /// (scheme, host, port) and a path under its `api/v2/`.
    pub fn verify_api_url(&self, url: &Url) -> std::result::Result<(), String> {
        if url.origin() != self.api_base.origin() {
            return Err(format!("only {} may receive this tenant's token", origin(&self.api_base)));
        }
        if url.username() != "" || url.password().is_some() {
            return Err("URLs with credentials are refused".into());
        }
        let prefix = format!("{}{API_PREFIX}", self.api_base.path());
        if !url.path().starts_with(&prefix) {
            return Err(format!("resolves to {}, outside {prefix}", url.path()));
        }
        Ok(())
    }
}

/// Longest channel URI accepted from the server.
pub const MAX_STREAM_URL_LEN: usize = 2048;

impl EgressPolicy {
    /// The egress check on a notification channel's `connectUri`, before any connection: `wss://` on
    /// the environment's `streaming.` host (port 443), or — with a gateway — the gateway's host and
    /// port (`ws://` under an `http` gateway, `wss://` under `https`). No credentials, no fragment.
    /// Anything else is `HOST_NOT_ALLOWED`: the server's answer is not trusted to name where we connect.
    ///
    /// ```
    /// use genesys_tenants_core::egress::EgressPolicy;
    /// let p = EgressPolicy::default();
    /// assert!(p.verify_stream_url("mypurecloud.de", "wss://streaming.mypurecloud.de/channels/streaming-0-ab").is_ok());
    /// assert!(p.verify_stream_url("mypurecloud.de", "wss://evil.example/channels/x").is_err());
    /// assert!(p.verify_stream_url("mypurecloud.de", "ws://streaming.mypurecloud.de/channels/x").is_err());
    /// ```
    pub fn verify_stream_url(&self, environment: &str, raw: &str) -> Result<Url> {
        let refuse = |host: String, reason: &str| Error::HostNotAllowed { tenant_id: None, host, reason: reason.into() };
        if raw.len() > MAX_STREAM_URL_LEN || raw.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\') {
            return Err(refuse("(connectUri)".into(), "the channel's connectUri is not a plain URL"));
        }
        let url = Url::parse(raw).map_err(|_| refuse("(connectUri)".into(), "the channel's connectUri is not a URL"))?;
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        // The URL parser gives a normalized host (lower case, punycode): printable as it is, bounded.
        let shown: String = host.chars().take(253).collect();
        if url.username() != "" || url.password().is_some() || url.fragment().is_some() {
            return Err(refuse(shown, "a connectUri with credentials or a fragment is refused"));
        }
        let (scheme, want_host, want_port) = match &self.gateway {
            Some(g) => {
                let scheme = if g.protocol == "http" { "ws" } else { "wss" };
                let default = if g.protocol == "http" { 80 } else { 443 };
                (scheme, g.host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase(), g.port.unwrap_or(default))
            }
            None => ("wss", format!("streaming.{environment}"), 443),
        };
        let url_host = host.trim_start_matches('[').trim_end_matches(']');
        if url.scheme() != scheme || url_host != want_host || url.port_or_known_default() != Some(want_port) {
            return Err(refuse(
                shown,
                &format!("a notification channel may only be reached at {scheme}://{want_host}:{want_port} (the tenant's streaming host)"),
            ));
        }
        Ok(url)
    }
}

/// A value for a message: quoted, at most 80 characters, control characters escaped.
pub(crate) fn quoted(value: &str) -> String {
    let short: String = value.chars().take(80).collect();
    let more = if value.chars().count() > 80 { "…" } else { "" };
    format!("{}{more}", serde_json::to_string(&short).unwrap_or_default())
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
        Err(Error::HostNotAllowed { tenant_id: None, host, reason: "not a Genesys Cloud region and not listed in allowedHosts".into() })
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
        let token_url = login.join("oauth/token").map_err(|e| Error::HostNotAllowed {
            tenant_id: None,
            host: login.to_string(),
            reason: e.to_string(),
        })?;
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

    /// Every form an adversarial run used to send a token elsewhere, under a plain-http gateway
    /// and under a region's https host.
    const HOSTILE_PATHS: &[&str] = &[
        "HTTP://127.0.0.1:9999/x",
        "Http://127.0.0.1:9999/api/v2/x",
        "http://127.0.0.1:9999/api/v2/x",
        "http:\\\\127.0.0.1:9999/api/v2/x",
        "\\\\127.0.0.1:9999/api/v2/x",
        "\\/127.0.0.1:9999/api/v2/x",
        "/\\127.0.0.1:9999/api/v2/x",
        "//127.0.0.1:9999/api/v2/x",
        " http://127.0.0.1:9999/api/v2/x",
        "\thttp://127.0.0.1:9999/api/v2/x",
        "\nhttp://127.0.0.1:9999/api/v2/x",
        "\0http://127.0.0.1:9999/api/v2/x",
        "hTTps://evil.example/api/v2/x",
        "https://evil.example/api/v2/x",
        "https:/evil.example/api/v2/x",
        "https:evil.example/api/v2/x",
        "https://api.mypurecloud.com/api/v2/users",
        "https://api.mypurecloud.com@evil.example/api/v2/users",
        "/api/v2/../../x",
        "/api/v2/%2e%2e/%2e%2e/x",
        "/api/v2/users#frag",
        "/api/v2/us ers",
        "/api/v2/users\u{2028}",
        "/oauth/token",
        "/",
        "",
        "api/v3/x",
    ];

    #[test]
    fn only_api_paths_on_the_api_host_are_accepted() {
        let https = EgressPolicy::default().endpoints("mypurecloud.com").unwrap();
        let http = EgressPolicy { gateway: Some(gw()), allowed_hosts: vec![] }.endpoints("mypurecloud.com").unwrap();
        for e in [&https, &http] {
            for p in HOSTILE_PATHS {
                match e.api_url(p) {
                    Err(Error::InvalidOptions { option, .. }) => assert_eq!(option, "path", "{p:?}"),
                    other => panic!("{p:?} under {} gave {other:?}", e.api_base),
                }
            }
            for ok in ["/api/v2/users", "api/v2/users?pageNumber=2&x=%2F", "/api/v2/users/search?q64=eyJhIjoxfQ=="] {
                let url = e.api_url(ok).unwrap();
                assert_eq!(url.origin(), e.api_base.origin(), "{ok}");
                assert!(url.path().starts_with("/api/v2/"), "{ok}");
            }
        }
    }

    #[test]
    fn the_final_url_is_checked_too() {
        let mut g = gw();
        g.path_params_api = Some("gw".into());
        let e = EgressPolicy { gateway: Some(g), allowed_hosts: vec![] }.endpoints("mypurecloud.com").unwrap();
        assert_eq!(e.api_url("/api/v2/users").unwrap().as_str(), "http://127.0.0.1:8080/gw/api/v2/users");
        assert!(e.verify_api_url(&Url::parse("http://127.0.0.1:8080/gw/api/v2/x").unwrap()).is_ok());
        assert!(e.verify_api_url(&Url::parse("http://127.0.0.1:8080/api/v2/x").unwrap()).is_err(), "outside the gateway's prefix");
        assert!(e.verify_api_url(&Url::parse("http://127.0.0.1:9999/gw/api/v2/x").unwrap()).is_err(), "another port");
        assert!(e.verify_api_url(&Url::parse("https://127.0.0.1:8080/gw/api/v2/x").unwrap()).is_err(), "another scheme");
        assert!(e.verify_api_url(&Url::parse("http://u:p@127.0.0.1:8080/gw/api/v2/x").unwrap()).is_err(), "credentials");
    }

    #[test]
    fn a_channel_uri_must_be_the_streaming_host_or_the_gateway() {
        let region = EgressPolicy::default();
        let ok = "wss://streaming.mypurecloud.com/channels/streaming-0-ab";
        assert!(region.verify_stream_url("mypurecloud.com", ok).is_ok());
        for bad in [
            "wss://streaming.mypurecloud.de/channels/x",
            "wss://streaming.mypurecloud.com:8443/channels/x",
            "wss://u:p@streaming.mypurecloud.com/channels/x",
            "wss://streaming.mypurecloud.com/channels/x#f",
            "wss://streaming.mypurecloud.com.evil.example/channels/x",
            "https://streaming.mypurecloud.com/channels/x",
            " wss://streaming.mypurecloud.com/channels/x",
            "wss://api.mypurecloud.com/channels/x",
            "not a url",
        ] {
            assert_eq!(region.verify_stream_url("mypurecloud.com", bad).unwrap_err().code(), "HOST_NOT_ALLOWED", "{bad}");
        }
        let gateway = EgressPolicy { gateway: Some(gw()), allowed_hosts: vec![] };
        assert!(gateway.verify_stream_url("mypurecloud.com", "ws://127.0.0.1:8080/channels/x").is_ok());
        assert!(gateway.verify_stream_url("mypurecloud.com", "wss://127.0.0.1:8080/channels/x").is_err(), "another scheme");
        assert!(gateway.verify_stream_url("mypurecloud.com", "ws://127.0.0.1:8081/channels/x").is_err(), "another port");
        assert!(gateway.verify_stream_url("mypurecloud.com", ok).is_err(), "the region's host, with a gateway set");
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

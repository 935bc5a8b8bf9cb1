//! Which proxy a request goes through. One rule for the config service, login and API traffic:
//! the `proxy` option when it is set (`false`: none), else the environment the way curl and Node
//! read it (`https_proxy`/`HTTPS_PROXY` for https targets, `http_proxy`/`HTTP_PROXY` for http ones,
//! `all_proxy`/`ALL_PROXY` for both; lower case first; `no_proxy`/`NO_PROXY` exempts hosts).
//! Loopback targets are never proxied unless the `proxy` option says `proxyLoopback: true`.

use super::no_proxy::{is_loopback, NoProxy};
use super::Environment;
use crate::error::{Error, Result};
use crate::redact::ConfiguredSecrets;
use crate::secret::Secret;
use base64::Engine;

/// The `proxy` option.
#[derive(Debug, Clone, Default)]
pub enum ProxyOption {
    /// Read `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (either case) once, when the
    /// orchestrator is built (the default).
    #[default]
    Environment,
    /// No proxy, whatever the environment says (`proxy: false`).
    Off,
    /// This proxy, whatever the environment says.
    Explicit(ProxySettings),
}

/// An explicit proxy: `{ url, noProxy, proxyLoopback }`.
#[derive(Debug, Clone)]
pub struct ProxySettings {
    /// `http://[user:password@]host:port` (or `https://` for TLS to the proxy itself). A secret: it
    /// may hold the proxy's password.
    pub url: Secret,
    /// Hosts sent directly, in `NO_PROXY`'s syntax (each string may hold several entries).
    pub no_proxy: Vec<String>,
    /// Send loopback targets (`localhost`, 127.0.0.0/8, `::1`) through the proxy too. Default false.
    pub proxy_loopback: bool,
}

impl ProxyOption {
    /// Checks the explicit settings (the environment is read, and checked, when the orchestrator is built).
    pub fn validate(&self) -> Result<()> {
        if let ProxyOption::Explicit(s) = self {
            ProxyEndpoint::parse(s.url.expose(), "proxy.url")?;
            NoProxy::strict(s.no_proxy.iter().map(String::as_str)).map_err(|i| Error::InvalidOptions {
                option: format!("proxy.noProxy[{i}]"),
                reason: "is not a host, host:port, IP address, address block (10.0.0.0/8) or '*'".into(),
            })?;
        }
        Ok(())
    }
}

/// A proxy: its address as printed (no credentials) and as reqwest is given it (with them).
#[derive(Clone)]
pub struct ProxyEndpoint {
    shown: String,
    with_credentials: Secret,
    has_credentials: bool,
}

impl std::fmt::Debug for ProxyEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

impl ProxyEndpoint {
    /// Reads a proxy URL (`host:port` alone means `http://host:port`, as in curl); `option` names
    /// where it came from in errors, which never quote the value (it may hold a password).
    pub fn parse(raw: &str, option: &str) -> Result<ProxyEndpoint> {
        let bad = |reason: &str| Error::InvalidOptions { option: option.into(), reason: reason.into() };
        let raw = raw.trim();
        let with_scheme = if raw.contains("://") { raw.to_string() } else { format!("http://{raw}") };
        let url = url::Url::parse(&with_scheme).map_err(|_| bad("is not a proxy URL (http://[user:password@]host:port)"))?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(bad("must be an http:// or https:// proxy URL (SOCKS proxies are not supported)"));
        }
        let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
            return Err(bad("has no host"));
        };
        if (url.path() != "/" && !url.path().is_empty()) || url.query().is_some() || url.fragment().is_some() {
            return Err(bad("must be a proxy's address (scheme://[user:password@]host:port), without a path or query"));
        }
        let port = url.port_or_known_default().unwrap_or(80);
        Ok(ProxyEndpoint {
            shown: format!("{}://{host}:{port}", url.scheme()),
            has_credentials: !url.username().is_empty() || url.password().is_some(),
            with_credentials: Secret::new(url.as_str()),
        })
    }

    /// The proxy's address without credentials, e.g. `http://proxy.corp:3128`.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// True when its URL carries a user name or password (sent as `Proxy-Authorization: Basic`).
    pub fn has_credentials(&self) -> bool {
        self.has_credentials
    }

    /// The URL with its credentials, for the HTTP client only.
    pub(super) fn for_client(&self) -> &str {
        self.with_credentials.expose()
    }

    /// The password in every form a text could carry it: as written, percent-decoded, and the
    /// `Proxy-Authorization` value's base64 of `user:password`.
    fn secrets(&self, into: &mut ConfiguredSecrets) {
        let Ok(url) = url::Url::parse(self.with_credentials.expose()) else { return };
        let Some(pw) = url.password() else { return };
        into.push_url_component(pw);
        let pair = zeroize::Zeroizing::new(format!("{}:{}", percent_decoded(url.username()).as_str(), percent_decoded(pw).as_str()));
        for engine in [&base64::engine::general_purpose::STANDARD, &base64::engine::general_purpose::STANDARD_NO_PAD] {
            into.push(&zeroize::Zeroizing::new(engine.encode(pair.as_bytes())));
        }
    }
}

/// `%XX` decoded, `+` kept (what the HTTP client does to a proxy URL's userinfo).
pub(super) fn percent_decoded(s: &str) -> zeroize::Zeroizing<String> {
    let as_form = zeroize::Zeroizing::new(format!("x={}", s.replace('+', "%2B")));
    zeroize::Zeroizing::new(url::form_urlencoded::parse(as_form.as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default())
}

/// Where each request goes: the rule made from the `proxy` option or the environment.
#[derive(Debug, Clone, Default)]
pub struct ProxyRules {
    https: Option<ProxyEndpoint>,
    http: Option<ProxyEndpoint>,
    no_proxy: NoProxy,
    loopback: bool,
}

/// The first non-empty value of `names` in `env`, with the name it was found under.
fn first(env: &Environment, names: &[&'static str]) -> Option<(&'static str, String)> {
    names.iter().find_map(|n| env.var(n).map(|v| (*n, v)))
}

impl ProxyRules {
    /// The rule for `option`, reading `env` when the option leaves it to the environment. A proxy
    /// variable that is not a usable proxy URL is `INVALID_OPTIONS` naming the variable.
    pub fn new(option: &ProxyOption, env: &Environment) -> Result<ProxyRules> {
        match option {
            ProxyOption::Off => Ok(ProxyRules::default()),
            ProxyOption::Explicit(s) => {
                let p = ProxyEndpoint::parse(s.url.expose(), "proxy.url")?;
                let no_proxy = NoProxy::strict(s.no_proxy.iter().map(String::as_str)).map_err(|i| Error::InvalidOptions {
                    option: format!("proxy.noProxy[{i}]"),
                    reason: "is not a host, host:port, IP address, address block (10.0.0.0/8) or '*'".into(),
                })?;
                Ok(ProxyRules { https: Some(p.clone()), http: Some(p), no_proxy, loopback: s.proxy_loopback })
            }
            ProxyOption::Environment => {
                let read = |names: &[&'static str]| -> Result<Option<ProxyEndpoint>> {
                    first(env, names).map(|(name, v)| ProxyEndpoint::parse(&v, name)).transpose()
                };
                let all = read(&["all_proxy", "ALL_PROXY"])?;
                let https = read(&["https_proxy", "HTTPS_PROXY"])?.or_else(|| all.clone());
                let http = read(&["http_proxy", "HTTP_PROXY"])?.or(all);
                let no_proxy = first(env, &["no_proxy", "NO_PROXY"]).map(|(_, v)| NoProxy::lenient(&v)).unwrap_or_default();
                Ok(ProxyRules { https, http, no_proxy, loopback: false })
            }
        }
    }

    /// The proxy `url` goes through, or `None` for a direct connection.
    ///
    /// ```
    /// use genesys_tenants_core::network::{Environment, ProxyOption, ProxyRules};
    /// let env = Environment::fixed([("HTTPS_PROXY", "http://proxy.corp:3128"), ("NO_PROXY", ".corp")]);
    /// let rules = ProxyRules::new(&ProxyOption::Environment, &env).unwrap();
    /// let via = |u: &str| rules.proxy_for(&url::Url::parse(u).unwrap()).map(|p| p.shown().to_string());
    /// assert_eq!(via("https://api.mypurecloud.ie/api/v2/users").as_deref(), Some("http://proxy.corp:3128"));
    /// assert_eq!(via("https://config.corp/api/v1/genesys/tenants"), None);
    /// assert_eq!(via("http://127.0.0.1:8080/"), None);
    /// ```
    pub fn proxy_for(&self, url: &url::Url) -> Option<&ProxyEndpoint> {
        let proxy = match url.scheme() {
            "https" => self.https.as_ref(),
            "http" => self.http.as_ref(),
            _ => None,
        }?;
        if (!self.loopback && is_loopback(url)) || self.no_proxy.matches(url) {
            return None;
        }
        Some(proxy)
    }

    /// True when any request could be proxied.
    pub fn any(&self) -> bool {
        self.https.is_some() || self.http.is_some()
    }

    /// Every proxy password (in each form a text could carry it), to redact.
    pub fn secrets(&self, into: &mut ConfiguredSecrets) {
        for p in self.https.iter().chain(self.http.iter()) {
            p.secrets(into);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(pairs: &[(&str, &str)]) -> ProxyRules {
        ProxyRules::new(&ProxyOption::Environment, &Environment::fixed(pairs.iter().copied())).unwrap()
    }

    fn via(r: &ProxyRules, u: &str) -> Option<String> {
        r.proxy_for(&url::Url::parse(u).unwrap()).map(|p| p.shown().to_string())
    }

    #[test]
    fn the_environment_is_read_lower_case_first_by_scheme_with_all_proxy_as_fallback() {
        let r = rules(&[("HTTPS_PROXY", "http://upper:1"), ("https_proxy", "http://lower:2"), ("HTTP_PROXY", "plain:3")]);
        assert_eq!(via(&r, "https://api.mypurecloud.com/").as_deref(), Some("http://lower:2"));
        assert_eq!(via(&r, "http://gw.example/").as_deref(), Some("http://plain:3"), "scheme-less means http://");
        let r = rules(&[("ALL_PROXY", "http://all:4"), ("HTTP_PROXY", "http://h:5")]);
        assert_eq!(via(&r, "https://api.mypurecloud.com/").as_deref(), Some("http://all:4"));
        assert_eq!(via(&r, "http://gw.example/").as_deref(), Some("http://h:5"));
        let r = rules(&[("HTTPS_PROXY", " "), ("HTTP_PROXY", "")]);
        assert!(!r.any(), "empty values are unset");
        assert_eq!(via(&rules(&[("HTTPS_PROXY", "http://p")]), "https://x.example/").as_deref(), Some("http://p:80"));
    }

    #[test]
    fn loopback_and_no_proxy_go_direct_unless_the_option_asks() {
        let r = rules(&[("HTTPS_PROXY", "http://p:1"), ("HTTP_PROXY", "http://p:1"), ("no_proxy", "config.corp:8443,10.0.0.0/8")]);
        for direct in ["http://127.0.0.1:8080/", "https://localhost/", "http://[::1]:9/", "https://config.corp:8443/", "http://10.9.9.9/"] {
            assert_eq!(via(&r, direct), None, "{direct}");
        }
        assert!(via(&r, "https://config.corp/").is_some(), "another port of a host:port entry is proxied");
        let explicit = |no_proxy: Vec<String>, proxy_loopback| {
            ProxyOption::Explicit(ProxySettings { url: Secret::new("http://u:p@proxy:3128"), no_proxy, proxy_loopback })
        };
        let env = Environment::fixed([("HTTPS_PROXY", "http://env:1"), ("NO_PROXY", "*")]);
        let r = ProxyRules::new(&explicit(vec![], false), &env).unwrap();
        assert_eq!(via(&r, "https://api.mypurecloud.com/").as_deref(), Some("http://proxy:3128"), "the option wins over the environment");
        assert_eq!(via(&r, "http://127.0.0.1:1/"), None);
        let r = ProxyRules::new(&explicit(vec!["127.0.0.1:7".into()], true), &env).unwrap();
        assert_eq!(via(&r, "http://127.0.0.1:1/").as_deref(), Some("http://proxy:3128"));
        assert_eq!(via(&r, "http://127.0.0.1:7/"), None);
        assert!(!ProxyRules::new(&ProxyOption::Off, &env).unwrap().any(), "proxy: false ignores the environment");
    }

    #[test]
    fn bad_proxy_urls_name_their_source_and_never_quote_it() {
        let cases = [
            ("HTTPS_PROXY", "socks5://u:hunter2@p:1080"),
            ("http_proxy", "http://u:hunter2@p:3128/path"),
            ("ALL_PROXY", "http://u:hunter2@:1"),
        ];
        for (name, value) in cases {
            match ProxyRules::new(&ProxyOption::Environment, &Environment::fixed([(name, value)])) {
                Err(Error::InvalidOptions { option, reason }) => {
                    assert_eq!(option, name);
                    assert!(!reason.contains("hunter2"), "{reason}");
                }
                other => panic!("{name}: {other:?}"),
            }
        }
        let e = ProxyOption::Explicit(ProxySettings { url: Secret::new("ftp://x"), no_proxy: vec![], proxy_loopback: false });
        assert!(matches!(e.validate(), Err(Error::InvalidOptions { option, .. }) if option == "proxy.url"));
        let e = ProxyOption::Explicit(ProxySettings {
            url: Secret::new("http://x"),
            no_proxy: vec!["ok".into(), "a/b".into()],
            proxy_loopback: false,
        });
        assert!(matches!(e.validate(), Err(Error::InvalidOptions { option, .. }) if option == "proxy.noProxy[1]"));
    }

    #[test]
    fn the_password_is_known_in_every_form_and_never_shown() {
        let p = ProxyEndpoint::parse("http://svc%40corp:p%40ss+w0rd@proxy:3128", "proxy.url").unwrap();
        assert_eq!(p.shown(), "http://proxy:3128");
        assert_eq!(format!("{p:?}"), "http://proxy:3128");
        assert!(p.has_credentials());
        let mut s = ConfiguredSecrets::default();
        p.secrets(&mut s);
        let basic = base64::engine::general_purpose::STANDARD.encode("svc@corp:p@ss+w0rd");
        let mut text = format!("a p%40ss+w0rd b p@ss+w0rd c Basic {basic}");
        s.redact_string(&mut text);
        assert_eq!(text, "a [redacted] b [redacted] c Basic [redacted]");
    }
}

//! `NO_PROXY` lists, read the way curl and Node read them: comma- or space-separated entries, each
//! a domain (`example.com`, `.example.com` and `*.example.com` all mean the domain and every
//! subdomain), a `host:port`, an IP address (`10.1.2.3`, `::1`, `[::1]:8443`), an address block
//! (`10.0.0.0/8`, `fd00::/8`), or `*` (nothing is proxied). Case does not matter; a trailing dot of
//! a host is ignored.

use std::net::IpAddr;
use url::Host;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    /// `*`.
    Everything,
    /// A domain and its subdomains, on any port or on one.
    Domain { name: String, port: Option<u16> },
    /// One address, on any port or on one.
    Ip { addr: IpAddr, port: Option<u16> },
    /// An address block.
    Block { net: IpAddr, prefix: u8 },
}

impl Entry {
    /// One entry, or `None` when it cannot be read (the environment's are then skipped, as curl
    /// skips them; the `proxy` option's are refused).
    fn parse(raw: &str) -> Option<Entry> {
        let e = raw.trim().to_ascii_lowercase();
        if e.is_empty() {
            return None;
        }
        if e == "*" {
            return Some(Entry::Everything);
        }
        if let Some((net, prefix)) = e.split_once('/') {
            let net: IpAddr = net.trim_start_matches('[').trim_end_matches(']').parse().ok()?;
            let prefix: u8 = prefix.parse().ok()?;
            let max = if net.is_ipv4() { 32 } else { 128 };
            return (prefix <= max).then_some(Entry::Block { net, prefix });
        }
        if let Ok(addr) = e.parse::<IpAddr>() {
            return Some(Entry::Ip { addr: unmapped(addr), port: None });
        }
        if let Some(rest) = e.strip_prefix('[') {
            // `[v6]` or `[v6]:port`.
            let (addr, tail) = rest.split_once(']')?;
            let addr: IpAddr = addr.parse().ok()?;
            let port = match tail {
                "" => None,
                t => Some(t.strip_prefix(':')?.parse().ok()?),
            };
            return Some(Entry::Ip { addr: unmapped(addr), port });
        }
        let (host, port) = match e.rsplit_once(':') {
            Some((h, p)) => (h, Some(p.parse::<u16>().ok()?)),
            None => (e.as_str(), None),
        };
        if let Ok(addr) = host.parse::<IpAddr>() {
            return Some(Entry::Ip { addr: unmapped(addr), port });
        }
        let name = host.strip_prefix("*.").or_else(|| host.strip_prefix('.')).unwrap_or(host).trim_end_matches('.');
        let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
        valid.then(|| Entry::Domain { name: name.to_string(), port })
    }

    fn matches(&self, host: &Host<&str>, port: u16) -> bool {
        let port_ok = |p: &Option<u16>| p.is_none_or(|p| p == port);
        match (self, host) {
            (Entry::Everything, _) => true,
            (Entry::Domain { name, port: p }, Host::Domain(d)) => {
                let d = d.trim_end_matches('.').to_ascii_lowercase();
                port_ok(p) && (d == *name || d.strip_suffix(name.as_str()).is_some_and(|head| head.ends_with('.')))
            }
            (Entry::Ip { addr, port: p }, h) => port_ok(p) && ip_of(h).is_some_and(|ip| ip == *addr),
            (Entry::Block { net, prefix }, h) => ip_of(h).is_some_and(|ip| in_block(ip, *net, *prefix)),
            (Entry::Domain { .. }, _) => false,
        }
    }
}

/// A parsed `NO_PROXY` list.
///
/// ```
/// use genesys_tenants_core::network::NoProxy;
/// let n = NoProxy::lenient("corp.example, 10.0.0.0/8 ,[::1]:8443");
/// assert!(n.matches(&url::Url::parse("https://config.corp.example/x").unwrap()));
/// assert!(n.matches(&url::Url::parse("https://10.2.3.4/").unwrap()));
/// assert!(!n.matches(&url::Url::parse("https://api.mypurecloud.ie/").unwrap()));
/// assert!(!n.matches(&url::Url::parse("https://notcorp.example/").unwrap()));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoProxy(Vec<Entry>);

impl NoProxy {
    /// Reads an environment value: entries that cannot be read are skipped (as curl does).
    pub fn lenient(list: &str) -> NoProxy {
        NoProxy(split(list).filter_map(Entry::parse).collect())
    }

    /// Reads the `proxy` option's list; the index of the first entry that cannot be read is the error.
    pub fn strict<'a>(entries: impl IntoIterator<Item = &'a str>) -> Result<NoProxy, usize> {
        let mut out = Vec::new();
        for (i, raw) in entries.into_iter().enumerate() {
            for part in split(raw) {
                out.push(Entry::parse(part).ok_or(i)?);
            }
        }
        Ok(NoProxy(out))
    }

    /// True when `url`'s host (and port) is on the list.
    pub fn matches(&self, url: &url::Url) -> bool {
        let (Some(host), Some(port)) = (url.host(), url.port_or_known_default()) else { return false };
        self.0.iter().any(|e| e.matches(&host, port))
    }
}

fn split(list: &str) -> impl Iterator<Item = &str> {
    list.split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty())
}

/// True for a host that names this machine: `localhost`, `*.localhost`, 127.0.0.0/8, `::1`.
pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        Some(h) => ip_of(&h).is_some_and(|ip| ip.is_loopback()),
        None => false,
    }
}

fn ip_of(h: &Host<&str>) -> Option<IpAddr> {
    match h {
        Host::Ipv4(a) => Some(IpAddr::V4(*a)),
        Host::Ipv6(a) => Some(unmapped(IpAddr::V6(*a))),
        Host::Domain(_) => None,
    }
}

/// `::ffff:10.1.2.3` is `10.1.2.3`.
fn unmapped(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn in_block(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (ip, unmapped(net)) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(prefix.min(32))) };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if prefix == 0 { 0 } else { u128::MAX << (128 - u32::from(prefix.min(128))) };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(list: &str, url: &str) -> bool {
        NoProxy::lenient(list).matches(&url::Url::parse(url).unwrap())
    }

    #[test]
    fn domains_match_themselves_and_subdomains_with_or_without_a_leading_dot() {
        for list in ["example.com", ".example.com", "*.example.com", "EXAMPLE.com.", " x.org , example.com "] {
            assert!(on(list, "https://example.com/"), "{list}");
            assert!(on(list, "https://a.b.example.com:8443/"), "{list}");
            assert!(on(list, "https://EXAMPLE.COM./"), "{list}");
            assert!(!on(list, "https://notexample.com/"), "{list}");
            assert!(!on(list, "https://example.com.evil/"), "{list}");
        }
    }

    #[test]
    fn ports_ips_blocks_and_star() {
        assert!(on("config.corp:8443", "https://config.corp:8443/"));
        assert!(!on("config.corp:8443", "https://config.corp/"), "443 is not 8443");
        assert!(on("config.corp:443", "https://config.corp/"), "the scheme's default port counts");
        assert!(on("10.1.2.3", "http://10.1.2.3:9000/"));
        assert!(!on("10.1.2.3", "http://10.1.2.4/"));
        assert!(on("10.1.2.3:9000", "http://10.1.2.3:9000/"));
        assert!(!on("10.1.2.3:9000", "http://10.1.2.3:9001/"));
        assert!(on("10.0.0.0/8", "http://10.200.0.1/"));
        assert!(!on("10.0.0.0/8", "http://11.0.0.1/"));
        assert!(on("fd00::/8", "http://[fd12::1]/"));
        assert!(on("::1", "http://[::1]:1234/"));
        assert!(on("[::1]:1234", "http://[::1]:1234/"));
        assert!(!on("[::1]:1234", "http://[::1]:1235/"));
        assert!(on("10.1.2.3", "http://[::ffff:10.1.2.3]/"), "an IPv4-mapped address is the IPv4 one");
        assert!(on("*", "https://api.mypurecloud.com/"));
        assert!(!on("", "https://api.mypurecloud.com/"));
        assert!(!on("10.0.0.0/99, bad host!, :x", "http://10.0.0.1/"), "unreadable entries are skipped");
        assert!(!on("example.com", "http://10.0.0.1/"), "a domain never matches an address");
    }

    #[test]
    fn the_option_s_list_names_its_first_unreadable_entry() {
        assert!(NoProxy::strict(["a.example", "10.0.0.0/8"]).is_ok());
        assert_eq!(NoProxy::strict(["a.example", "10.0.0.0/40"]), Err(1));
        assert_eq!(NoProxy::strict(["a b", "x:y"]), Err(1), "a string may hold several entries");
    }

    #[test]
    fn loopback_is_localhost_and_the_loopback_blocks() {
        for u in [
            "http://localhost:1/",
            "http://LOCALHOST./",
            "http://api.localhost/",
            "http://127.0.0.1/",
            "http://127.9.9.9/",
            "http://[::1]/",
        ] {
            assert!(is_loopback(&url::Url::parse(u).unwrap()), "{u}");
        }
        for u in ["http://localhost.example/", "http://10.0.0.1/", "https://api.mypurecloud.com/"] {
            assert!(!is_loopback(&url::Url::parse(u).unwrap()), "{u}");
        }
    }
}

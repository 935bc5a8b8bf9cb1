//! Genesys Cloud regions: the official SDK's `PureCloudRegionHosts` table, and how a tenant's
//! `region` / `domainPrefix` resolve to an environment host such as `mypurecloud.ie`.

/// `(region name, environment host)`, as the official SDK v262 lists them.
pub const REGIONS: &[(&str, &str)] = &[
    ("us-east-1", "mypurecloud.com"),
    ("eu-west-1", "mypurecloud.ie"),
    ("ap-southeast-2", "mypurecloud.com.au"),
    ("ap-northeast-1", "mypurecloud.jp"),
    ("eu-central-1", "mypurecloud.de"),
    ("us-west-2", "usw2.pure.cloud"),
    ("ca-central-1", "cac1.pure.cloud"),
    ("ap-northeast-2", "apne2.pure.cloud"),
    ("eu-west-2", "euw2.pure.cloud"),
    ("ap-south-1", "aps1.pure.cloud"),
    ("us-east-2", "use2.us-gov-pure.cloud"),
    ("sa-east-1", "sae1.pure.cloud"),
    ("me-central-1", "mec1.pure.cloud"),
    ("ap-northeast-3", "apne3.pure.cloud"),
    ("eu-central-2", "euc2.pure.cloud"),
    ("mx-central-1", "mxc1.pure.cloud"),
    ("ap-southeast-1", "apse1.pure.cloud"),
    ("eusc-de-east-1", "edee1.eusc-pure.cloud"),
];

/// The environment used when a tenant names none — the official SDK's default.
pub const DEFAULT_ENVIRONMENT: &str = "mypurecloud.com";

/// How a tenant's environment host was chosen (reported in events).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionSource {
    /// From the `region` field.
    Region,
    /// From `domainPrefix`, because it names a region.
    DomainPrefix,
    /// Neither field named a region: the SDK's default, `mypurecloud.com`.
    Default,
}

/// Normalises a region name or host: lower case, no scheme, no `api.`/`login.` prefix, no
/// trailing `/` or path — the same leniency as the SDK's `setEnvironment`.
pub fn normalize_host(value: &str) -> String {
    let mut v = value.trim().to_ascii_lowercase();
    for scheme in ["https://", "http://"] {
        if let Some(rest) = v.strip_prefix(scheme) {
            v = rest.to_string();
        }
    }
    if let Some(i) = v.find('/') {
        v.truncate(i);
    }
    for prefix in ["api.", "login."] {
        if let Some(rest) = v.strip_prefix(prefix) {
            v = rest.to_string();
        }
    }
    v
}

/// The environment host of a known region, given a region name (`eu-west-1`, `eu_west_1`) or an
/// environment host (`mypurecloud.ie`, `https://api.mypurecloud.ie`). `None` when unknown.
///
/// ```
/// use genesys_tenants_core::region::known_environment;
/// assert_eq!(known_environment("eu_west_1"), Some("mypurecloud.ie"));
/// assert_eq!(known_environment("https://api.usw2.pure.cloud/"), Some("usw2.pure.cloud"));
/// assert_eq!(known_environment("evil.example.com"), None);
/// ```
pub fn known_environment(value: &str) -> Option<&'static str> {
    let host = normalize_host(value);
    let as_name = host.replace('_', "-");
    REGIONS.iter().find(|(name, env)| *env == host || *name == as_name).map(|(_, env)| *env)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_names_and_hosts() {
        assert_eq!(known_environment("us-east-1"), Some("mypurecloud.com"));
        assert_eq!(known_environment("MYPURECLOUD.DE"), Some("mypurecloud.de"));
        assert_eq!(known_environment("login.mypurecloud.jp"), Some("mypurecloud.jp"));
        assert_eq!(known_environment("eusc_de_east_1"), Some("edee1.eusc-pure.cloud"));
        assert_eq!(known_environment("acme-corp"), None);
        assert_eq!(known_environment(""), None);
        assert_eq!(REGIONS.len(), 18);
    }
}

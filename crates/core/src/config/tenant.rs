//! One tenant's configuration entry: parsed field by field from untrusted JSON, so a bad entry
//! is reported precisely (`TENANT_INVALID` with the field and reason) and never takes others down.

use crate::egress::EgressPolicy;
use crate::error::Error;
use crate::region::{known_environment, RegionSource, DEFAULT_ENVIRONMENT};
use crate::secret::Secret;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// Shortest accepted `rotationIntervalMs`: rotating more often than this is a config mistake.
pub const MIN_ROTATION_INTERVAL: Duration = Duration::from_secs(1);
/// Longest accepted `rotationIntervalMs` (about a year).
pub const MAX_ROTATION_INTERVAL: Duration = Duration::from_secs(366 * 24 * 3600);
const MAX_ID_LEN: usize = 256;

/// A validated tenant.
#[derive(Clone)]
pub struct Tenant {
    /// The tenant's id, as callers name it.
    pub tenant_id: String,
    /// The OAuth client id.
    pub client_id: String,
    /// The OAuth client secret.
    pub client_secret: Secret,
    /// The Genesys environment host (`mypurecloud.ie`, …).
    pub environment: String,
    /// `domainPrefix` as configured (the tutorial's key for a tenant's credentials).
    pub domain_prefix: Option<String>,
    /// How `environment` was chosen.
    pub region_source: RegionSource,
    /// Scopes the tenant's OAuth client is declared to have.
    pub required_scopes: Vec<String>,
    /// Declared names that are not Genesys scopes (`user:read`): while there are any, pre-flight
    /// refuses nothing for this tenant (the declaration cannot be trusted; the API decides).
    pub unknown_scopes: Vec<String>,
    /// Proactive rotation period, if any.
    pub rotation_interval: Option<Duration>,
    /// A fingerprint of (client id, secret): changes when either changes; reveals neither.
    pub credentials_fingerprint: String,
    /// A staged OAuth client (`pendingClientId`/`pendingClientSecret`, or `credentials[]` with
    /// `stage: 'pending'`) not yet promoted: no call uses it until it has been tested.
    pub pending: Option<Credential>,
    /// The credential a promotion replaced (kept so its secret stays redacted), while the config
    /// still stages the promoted one.
    pub promoted_from: Option<Credential>,
    /// The organization the entry is pinned to (`organizationId`, a UUID, lower case): every
    /// credential's token is checked to belong to it before anything else is sent with it.
    pub organization_id: Option<String>,
    /// `tokensPerTenant` of the entry (1 to [`crate::options::MAX_TOKENS_PER_TENANT`]): how many
    /// tokens the tenant keeps, each with its own rate budget; `None` takes the orchestrator's option.
    pub tokens_per_tenant: Option<u32>,
}

/// One OAuth client's credentials.
#[derive(Clone)]
pub struct Credential {
    /// The OAuth client id.
    pub client_id: String,
    /// The OAuth client secret.
    pub client_secret: Secret,
    /// See [`Tenant::credentials_fingerprint`].
    pub fingerprint: String,
}

impl Credential {
    /// Credentials, fingerprinted.
    pub fn new(client_id: String, client_secret: Secret) -> Credential {
        let fingerprint = fingerprint(&client_id, &client_secret);
        Credential { client_id, client_secret, fingerprint }
    }
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential").field("client_id", &self.client_id).field("client_secret", &self.client_secret).finish()
    }
}

impl std::fmt::Debug for Tenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenant")
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("environment", &self.environment)
            .field("required_scopes", &self.required_scopes)
            .field("unknown_scopes", &self.unknown_scopes)
            .field("rotation_interval", &self.rotation_interval)
            .field("pending", &self.pending)
            .field("promoted_from", &self.promoted_from)
            .field("organization_id", &self.organization_id)
            .field("tokens_per_tenant", &self.tokens_per_tenant)
            .finish()
    }
}

impl Tenant {
    /// True when a change from `old` to `self` needs a new token (credentials or region).
    pub fn credentials_changed(&self, old: &Tenant) -> bool {
        self.credentials_fingerprint != old.credentials_fingerprint || self.environment != old.environment
    }

    /// The entry as the tutorial's config object, **secret included**, for a caller that asked for
    /// it (`fetchTenantConfig`, `tenantConfigs`): `{ tenantId, clientId, clientSecret, domainPrefix,
    /// environment, requiredScopes, rotationIntervalMs }`. Never log what this returns.
    pub fn to_json_exposing_secret(&self) -> serde_json::Value {
        serde_json::json!({
            "tenantId": self.tenant_id,
            "clientId": self.client_id,
            "clientSecret": self.client_secret.expose(),
            "domainPrefix": self.domain_prefix,
            "environment": self.environment,
            "requiredScopes": self.required_scopes,
            "rotationIntervalMs": self.rotation_interval.map(|d| d.as_millis() as u64),
        })
    }

    /// True when anything a caller could observe changed.
    pub fn differs(&self, old: &Tenant) -> bool {
        self.credentials_changed(old)
            || self.required_scopes != old.required_scopes
            || self.rotation_interval != old.rotation_interval
            || self.pending_fingerprint() != old.pending_fingerprint()
            || self.promoted_from.as_ref().map(|c| &c.fingerprint) != old.promoted_from.as_ref().map(|c| &c.fingerprint)
            || self.organization_id != old.organization_id
            || self.tokens_per_tenant != old.tokens_per_tenant
    }

    /// The fingerprint of the pending credential, if there is one.
    pub fn pending_fingerprint(&self) -> Option<&str> {
        self.pending.as_ref().map(|p| p.fingerprint.as_str())
    }

    /// The tenant as it would be with its pending credential in use (for testing that credential),
    /// or `None` when nothing is pending.
    pub fn with_pending_in_use(&self) -> Option<Tenant> {
        let p = self.pending.as_ref()?;
        Some(Tenant {
            client_id: p.client_id.clone(),
            client_secret: p.client_secret.clone(),
            credentials_fingerprint: p.fingerprint.clone(),
            pending: None,
            promoted_from: Some(Credential {
                client_id: self.client_id.clone(),
                client_secret: self.client_secret.clone(),
                fingerprint: self.credentials_fingerprint.clone(),
            }),
            ..self.clone()
        })
    }
}

/// Fingerprint of credentials: SHA-256 over a process-wide salt, the client id and the secret,
/// truncated. Salted so that the fingerprint of a weak secret cannot be looked up in a table.
pub fn fingerprint(client_id: &str, secret: &Secret) -> String {
    static SALT: std::sync::OnceLock<[u8; 16]> = std::sync::OnceLock::new();
    let salt = SALT.get_or_init(rand::random);
    let mut h = Sha256::new();
    h.update(salt);
    h.update((client_id.len() as u64).to_be_bytes());
    h.update(client_id.as_bytes());
    h.update(secret.expose().as_bytes());
    hex::encode(&h.finalize()[..12])
}

/// The outcome of parsing one entry.
// Made once per entry per config read and unpacked at once: boxing the tenant buys nothing measurable.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum ParsedEntry {
    /// A usable tenant, plus a note when its region fell back to the default.
    Valid(Tenant),
    /// The entry names a tenant but is unusable; the error says why.
    Invalid(Error),
    /// The entry has no usable `tenantId` at all; the string says why.
    Unkeyed(String),
}

fn invalid(tenant_id: &str, field: &str, reason: impl Into<String>) -> ParsedEntry {
    ParsedEntry::Invalid(Error::TenantInvalid { tenant_id: tenant_id.into(), field: field.into(), reason: reason.into() })
}

fn text_field<'a>(obj: &'a serde_json::Map<String, Value>, name: &str) -> Result<Option<&'a str>, String> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(other) => Err(format!("must be a string, got {}", type_name(other))),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(crate) fn check_id(value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err("must not be empty".into());
    }
    if value.len() > MAX_ID_LEN {
        return Err(format!("must be at most {MAX_ID_LEN} characters"));
    }
    if value.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("must not contain whitespace or control characters".into());
    }
    Ok(())
}

/// Parses one element of the config array. Unknown extra fields are ignored.
pub fn parse_entry(value: &Value, index: usize, egress: &EgressPolicy) -> ParsedEntry {
    let Some(obj) = value.as_object() else {
        return ParsedEntry::Unkeyed(format!("entry {index} is {}, not an object", type_name(value)));
    };
    let tenant_id = match text_field(obj, "tenantId") {
        Ok(Some(t)) => match check_id(t) {
            Ok(()) => t.to_string(),
            Err(r) => return ParsedEntry::Unkeyed(format!("entry {index}: tenantId {r}")),
        },
        Ok(None) => return ParsedEntry::Unkeyed(format!("entry {index}: tenantId is missing")),
        Err(r) => return ParsedEntry::Unkeyed(format!("entry {index}: tenantId {r}")),
    };
    let t = tenant_id.as_str();

    let (current, pending) = match credentials_of(obj, t) {
        Ok(c) => c,
        Err(e) => return e,
    };

    let region = match text_field(obj, "region") {
        Ok(r) => r.filter(|r| !r.trim().is_empty()),
        Err(r) => return invalid(t, "region", r),
    };
    let domain_prefix = match text_field(obj, "domainPrefix") {
        Ok(d) => d,
        Err(r) => return invalid(t, "domainPrefix", r),
    };
    let (environment, region_source) = if let Some(region) = region {
        match egress.environment_for(region) {
            Ok(env) => (env, RegionSource::Region),
            Err(e) => return ParsedEntry::Invalid(e.with_tenant(t)),
        }
    } else if let Some(env) = domain_prefix.and_then(known_environment) {
        (env.to_string(), RegionSource::DomainPrefix)
    } else {
        (DEFAULT_ENVIRONMENT.to_string(), RegionSource::Default)
    };

    let required_scopes = match obj.get("requiredScopes") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            let mut scopes = Vec::with_capacity(items.len());
            for item in items {
                match item.as_str() {
                    Some(s) if !s.trim().is_empty() && !s.contains(char::is_whitespace) => scopes.push(s.to_string()),
                    _ => return invalid(t, "requiredScopes", "must be an array of non-empty scope names"),
                }
            }
            scopes
        }
        Some(other) => return invalid(t, "requiredScopes", format!("must be an array, got {}", type_name(other))),
    };

    let rotation_interval = match obj.get("rotationIntervalMs") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => match n.as_u64() {
            Some(0) => None,
            Some(ms) => {
                let d = Duration::from_millis(ms);
                if d < MIN_ROTATION_INTERVAL || d > MAX_ROTATION_INTERVAL {
                    return invalid(t, "rotationIntervalMs", "must be 0 (off) or between 1000 and 31622400000");
                }
                Some(d)
            }
            None => return invalid(t, "rotationIntervalMs", "must be a non-negative whole number of milliseconds"),
        },
        Some(other) => return invalid(t, "rotationIntervalMs", format!("must be a number, got {}", type_name(other))),
    };

    let organization_id = match text_field(obj, "organizationId") {
        Ok(None) => None,
        Ok(Some(id)) => match crate::untrusted::uuid(id.trim()) {
            Some(id) => Some(id.to_ascii_lowercase()),
            None => return invalid(t, "organizationId", "must be the organization's id, a UUID (8-4-4-4-12 hex digits)"),
        },
        Err(r) => return invalid(t, "organizationId", r),
    };

    let tokens_per_tenant = match obj.get("tokensPerTenant") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => match n.as_u64().and_then(|n| u32::try_from(n).ok()) {
            Some(k) if (1..=crate::options::MAX_TOKENS_PER_TENANT).contains(&k) => Some(k),
            _ => {
                let max = crate::options::MAX_TOKENS_PER_TENANT;
                return invalid(t, "tokensPerTenant", format!("must be a whole number between 1 and {max}"));
            }
        },
        Some(other) => return invalid(t, "tokensPerTenant", format!("must be a number, got {}", type_name(other))),
    };

    // A pending credential equal to the current one has nothing left to test.
    let pending = pending.filter(|p| p.fingerprint != current.fingerprint);
    let Credential { client_id, client_secret, fingerprint: credentials_fingerprint } = current;
    let domain_prefix = domain_prefix.map(str::to_string);
    let unknown_scopes = crate::operations::unknown_scopes(&required_scopes);
    ParsedEntry::Valid(Tenant {
        tenant_id,
        client_id,
        client_secret,
        environment,
        domain_prefix,
        region_source,
        required_scopes,
        unknown_scopes,
        rotation_interval,
        credentials_fingerprint,
        pending,
        promoted_from: None,
        organization_id,
        tokens_per_tenant,
    })
}

/// Most entries `credentials` may hold: one per stage.
const MAX_CREDENTIALS: usize = 2;

/// A client id and secret read from `obj`'s members `id_field` and `secret_field`; errors name the
/// member as `<prefix><field>`.
fn credential_at(obj: &serde_json::Map<String, Value>, t: &str, prefix: &str, fields: [&str; 2]) -> Result<Credential, ParsedEntry> {
    let [id_field, secret_field] = fields;
    let name = |f: &str| format!("{prefix}{f}");
    let client_id = match text_field(obj, id_field) {
        Ok(Some(c)) => check_id(c).map(|()| c.to_string()).map_err(|r| invalid(t, &name(id_field), r))?,
        Ok(None) => return Err(invalid(t, &name(id_field), "is missing")),
        Err(r) => return Err(invalid(t, &name(id_field), r)),
    };
    let client_secret = match text_field(obj, secret_field) {
        Ok(Some(s)) if !s.is_empty() => Secret::new(s),
        Ok(Some(_)) => return Err(invalid(t, &name(secret_field), "must not be empty")),
        Ok(None) => return Err(invalid(t, &name(secret_field), "is missing")),
        Err(r) => return Err(invalid(t, &name(secret_field), r)),
    };
    Ok(Credential::new(client_id, client_secret))
}

/// The current credential and the pending one, from either shape: `clientId`/`clientSecret` with
/// optional `pendingClientId`/`pendingClientSecret`, or `credentials: [{ clientId, clientSecret,
/// stage }]` (one `current`, at most one `pending`). With `credentials`, top-level
/// `clientId`/`clientSecret` may stay for older readers, but must name the current one.
fn credentials_of(obj: &serde_json::Map<String, Value>, t: &str) -> Result<(Credential, Option<Credential>), ParsedEntry> {
    let has = |f: &str| !matches!(obj.get(f), None | Some(Value::Null));
    let list = match obj.get("credentials") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => Some(items),
        Some(other) => return Err(invalid(t, "credentials", format!("must be an array, got {}", type_name(other)))),
    };
    let Some(items) = list else {
        let current = credential_at(obj, t, "", ["clientId", "clientSecret"])?;
        let pending = match (has("pendingClientId"), has("pendingClientSecret")) {
            (false, false) => None,
            (true, false) => return Err(invalid(t, "pendingClientSecret", "is missing (pendingClientId is set)")),
            (false, true) => return Err(invalid(t, "pendingClientId", "is missing (pendingClientSecret is set)")),
            (true, true) => Some(credential_at(obj, t, "", ["pendingClientId", "pendingClientSecret"])?),
        };
        return Ok((current, pending));
    };
    if has("pendingClientId") || has("pendingClientSecret") {
        return Err(invalid(t, "credentials", "give either credentials[] or pendingClientId/pendingClientSecret, not both"));
    }
    if items.is_empty() || items.len() > MAX_CREDENTIALS {
        return Err(invalid(t, "credentials", "must hold one credential with stage 'current' and at most one with stage 'pending'"));
    }
    let (mut current, mut pending) = (None, None);
    for (i, item) in items.iter().enumerate() {
        let at = format!("credentials[{i}]");
        let Some(entry) = item.as_object() else {
            return Err(invalid(t, &at, format!("must be an object, got {}", type_name(item))));
        };
        let c = credential_at(entry, t, &format!("{at}."), ["clientId", "clientSecret"])?;
        let slot = match text_field(entry, "stage") {
            Ok(Some("current")) => &mut current,
            Ok(Some("pending")) => &mut pending,
            Ok(Some(_)) | Ok(None) => return Err(invalid(t, &format!("{at}.stage"), "must be 'current' or 'pending'")),
            Err(r) => return Err(invalid(t, &format!("{at}.stage"), r)),
        };
        if slot.replace(c).is_some() {
            return Err(invalid(t, &format!("{at}.stage"), "names a stage another credential already has"));
        }
    }
    let Some(current) = current else {
        return Err(invalid(t, "credentials", "has no credential with stage 'current'"));
    };
    if has("clientId") || has("clientSecret") {
        let top = credential_at(obj, t, "", ["clientId", "clientSecret"])?;
        if top.fingerprint != current.fingerprint {
            return Err(invalid(t, "clientId", "differs from the credentials[] entry with stage 'current'"));
        }
    }
    Ok((current, pending))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> ParsedEntry {
        parse_entry(&v, 0, &EgressPolicy::default())
    }

    fn field_of(p: ParsedEntry) -> (String, String) {
        match p {
            ParsedEntry::Invalid(Error::TenantInvalid { field, reason, .. }) => (field, reason),
            other => panic!("expected TenantInvalid, got {other:?}"),
        }
    }

    #[test]
    fn full_entry() {
        let p = parse(json!({"tenantId":"acme","clientId":"c1","clientSecret":"s","region":"eu-west-1",
            "requiredScopes":["users:readonly"],"rotationIntervalMs":7200000,"extra":{"x":1}}));
        let ParsedEntry::Valid(t) = p else { panic!() };
        assert_eq!(t.environment, "mypurecloud.ie");
        assert_eq!(t.rotation_interval, Some(Duration::from_secs(7200)));
        assert_eq!(t.required_scopes, vec!["users:readonly"]);
        assert!(!format!("{t:?}").contains("\"s\""));
    }

    #[test]
    fn domain_prefix_selects_a_region_only_when_it_names_one() {
        let ParsedEntry::Valid(t) = parse(json!({"tenantId":"a","clientId":"c","clientSecret":"s","domainPrefix":"mypurecloud.de"})) else {
            panic!()
        };
        assert_eq!((t.environment.as_str(), t.region_source), ("mypurecloud.de", RegionSource::DomainPrefix));
        let ParsedEntry::Valid(t) = parse(json!({"tenantId":"a","clientId":"c","clientSecret":"s","domainPrefix":"acme-corp"})) else {
            panic!()
        };
        assert_eq!((t.environment.as_str(), t.region_source), ("mypurecloud.com", RegionSource::Default));
    }

    #[test]
    fn bad_fields_are_named() {
        assert_eq!(field_of(parse(json!({"tenantId":"a","clientSecret":"s"}))).0, "clientId");
        assert_eq!(field_of(parse(json!({"tenantId":"a","clientId":"c","clientSecret":""}))).0, "clientSecret");
        assert_eq!(field_of(parse(json!({"tenantId":"a","clientId":"c","clientSecret":5}))).0, "clientSecret");
        assert_eq!(field_of(parse(json!({"tenantId":"a","clientId":"c","clientSecret":"s","requiredScopes":"x"}))).0, "requiredScopes");
        assert_eq!(
            field_of(parse(json!({"tenantId":"a","clientId":"c","clientSecret":"s","rotationIntervalMs":-1}))).0,
            "rotationIntervalMs"
        );
        assert_eq!(
            field_of(parse(json!({"tenantId":"a","clientId":"c","clientSecret":"s","rotationIntervalMs":5}))).0,
            "rotationIntervalMs"
        );
        assert_eq!(field_of(parse(json!({"tenantId":"a","clientId":"c d","clientSecret":"s"}))).0, "clientId");
    }

    #[test]
    fn foreign_region_is_host_not_allowed() {
        match parse(json!({"tenantId":"a","clientId":"c","clientSecret":"s","region":"evil.example.com"})) {
            ParsedEntry::Invalid(e) => {
                assert_eq!(e.code(), "HOST_NOT_ALLOWED");
                assert_eq!(e.tenant_id(), Some("a"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unkeyed_entries() {
        assert!(matches!(parse(json!(42)), ParsedEntry::Unkeyed(_)));
        assert!(matches!(parse(json!({"clientId":"c"})), ParsedEntry::Unkeyed(_)));
        assert!(matches!(parse(json!({"tenantId":""})), ParsedEntry::Unkeyed(_)));
    }

    #[test]
    fn pending_credentials_in_either_shape() {
        let base = json!({"tenantId":"a","clientId":"c1","clientSecret":"s1"});
        let with = |extra: Value| {
            let mut v = base.clone();
            v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            parse(v)
        };
        let ParsedEntry::Valid(t) = with(json!({"pendingClientId":"c2","pendingClientSecret":"s2"})) else { panic!() };
        assert_eq!((t.client_id.as_str(), t.pending.as_ref().map(|p| p.client_id.as_str())), ("c1", Some("c2")));
        assert!(!format!("{t:?}").contains("s2"), "the pending secret is redacted in Debug");
        let in_use = t.with_pending_in_use().unwrap();
        assert_eq!((in_use.client_id.as_str(), in_use.promoted_from.as_ref().map(|c| c.client_id.as_str())), ("c2", Some("c1")));
        assert_eq!(in_use.credentials_fingerprint, t.pending.as_ref().unwrap().fingerprint);
        assert!(in_use.pending.is_none());

        let list = json!({"tenantId":"a","credentials":[
            {"clientId":"c2","clientSecret":"s2","stage":"pending"},
            {"clientId":"c1","clientSecret":"s1","stage":"current"}]});
        let ParsedEntry::Valid(u) = parse(list.clone()) else { panic!() };
        assert_eq!(u.client_id, "c1");
        assert_eq!(u.pending_fingerprint(), t.pending_fingerprint());
        // Older readers' top-level fields may stay, naming the current credential.
        let mut compat = list.clone();
        compat["clientId"] = json!("c1");
        compat["clientSecret"] = json!("s1");
        assert!(matches!(parse(compat.clone()), ParsedEntry::Valid(_)));
        compat["clientSecret"] = json!("other");
        assert_eq!(field_of(parse(compat)).0, "clientId");

        // A pending equal to the current one has nothing to test.
        let ParsedEntry::Valid(same) = with(json!({"pendingClientId":"c1","pendingClientSecret":"s1"})) else { panic!() };
        assert!(same.pending.is_none());
    }

    #[test]
    fn bad_pending_credentials_are_named() {
        let f = |v: Value| field_of(parse(v));
        assert_eq!(f(json!({"tenantId":"a","clientId":"c","clientSecret":"s","pendingClientId":"p"})).0, "pendingClientSecret");
        assert_eq!(f(json!({"tenantId":"a","clientId":"c","clientSecret":"s","pendingClientSecret":"p"})).0, "pendingClientId");
        assert_eq!(
            f(json!({"tenantId":"a","clientId":"c","clientSecret":"s","pendingClientId":"p q","pendingClientSecret":"x"})).0,
            "pendingClientId"
        );
        assert_eq!(f(json!({"tenantId":"a","credentials":"x"})).0, "credentials");
        assert_eq!(f(json!({"tenantId":"a","credentials":[]})).0, "credentials");
        assert_eq!(f(json!({"tenantId":"a","credentials":[{"clientId":"c","clientSecret":"s","stage":"pending"}]})).0, "credentials");
        assert_eq!(f(json!({"tenantId":"a","credentials":[{"clientId":"c","clientSecret":"s"}]})).0, "credentials[0].stage");
        assert_eq!(f(json!({"tenantId":"a","credentials":[{"clientId":"c","stage":"current"}]})).0, "credentials[0].clientSecret");
        assert_eq!(f(json!({"tenantId":"a","credentials":[5]})).0, "credentials[0]");
        assert_eq!(
            f(json!({"tenantId":"a","credentials":[{"clientId":"c","clientSecret":"s","stage":"current"},{"clientId":"d","clientSecret":"t","stage":"current"}]})).0,
            "credentials[1].stage"
        );
        let three = json!({"tenantId":"a","credentials":[{"clientId":"c","clientSecret":"s","stage":"current"},{"clientId":"d","clientSecret":"t","stage":"pending"},{"clientId":"e","clientSecret":"u","stage":"pending"}]});
        assert_eq!(f(three).0, "credentials");
        assert_eq!(
            f(json!({"tenantId":"a","credentials":[{"clientId":"c","clientSecret":"s","stage":"current"}],"pendingClientId":"p","pendingClientSecret":"q"})).0,
            "credentials"
        );
    }

    #[test]
    fn organization_id_is_a_uuid_kept_in_lower_case() {
        let entry = |org: Value| parse(json!({"tenantId":"a","clientId":"c","clientSecret":"s","organizationId": org}));
        let ParsedEntry::Valid(t) = entry(json!(" 6F1C2B1E-0E59-4A7E-9B6E-2F3A4B5C6D7E ")) else { panic!() };
        assert_eq!(t.organization_id.as_deref(), Some("6f1c2b1e-0e59-4a7e-9b6e-2f3a4b5c6d7e"));
        let ParsedEntry::Valid(t) = entry(Value::Null) else { panic!() };
        assert_eq!(t.organization_id, None);
        for bad in [json!("acme-org"), json!(""), json!(5), json!("6f1c2b1e0e594a7e9b6e2f3a4b5c6d7e")] {
            assert_eq!(field_of(entry(bad.clone())).0, "organizationId", "{bad}");
        }
        let ParsedEntry::Valid(a) = entry(json!("6f1c2b1e-0e59-4a7e-9b6e-2f3a4b5c6d7e")) else { panic!() };
        let ParsedEntry::Valid(b) = entry(json!("00000000-0e59-4a7e-9b6e-2f3a4b5c6d7e")) else { panic!() };
        assert!(b.differs(&a) && !b.credentials_changed(&a), "a new pin is a change, not a new credential");
    }

    #[test]
    fn tokens_per_tenant_is_a_small_whole_number() {
        let entry = |n: Value| parse(json!({"tenantId":"a","clientId":"c","clientSecret":"s","tokensPerTenant": n}));
        let ParsedEntry::Valid(t) = entry(json!(4)) else { panic!() };
        assert_eq!(t.tokens_per_tenant, Some(4));
        let ParsedEntry::Valid(t) = entry(Value::Null) else { panic!() };
        assert_eq!(t.tokens_per_tenant, None);
        for bad in [json!(0), json!(21), json!(2.5), json!(-1), json!("3"), json!(4_294_967_297u64)] {
            assert_eq!(field_of(entry(bad.clone())).0, "tokensPerTenant", "{bad}");
        }
        let ParsedEntry::Valid(a) = entry(json!(1)) else { panic!() };
        let ParsedEntry::Valid(b) = entry(json!(3)) else { panic!() };
        assert!(b.differs(&a) && !b.credentials_changed(&a), "a new pool size is a change, not a new credential");
    }

    #[test]
    fn fingerprint_changes_with_secret_only() {
        let a = fingerprint("c", &Secret::new("s1"));
        assert_eq!(a, fingerprint("c", &Secret::new("s1")));
        assert_ne!(a, fingerprint("c", &Secret::new("s2")));
        assert!(!a.contains("s1"));
    }
}

//! JS options → core options. Reads the options object field by field so that a wrong type
//! names the option (`INVALID_OPTIONS`, `option: 'maxRetries'`) instead of a generic napi error.

use genesys_tenants_core::egress::Gateway;
use genesys_tenants_core::{Error, Options, Secret};
use serde_json::{Map, Value};
use std::time::Duration;

fn bad(option: &str, reason: impl Into<String>) -> Error {
    Error::InvalidOptions { option: option.into(), reason: reason.into() }
}

const KNOWN: &[&str] = &[
    "configEndpoint", "configServiceToken", "configFile", "configPollIntervalMs", "configTimeoutMs", "snapshotPath",
    "gateway", "allowedHosts", "redisUrl", "encryptionKey", "refreshAheadRatio", "maxRetries", "maxRetryDelayMs",
    "requestTimeoutMs", "rateLimitPerMinute", "preflight", "redisKeyPrefix", "redisLeaseMs",
];

fn string(m: &Map<String, Value>, key: &str) -> Result<Option<String>, Error> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Err(bad(key, "must not be empty")),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(bad(key, "must be a string")),
    }
}

fn number(m: &Map<String, Value>, key: &str, min: f64, max: f64) -> Result<Option<f64>, Error> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(v) if v.is_finite() && v >= min && v <= max => Ok(Some(v)),
            _ => Err(bad(key, format!("must be a number between {min} and {max}"))),
        },
        Some(_) => Err(bad(key, "must be a number")),
    }
}

fn millis(m: &Map<String, Value>, key: &str, min: f64, max: f64) -> Result<Option<Duration>, Error> {
    Ok(number(m, key, min, max)?.map(|v| Duration::from_millis(v as u64)))
}

/// Converts the constructor's argument. `env_token` is `CONFIG_SERVICE_TOKEN` from the environment.
pub fn from_js(value: Value, env_token: Option<String>) -> Result<Options, Error> {
    let Value::Object(m) = value else {
        return Err(bad("options", "must be an object"));
    };
    if let Some(unknown) = m.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(bad(unknown, format!("unknown option; known options are: {}", KNOWN.join(", "))));
    }
    let mut o = Options::default();
    o.config_endpoint = string(&m, "configEndpoint")?;
    o.config_service_token = string(&m, "configServiceToken")?.or(env_token.filter(|t| !t.is_empty())).map(Secret::new);
    o.config_file = string(&m, "configFile")?.map(Into::into);
    if let Some(d) = millis(&m, "configPollIntervalMs", 100.0, 86_400_000.0)? {
        o.config_poll_interval = d;
    }
    if let Some(d) = millis(&m, "configTimeoutMs", 50.0, 300_000.0)? {
        o.config_timeout = d;
    }
    o.snapshot_path = string(&m, "snapshotPath")?.map(Into::into);
    o.gateway = match m.get("gateway") {
        None | Some(Value::Null) => None,
        Some(Value::Object(g)) => Some(gateway(g)?),
        Some(_) => return Err(bad("gateway", "must be an object { protocol, host, port }")),
    };
    o.allowed_hosts = match m.get("allowedHosts") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_string).ok_or_else(|| bad("allowedHosts", "must be an array of host names")))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(bad("allowedHosts", "must be an array of host names")),
    };
    o.redis_url = string(&m, "redisUrl")?;
    if let Some(d) = millis(&m, "redisLeaseMs", 100.0, 300_000.0)? {
        o.redis_lease = d;
    }
    if let Some(p) = string(&m, "redisKeyPrefix")? {
        o.redis_key_prefix = p;
    }
    o.encryption_key = string(&m, "encryptionKey")?.map(Secret::new);
    if let Some(r) = number(&m, "refreshAheadRatio", 0.0, 1.0)? {
        o.refresh_ahead_ratio = r;
    }
    if let Some(n) = number(&m, "maxRetries", 0.0, 100.0)? {
        if n.fract() != 0.0 {
            return Err(bad("maxRetries", "must be a whole number"));
        }
        o.max_retries = n as u32;
    }
    if let Some(d) = millis(&m, "maxRetryDelayMs", 1.0, 3_600_000.0)? {
        o.max_retry_delay = d;
    }
    if let Some(d) = millis(&m, "requestTimeoutMs", 10.0, 600_000.0)? {
        o.request_timeout = d;
    }
    if let Some(n) = number(&m, "rateLimitPerMinute", 1.0, 1_000_000.0)? {
        o.rate_limit_per_minute = n as u32;
    }
    if let Some(p) = string(&m, "preflight")? {
        o.preflight = genesys_tenants_core::PreflightMode::parse(&p).ok_or_else(|| bad("preflight", "must be 'enforce', 'warn' or 'off'"))?;
    }
    o.validate()?;
    Ok(o)
}

fn gateway(g: &Map<String, Value>) -> Result<Gateway, Error> {
    let text = |k: &str| -> Result<Option<String>, Error> {
        match g.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(bad("gateway", format!("{k} must be a string"))),
        }
    };
    let port = match g.get("port") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => match n.as_u64() {
            Some(p) if (1..=65535).contains(&p) => Some(p as u16),
            _ => return Err(bad("gateway", "port must be a whole number between 1 and 65535")),
        },
        Some(Value::String(s)) => Some(s.parse::<u16>().map_err(|_| bad("gateway", "port must be a number"))?),
        Some(_) => return Err(bad("gateway", "port must be a number")),
    };
    let gw = Gateway {
        protocol: text("protocol")?.unwrap_or_else(|| "https".into()).trim_end_matches(':').to_ascii_lowercase(),
        host: text("host")?.ok_or_else(|| bad("gateway", "host is required"))?,
        port,
        path_params_login: text("path_params_login")?.or(text("pathParamsLogin")?),
        path_params_api: text("path_params_api")?.or(text("pathParamsApi")?),
    };
    gw.validate()?;
    Ok(gw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn option_of(v: Value) -> String {
        match from_js(v, None) {
            Err(Error::InvalidOptions { option, .. }) => option,
            other => panic!("expected INVALID_OPTIONS, got {other:?}"),
        }
    }

    #[test]
    fn wrong_types_name_the_option() {
        assert_eq!(option_of(json!("x")), "options");
        assert_eq!(option_of(json!({"configEndpoint": 5})), "configEndpoint");
        assert_eq!(option_of(json!({"configEndpoint": "http://x", "maxRetries": "3"})), "maxRetries");
        assert_eq!(option_of(json!({"configEndpoint": "http://x", "maxRetries": 1.5})), "maxRetries");
        assert_eq!(option_of(json!({"configEndpoint": "http://x", "gateway": {"port": 1}})), "gateway");
        assert_eq!(option_of(json!({"configEndpoint": "http://x", "colour": "red"})), "colour");
    }

    #[test]
    fn env_token_is_the_default() {
        let o = from_js(json!({"configEndpoint": "http://x"}), Some("t".into())).unwrap();
        assert_eq!(o.config_service_token.unwrap().expose(), "t");
        let o = from_js(json!({"configEndpoint": "http://x", "configServiceToken": "own"}), Some("t".into())).unwrap();
        assert_eq!(o.config_service_token.unwrap().expose(), "own");
    }
}

//! The one reader of option objects that come from JS: the constructor's options, `rotationWebhook()`'s,
//! a request's `{ method, path, query, headers, body }` and a listing's page options all deserialize
//! through [`read_value`] / [`read_text`], so a mistake names the field as the caller wrote it
//! (`gateway.port`, `query.pageSize`, `headers.x-a`) and never quotes the value it was given (a secret
//! passed in the wrong place must not reach a log).

use crate::error::Error;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Why a value did not read as an options type: where (the path as the caller wrote it; `.` for the
/// whole value), serde's reason without the value, and the unknown field's name when that was the fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unread {
    /// `gateway.port`, `query.id[1]`, or `.`.
    pub path: String,
    /// What was wrong, naming kinds of values, never values.
    pub reason: String,
    /// The unknown field, when that was the fault.
    pub unknown: Option<String>,
}

impl Unread {
    /// `INVALID_OPTIONS` naming the field; `whole` names the value itself (`options`, `request`).
    pub fn into_error(self, whole: &str) -> Error {
        let join = |name: &str| if self.path == "." { name.to_string() } else { format!("{}.{name}", self.path) };
        let (option, reason) = if self.unknown.is_some() {
            let known = self.reason.split_once(", expected ").map_or("see the documentation", |(_, e)| e);
            (self.path.clone(), format!("unknown option; expected {known}"))
        } else if let Some(field) = self.reason.strip_prefix("missing field `").and_then(|r| r.split('`').next()) {
            (join(field), "is required".to_string())
        } else if self.path == "." {
            (whole.to_string(), format!("must be an object ({})", self.reason))
        } else {
            (self.path.clone(), format!("has the wrong type: {}", self.reason))
        };
        Error::InvalidOptions { option, reason }
    }
}

/// Reads `T` from JSON text.
///
/// ```
/// use genesys_tenants_core::input::read_text;
/// #[derive(serde::Deserialize, Debug)]
/// struct Port { port: u16 }
/// let e = read_text::<Port>(r#"{"port": "hunter2-secret"}"#).unwrap_err();
/// assert_eq!((e.path.as_str(), e.reason.as_str()), ("port", "a string, expected u16"));
/// ```
pub fn read_text<T: DeserializeOwned>(text: &str) -> Result<T, Unread> {
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de).map_err(unread)
}

/// Reads `T` from a JSON value.
pub fn read_value<T: DeserializeOwned>(value: &Value) -> Result<T, Unread> {
    serde_path_to_error::deserialize(value).map_err(unread)
}

fn unread(e: serde_path_to_error::Error<serde_json::Error>) -> Unread {
    let path = e.path().to_string();
    let inner = e.into_inner().to_string();
    let reason = value_free(inner.rsplit_once(" at line ").map_or(inner.as_str(), |(r, _)| r));
    // "unknown field `colour`, expected one of …": the name is the option.
    let unknown = reason.strip_prefix("unknown field `").and_then(|rest| rest.split('`').next()).map(str::to_string);
    let path = match &unknown {
        Some(name) if path == "." => name.clone(),
        _ => path,
    };
    Unread { path, reason, unknown }
}

/// serde's reason without the value it was given: `invalid type: string "whsec_…", expected …`
/// becomes `a string, expected …`.
pub fn value_free(reason: &str) -> String {
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = reason.strip_prefix(prefix) {
            // The value comes first and may itself contain ", expected ": the last one is serde's.
            let (unexpected, expected) = rest.rsplit_once(", expected ").unwrap_or((rest, "another type"));
            // Rust's names for what was expected mean nothing to a JS caller.
            let expected = if expected.starts_with("struct ") || expected == "a map" { "an object" } else { expected };
            let expected = if expected == "a sequence" { "an array" } else { expected };
            return format!("{}, expected {expected}", kind_of(unexpected));
        }
    }
    if let Some(rest) = reason.strip_prefix("unknown variant ") {
        let expected = rest.rsplit_once(", expected ").map_or("another value", |(_, e)| e);
        return format!("an unknown value, expected {expected}");
    }
    if reason.starts_with("unknown field `") || reason.starts_with("missing field `") || reason.starts_with("duplicate field `") {
        // Names, not values.
        return reason.to_string();
    }
    if reason.starts_with("invalid length ") {
        return reason.split(", ").next().unwrap_or(reason).to_string();
    }
    "a value that cannot be read as this option".to_string()
}

/// The kind of value serde saw (`string "x"` → `a string`), never the value.
fn kind_of(unexpected: &str) -> &'static str {
    const KINDS: [(&str, &str); 9] = [
        ("string", "a string"),
        ("integer", "a number"),
        ("floating point", "a number"),
        ("boolean", "a boolean"),
        ("null", "null"),
        ("unit", "null"),
        ("map", "an object"),
        ("sequence", "an array"),
        ("character", "a string"),
    ];
    KINDS.iter().find(|(k, _)| unexpected.starts_with(k)).map_or("a value of another type", |(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_name_kinds_never_values() {
        assert_eq!(value_free(r#"invalid type: string "a, expected b", expected u32"#), "a string, expected u32");
        assert_eq!(value_free("unknown variant `hunter2`, expected `a` or `b`"), "an unknown value, expected `a` or `b`");
        assert_eq!(value_free("invalid type: map, expected struct Gateway"), "an object, expected an object");
        assert_eq!(value_free("something about hunter2"), "a value that cannot be read as this option");
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Opts {
        page_size: Option<u32>,
        inner: Option<Inner>,
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        host: String,
    }

    #[test]
    fn errors_name_the_field_as_written() {
        let e = |v: Value| read_value::<Opts>(&v).unwrap_err().into_error("options");
        let fields = |e: Error| (e.fields()["option"].as_str().unwrap_or_default().to_string(), e.to_string());
        assert_eq!(fields(e(serde_json::json!({"pageSize": "secret-value-1"}))).0, "pageSize");
        assert_eq!(fields(e(serde_json::json!({"pagesize": 1}))).0, "pagesize");
        assert_eq!(fields(e(serde_json::json!({"inner": {}}))).0, "inner.host");
        assert_eq!(fields(e(serde_json::json!("secret-value-1"))).0, "options");
        for v in [serde_json::json!({"pageSize": "secret-value-1"}), serde_json::json!("secret-value-1")] {
            assert!(!fields(e(v)).1.contains("secret-value-1"));
        }
    }
}

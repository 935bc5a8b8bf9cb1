//! Core errors → JS `Error`s with a stable `code` and the error's fields as properties.

use genesys_tenants_core::Error as CoreError;
use napi::bindgen_prelude::*;

/// Builds the JS error object for `err` and wraps it so napi throws / rejects with that object.
pub fn to_js(env: &Env, err: &CoreError) -> napi::Error {
    match build(env, err) {
        Ok(e) => e,
        // Building the object failed (out of memory, exception pending): fall back to a plain
        // error that still carries the code in its status.
        Err(_) => napi::Error::new(Status::GenericFailure, format!("{}: {err}", err.code())),
    }
}

fn build(env: &Env, err: &CoreError) -> Result<napi::Error> {
    Ok(napi::Error::from(object(env, err)?))
}

/// The JS `Error` object for `err` (`code`, fields, `name`), as a value to return rather than throw.
pub fn object<'env>(env: &'env Env, err: &CoreError) -> Result<Unknown<'env>> {
    with_trace(env, err, None)
}

/// [`to_js`] carrying a traced call's record (JSON text) as `trace`, which the JS layer takes off
/// before the caller sees the error (lib/otel.js).
pub fn to_js_traced(env: &Env, err: &CoreError, trace: Option<String>) -> napi::Error {
    match with_trace(env, err, trace) {
        Ok(e) => napi::Error::from(e),
        Err(_) => napi::Error::new(Status::GenericFailure, format!("{}: {err}", err.code())),
    }
}

fn with_trace<'env>(env: &'env Env, err: &CoreError, trace: Option<String>) -> Result<Unknown<'env>> {
    let mut obj = env.create_error(napi::Error::new(Status::GenericFailure, err.to_string()))?;
    obj.set_named_property("code", err.code())?;
    for (key, value) in err.fields() {
        obj.set_named_property(&key, js_value(env, &value)?)?;
    }
    obj.set_named_property("name", "GenesysTenantsError")?;
    if let Some(trace) = trace {
        obj.set_named_property("trace", trace)?;
    }
    obj.into_unknown(env)
}

/// A JSON value as a JS value. Objects and arrays go through `JSON.parse`: a server's body may hold
/// a `__proto__` key, which building the object property by property would turn into its prototype.
fn js_value<'env>(env: &'env Env, value: &serde_json::Value) -> Result<Unknown<'env>> {
    match value {
        serde_json::Value::Object(_) | serde_json::Value::Array(_) => {
            let json: Object = env.get_global()?.get_named_property("JSON")?;
            let parse: Function<String, Unknown> = json.get_named_property("parse")?;
            parse.apply(json, value.to_string())
        }
        other => env.to_js_value(other),
    }
}

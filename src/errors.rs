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
    let mut obj = env.create_error(napi::Error::new(Status::GenericFailure, err.to_string()))?;
    obj.set_named_property("code", err.code())?;
    for (key, value) in err.fields() {
        obj.set_named_property(&key, env.to_js_value(&value)?)?;
    }
    obj.set_named_property("name", "GenesysTenantsError")?;
    obj.into_unknown(env)
}

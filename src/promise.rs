//! Promises and JSON text across the boundary: every async method settles through [`settle`].

use crate::errors;
use genesys_tenants_core::Error as CoreError;
use napi::bindgen_prelude::*;
use std::future::Future;

/// Parses a JSON text argument made by the package's JS layer (`lib/wire.js`).
pub(crate) fn json_arg(text: &str, option: &str) -> std::result::Result<serde_json::Value, CoreError> {
    serde_json::from_str(text).map_err(|e| CoreError::InvalidOptions { option: option.into(), reason: format!("is not valid JSON: {e}") })
}

/// Runs `fut` on the addon's runtime and settles a Promise: core errors reject with a JS `Error`
/// carrying `code` and fields.
pub(crate) fn settle<'env, T, V, F, M>(env: &'env Env, fut: F, map: M) -> Result<PromiseRaw<'env, V>>
where
    T: Send + 'static,
    V: ToNapiValue,
    F: Future<Output = std::result::Result<T, CoreError>> + Send + 'static,
    M: FnOnce(&Env, T) -> Result<V> + 'static,
{
    // On the heap at once: a large future moved by value down the runtime's spawn on Node's thread made
    // a call throw `undefined` instead of returning its Promise (fetchAll, inside node:test).
    let fut = Box::pin(fut);
    env.spawn_future_with_callback(async move { Ok(fut.await) }, move |env, outcome| match outcome {
        Ok(v) => map(env, v),
        Err(e) => Err(errors::to_js(env, &e)),
    })
}

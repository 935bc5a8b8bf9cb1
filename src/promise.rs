//! Promises and JSON text across the boundary: every async method settles through [`settle`], which
//! hands its future to the environment's one settle queue (`settle_queue.rs`).

use crate::{errors, settle_queue};
use genesys_tenants_core::trace::CallRecord;
use genesys_tenants_core::Error as CoreError;
use napi::bindgen_prelude::*;
use std::future::Future;

/// Parses a JSON text argument made by the package's JS layer (`lib/wire.js`).
pub(crate) fn json_arg(text: &str, option: &str) -> std::result::Result<serde_json::Value, CoreError> {
    serde_json::from_str(text).map_err(|e| CoreError::InvalidOptions { option: option.into(), reason: format!("is not valid JSON: {e}") })
}

/// [`settle`] for a call that may carry its trace record (core `trace.rs`): with a record it
/// resolves to `{"trace":…,"response":…}` (`response` being the JSON text `fut` made) or rejects with
/// the record as the error's `trace`; without one, exactly as [`settle`].
pub(crate) fn settle_traced<'env, F, K>(env: &'env Env, make: K) -> Result<PromiseRaw<'env, String>>
where
    F: Future<Output = (std::result::Result<String, CoreError>, Option<CallRecord>)> + Send + 'static,
    K: FnOnce() -> F + Send + 'static,
{
    let promise = settle_queue::spawn(env, make, move |env, (outcome, record): (_, Option<CallRecord>)| {
        let trace = record.map(|r| serde_json::to_string(&r).unwrap_or_else(|_| "null".into()));
        match (outcome, trace) {
            (Ok(v), None) => Ok(v),
            (Ok(v), Some(t)) => Ok(format!("{{\"trace\":{t},\"response\":{v}}}")),
            (Err(e), t) => Err(errors::to_js_traced(env, &e, t)),
        }
    })?;
    Ok(PromiseRaw::new(env.raw(), promise))
}

/// Runs the future `make` makes on the addon's runtime (made there, not on Node's thread: see
/// `settle_queue::spawn`) and settles a Promise through the environment's settle queue: core errors
/// reject with a JS `Error` carrying `code` and fields.
pub(crate) fn settle<'env, T, V, F, K, M>(env: &'env Env, make: K, map: M) -> Result<PromiseRaw<'env, V>>
where
    T: Send + 'static,
    V: ToNapiValue,
    F: Future<Output = std::result::Result<T, CoreError>> + Send + 'static,
    K: FnOnce() -> F + Send + 'static,
    M: FnOnce(&Env, T) -> Result<V> + 'static,
{
    let promise = settle_queue::spawn(env, make, move |env, outcome| match outcome {
        Ok(v) => map(env, v),
        Err(e) => Err(errors::to_js(env, &e)),
    })?;
    Ok(PromiseRaw::new(env.raw(), promise))
}

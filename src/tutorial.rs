//! The tutorial's helpers (`fetchTenantConfig`, `fetchWithPaginationAndRetry`, the SDK bridge's
//! error for an answer met outside the pipeline): each converts and delegates to the core's rule.

use crate::errors;
use crate::options;
use crate::promise::{json_arg, settle};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::collections::HashMap;

/// Reads and validates the tenant config once, outside any orchestrator (`fetchTenantConfig` in
/// the package). Takes the orchestrator's options (the config ones are used); resolves to JSON text
/// `{ tenants, invalid, unkeyed }` — **secrets included**, as the caller asked for them.
#[napi(ts_return_type = "Promise<string>")]
pub fn read_tenant_config_json<'env>(env: &'env Env, options_json: String) -> Result<PromiseRaw<'env, String>> {
    let env_token = std::env::var("CONFIG_SERVICE_TOKEN").ok();
    let options = options::from_json(&options_json, env_token).map_err(|e| errors::to_js(env, &e))?;
    settle(
        env,
        move || async move { genesys_tenants_core::config::read_once(&options).await.map(|t| t.to_json_exposing_secrets().to_string()) },
        |_, v| Ok(v),
    )
}

/// The package's error for a non-2xx answer met outside the pipeline (an SDK call on a client of
/// the caller's own): an `Error` with `code` and fields, returned rather than thrown. `headers`
/// are the response's (any case); `body` its text or JSON text.
#[napi(ts_return_type = "Error & { code: string }")]
pub fn classify_http_error<'env>(
    env: &'env Env,
    tenant_id: String,
    status: u32,
    body: String,
    headers: HashMap<String, String>,
) -> Result<Unknown<'env>> {
    let status = u16::try_from(status).unwrap_or(0);
    let headers: Vec<(String, String)> = headers.into_iter().collect();
    errors::object(env, &genesys_tenants_core::pipeline::classify::classify_parts(&tenant_id, status, &body, &headers))
}

/// One page of a listing read by the shared page-end rules (`fetchWithPaginationAndRetry`): takes the
/// page's summary (its top-level fields, item arrays as `{ "length": n }`) and the listing so far
/// `{ pageNumber, seen, cursor?, nextUri?, nextPage? }`; returns `{ items, next }` where `next` is
/// `null` or `{ kind: 'pageNumber' | 'cursor' | 'nextUri' | 'nextPage', token }`. Throws
/// `INVALID_OPTIONS` (`option: 'apiCall'`) for an answer that is not a listing page and
/// `UPSTREAM_ERROR` for a token that does not advance.
#[napi]
pub fn page_step(env: Env, summary_json: String, state_json: String) -> Result<String> {
    json_arg(&summary_json, "page")
        .and_then(|summary| Ok((summary, json_arg(&state_json, "state")?)))
        .and_then(|(summary, state)| genesys_tenants_core::pipeline::page_end::step_json(&summary, &state))
        .map(|v| v.to_string())
        .map_err(|e| errors::to_js(&env, &e))
}

/// The retry rules of the pipeline for a call made outside it (`fetchWithPaginationAndRetry`):
/// given the error it failed with — `{ code, status?, retryAfterMs? }` as JSON text — the retries
/// granted so far and the waiting so far, how long to wait before trying again, or `null` to give
/// up. The call is taken to be a read (safe to repeat).
#[napi]
pub fn retry_wait(error_json: String, retries: u32, waited_ms: f64, max_retries: u32, budget_ms: f64) -> Option<f64> {
    let e: serde_json::Value = serde_json::from_str(&error_json).ok()?;
    let ms = |v: f64| std::time::Duration::from_millis(v.clamp(0.0, 86_400_000.0) as u64);
    let status = e.get("status").and_then(serde_json::Value::as_u64).and_then(|s| u16::try_from(s).ok());
    let retry_after = e.get("retryAfterMs").and_then(serde_json::Value::as_f64).map(ms);
    let code = e.get("code").and_then(serde_json::Value::as_str)?;
    genesys_tenants_core::retry::budget::wait_after_error(code, status, retry_after, retries, ms(waited_ms), max_retries, ms(budget_ms))
        .map(|d| d.as_millis() as f64)
}

/// Resolves after `ms` milliseconds, timed in Rust: the package's JS helpers wait with this so that
/// a caller's fake timers (Jest) cannot stall or skip their waits.
#[napi(ts_return_type = "Promise<void>")]
pub fn sleep(env: &Env, ms: u32) -> Result<PromiseRaw<'_, ()>> {
    settle(
        env,
        move || async move {
            tokio::time::sleep(std::time::Duration::from_millis(u64::from(ms))).await;
            Ok(())
        },
        |_, ()| Ok(()),
    )
}

/// The core's defaults for the options the JS helpers also apply (`maxRetries`, `maxRetryDelayMs`):
/// one home for them, in Rust.
#[napi(ts_return_type = "{ maxRetries: number; maxRetryDelayMs: number; requestTimeoutMs: number }")]
pub fn default_options() -> serde_json::Value {
    let o = genesys_tenants_core::Options::default();
    serde_json::json!({
        "maxRetries": o.max_retries,
        "maxRetryDelayMs": o.max_retry_delay.as_millis() as u64,
        "requestTimeoutMs": o.request_timeout.as_millis() as u64,
    })
}

//! Node binding for genesys-tenants: converts JS values and delegates to `genesys_tenants_core`.
//! No logic lives here; see `crates/core`. One file per class: `orchestrator.rs`
//! (`NativeOrchestrator`), `page_cursor.rs` (`NativePageCursor`); the tutorial's helpers in
//! `tutorial.rs`; how a call's bounds cross in `calls.rs`; promises in `promise.rs`, settled through
//! one queue per JS environment (`settle_queue.rs`).
#![deny(clippy::all)]
// The core's `Error` is large (see crates/core/src/lib.rs); it only travels on the cold path.
#![allow(clippy::result_large_err)]

pub mod calls;
mod errors;
mod js_types;
pub mod notifications;
mod options;
pub mod orchestrator;
pub mod page_cursor;
mod promise;
mod settle_queue;
pub mod tutorial;

use genesys_tenants_core::Error as CoreError;
use napi::bindgen_prelude::*;
use napi_derive::napi;

/// Version of the native core.
#[napi]
pub fn core_version() -> String {
    genesys_tenants_core::VERSION.to_string()
}

/// What the operation catalogue says of `method path` (permissions ANY/ALL, accepted scopes, replay
/// safety), as JSON text, or `null` when the API has no such operation.
#[napi]
pub fn explain_operation(method: String, path: String) -> Option<String> {
    genesys_tenants_core::operations::explain(&method, &path).map(|v| v.to_string())
}

/// What the rotation webhook accepts: `{ header, maxBody }` as JSON text (the signature header's
/// name and the largest body, in bytes).
#[napi]
pub fn webhook_limits() -> String {
    serde_json::json!({"header": genesys_tenants_core::webhook::SIGNATURE_HEADER, "maxBody": genesys_tenants_core::webhook::MAX_BODY})
        .to_string()
}

/// The `X-Genesys-Tenants-Signature` value for `body` signed with `secret` at `timestampS` (Unix
/// seconds): what a sender of rotation webhooks sends (`genesys-tenants webhook sign`).
#[napi(ts_args_type = "secret: string, timestampS: number, body: Uint8Array")]
pub fn sign_webhook(env: Env, secret: String, timestamp_s: f64, body: Buffer) -> Result<String> {
    let settings = genesys_tenants_core::webhook::WebhookSettings::new(genesys_tenants_core::Secret::new(secret), None)
        .map_err(|e| errors::to_js(&env, &e))?;
    // Whole seconds up to the end of year 9999: a fraction or 1e30 is a mistake, not a time.
    if !(timestamp_s.is_finite() && timestamp_s >= 0.0 && timestamp_s.fract() == 0.0 && timestamp_s <= 253_402_300_799.0) {
        let e = CoreError::InvalidOptions { option: "timestamp".into(), reason: "must be whole Unix seconds, 0 to 253402300799".into() };
        return Err(errors::to_js(&env, &e));
    }
    Ok(genesys_tenants_core::webhook::sign(&settings.secret, timestamp_s as u64, &body))
}

/// Every `code` an error of this package can carry (the one list, in the core).
#[napi]
pub fn error_codes() -> Vec<&'static str> {
    CoreError::CODES.to_vec()
}

/// Every event `type` the core emits (the one list, in the core).
#[napi]
pub fn event_kinds() -> Vec<&'static str> {
    genesys_tenants_core::events::EventKind::ALL.iter().map(|k| k.as_str()).collect()
}

/// The SDK release the operation catalogue was generated from (`purecloud-platform-client-v2@262.0.0`).
#[napi]
pub fn catalogue_source() -> String {
    genesys_tenants_core::operations::catalogue().sdk.to_string()
}

/// `text` with every control, line-break and bidi character written as a visible escape: the
/// core's one rule for printing an outside value (the CLI's `printable`).
#[napi]
pub fn printable(text: String) -> String {
    genesys_tenants_core::untrusted::printable(&text)
}

/// JSON text with those characters written as `\uXXXX` (the CLI's `safeJson`).
#[napi]
pub fn printable_json(json: String) -> String {
    genesys_tenants_core::untrusted::printable_json(&json)
}

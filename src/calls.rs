//! A call's bounds cross with the call itself: `{ id?, timeoutMs?, aborted? }`. The JS layer numbers
//! an abortable call (one with an `AbortSignal`) and calls `abortCall(id)` when the signal fires;
//! the call is registered here, synchronously, before its Promise is returned — so an abort can only
//! come after — and closed by its guard when it ends ([`OpenCall`]'s drop: the one place a call is
//! closed). The rules (range of `timeoutMs`, ABORTED, TIMEOUT) are the core's.

use crate::errors;
use genesys_tenants_core::call_bounds::{OpenCall, OpenCalls};
use genesys_tenants_core::Error as CoreError;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::sync::Arc;

/// A call's bounds as the JS layer sends them.
#[napi(object)]
pub struct CallSpec {
    /// The caller's number for an abortable call (not 0; unique among the orchestrator's open calls).
    pub id: Option<u32>,
    /// Deadline for the whole call, in milliseconds (1 to 86400000).
    pub timeout_ms: Option<f64>,
    /// The signal had fired before the call: it fails with `ABORTED` and sends nothing.
    pub aborted: Option<bool>,
    /// Record what the call did (requests, attempts, token waits) for OpenTelemetry spans: the
    /// record crosses once, with the result (`{ trace, response }`) or as the rejection's `trace`.
    pub trace: Option<bool>,
}

/// Whether the call asked for its trace record (core `trace.rs`).
pub(crate) fn traced(spec: &Option<CallSpec>) -> bool {
    spec.as_ref().and_then(|s| s.trace).unwrap_or(false)
}

/// Opens `spec` on `calls` (no spec: an unbounded call); `INVALID_OPTIONS` for a bad `timeoutMs`.
pub(crate) fn open_call(env: &Env, calls: &Arc<OpenCalls>, spec: Option<CallSpec>) -> Result<OpenCall> {
    let Some(spec) = spec else { return Ok(OpenCall::unbounded()) };
    let timeout = match spec.timeout_ms {
        None => None,
        // Conversion only; the core checks the range.
        Some(ms) if ms.is_finite() && ms.fract() == 0.0 && (0.0..=1e15).contains(&ms) => Some(std::time::Duration::from_millis(ms as u64)),
        Some(_) => {
            let e = CoreError::InvalidOptions { option: "timeoutMs".into(), reason: "must be a whole number of milliseconds".into() };
            return Err(errors::to_js(env, &e));
        }
    };
    OpenCalls::open(calls, spec.id, timeout, spec.aborted.unwrap_or(false)).map_err(|e| errors::to_js(env, &e))
}

//! Node binding for genesys-tenants: converts JS values and delegates to `genesys_tenants_core`.
//! No logic lives here; see `crates/core`.
#![deny(clippy::all)]
// The core's `Error` is large (see crates/core/src/lib.rs); it only travels on the cold path.
#![allow(clippy::result_large_err)]

mod errors;
mod js_types;
mod options;

use genesys_tenants_core::call_bounds::CallBounds;
use genesys_tenants_core::{ApiRequest, Error as CoreError, Orchestrator, PageOptions, Paginator};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use std::collections::HashMap;
use std::future::Future;

/// Version of the native core.
#[napi]
pub fn core_version() -> String {
    genesys_tenants_core::VERSION.to_string()
}

/// Reads and validates the tenant config once, outside any orchestrator (`fetchTenantConfig` in
/// the package). Takes the orchestrator's options (the config ones are used); resolves to JSON text
/// `{ tenants, invalid, unkeyed }` — **secrets included**, as the caller asked for them.
#[napi(ts_return_type = "Promise<string>")]
pub fn read_tenant_config_json<'env>(env: &'env Env, options_json: String) -> Result<PromiseRaw<'env, String>> {
    let env_token = std::env::var("CONFIG_SERVICE_TOKEN").ok();
    let options = options::from_json(&options_json, env_token).map_err(|e| errors::to_js(env, &e))?;
    settle(
        env,
        async move { genesys_tenants_core::config::read_once(&options).await.map(|t| t.to_json_exposing_secrets().to_string()) },
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

/// What the operation catalogue says of `method path` (permissions ANY/ALL, accepted scopes, replay
/// safety), as JSON text, or `null` when the API has no such operation.
#[napi]
pub fn explain_operation(method: String, path: String) -> Option<String> {
    genesys_tenants_core::operations::explain(&method, &path).map(|v| v.to_string())
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
    if !(timestamp_s.is_finite() && timestamp_s >= 0.0) {
        let e = CoreError::InvalidOptions { option: "timestamp".into(), reason: "must be Unix seconds".into() };
        return Err(errors::to_js(&env, &e));
    }
    Ok(genesys_tenants_core::webhook::sign(&settings.secret, timestamp_s as u64, &body))
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
    genesys_tenants_core::pipeline::retry::wait_after_error(code, status, retry_after, retries, ms(waited_ms), max_retries, ms(budget_ms))
        .map(|d| d.as_millis() as f64)
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

/// Resolves after `ms` milliseconds, timed in Rust: the package's JS helpers wait with this so that
/// a caller's fake timers (Jest) cannot stall or skip their waits.
#[napi(ts_return_type = "Promise<void>")]
pub fn sleep(env: &Env, ms: u32) -> Result<PromiseRaw<'_, ()>> {
    settle(
        env,
        async move {
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

/// Event callback: receives one event as JSON text `{ type, tenantId?, at, ... }` (parsed in JS,
/// where `JSON.parse` keeps every key an own property).
type EventCallback = ThreadsafeFunction<String, Unknown<'static>, String, Status, false, true>;

/// Parses a JSON text argument made by the package's JS layer (`lib/wire.js`).
fn json_arg(text: &str, option: &str) -> std::result::Result<serde_json::Value, CoreError> {
    serde_json::from_str(text).map_err(|e| CoreError::InvalidOptions { option: option.into(), reason: format!("is not valid JSON: {e}") })
}

/// Runs `fut` on the addon's runtime and settles a Promise: core errors reject with a JS `Error`
/// carrying `code` and fields.
fn settle<'env, T, V, F, M>(env: &'env Env, fut: F, map: M) -> Result<PromiseRaw<'env, V>>
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

/// The native orchestrator. Use the `TenantOrchestrator` exported by the package (lib/), which
/// wraps this class with iterators, the SDK bridge and `onEvent`.
#[napi]
pub struct NativeOrchestrator {
    core: Orchestrator,
}

#[napi]
impl NativeOrchestrator {
    /// Validates `options` (throws `INVALID_OPTIONS` naming the option).
    /// `options_json`: the options as JSON text (see `lib/wire.js`).
    #[napi(constructor)]
    pub fn new(env: Env, options_json: String) -> Result<Self> {
        let env_token = std::env::var("CONFIG_SERVICE_TOKEN").ok();
        let core = options::from_json(&options_json, env_token).and_then(Orchestrator::new).map_err(|e| errors::to_js(&env, &e))?;
        Ok(NativeOrchestrator { core })
    }

    /// Reads and validates the config, starts the scheduler. Resolves to the usable tenant ids.
    #[napi(ts_return_type = "Promise<string[]>")]
    pub fn initialize<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Vec<String>>> {
        let core = self.core.clone();
        settle(env, async move { core.initialize().await }, |_, ids| Ok(ids))
    }

    /// Usable tenant ids, sorted.
    #[napi]
    pub fn tenant_ids(&self) -> Vec<String> {
        self.core.tenant_ids()
    }

    /// What the orchestrator knows of a usable tenant (no secret): throws its error otherwise.
    #[napi(ts_return_type = "{ tenantId: string; environment: string; clientId: string; requiredScopes: string[] }")]
    pub fn tenant_info(&self, env: Env, tenant_id: String) -> Result<serde_json::Value> {
        let t = self.core.tenant(&tenant_id).map_err(|e| errors::to_js(&env, &e))?;
        Ok(serde_json::json!({
            "tenantId": t.tenant_id,
            "environment": t.environment,
            "clientId": t.client_id,
            "requiredScopes": t.required_scopes,
        }))
    }

    /// A usable tenant's entry as the tutorial's config object, **secret included**, as JSON text
    /// (for `tenantConfigs`; the JS layer makes the secret non-enumerable). Throws the tenant's error.
    #[napi]
    pub fn tenant_config_json(&self, env: Env, tenant_id: String) -> Result<String> {
        let t = self.core.tenant(&tenant_id).map_err(|e| errors::to_js(&env, &e))?;
        Ok(t.to_json_exposing_secret().to_string())
    }

    /// Ids of usable tenants whose id or `domainPrefix` is exactly `key` (never a prefix match).
    #[napi]
    pub fn tenants_named(&self, key: String) -> Vec<String> {
        self.core.tenants_named(&key)
    }

    /// Forces a rotation of the tenant every `intervalMs` (`null`: back to its config's), until its
    /// config entry changes.
    #[napi]
    pub fn schedule_rotation(&self, env: Env, tenant_id: String, interval_ms: Option<f64>) -> Result<()> {
        let every = match interval_ms {
            Some(ms) if ms.is_finite() && ms >= 0.0 => Some(std::time::Duration::from_millis(ms as u64)),
            Some(_) => {
                let e =
                    CoreError::InvalidOptions { option: "rotationIntervalMs".into(), reason: "must be a number of milliseconds".into() };
                return Err(errors::to_js(&env, &e));
            }
            None => None,
        };
        self.core.schedule_rotation(&tenant_id, every).map_err(|e| errors::to_js(&env, &e))
    }

    /// `null` when the tenant's declared scopes cover `requiredScopes` (or it declares none), else
    /// the `SCOPE_MISSING` error (`preflight: true`) to throw; other tenant errors are thrown.
    #[napi(ts_return_type = "(Error & { code: 'SCOPE_MISSING'; missingScopes: string[] }) | null")]
    pub fn check_scopes<'env>(&self, env: &'env Env, tenant_id: String, required_scopes: Vec<String>) -> Result<Option<Unknown<'env>>> {
        match self.core.check_scopes(&tenant_id, &required_scopes) {
            Ok(()) => Ok(None),
            Err(e @ CoreError::ScopeMissing { .. }) => errors::object(env, &e).map(Some),
            Err(e) => Err(errors::to_js(env, &e)),
        }
    }

    /// The tenant's token, synchronously, when it is cached and needs no work; else `null` (then
    /// call `getAccessToken`, which fetches or refreshes).
    #[napi]
    pub fn cached_access_token(&self, tenant_id: String) -> Option<String> {
        self.core.cached_access_token(&tenant_id).map(|s| s.expose().to_string())
    }

    /// A valid access token for the tenant, within the bounds of `call` (see `openCall`).
    #[napi(ts_return_type = "Promise<string>")]
    pub fn get_access_token<'env>(&self, env: &'env Env, tenant_id: String, call: Option<u32>) -> Result<PromiseRaw<'env, String>> {
        let core = self.core.clone();
        settle(env, async move { core.calls().run(call, Some(&tenant_id), core.access_token(&tenant_id)).await }, |_, s| {
            Ok(s.expose().to_string())
        })
    }

    /// Opens a call bounded by `timeoutMs` from now (none: no deadline) that `abortCall` can abort;
    /// pass its id to one call, which closes it when done. Throws `INVALID_OPTIONS` for a bad timeout.
    #[napi]
    pub fn open_call(&self, env: Env, timeout_ms: Option<f64>) -> Result<u32> {
        let timeout = match timeout_ms {
            None => None,
            // Conversion only; the core checks the range.
            Some(ms) if ms.is_finite() && ms.fract() == 0.0 && (0.0..=1e15).contains(&ms) => {
                Some(std::time::Duration::from_millis(ms as u64))
            }
            Some(_) => {
                let e = CoreError::InvalidOptions { option: "timeoutMs".into(), reason: "must be a whole number of milliseconds".into() };
                return Err(errors::to_js(&env, &e));
            }
        };
        self.core.calls().open(timeout).map_err(|e| errors::to_js(&env, &e))
    }

    /// Aborts an open call: it rejects with `ABORTED` and sends nothing more.
    #[napi]
    pub fn abort_call(&self, call: u32) {
        self.core.calls().abort(call);
    }

    /// Forgets a call that will not run (idempotent).
    #[napi]
    pub fn close_call(&self, call: u32) {
        self.core.calls().close(call);
    }

    /// Re-reads the tenant's config and obtains a new token; the old one serves until then.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn rotate_credentials<'env>(&self, env: &'env Env, tenant_id: String) -> Result<PromiseRaw<'env, ()>> {
        let core = self.core.clone();
        settle(env, async move { core.rotate_credentials(&tenant_id).await }, |_, ()| Ok(()))
    }

    /// Checks `rotationWebhook()`'s options (JSON text); throws `INVALID_OPTIONS` naming the bad one.
    #[napi]
    pub fn check_webhook_options(&self, env: Env, options_json: String) -> Result<()> {
        options::webhook_from_json(&options_json).map(|_| ()).map_err(|e| errors::to_js(&env, &e))
    }

    /// Handles one rotation-webhook delivery: `signature` is the `X-Genesys-Tenants-Signature` header,
    /// `body` the raw body. Resolves to `{ status, body }` as JSON text, for the HTTP answer.
    #[napi(
        ts_args_type = "optionsJson: string, signature: string | undefined | null, body: Uint8Array",
        ts_return_type = "Promise<string>"
    )]
    pub fn rotation_webhook<'env>(
        &self,
        env: &'env Env,
        options_json: String,
        signature: Option<String>,
        body: Buffer,
    ) -> Result<PromiseRaw<'env, String>> {
        let core = self.core.clone();
        let body = body.to_vec();
        settle(
            env,
            async move {
                let settings = options::webhook_from_json(&options_json)?;
                let a = core.rotation_webhook(&settings, signature.as_deref(), &body).await;
                Ok(serde_json::json!({"status": a.status, "body": a.body}).to_string())
            },
            |_, text| Ok(text),
        )
    }

    /// Re-reads the config now; resolves to `{ added, removed, changed }`.
    #[napi]
    pub fn reload_config<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, js_types::ConfigDiff>> {
        let core = self.core.clone();
        settle(env, async move { core.reload_config().await }, |_, d| {
            Ok(js_types::ConfigDiff { added: d.added, removed: d.removed, changed: d.changed })
        })
    }

    /// Sends one API call through the pipeline. Takes and returns JSON text (`{ method, path, query?,
    /// headers?, body? }` → `{ status, headers, body }`): V8's JSON.parse builds the answer faster than
    /// N-API calls would. Use `request()` from the package, which does the (de)serialising.
    #[napi]
    pub fn request_json<'env>(
        &self,
        env: &'env Env,
        tenant_id: String,
        request: String,
        call: Option<u32>,
    ) -> Result<PromiseRaw<'env, String>> {
        let core = self.core.clone();
        settle(
            env,
            async move {
                let parsed = serde_json::from_str::<serde_json::Value>(&request)
                    .map_err(|e| CoreError::InvalidOptions { option: "request".into(), reason: e.to_string() })
                    .and_then(|value| ApiRequest::from_json(&value));
                let req = match parsed {
                    Ok(req) => req,
                    Err(e) => {
                        call.into_iter().for_each(|id| core.calls().close(id));
                        return Err(e);
                    }
                };
                core.calls().run(call, Some(&tenant_id), core.request_raw(&tenant_id, req)).await.map(|r| r.to_envelope_json())
            },
            |_, v| Ok(v),
        )
    }

    /// Every item of a listing; resolves to JSON text `{ entities, totalCount, pages }`. Takes the
    /// request and the page options as JSON text (`lib/wire.js`).
    #[napi(ts_return_type = "Promise<string>")]
    pub fn fetch_all_json<'env>(
        &self,
        env: &'env Env,
        tenant_id: String,
        request_json: String,
        options_json: Option<String>,
        call: Option<u32>,
    ) -> Result<PromiseRaw<'env, String>> {
        let core = self.core.clone();
        settle(
            env,
            async move {
                let parsed = json_arg(&request_json, "request").and_then(|r| ApiRequest::from_json(&r)).and_then(|req| {
                    let options = options_json.map(|o| json_arg(&o, "options")).transpose()?;
                    Ok((req, PageOptions::from_json(options.as_ref())?))
                });
                let (req, opts) = match parsed {
                    Ok(p) => p,
                    Err(e) => {
                        call.into_iter().for_each(|id| core.calls().close(id));
                        return Err(e);
                    }
                };
                // Boxed, so this future stays small (see `settle`).
                let listing = Box::pin(core.fetch_all(&tenant_id, req, opts));
                core.calls().run(call, Some(&tenant_id), listing).await.map(|r| r.to_json().to_string())
            },
            |_, v| Ok(v),
        )
    }

    /// A native cursor over a listing (wrapped as an async iterator by `paginate()` in lib/). Takes
    /// JSON text, as `fetchAllJson`.
    #[napi]
    pub fn page_cursor(
        &self,
        env: Env,
        tenant_id: String,
        request_json: String,
        options_json: Option<String>,
        call: Option<u32>,
    ) -> Result<NativePageCursor> {
        let parsed = json_arg(&request_json, "request").and_then(|r| ApiRequest::from_json(&r)).and_then(|req| {
            let options = options_json.as_deref().map(|o| json_arg(o, "options")).transpose()?;
            Ok((req, PageOptions::from_json(options.as_ref())?))
        });
        let (req, opts) = parsed.map_err(|e| {
            call.into_iter().for_each(|id| self.core.calls().close(id));
            errors::to_js(&env, &e)
        })?;
        let pager = self.core.paginate(&tenant_id, req, opts);
        Ok(NativePageCursor {
            pager: std::sync::Arc::new(tokio::sync::Mutex::new(pager)),
            bounds: self.core.calls().bounds(call),
            call: call.map(|id| (self.core.clone(), id)),
            tenant_id,
        })
    }

    /// Per-tenant counters and cache state, as JSON text (tenant ids are keys: `JSON.parse` keeps
    /// even `__proto__` an own property).
    #[napi]
    pub fn stats_json(&self) -> String {
        serde_json::to_string(&self.core.stats()).unwrap_or_else(|_| "{}".into())
    }

    /// Metrics as JSON text (`metrics()` in the package parses it).
    #[napi]
    pub fn metrics_json(&self) -> String {
        serde_json::to_string(&self.core.metrics()).unwrap_or_else(|_| "{}".into())
    }

    /// Metrics in the Prometheus text exposition format.
    #[napi]
    pub fn metrics_text(&self) -> String {
        self.core.metrics().render_text()
    }

    /// Calls `callback(eventJson)` for every event until `unsubscribe(id)` or `close()`. The callback
    /// does not keep the process alive.
    #[napi(ts_args_type = "callback: (eventJson: string) => void")]
    pub fn subscribe(&self, callback: EventCallback) -> u32 {
        let core = self.core.clone();
        napi::bindgen_prelude::within_runtime_if_available(move || {
            core.subscribe_json(move |text| callback.call(text, ThreadsafeFunctionCallMode::NonBlocking) != Status::Closing)
        })
    }

    /// Stops a subscription made with `subscribe`.
    #[napi]
    pub fn unsubscribe(&self, id: u32) {
        self.core.unsubscribe(id);
    }

    /// Stops every task and subscription; later calls reject with `CLOSED`.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let core = self.core.clone();
        settle(
            env,
            async move {
                core.close().await;
                Ok(())
            },
            |_, ()| Ok(()),
        )
    }
}

/// A cursor over one listing: each `next()` fetches one page, `null` after the last.
#[napi]
pub struct NativePageCursor {
    pager: std::sync::Arc<tokio::sync::Mutex<Paginator>>,
    /// The listing's deadline and abort, shared by every page.
    bounds: CallBounds,
    /// The open call to close when the listing ends.
    call: Option<(Orchestrator, u32)>,
    tenant_id: String,
}

#[napi]
impl NativePageCursor {
    /// The next page as JSON text `{ items, index, total }`, or `null` after the last.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn next_json<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, String>> {
        let pager = std::sync::Arc::clone(&self.pager);
        let bounds = self.bounds.clone();
        let tenant_id = self.tenant_id.clone();
        settle(
            env,
            async move {
                bounds
                    .run(Some(&tenant_id), async {
                        let mut p = pager.lock().await;
                        Ok(p.next_page().await?.map(|page| page.to_json().to_string()).unwrap_or_else(|| "null".into()))
                    })
                    .await
            },
            |_, v| Ok(v),
        )
    }

    /// Ends the listing's call (its deadline and abort are forgotten). Idempotent.
    #[napi]
    pub fn close(&self) {
        if let Some((core, id)) = &self.call {
            core.calls().close(*id);
        }
    }
}

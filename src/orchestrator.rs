//! `NativeOrchestrator`: the core's `Orchestrator` for the JS layer (lib/index.js). Each method
//! converts its arguments, delegates and maps the error.

use crate::calls::{open_call, traced, CallSpec};
use crate::errors;
use crate::js_types;
use crate::options;
use crate::page_cursor::NativePageCursor;
use crate::promise::{json_arg, settle, settle_traced};
use genesys_tenants_core::{trace, ApiRequest, Error as CoreError, Orchestrator, PageOptions};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

/// Event callback: receives one event as JSON text `{ type, tenantId?, at, ... }` (parsed in JS,
/// where `JSON.parse` keeps every key an own property).
type EventCallback = ThreadsafeFunction<String, Unknown<'static>, String, Status, false, true>;

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
        settle(env, move || async move { core.initialize().await }, |_, ids| Ok(ids))
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

    /// A valid access token for the tenant, within the bounds of `call` (see `CallSpec`).
    #[napi(ts_return_type = "Promise<string>")]
    /// A traced call (`call.trace`) resolves to `{ trace, response: token }` as JSON text instead.
    pub fn get_access_token<'env>(&self, env: &'env Env, tenant_id: String, call: Option<CallSpec>) -> Result<PromiseRaw<'env, String>> {
        let on = traced(&call);
        let (core, call) = (self.core.clone(), open_call(env, self.core.calls(), call)?);
        if on {
            return settle_traced(env, move || async move {
                let (r, record) = trace::collect(true, call.run(Some(&tenant_id), core.access_token(&tenant_id))).await;
                (r.map(|s| serde_json::Value::from(s.expose()).to_string()), record)
            });
        }
        settle(
            env,
            move || async move { call.run(Some(&tenant_id), core.access_token(&tenant_id)).await },
            |_, s| Ok(s.expose().to_string()),
        )
    }

    /// Aborts an open call (its `AbortSignal` fired): it rejects with `ABORTED` and sends nothing more.
    #[napi]
    pub fn abort_call(&self, call: u32) {
        self.core.calls().abort(call);
    }

    /// Re-reads the tenant's config and obtains a new token; the old one serves until then.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn rotate_credentials<'env>(&self, env: &'env Env, tenant_id: String) -> Result<PromiseRaw<'env, ()>> {
        let core = self.core.clone();
        settle(env, move || async move { core.rotate_credentials(&tenant_id).await }, |_, ()| Ok(()))
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
            move || async move {
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
        settle(
            env,
            move || async move { core.reload_config().await },
            |_, d| Ok(js_types::ConfigDiff { added: d.added, removed: d.removed, changed: d.changed }),
        )
    }

    /// Sends one API call through the pipeline. Takes and returns JSON text (`{ method, path, query?,
    /// headers?, body? }` → `{ status, headers, body }`): V8's JSON.parse builds the answer faster than
    /// N-API calls would. Use `request()` from the package, which does the (de)serialising.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn request_json<'env>(
        &self,
        env: &'env Env,
        tenant_id: String,
        request: String,
        call: Option<CallSpec>,
    ) -> Result<PromiseRaw<'env, String>> {
        let on = traced(&call);
        let (core, call) = (self.core.clone(), open_call(env, self.core.calls(), call)?);
        let run = move || async move {
            let work = async {
                let req = json_arg(&request, "request").and_then(|value| ApiRequest::from_json(&value))?;
                core.request_raw(&tenant_id, req).await
            };
            call.run(Some(&tenant_id), work).await.map(|r| r.to_envelope_json())
        };
        if on {
            return settle_traced(env, move || trace::collect(true, run()));
        }
        settle(env, run, |_, v| Ok(v))
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
        call: Option<CallSpec>,
    ) -> Result<PromiseRaw<'env, String>> {
        let on = traced(&call);
        let (core, call) = (self.core.clone(), open_call(env, self.core.calls(), call)?);
        let run = move || async move {
            let work = async {
                let (req, opts) = listing_args(&request_json, options_json.as_deref())?;
                // Boxed, so this future stays small (see `settle`).
                Box::pin(core.fetch_all(&tenant_id, req, opts)).await
            };
            call.run(Some(&tenant_id), work).await.map(|r| r.to_json().to_string())
        };
        if on {
            return settle_traced(env, move || trace::collect(true, run()));
        }
        settle(env, run, |_, v| Ok(v))
    }

    /// A native cursor over a listing (wrapped as an async iterator by `paginate()` in lib/). Takes
    /// JSON text, as `fetchAllJson`; the listing's bounds hold for every page.
    #[napi]
    pub fn page_cursor(
        &self,
        env: Env,
        tenant_id: String,
        request_json: String,
        options_json: Option<String>,
        call: Option<CallSpec>,
    ) -> Result<NativePageCursor> {
        let on = traced(&call);
        let call = open_call(&env, self.core.calls(), call)?;
        let (req, opts) = listing_args(&request_json, options_json.as_deref()).map_err(|e| errors::to_js(&env, &e))?;
        Ok(NativePageCursor::new(self.core.paginate(&tenant_id, req, opts), call, tenant_id, on))
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

    /// [`NativeOrchestrator::metrics_text`] gathered and rendered on a worker thread (libuv's pool):
    /// for 10,000 tenants that is 16 MiB of text, which would block Node's thread for tens of ms.
    /// Node's thread only turns the finished text into a string.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn metrics_text_async(&self) -> AsyncTask<RenderMetrics> {
        AsyncTask::new(RenderMetrics(self.core.clone()))
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

    /// Subscribes to a tenant's notification topics; resolves once the server has them (use
    /// `o.subscribe()` / `o.events()` from the package).
    #[napi(ts_return_type = "Promise<NativeSubscription>")]
    pub fn subscribe_topics<'env>(
        &self,
        env: &'env Env,
        tenant_id: String,
        topics: Vec<String>,
    ) -> Result<PromiseRaw<'env, crate::notifications::NativeSubscription>> {
        let core = self.core.clone();
        settle(
            env,
            move || async move { core.notifications().subscribe(&tenant_id, topics).await },
            |_, s| Ok(crate::notifications::NativeSubscription::new(s)),
        )
    }

    /// Stops every task and subscription; later calls reject with `CLOSED`.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let core = self.core.clone();
        settle(
            env,
            move || async move {
                core.close().await;
                Ok(())
            },
            |_, ()| Ok(()),
        )
    }
}

/// A listing's request and page options, from the JSON text `lib/wire.js` made.
fn listing_args(request_json: &str, options_json: Option<&str>) -> std::result::Result<(ApiRequest, PageOptions), CoreError> {
    let req = json_arg(request_json, "request").and_then(|r| ApiRequest::from_json(&r))?;
    let options = options_json.map(|o| json_arg(o, "options")).transpose()?;
    Ok((req, PageOptions::from_json(options.as_ref())?))
}

/// The render behind `metricsTextAsync()`: `compute` runs on libuv's thread pool.
pub struct RenderMetrics(Orchestrator);

impl Task for RenderMetrics {
    type Output = String;
    type JsValue = String;

    fn compute(&mut self) -> Result<String> {
        Ok(self.0.metrics().render_text())
    }

    fn resolve(&mut self, _env: Env, text: String) -> Result<String> {
        Ok(text)
    }
}

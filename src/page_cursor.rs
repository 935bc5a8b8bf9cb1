//! `NativePageCursor`: one listing, a page per `nextJson()`, within the listing's call bounds.

use crate::promise::{settle, settle_traced};
use genesys_tenants_core::call_bounds::{CallBounds, OpenCall};
use genesys_tenants_core::trace;
use genesys_tenants_core::Paginator;
use napi::bindgen_prelude::*;
use napi_derive::napi;

/// A cursor over one listing: each `next()` fetches one page, `null` after the last.
#[napi]
pub struct NativePageCursor {
    pager: std::sync::Arc<tokio::sync::Mutex<Paginator>>,
    /// The listing's deadline and abort, shared by every page; closed by `close()` or when dropped.
    call: std::sync::Mutex<Option<OpenCall>>,
    bounds: CallBounds,
    tenant_id: String,
    /// Each page carries its trace record (`{ trace, response }`), for OpenTelemetry spans.
    traced: bool,
}

impl NativePageCursor {
    pub(crate) fn new(pager: Paginator, call: OpenCall, tenant_id: String, traced: bool) -> Self {
        let bounds = call.bounds().clone();
        NativePageCursor {
            pager: std::sync::Arc::new(tokio::sync::Mutex::new(pager)),
            call: std::sync::Mutex::new(Some(call)),
            bounds,
            tenant_id,
            traced,
        }
    }
}

#[napi]
impl NativePageCursor {
    /// The next page as JSON text `{ items, index, total }`, or `null` after the last. `traceparent`
    /// / `tracestate`: the page span's context, sent with this page's API requests only (lib/otel.js,
    /// `propagateContext`).
    #[napi(ts_return_type = "Promise<string>")]
    pub fn next_json<'env>(
        &self,
        env: &'env Env,
        traceparent: Option<String>,
        tracestate: Option<String>,
    ) -> Result<PromiseRaw<'env, String>> {
        let pager = std::sync::Arc::clone(&self.pager);
        let bounds = self.bounds.clone();
        let tenant_id = self.tenant_id.clone();
        let headers: Vec<(String, String)> = [("traceparent", traceparent), ("tracestate", tracestate)]
            .into_iter()
            .filter_map(|(name, value)| value.map(|v| (name.to_owned(), v)))
            .collect();
        let run = move || async move {
            bounds
                .run(Some(&tenant_id), async {
                    let mut p = pager.lock().await;
                    p.set_page_headers(headers);
                    Ok(p.next_page().await?.map(|page| page.to_json().to_string()).unwrap_or_else(|| "null".into()))
                })
                .await
        };
        if self.traced {
            return settle_traced(env, move || trace::collect(true, run()));
        }
        settle(env, run, |_, v| Ok(v))
    }

    /// Whether the listing has ended: the next `nextJson()` sends nothing and resolves to `null` (false
    /// while a page is being fetched).
    #[napi]
    pub fn is_done(&self) -> bool {
        self.pager.try_lock().is_ok_and(|p| p.is_done())
    }

    /// Ends the listing's call (its deadline and abort are forgotten). Idempotent.
    #[napi]
    pub fn close(&self) {
        self.call.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
}

//! `NativeSubscription`: a core notification [`Subscription`] for the JS layer (lib/notifications.js),
//! which pulls batches of events as JSON text (one crossing per batch; the queue stays in Rust,
//! bounded, so a slow JS consumer costs a bounded amount of memory).

use crate::promise::settle;
use genesys_tenants_core::notifications::Subscription;
use napi::bindgen_prelude::*;
use napi_derive::napi;
use std::sync::Arc;

/// One subscription to some of a tenant's topics. Use `o.subscribe()` / `o.events()` from the package.
#[napi]
pub struct NativeSubscription {
    inner: Arc<Subscription>,
}

impl NativeSubscription {
    pub(crate) fn new(sub: Subscription) -> Self {
        NativeSubscription { inner: Arc::new(sub) }
    }
}

#[napi]
impl NativeSubscription {
    /// The next events: JSON text `{"events":[{topicName, eventBody, metadata, tenantId}, …],"dropped":n}`,
    /// or `null` once closed.
    #[napi(ts_return_type = "Promise<string | null>")]
    pub fn next_batch<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Option<String>>> {
        let sub = Arc::clone(&self.inner);
        settle(env, move || async move { Ok(sub.next_batch().await) }, |_, v| Ok(v))
    }

    /// Adds topics; resolves once the server has them.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn add<'env>(&self, env: &'env Env, topics: Vec<String>) -> Result<PromiseRaw<'env, ()>> {
        let sub = Arc::clone(&self.inner);
        settle(env, move || async move { sub.add(topics).await }, |_, ()| Ok(()))
    }

    /// Removes topics.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn remove<'env>(&self, env: &'env Env, topics: Vec<String>) -> Result<PromiseRaw<'env, ()>> {
        let sub = Arc::clone(&self.inner);
        settle(env, move || async move { sub.remove(topics).await }, |_, ()| Ok(()))
    }

    /// Leaves: `nextBatch()` returns what was queued, then `null`.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let sub = Arc::clone(&self.inner);
        settle(
            env,
            move || async move {
                sub.close().await;
                Ok(())
            },
            |_, ()| Ok(()),
        )
    }
}

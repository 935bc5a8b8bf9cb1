//! Organization lookups (`GET /api/v2/tokens/me`, a pinned tenant's check or an unpinned one's hint)
//! go through the tenant's limiter like its calls: they spend the same token's rate budget, and the
//! limiter learns from their answers.

use super::Pipeline;
use crate::retry::retry_after::RateLimitHeaders;
use crate::token::LookupPacing;
use futures::future::BoxFuture;
use std::sync::Weak;
use std::time::Duration;
use tokio::time::Instant;

/// The pipeline's limiters, for the token manager's lookups.
pub(super) struct LimiterPacing(pub(super) Weak<Pipeline>);

impl LookupPacing for LimiterPacing {
    fn before<'a>(&'a self, tenant_id: &'a str) -> BoxFuture<'a, Result<(), Duration>> {
        Box::pin(async move {
            let Some(p) = self.0.upgrade() else { return Ok(()) };
            let limiter = p.limiter(tenant_id);
            limiter.acquire_within(p.options.max_retry_delay).await.map(|_| ())
        })
    }

    fn after(&self, tenant_id: &str, answer: Option<(u16, &reqwest::header::HeaderMap)>) {
        let Some(p) = self.0.upgrade() else { return };
        let limiter = p.limiter(tenant_id);
        if let Some((status, headers)) = answer {
            limiter.observe(&RateLimitHeaders::from_headers(headers), Instant::now());
            if status != 429 {
                limiter.admitted();
            }
        }
        limiter.attempt_over();
    }

    fn hint_delay(&self) -> Duration {
        self.0.upgrade().map_or(Duration::ZERO, |p| p.options.organization_hint_delay)
    }

    fn spare(&self, tenant_id: &str) -> bool {
        let Some(p) = self.0.upgrade() else { return false };
        let (allowed, used, _) = p.limiter(tenant_id).snapshot();
        used < allowed / 2
    }
}

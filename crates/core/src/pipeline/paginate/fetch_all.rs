//! Every item of a listing at once: page 1, then — when it tells the total — the remaining pages
//! concurrently (bounded by `concurrency` and the rate limiter), returned in order.

use super::style::page_request;
use super::{take_items, too_many, FetchAll, PageOptions, PageStyle, Paginator};
use crate::error::{Error, Result};
use crate::pipeline::request::ApiRequest;
use crate::pipeline::Pipeline;
use futures::stream::{self, StreamExt, TryStreamExt};
use serde_json::Value;
use std::sync::Arc;

impl Pipeline {
    /// A sequential cursor over a listing.
    pub fn paginate(self: &Arc<Self>, tenant_id: &str, req: ApiRequest, opts: PageOptions) -> Paginator {
        Paginator::new(Arc::clone(self), tenant_id, req, opts)
    }

    /// Every item of a listing. Numbered styles fetch page 1, then the remaining pages
    /// concurrently (bounded by `concurrency` and the rate limiter), returned in order.
    pub async fn fetch_all(self: &Arc<Self>, tenant_id: &str, req: ApiRequest, opts: PageOptions) -> Result<FetchAll> {
        let r = self.until_closed(self.fetch_all_inner(tenant_id, req, opts)).await;
        self.redacted(tenant_id, r)
    }

    async fn fetch_all_inner(self: &Arc<Self>, tenant_id: &str, req: ApiRequest, opts: PageOptions) -> Result<FetchAll> {
        let mut pager = self.paginate(tenant_id, req.clone(), opts.clone());
        let style = pager.style();
        let Some(first) = pager.next_page().await? else { return Ok(FetchAll::default()) };
        let mut out = FetchAll { pages: 1, ..Default::default() };
        let mut total = first.total;
        out.entities.extend(first.items);

        let numbered = matches!(style, PageStyle::PageNumber | PageStyle::Search | PageStyle::AnalyticsQuery);
        let known_pages = match (numbered, total) {
            (true, Some(t)) => Some(t.div_ceil(opts.page_size.max(1) as u64)),
            _ => None,
        };
        match known_pages {
            Some(pages) if pages > 1 && pager.next.is_some() => {
                if pages > opts.max_pages as u64 {
                    return Err(too_many(tenant_id, opts.max_pages));
                }
                let this = Arc::clone(self);
                let results: Vec<Vec<Value>> = stream::iter(2..=pages as u32)
                    .map(|n| {
                        let this = this.clone();
                        let r = page_request(&req, style, n, opts.page_size);
                        async move {
                            let body = this.request(tenant_id, r?).await?.body;
                            Ok::<_, Error>(take_items(body))
                        }
                    })
                    .buffered(opts.concurrency.max(1))
                    .try_collect()
                    .await?;
                for items in results {
                    out.pages += 1;
                    out.entities.extend(items);
                }
            }
            _ => {
                while let Some(page) = pager.next_page().await? {
                    out.pages += 1;
                    total = page.total.or(total);
                    out.entities.extend(page.items);
                }
            }
        }
        out.total_count = total.unwrap_or(out.entities.len() as u64);
        Ok(out)
    }
}

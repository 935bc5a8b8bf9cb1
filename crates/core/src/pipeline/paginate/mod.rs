//! Pagination in each of Genesys's styles, as a cursor (`Paginator::next_page`) and as
//! `Pipeline::fetch_all`, which fetches the remaining pages concurrently once page 1 tells
//! the total. A 429 or 401 on a page retries that page inside `request()`: nothing is lost and
//! nothing doubled. `maxPages` stops runaway listings with an error, never a truncated success.

mod fetch_all;
mod job;
pub mod page_end;
mod style;

pub use style::PageStyle;

use crate::error::{Error, Result};
use crate::pipeline::request::{ApiRequest, ApiResponse};
use crate::pipeline::Pipeline;
use page_end::{items_key, next_page, Next, PageError, PageState};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use style::page_request;

/// Options of a listing.
#[derive(Debug, Clone)]
pub struct PageOptions {
    /// Forced style; detected from the request when `None`.
    pub style: Option<PageStyle>,
    /// Items per page (default 100).
    pub page_size: u32,
    /// Fail with `TOO_MANY_PAGES` rather than fetch more than this many pages (default 1000).
    pub max_pages: u32,
    /// Pages fetched at once once the total is known (default 4; the rate limiter still applies).
    pub concurrency: usize,
    /// How long an analytics job may take to be fulfilled (default 10 min).
    pub job_timeout: Duration,
}

impl Default for PageOptions {
    fn default() -> Self {
        PageOptions { style: None, page_size: 100, max_pages: 1000, concurrency: 4, job_timeout: Duration::from_secs(600) }
    }
}

/// One page.
#[derive(Debug, Clone)]
pub struct Page {
    /// The items of this page, in the server's order.
    pub items: Vec<Value>,
    /// 1-based page index in this listing.
    pub index: u32,
    /// Total item count, when the server said.
    pub total: Option<u64>,
}

/// Everything a listing returned.
#[derive(Debug, Clone, Default)]
pub struct FetchAll {
    /// Every item, in order.
    pub entities: Vec<Value>,
    /// The server's total, when it gave one; else the number of items.
    pub total_count: u64,
    /// Pages fetched.
    pub pages: u32,
}

/// How many items a page holds (0 when it has none or no item array).
fn item_count(body: &Value) -> usize {
    items_key(body).and_then(|k| body.get(k)).and_then(Value::as_array).map_or(0, Vec::len)
}

/// Moves a page's items out of its body, without copying them (a page of 100 users is ~100 KB
/// of JSON values); an absent or non-array item field gives none.
///
/// ```
/// use genesys_tenants_core::pipeline::paginate::take_items;
/// let body = serde_json::json!({"entities": [{"id": "a"}, {"id": "b"}], "pageCount": 1});
/// assert_eq!(take_items(body).len(), 2);
/// ```
pub fn take_items(mut body: Value) -> Vec<Value> {
    let Some(key) = items_key(&body) else { return Vec::new() };
    match body.get_mut(key).map(Value::take) {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    }
}

fn num(body: &Value, key: &str) -> Option<u64> {
    body.get(key).and_then(Value::as_u64)
}

/// A server's `nextUri`, used as the next request's path only when it is an API path
/// ([`crate::egress::check_api_path`]); otherwise `UPSTREAM_ERROR` naming the field, and nothing
/// is sent to it.
fn checked_next_uri(tenant_id: &str, uri: String, body: &Value) -> Result<String> {
    match crate::egress::check_api_path(&uri) {
        Ok(()) => Ok(uri),
        Err(reason) => Err(Error::Upstream {
            tenant_id: tenant_id.to_string(),
            status: 200,
            body: json!({"nextUri": uri.chars().take(200).collect::<String>(), "selfUri": body.get("selfUri")}),
            message: Some(format!(
                "the listing's nextUri {} was refused, nothing was sent to it: it {reason}",
                crate::egress::quoted(&uri)
            )),
            correlation_id: None,
        }),
    }
}

/// A page the rules cannot page: `UPSTREAM_ERROR` (the server's answer is at fault).
fn page_error(tenant_id: &str, e: PageError, page_number: u32) -> Error {
    let message = match e {
        PageError::NotAPage(why) => format!("page {page_number} of the listing is not a listing page: it {why}"),
        PageError::Stuck(field) => {
            format!("the listing's {field} did not advance after page {page_number}: stopping rather than fetching the same page again")
        }
    };
    Error::Upstream { tenant_id: tenant_id.to_string(), status: 200, body: Value::Null, message: Some(message), correlation_id: None }
}

/// An id that is safe as one path segment: letters, digits, `-`, `_`, `.` (not `.` or `..`).
fn is_plain_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 256
        && id != "."
        && id != ".."
        && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn too_many(tenant_id: &str, max: u32) -> Error {
    Error::TooManyPages { tenant_id: tenant_id.to_string(), max_pages: max }
}

fn total_of(body: &Value, style: PageStyle) -> Option<u64> {
    match style {
        PageStyle::AnalyticsQuery => num(body, "totalHits"),
        PageStyle::AnalyticsJob => None,
        _ => num(body, "total"),
    }
}

/// A sequential cursor over a listing.
#[derive(Debug)]
pub struct Paginator {
    pipeline: Arc<Pipeline>,
    tenant_id: String,
    base: ApiRequest,
    style: PageStyle,
    opts: PageOptions,
    index: u32,
    next: Option<NextStep>,
    total: Option<u64>,
    seen: u64,
    /// Headers for the next page's requests only (its trace context), beside the listing's own.
    page_headers: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
enum NextStep {
    Number(u32),
    Cursor(Option<String>, Option<String>),
    SubmitJob,
    JobResults(String, Option<String>),
}

impl Paginator {
    /// A cursor over `req` for `tenant_id`.
    pub fn new(pipeline: Arc<Pipeline>, tenant_id: &str, req: ApiRequest, opts: PageOptions) -> Self {
        let style = opts.style.unwrap_or_else(|| PageStyle::detect(&req.method, &req.path));
        let next = Some(match style {
            PageStyle::Cursor => NextStep::Cursor(None, None),
            PageStyle::AnalyticsJob => NextStep::SubmitJob,
            _ => NextStep::Number(1),
        });
        Paginator {
            pipeline,
            tenant_id: tenant_id.to_string(),
            base: req,
            style,
            opts,
            index: 0,
            next,
            total: None,
            seen: 0,
            page_headers: Vec::new(),
        }
    }

    /// The style in use.
    pub fn style(&self) -> PageStyle {
        self.style
    }

    /// Whether the listing has ended: the next [`Paginator::next_page`] sends nothing and is `None`.
    pub fn is_done(&self) -> bool {
        self.next.is_none()
    }

    /// Headers sent with every request of the next page, and of no other (replacing those given
    /// before): a page's own trace context (`traceparent`), where the listing's headers are the same
    /// for all its pages. A header of the same name among the listing's wins. Like those, they go to
    /// the API only, never to the login host or the config service.
    pub fn set_page_headers(&mut self, headers: Vec<(String, String)>) {
        self.page_headers = headers;
    }

    /// The next page, or `None` after the last; `CLOSED` at once when the orchestrator closes.
    pub async fn next_page(&mut self) -> Result<Option<Page>> {
        let pipeline = Arc::clone(&self.pipeline);
        let r = pipeline.until_closed(self.next_page_inner()).await;
        pipeline.redacted(&self.tenant_id, r)
    }

    async fn next_page_inner(&mut self) -> Result<Option<Page>> {
        let Some(step) = self.next.take() else { return Ok(None) };
        if self.index >= self.opts.max_pages {
            return Err(too_many(&self.tenant_id, self.opts.max_pages));
        }
        let size = self.opts.page_size;
        let (body, step_after) = match step {
            NextStep::Number(n) => {
                let body = self.send(page_request(&self.base, self.style, n, size)?).await?.body;
                let next = self.step_after(&body, n, None, None)?;
                (body, next)
            }
            NextStep::Cursor(cursor, next_uri) => {
                let mut r = self.base.clone();
                if let Some(uri) = &next_uri {
                    r.path = uri.clone();
                    r.query.clear();
                } else {
                    r.query.retain(|(k, _)| k != "pageSize" && k != "cursor");
                    r.query.push(("pageSize".into(), size.to_string()));
                    if let Some(c) = &cursor {
                        r.query.push(("cursor".into(), c.clone()));
                    }
                }
                let body = self.send(r).await?.body;
                let next = self.step_after(&body, self.index + 1, cursor, next_uri)?;
                (body, next)
            }
            NextStep::SubmitJob => {
                let job_id = self.submit_and_wait().await?;
                self.next = Some(NextStep::JobResults(job_id, None));
                return Box::pin(self.next_page_inner()).await;
            }
            NextStep::JobResults(job_id, cursor) => {
                let path = format!("{}/{}/results", self.base.path.split('?').next().unwrap_or("").trim_end_matches('/'), job_id);
                let mut query = vec![("pageSize".to_string(), size.to_string())];
                if let Some(c) = &cursor {
                    query.push(("cursor".into(), c.clone()));
                }
                let req = ApiRequest { method: "GET".into(), path, query, headers: self.base.headers.clone(), body: None };
                let body = self.send(req).await?.body;
                let next = match self.step_after(&body, self.index + 1, cursor, None)? {
                    Some(NextStep::Cursor(Some(c), None)) => Some(NextStep::JobResults(job_id.clone(), Some(c))),
                    _ => None,
                };
                (body, next)
            }
        };
        if let Some(t) = total_of(&body, self.style) {
            self.total = Some(t);
        }
        let items = take_items(body);
        self.index += 1;
        self.seen += items.len() as u64;
        self.next = step_after;
        Ok(Some(Page { items, index: self.index, total: self.total }))
    }

    /// What follows `body` (page `page_number`, reached with `cursor` / `next_uri`), by the shared
    /// page-end rules ([`super::page_end`]), as this listing's style can fetch it.
    fn step_after(&self, body: &Value, page_number: u32, cursor: Option<String>, next_uri: Option<String>) -> Result<Option<NextStep>> {
        let state = PageState { page_number, seen: self.seen + item_count(body) as u64, cursor, next_uri, next_page: None };
        let numbered = matches!(self.style, PageStyle::PageNumber | PageStyle::Search | PageStyle::AnalyticsQuery);
        Ok(match next_page(body, &state, Some(self.style)).map_err(|e| page_error(&self.tenant_id, e, page_number))? {
            Next::End => None,
            Next::Number(k) if numbered => Some(NextStep::Number(k)),
            Next::NextPage(_) if numbered => Some(NextStep::Number(page_number + 1)),
            // A token listing that only counts its pages: there is nothing it could ask for next.
            Next::Number(_) | Next::NextPage(_) => None,
            Next::Cursor(c) => Some(NextStep::Cursor(Some(c), None)),
            Next::NextUri(u) => Some(NextStep::Cursor(None, Some(checked_next_uri(&self.tenant_id, u, body)?))),
        })
    }

    async fn send(&self, mut req: ApiRequest) -> Result<ApiResponse> {
        for (name, value) in &self.page_headers {
            if !req.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name)) {
                req.headers.push((name.clone(), value.clone()));
            }
        }
        self.pipeline.request(&self.tenant_id, req).await
    }
}

//! Pagination in each of Genesys's styles, as a cursor (`Paginator::next_page`) and as
//! `Orchestrator::fetch_all`, which fetches the remaining pages concurrently once page 1 tells
//! the total. A 429 or 401 on a page retries that page inside `request()`: nothing is lost and
//! nothing doubled. `maxPages` stops runaway listings with an error, never a truncated success.

use super::page_end::{items_key, next_page, Next, PageError, PageState};
use super::request::{ApiRequest, ApiResponse};
use crate::error::{Error, Result};
use crate::orchestrator::Orchestrator;
use futures::stream::{self, StreamExt, TryStreamExt};
use serde_json::{json, Value};
use std::time::Duration;

/// How a listing pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageStyle {
    /// `pageSize`/`pageNumber` query; `entities`, `pageCount`, `total`, `nextUri`.
    PageNumber,
    /// POST body `pageSize`/`pageNumber`; `results`, `total`, `pageCount` (users search).
    Search,
    /// POST body `paging {pageSize, pageNumber}`; `conversations`, `totalHits` (details query).
    AnalyticsQuery,
    /// `cursor` (or `after`) query, or `nextUri`; items under `entities`/`conversations`/`results`.
    Cursor,
    /// Analytics details job: submit, poll until FULFILLED, read results by `cursor`.
    AnalyticsJob,
}

impl PageStyle {
    /// Parses the JS option value.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pageNumber" => PageStyle::PageNumber,
            "search" => PageStyle::Search,
            "analytics" | "analyticsQuery" => PageStyle::AnalyticsQuery,
            "cursor" => PageStyle::Cursor,
            "analyticsJob" | "job" => PageStyle::AnalyticsJob,
            _ => return None,
        })
    }

    /// The style a request most likely uses, from its method and path.
    pub fn detect(method: &str, path: &str) -> PageStyle {
        let p = path.split('?').next().unwrap_or("").trim_end_matches('/');
        let post = method.eq_ignore_ascii_case("POST");
        if post && p.ends_with("/conversations/details/jobs") {
            PageStyle::AnalyticsJob
        } else if post && p.ends_with("/details/query") {
            PageStyle::AnalyticsQuery
        } else if post && p.ends_with("/search") {
            PageStyle::Search
        } else if p.ends_with("/results") {
            PageStyle::Cursor
        } else {
            PageStyle::PageNumber
        }
    }
}

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
            message: Some(format!("the listing's nextUri {} was refused, nothing was sent to it: it {reason}", crate::egress::quoted(&uri))),
            correlation_id: None,
        }),
    }
}

/// A page the rules cannot page: `UPSTREAM_ERROR` (the server's answer is at fault).
fn page_error(tenant_id: &str, e: PageError, page_number: u32) -> Error {
    let message = match e {
        PageError::NotAPage(why) => format!("page {page_number} of the listing is not a listing page: it {why}"),
        PageError::Stuck(field) => format!("the listing's {field} did not advance after page {page_number}: stopping rather than fetching the same page again"),
    };
    Error::Upstream { tenant_id: tenant_id.to_string(), status: 200, body: Value::Null, message: Some(message), correlation_id: None }
}

/// An id that is safe as one path segment: letters, digits, `-`, `_`, `.` (not `.` or `..`).
fn is_plain_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 256 && id != "." && id != ".." && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn too_many(tenant_id: &str, max: u32) -> Error {
    Error::TooManyPages { tenant_id: tenant_id.to_string(), max_pages: max }
}

fn bad_body(reason: &str) -> Error {
    Error::InvalidOptions { option: "body".into(), reason: reason.into() }
}

/// Applies page `n` to a request of the given style.
fn page_request(base: &ApiRequest, style: PageStyle, n: u32, size: u32) -> Result<ApiRequest> {
    let mut r = base.clone();
    match style {
        PageStyle::PageNumber => {
            r.query.retain(|(k, _)| k != "pageNumber" && k != "pageSize");
            r.query.push(("pageSize".into(), size.to_string()));
            r.query.push(("pageNumber".into(), n.to_string()));
        }
        PageStyle::Search => {
            let body = r.body.get_or_insert_with(|| json!({}));
            let obj = body.as_object_mut().ok_or_else(|| bad_body("a search body must be a JSON object"))?;
            obj.insert("pageSize".into(), json!(size));
            obj.insert("pageNumber".into(), json!(n));
        }
        PageStyle::AnalyticsQuery => {
            let body = r.body.as_mut().ok_or_else(|| bad_body("an analytics query needs a body with an interval"))?;
            let obj = body.as_object_mut().ok_or_else(|| bad_body("an analytics query body must be a JSON object"))?;
            obj.insert("paging".into(), json!({"pageSize": size, "pageNumber": n}));
        }
        PageStyle::Cursor | PageStyle::AnalyticsJob => {}
    }
    Ok(r)
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
    orch: Orchestrator,
    tenant_id: String,
    base: ApiRequest,
    style: PageStyle,
    opts: PageOptions,
    index: u32,
    next: Option<NextStep>,
    total: Option<u64>,
    seen: u64,
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
    pub fn new(orch: Orchestrator, tenant_id: &str, req: ApiRequest, opts: PageOptions) -> Self {
        let style = opts.style.unwrap_or_else(|| PageStyle::detect(&req.method, &req.path));
        let next = Some(match style {
            PageStyle::Cursor => NextStep::Cursor(None, None),
            PageStyle::AnalyticsJob => NextStep::SubmitJob,
            _ => NextStep::Number(1),
        });
        Paginator { orch, tenant_id: tenant_id.to_string(), base: req, style, opts, index: 0, next, total: None, seen: 0 }
    }

    /// The style in use.
    pub fn style(&self) -> PageStyle {
        self.style
    }

    /// The next page, or `None` after the last; `CLOSED` at once when the orchestrator closes.
    pub async fn next_page(&mut self) -> Result<Option<Page>> {
        let orch = self.orch.clone();
        let r = orch.until_closed(self.next_page_inner()).await;
        orch.redacted(&self.tenant_id, r)
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

    async fn send(&self, req: ApiRequest) -> Result<ApiResponse> {
        self.orch.request(&self.tenant_id, req).await
    }

    async fn submit_and_wait(&self) -> Result<String> {
        let mut submit = self.base.clone();
        submit.method = "POST".into();
        let body = self.send(submit).await?.body;
        let job_id = body
            .get("jobId")
            .and_then(Value::as_str)
            .filter(|j| is_plain_id(j))
            .ok_or_else(|| Error::Upstream {
                tenant_id: self.tenant_id.clone(),
                status: 200,
                body: body.clone(),
                message: Some("job submission answered without a usable jobId".into()),
                correlation_id: None,
            })?
            .to_string();
        let status_path = format!("{}/{}", self.base.path.split('?').next().unwrap_or("").trim_end_matches('/'), job_id);
        let started = tokio::time::Instant::now();
        let mut delay = Duration::from_millis(100);
        loop {
            let req = ApiRequest { method: "GET".into(), path: status_path.clone(), headers: self.base.headers.clone(), ..Default::default() };
            let body = self.send(req).await?.body;
            match body.get("state").and_then(Value::as_str).unwrap_or("") {
                "FULFILLED" => return Ok(job_id),
                s @ ("FAILED" | "CANCELLED" | "EXPIRED") => {
                    return Err(Error::Upstream {
                        tenant_id: self.tenant_id.clone(),
                        status: 200,
                        message: Some(format!("analytics job {job_id} ended {s}: {}", body.get("errorMessage").and_then(Value::as_str).unwrap_or("no reason given"))),
                        body,
                        correlation_id: None,
                    })
                }
                _ => {}
            }
            if started.elapsed() + delay > self.opts.job_timeout {
                return Err(Error::Timeout { tenant_id: Some(self.tenant_id.clone()), what: format!("analytics job {job_id} not fulfilled"), after_ms: self.opts.job_timeout.as_millis() as u64 });
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(3));
        }
    }
}

impl Orchestrator {
    /// A sequential cursor over a listing.
    pub fn paginate(&self, tenant_id: &str, req: ApiRequest, opts: PageOptions) -> Paginator {
        Paginator::new(self.clone(), tenant_id, req, opts)
    }

    /// Every item of a listing. Numbered styles fetch page 1, then the remaining pages
    /// concurrently (bounded by `concurrency` and the rate limiter), returned in order.
    pub async fn fetch_all(&self, tenant_id: &str, req: ApiRequest, opts: PageOptions) -> Result<FetchAll> {
        let r = self.until_closed(self.fetch_all_inner(tenant_id, req, opts)).await;
        self.redacted(tenant_id, r)
    }

    async fn fetch_all_inner(&self, tenant_id: &str, req: ApiRequest, opts: PageOptions) -> Result<FetchAll> {
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
                let this = self.clone();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_styles() {
        assert_eq!(PageStyle::detect("GET", "/api/v2/users"), PageStyle::PageNumber);
        assert_eq!(PageStyle::detect("POST", "/api/v2/users/search"), PageStyle::Search);
        assert_eq!(PageStyle::detect("post", "/api/v2/analytics/conversations/details/query"), PageStyle::AnalyticsQuery);
        assert_eq!(PageStyle::detect("POST", "/api/v2/analytics/conversations/details/jobs"), PageStyle::AnalyticsJob);
        assert_eq!(PageStyle::detect("GET", "/api/v2/analytics/conversations/details/jobs/x/results"), PageStyle::Cursor);
    }

    #[test]
    fn page_requests() {
        let base = ApiRequest { method: "GET".into(), path: "/api/v2/users".into(), query: vec![("pageNumber".into(), "9".into()), ("state".into(), "active".into())], ..Default::default() };
        let r = page_request(&base, PageStyle::PageNumber, 3, 100).unwrap();
        assert_eq!(r.query, vec![("state".into(), "active".into()), ("pageSize".into(), "100".into()), ("pageNumber".into(), "3".into())]);
        let q = ApiRequest { method: "POST".into(), body: Some(json!({"interval": "a/b"})), ..Default::default() };
        assert_eq!(page_request(&q, PageStyle::AnalyticsQuery, 2, 50).unwrap().body.unwrap()["paging"], json!({"pageSize": 50, "pageNumber": 2}));
        let bad = ApiRequest { body: Some(json!([1])), ..Default::default() };
        assert_eq!(page_request(&bad, PageStyle::Search, 1, 5).unwrap_err().code(), "INVALID_OPTIONS");
        assert_eq!(page_request(&ApiRequest::default(), PageStyle::AnalyticsQuery, 1, 5).unwrap_err().code(), "INVALID_OPTIONS");
    }
}

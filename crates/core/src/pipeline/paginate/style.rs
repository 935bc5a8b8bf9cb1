//! The styles a Genesys listing pages in, how a request is told which page it wants, and which
//! style a request most likely uses.

use crate::error::{Error, Result};
use crate::pipeline::request::ApiRequest;
use serde_json::json;

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

fn bad_body(reason: &str) -> Error {
    Error::InvalidOptions { option: "body".into(), reason: reason.into() }
}

/// Applies page `n` to a request of the given style.
pub(crate) fn page_request(base: &ApiRequest, style: PageStyle, n: u32, size: u32) -> Result<ApiRequest> {
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
        let base = ApiRequest {
            method: "GET".into(),
            path: "/api/v2/users".into(),
            query: vec![("pageNumber".into(), "9".into()), ("state".into(), "active".into())],
            ..Default::default()
        };
        let r = page_request(&base, PageStyle::PageNumber, 3, 100).unwrap();
        assert_eq!(r.query, vec![("state".into(), "active".into()), ("pageSize".into(), "100".into()), ("pageNumber".into(), "3".into())]);
        let q = ApiRequest { method: "POST".into(), body: Some(json!({"interval": "a/b"})), ..Default::default() };
        assert_eq!(
            page_request(&q, PageStyle::AnalyticsQuery, 2, 50).unwrap().body.unwrap()["paging"],
            json!({"pageSize": 50, "pageNumber": 2})
        );
        let bad = ApiRequest { body: Some(json!([1])), ..Default::default() };
        assert_eq!(page_request(&bad, PageStyle::Search, 1, 5).unwrap_err().code(), "INVALID_OPTIONS");
        assert_eq!(page_request(&ApiRequest::default(), PageStyle::AnalyticsQuery, 1, 5).unwrap_err().code(), "INVALID_OPTIONS");
    }
}

//! Request and listing options as they arrive from JS (plain JSON), checked field by field so a
//! mistake names the field (`INVALID_OPTIONS`, `option: 'query.pageSize'`).

use super::paginate::{FetchAll, Page, PageOptions, PageStyle};
use super::request::{ApiRequest, ApiResponse};
use crate::error::{Error, Result};
use serde_json::{json, Map, Value};
use std::time::Duration;

fn bad(option: &str, reason: impl Into<String>) -> Error {
    Error::InvalidOptions { option: option.into(), reason: reason.into() }
}

fn scalar(v: &Value, name: &str) -> Result<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(bad(name, "must be a string, number or boolean")),
    }
}

impl ApiRequest {
    /// Parses `{ method?, path, query?, headers?, body? }` (method defaults to GET).
    ///
    /// ```
    /// use genesys_tenants_core::ApiRequest;
    /// let r = ApiRequest::from_json(&serde_json::json!({"path": "/api/v2/users", "query": {"id": ["a", "b"], "pageSize": 5}})).unwrap();
    /// assert_eq!(r.method, "GET");
    /// assert_eq!(r.query.len(), 3);
    /// ```
    pub fn from_json(v: &Value) -> Result<ApiRequest> {
        let m = v.as_object().ok_or_else(|| bad("request", "must be an object { method, path, query?, headers?, body? }"))?;
        let method = match m.get("method") {
            None | Some(Value::Null) => "GET".to_string(),
            Some(Value::String(s)) if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphabetic()) => s.to_ascii_uppercase(),
            Some(_) => return Err(bad("method", "must be an HTTP method such as 'GET' or 'POST'")),
        };
        let path = match m.get("path") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => return Err(bad("path", "is required: a path such as '/api/v2/users'")),
        };
        let mut query = Vec::new();
        match m.get("query") {
            None | Some(Value::Null) => {}
            Some(Value::Object(q)) => {
                for (k, val) in q {
                    let name = format!("query.{k}");
                    match val {
                        Value::Null => {}
                        Value::Array(items) => {
                            for item in items {
                                query.push((k.clone(), scalar(item, &name)?));
                            }
                        }
                        other => query.push((k.clone(), scalar(other, &name)?)),
                    }
                }
            }
            Some(_) => return Err(bad("query", "must be an object of name → value")),
        }
        let mut headers = Vec::new();
        match m.get("headers") {
            None | Some(Value::Null) => {}
            Some(Value::Object(h)) => {
                for (k, val) in h {
                    if val.is_null() {
                        continue;
                    }
                    let v = scalar(val, &format!("headers.{k}"))?;
                    if reqwest::header::HeaderName::from_bytes(k.as_bytes()).is_err() || reqwest::header::HeaderValue::from_str(&v).is_err()
                    {
                        return Err(bad(&format!("headers.{k}"), "is not a valid HTTP header"));
                    }
                    headers.push((k.clone(), v));
                }
            }
            Some(_) => return Err(bad("headers", "must be an object of name → value")),
        }
        let body = match m.get("body") {
            None | Some(Value::Null) => None,
            Some(b) => Some(b.clone()),
        };
        Ok(ApiRequest { method, path, query, headers, body })
    }
}

impl ApiResponse {
    /// `{ status, headers, body }`.
    pub fn to_json(&self) -> Value {
        json!({"status": self.status, "headers": self.headers, "body": self.body})
    }
}

impl PageOptions {
    /// Parses `{ style?, pageSize?, maxPages?, concurrency?, jobTimeoutMs? }`.
    pub fn from_json(v: Option<&Value>) -> Result<PageOptions> {
        let mut o = PageOptions::default();
        let Some(v) = v.filter(|v| !v.is_null()) else { return Ok(o) };
        let m: &Map<String, Value> = v.as_object().ok_or_else(|| bad("options", "must be an object"))?;
        let int = |k: &str, min: u64, max: u64| -> Result<Option<u64>> {
            match m.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Number(n)) => n
                    .as_u64()
                    .filter(|x| *x >= min && *x <= max)
                    .map(Some)
                    .ok_or_else(|| bad(k, format!("must be a whole number between {min} and {max}"))),
                Some(_) => Err(bad(k, "must be a number")),
            }
        };
        if let Some(s) = m.get("style").filter(|s| !s.is_null()) {
            let s = s.as_str().ok_or_else(|| bad("style", "must be a string"))?;
            o.style = Some(
                PageStyle::parse(s)
                    .ok_or_else(|| bad("style", "must be one of 'pageNumber', 'search', 'analytics', 'cursor', 'analyticsJob'"))?,
            );
        }
        if let Some(n) = int("pageSize", 1, 10_000)? {
            o.page_size = n as u32;
        }
        if let Some(n) = int("maxPages", 1, 1_000_000)? {
            o.max_pages = n as u32;
        }
        if let Some(n) = int("concurrency", 1, 64)? {
            o.concurrency = n as usize;
        }
        if let Some(n) = int("jobTimeoutMs", 1, 86_400_000)? {
            o.job_timeout = Duration::from_millis(n);
        }
        Ok(o)
    }
}

impl FetchAll {
    /// `{ entities, totalCount, pages }`.
    pub fn to_json(self) -> Value {
        json!({"entities": self.entities, "totalCount": self.total_count, "pages": self.pages})
    }
}

impl Page {
    /// `{ items, index, total }`.
    pub fn to_json(self) -> Value {
        json!({"items": self.items, "index": self.index, "total": self.total})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn option_of(v: Value) -> String {
        match ApiRequest::from_json(&v) {
            Err(Error::InvalidOptions { option, .. }) => option,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn request_fields_are_checked() {
        assert_eq!(option_of(json!(null)), "request");
        assert_eq!(option_of(json!({})), "path");
        assert_eq!(option_of(json!({"path": "/x", "method": "G T"})), "method");
        assert_eq!(option_of(json!({"path": "/x", "query": {"a": {"b": 1}}})), "query.a");
        assert_eq!(option_of(json!({"path": "/x", "headers": {"x-a": "a\nb"}})), "headers.x-a");
        let r =
            ApiRequest::from_json(&json!({"method": "post", "path": "/x", "body": {"a": 1}, "query": {"flag": false, "n": null}})).unwrap();
        assert_eq!(r.method, "POST");
        assert_eq!(r.query, vec![("flag".to_string(), "false".to_string())]);
    }

    #[test]
    fn page_options() {
        assert_eq!(PageOptions::from_json(None).unwrap().page_size, 100);
        let o = PageOptions::from_json(Some(&json!({"style": "search", "pageSize": 25, "maxPages": 3}))).unwrap();
        assert_eq!((o.style, o.page_size, o.max_pages), (Some(PageStyle::Search), 25, 3));
        assert!(PageOptions::from_json(Some(&json!({"pageSize": 0}))).is_err());
        assert!(PageOptions::from_json(Some(&json!({"style": "weird"}))).is_err());
    }
}

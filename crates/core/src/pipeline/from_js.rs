//! Request and listing options as they arrive from JS (plain JSON), read by the one option reader
//! ([`crate::input`]) so a mistake names the field (`INVALID_OPTIONS`, `option: 'query.pageSize'`) and
//! never quotes its value.

use super::paginate::{FetchAll, Page, PageOptions, PageStyle};
use super::request::{ApiRequest, ApiResponse};
use crate::error::{Error, Result};
use crate::input::read_value;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

/// `{ method?, path, query?, headers?, body? }`. Other fields are the JS layer's or the SDK's and
/// are ignored.
#[derive(Deserialize)]
struct RequestInput {
    method: Option<String>,
    path: Option<String>,
    query: Option<BTreeMap<String, QueryValue>>,
    headers: Option<BTreeMap<String, Option<Scalar>>>,
    body: Option<Value>,
}

/// A query or header value: a string, number or boolean, as text.
struct Scalar(String);

/// A query parameter: one scalar, an array of them (repeated), or null (left out).
enum QueryValue {
    One(Scalar),
    Many(Vec<Scalar>),
    Null,
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a string, number or boolean")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Scalar, E> {
        Ok(Scalar(v.to_string()))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> std::result::Result<Scalar, E> {
        Ok(Scalar(v.to_string()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Scalar, E> {
        Ok(Scalar(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Scalar, E> {
        Ok(Scalar(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Scalar, E> {
        Ok(Scalar(serde_json::Number::from_f64(v).map_or_else(|| v.to_string(), |n| n.to_string())))
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

impl<'de> Deserialize<'de> for QueryValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = QueryValue;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string, number, boolean or an array of them")
            }
            fn visit_unit<E: de::Error>(self) -> std::result::Result<QueryValue, E> {
                Ok(QueryValue::Null)
            }
            fn visit_none<E: de::Error>(self) -> std::result::Result<QueryValue, E> {
                Ok(QueryValue::Null)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<QueryValue, E> {
                ScalarVisitor.visit_str(v).map(QueryValue::One)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> std::result::Result<QueryValue, E> {
                ScalarVisitor.visit_bool(v).map(QueryValue::One)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<QueryValue, E> {
                ScalarVisitor.visit_i64(v).map(QueryValue::One)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<QueryValue, E> {
                ScalarVisitor.visit_u64(v).map(QueryValue::One)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<QueryValue, E> {
                ScalarVisitor.visit_f64(v).map(QueryValue::One)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<QueryValue, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Scalar>()? {
                    items.push(item);
                }
                Ok(QueryValue::Many(items))
            }
        }
        d.deserialize_any(V)
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
        if !v.is_object() {
            return Err(Error::invalid_option("request", "must be an object { method, path, query?, headers?, body? }"));
        }
        let input: RequestInput = read_value(v).map_err(|u| u.into_error("request"))?;
        let method = match input.method {
            None => "GET".to_string(),
            Some(s) if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphabetic()) => s.to_ascii_uppercase(),
            Some(_) => return Err(Error::invalid_option("method", "must be an HTTP method such as 'GET' or 'POST'")),
        };
        let path = input
            .path
            .filter(|p| !p.is_empty())
            .ok_or_else(|| Error::invalid_option("path", "is required: a path such as '/api/v2/users'"))?;
        let mut query = Vec::new();
        for (k, val) in input.query.unwrap_or_default() {
            match val {
                QueryValue::Null => {}
                QueryValue::One(Scalar(s)) => query.push((k, s)),
                QueryValue::Many(items) => query.extend(items.into_iter().map(|Scalar(s)| (k.clone(), s))),
            }
        }
        let mut headers = Vec::new();
        for (k, val) in input.headers.unwrap_or_default() {
            let Some(Scalar(v)) = val else { continue };
            if reqwest::header::HeaderName::from_bytes(k.as_bytes()).is_err() || reqwest::header::HeaderValue::from_str(&v).is_err() {
                return Err(Error::invalid_option(&format!("headers.{k}"), "is not a valid HTTP header"));
            }
            headers.push((k, v));
        }
        Ok(ApiRequest { method, path, query, headers, body: input.body })
    }
}

/// `{ style?, pageSize?, maxPages?, concurrency?, jobTimeoutMs? }`: an unknown name is refused (a
/// misspelt `pagesize` must not be silently ignored).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PageInput {
    style: Option<String>,
    page_size: Option<f64>,
    max_pages: Option<f64>,
    concurrency: Option<f64>,
    job_timeout_ms: Option<f64>,
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
        if !v.is_object() {
            return Err(Error::invalid_option("options", "must be an object"));
        }
        let input: PageInput = read_value(v).map_err(|u| u.into_error("options"))?;
        let int = |k: &str, v: Option<f64>, min: u64, max: u64| -> Result<Option<u64>> {
            match v {
                None => Ok(None),
                Some(n) if n.fract() == 0.0 && n >= min as f64 && n <= max as f64 => Ok(Some(n as u64)),
                Some(_) => Err(Error::invalid_option(k, format!("must be a whole number between {min} and {max}"))),
            }
        };
        if let Some(s) = input.style {
            o.style = Some(PageStyle::parse(&s).ok_or_else(|| {
                Error::invalid_option("style", "must be one of 'pageNumber', 'search', 'analytics', 'cursor', 'analyticsJob'")
            })?);
        }
        if let Some(n) = int("pageSize", input.page_size, 1, 10_000)? {
            o.page_size = n as u32;
        }
        if let Some(n) = int("maxPages", input.max_pages, 1, 1_000_000)? {
            o.max_pages = n as u32;
        }
        if let Some(n) = int("concurrency", input.concurrency, 1, 64)? {
            o.concurrency = n as usize;
        }
        if let Some(n) = int("jobTimeoutMs", input.job_timeout_ms, 1, 86_400_000)? {
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
        assert_eq!(option_of(json!({"path": "/x", "query": {"id": ["a", {"b": 1}]}})), "query.id[1]");
        assert_eq!(option_of(json!({"path": 42})), "path");
        assert_eq!(option_of(json!({"path": "/x", "method": 5})), "method");
        let r =
            ApiRequest::from_json(&json!({"method": "post", "path": "/x", "body": {"a": 1}, "query": {"flag": false, "n": null}})).unwrap();
        assert_eq!(r.method, "POST");
        assert!(ApiRequest::from_json(&json!({"path": "/x", "body": null})).unwrap().body.is_none(), "a null body is no body");
        assert_eq!(r.query, vec![("flag".to_string(), "false".to_string())]);
    }

    #[test]
    fn page_options() {
        assert_eq!(PageOptions::from_json(None).unwrap().page_size, 100);
        let o = PageOptions::from_json(Some(&json!({"style": "search", "pageSize": 25, "maxPages": 3}))).unwrap();
        assert_eq!((o.style, o.page_size, o.max_pages), (Some(PageStyle::Search), 25, 3));
        assert!(PageOptions::from_json(Some(&json!({"pageSize": 0}))).is_err());
        assert!(PageOptions::from_json(Some(&json!({"style": "weird"}))).is_err());
        let option = |v: Value| match PageOptions::from_json(Some(&v)) {
            Err(Error::InvalidOptions { option, reason }) => (option, reason),
            other => panic!("{other:?}"),
        };
        assert_eq!(option(json!({"pagesize": 5})).0, "pagesize", "a misspelt name is refused");
        assert_eq!(option(json!({"pageSize": "25"})), ("pageSize".into(), "has the wrong type: a string, expected f64".into()));
        assert_eq!(option(json!({"maxPages": 1.5})).0, "maxPages");
    }
}

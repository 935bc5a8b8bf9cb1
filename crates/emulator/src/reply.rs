//! A handler's answer, turned into an HTTP response.

use crate::error_body::ApiError;
use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Response, StatusCode};
use serde_json::Value;

/// What a handler answers.
#[derive(Debug)]
pub struct Reply {
    /// Status.
    pub status: u16,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Payload,
}

/// A body.
#[derive(Debug)]
pub enum Payload {
    /// JSON.
    Json(Value),
    /// Raw text with a content type.
    Text(String, &'static str),
    /// Nothing.
    Empty,
}

impl Reply {
    /// 200 JSON.
    pub fn json(v: Value) -> Reply {
        Reply { status: 200, headers: vec![], body: Payload::Json(v) }
    }

    /// JSON with a status.
    pub fn status_json(status: u16, v: Value) -> Reply {
        Reply { status, headers: vec![], body: Payload::Json(v) }
    }

    /// No body.
    pub fn empty(status: u16) -> Reply {
        Reply { status, headers: vec![], body: Payload::Empty }
    }

    /// A Genesys error.
    pub fn error(e: &ApiError, correlation_id: &str) -> Reply {
        Reply { status: e.status, headers: e.headers.clone(), body: Payload::Json(e.body(correlation_id)) }
    }

    /// Adds a header.
    pub fn header(mut self, k: &str, v: impl Into<String>) -> Reply {
        self.headers.push((k.to_string(), v.into()));
        self
    }

    /// The HTTP response.
    pub fn into_response(self) -> Response<Body> {
        let (body, ct) = match self.body {
            Payload::Json(v) => (Body::from(serde_json::to_vec(&v).unwrap_or_default()), Some("application/json")),
            Payload::Text(t, ct) => (Body::from(t), Some(ct)),
            Payload::Empty => (Body::empty(), None),
        };
        let mut r = Response::new(body);
        *r.status_mut() = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let h = r.headers_mut();
        if let Some(ct) = ct {
            h.insert("content-type", HeaderValue::from_static(ct));
        }
        for (k, v) in self.headers {
            if let (Ok(k), Ok(v)) = (HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(&v)) {
                h.append(k, v);
            }
        }
        r
    }
}

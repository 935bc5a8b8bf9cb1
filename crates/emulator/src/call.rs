//! One API request as the routes see it: what they share, below the dispatcher ([`crate::api`])
//! and every route module, so neither imports the other back.

use crate::error_body::ApiError;
use serde_json::json;
use std::collections::HashMap;

/// Largest request body (Genesys `request.bytes.max`).
pub const MAX_BODY: usize = 512_000;

/// One API request.
pub struct Call<'a> {
    /// Method, upper case.
    pub method: &'a str,
    /// Path.
    pub path: &'a str,
    /// Decoded query pairs.
    pub query: Vec<(String, String)>,
    /// Body bytes.
    pub body: &'a [u8],
    /// Route parameters.
    pub params: Vec<String>,
    /// The caller's client.
    pub client: crate::world::Client,
    /// The caller's token.
    pub token: String,
}

impl Call<'_> {
    /// First value of a query parameter.
    pub fn q(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The body as JSON (400 when malformed; `{}` when empty).
    pub fn json(&self) -> Result<serde_json::Value, ApiError> {
        if self.body.iter().all(|b| b.is_ascii_whitespace()) {
            return Ok(json!({}));
        }
        serde_json::from_slice(self.body).map_err(|e| {
            ApiError::bad_request("bad.request", &format!("The request could not be understood by the server due to malformed syntax: {e}"))
        })
    }
}

/// Groups query values by key (for array parameters).
pub fn grouped(query: &[(String, String)]) -> HashMap<String, Vec<String>> {
    let mut m: HashMap<String, Vec<String>> = HashMap::new();
    for (k, v) in query {
        m.entry(k.clone()).or_default().extend(v.split(',').map(str::to_string));
    }
    m
}

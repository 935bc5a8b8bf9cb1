//! The Genesys error body and the response it becomes.

use serde_json::{json, Map, Value};

/// An API error: status, code, message, and extras.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// Genesys error code (`bad.request`, `missing.any.permissions`, …).
    pub code: String,
    /// Message.
    pub message: String,
    /// `messageWithParams`, when it differs.
    pub message_with_params: Option<String>,
    /// `messageParams`.
    pub message_params: Map<String, Value>,
    /// Extra response headers.
    pub headers: Vec<(String, String)>,
    /// Only `message`, `code`, `status` (and `contextId`), as some Genesys answers are.
    pub minimal: bool,
}

impl ApiError {
    /// An error with no params.
    pub fn new(status: u16, code: &str, message: &str) -> Self {
        ApiError {
            status,
            code: code.into(),
            message: message.into(),
            message_with_params: None,
            message_params: Map::new(),
            headers: vec![],
            minimal: false,
        }
    }

    /// 400.
    pub fn bad_request(code: &str, message: &str) -> Self {
        ApiError::new(400, code, message)
    }

    /// 404 `not.found`.
    pub fn not_found() -> Self {
        ApiError::new(404, "not.found", "The requested resource was not found.")
    }

    /// The JSON body, with `contextId` = the correlation id.
    pub fn body(&self, correlation_id: &str) -> Value {
        if self.minimal {
            return json!({"message": self.message, "code": self.code, "status": self.status, "contextId": correlation_id});
        }
        json!({
            "message": self.message,
            "code": self.code,
            "status": self.status,
            "messageWithParams": self.message_with_params.clone().unwrap_or_else(|| self.message.clone()),
            "messageParams": self.message_params,
            "contextId": correlation_id,
            "details": [],
            "errors": [],
        })
    }
}

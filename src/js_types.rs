//! Result shapes returned to JS (their doc comments go into the generated `index.d.ts`).

use napi_derive::napi;

/// What a config reload changed.
#[napi(object)]
pub struct ConfigDiff {
    /// Tenant ids that appeared.
    pub added: Vec<String>,
    /// Tenant ids that disappeared.
    pub removed: Vec<String>,
    /// Tenant ids whose entry changed.
    pub changed: Vec<String>,
}

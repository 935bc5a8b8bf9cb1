//! Node binding for genesys-tenants: converts JS values and delegates to `genesys_tenants_core`.
#![deny(clippy::all)]

use napi_derive::napi;

/// Version of the native core.
#[napi]
pub fn core_version() -> String {
    genesys_tenants_core::VERSION.to_string()
}

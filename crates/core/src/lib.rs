//! Core of genesys-tenants: everything except the Node binding.
#![forbid(unsafe_code)]

/// Crate version, for diagnostics.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

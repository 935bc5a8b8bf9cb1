//! Core of genesys-tenants: call the Genesys Cloud Platform API on behalf of many tenants.
//!
//! Everything except the Node binding lives here and builds and tests without Node:
//! [`config`] (sources, validation, last-known-good), [`token`] (client credentials, cache,
//! refresh-ahead, single-flight), [`scheduler`] (rotation), [`pipeline`] (request steps),
//! [`egress`] (where secrets may go) and [`Orchestrator`], which ties them together.
#![forbid(unsafe_code)]
// `Error` is about 136 bytes, and every `Result` of the crate carries it. It only travels on the
// cold path (a failed call), so it is not boxed: an allocation per error buys nothing measured.
#![allow(clippy::result_large_err)]
#![warn(missing_docs, unreachable_pub)]

pub mod call_bounds;
pub mod config;
mod config_change;
pub mod crypto;
pub mod egress;
mod error;
pub mod events;
pub mod histogram;
pub mod input;
pub mod metrics;
pub mod network;
pub mod notifications;
pub mod operations;
mod options;
mod orchestrator;
pub mod organization;
pub mod pipeline;
pub mod redact;
pub mod region;
pub mod retry;
mod rotation;
pub mod scheduler;
mod secret;
pub mod staged_credentials;
pub mod stats;
pub mod store;
mod sync;
pub mod token;
pub mod trace;
pub mod transport;
pub mod untrusted;
pub mod webhook;

pub use error::{Error, PermissionMode, Result};
pub use options::*;
pub use orchestrator::Orchestrator;
pub use pipeline::paginate::{FetchAll, Page, PageOptions, PageStyle, Paginator};
pub use pipeline::request::{ApiRequest, ApiResponse, RawResponse};
pub use pipeline::{Pipeline, RequestCounters};
pub use secret::Secret;
pub use transport::http_client;
pub use webhook::{WebhookAnswer, ROTATION_CONCURRENCY};

/// Crate version, for diagnostics.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

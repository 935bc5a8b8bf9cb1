//! A local Genesys Cloud: the OAuth token endpoint, the Platform API routes this project uses
//! (permissions ANY/ALL, optional scope enforcement, per-token rate limits with the real
//! headers, paging in each of Genesys's styles), the Notifications API (channels, subscriptions and
//! the WebSocket at `connectUri`), the reference tenant config service, and a control API for faults
//! and counters. Tests, the demo and the benchmarks all run against it.
// `ApiError` / `Reply` are large, and many handlers return them in a `Result`. They only travel on
// the cold path (a refused request), so they are not boxed.
#![allow(clippy::result_large_err)]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod api;
pub mod call;
pub mod catalogue;
pub mod config_service;
pub mod control;
pub mod error_body;
pub mod ids;
pub mod notifications;
pub mod oauth;
pub mod paging;
pub mod rate_limit;
pub mod reply;
mod routes;
mod server;
pub mod state;
pub mod sync;
pub mod time;
pub mod world;

pub use server::{start, EmulatorError, EmulatorHandle, EmulatorOptions};
pub use world::World;

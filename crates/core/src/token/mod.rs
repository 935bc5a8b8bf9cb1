//! Access tokens: the client-credentials call, token timing, and the per-tenant manager that
//! caches, refreshes ahead of expiry and coalesces concurrent requests.

mod access_token;
mod acquire;
pub mod endpoint;
mod manager;
mod organizations;
mod pinning;
mod pool;
mod shared;
mod stats;

pub use access_token::{timing, AccessToken, MAX_EXPIRY_SKEW, MAX_WINDOW_FRACTION, MIN_REFRESH_WINDOW};
pub use manager::{TokenCounters, TokenManager, TokenSettings, CHANGE_RETRY_PAUSE};
pub use organizations::{LookupPacing, ORGANIZATION_RECORD_TTL};
pub use pool::{pool_store_id, SlotState};
pub use stats::TokenStats;

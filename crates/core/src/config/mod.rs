//! Tenant configuration: sources (config service, file), validation, the live table with its
//! last-known-good guarantee, and the encrypted snapshot.

mod manager;
mod read_once;
pub mod snapshot;
pub mod source;
pub mod split;
mod table;
mod tenant;

pub use manager::{ConfigHealth, ConfigManager, ConfigSettings, DiffListener, BREAKER_THRESHOLD, FILE_CHECK_INTERVAL, FIRST_RETRY_DELAY};
pub use read_once::read_once;
pub use table::{ConfigDiff, RawIndex, TenantEntry, TenantTable};
pub use tenant::{fingerprint, parse_entry, ParsedEntry, Tenant, MAX_ROTATION_INTERVAL, MIN_ROTATION_INTERVAL};

//! The shared store: Redis, when `redisUrl` is set, so every replica of a service shares one
//! token per tenant, one rate budget per token, and hears about rotations. Every value is
//! sealed with the encryption key; keys hold a tenant id and a keyed fingerprint, never a
//! secret. Redis down, slow or flapping never fails a request: the store reports an error, the
//! caller falls back to in-process mode, and the store retries after a short pause.

mod budget;
mod connection;
mod deliveries;
mod keys;
mod lease;
mod notifications;
mod organizations;
mod pubsub;
mod redis_store;
mod scripts;
mod staging;

pub use budget::{Budget, RateWait, Said, Slot, SHARED_WINDOW_MARGIN};
pub use keys::Keys;
pub use notifications::{ReplicaWants, StreamEvent, WantedChange, READ_COUNT, STREAM_CAP};
pub use redis_store::{
    unix_ms_now, Lease, SharedStore, SharedToken, StoreError, StoreHealth, StoreSettings, DEFAULT_OP_TIMEOUT, DEFAULT_RETRY_PAUSE,
};
pub use staging::StageRecord;

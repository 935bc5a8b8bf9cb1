//! Waiting before trying again: backoff delays, and what a server says about waiting
//! (`Retry-After`, the `inin-ratelimit-*` headers, Genesys's "Retry the request in [N] seconds").
//! Shared by the request pipeline and the token manager.

pub mod backoff;
pub mod retry_after;

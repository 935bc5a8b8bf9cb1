//! Every retry rule, in one room: [`budget`] decides what follows an attempt (send again with a new
//! token, hold for a 429, back off, or fail) within `maxRetries` and `maxRetryDelayMs`; [`backoff`]
//! computes the delays; [`retry_after`] reads what a server says about waiting (`Retry-After`, the
//! `inin-ratelimit-*` headers, Genesys's "Retry the request in [N] seconds"). The request pipeline
//! and the token manager both retry by the same [`budget::RetryBudget`].

pub mod backoff;
pub mod budget;
pub mod retry_after;

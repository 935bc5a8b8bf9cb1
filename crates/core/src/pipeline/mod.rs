//! The request pipeline: egress guard → pre-flight → rate limiter → auth → transport →
//! classification → retry decision.

pub mod backoff;
pub mod retry_after;
pub mod catalogue;
pub mod classify;
pub mod rate_limit;
pub mod request;
pub mod page_end;
pub mod paginate;
pub mod from_js;

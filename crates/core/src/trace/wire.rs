//! The record's JSON: what crosses to JS once per traced call (lib/otel.js reads it). It is parsed on
//! Node's thread for every traced call, beside the answer, so it is compact: arrays in a fixed order
//! instead of objects with named fields, absent values `null`, times as µs after the record's first
//! start (small integers, where µs since the epoch would be 16 digits each), and only what a span
//! is made of — a request's attempts when it made more than one (a lone attempt is the request
//! itself), its token waits that were not a clean cache hit (the rest is its `tokenCache`):
//!
//! ```text
//! record  [baseUs, [request…], [token…]]        baseUs: µs since the epoch; the call's own token waits
//! request [start, end, method, urlTemplate, serverAddress, serverPort, status, errorCode,
//!          retries, holdMs, [attempt…], [token…], tokenCache]    tokenCache: "miss" if any wait missed,
//!                                                               "hit", or null for none
//! attempt [start, end, status, lost, holdMs, tokenRefreshed]
//! token   [start, end, cache, joined, errorCode]
//! ```

use super::{AttemptRecord, CallRecord, RequestRecord, TokenRecord};
use serde::{Serialize, Serializer};

impl Serialize for CallRecord {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let starts = self.requests.iter().map(|r| r.start_us).chain(self.tokens.iter().map(|t| t.start_us));
        let base = starts.min().unwrap_or(0);
        (base, Each(&self.requests, base), Each(&self.tokens, base)).serialize(s)
    }
}

/// One part of the record, its times relative to the record's base.
struct At<'a, T>(&'a T, u64);

/// A list of parts, each [`At`] the base.
struct Each<'a, T>(&'a [T], u64);

impl<'a, T> Serialize for Each<'a, T>
where
    At<'a, T>: Serialize,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|x| At(x, self.1)))
    }
}

/// A request's token waits that make spans: those that missed the cache or failed.
struct Waits<'a>(&'a [TokenRecord], u64);

impl Serialize for Waits<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().filter(|t| t.cache != "hit" || t.error_code.is_some()).map(|t| At(t, self.1)))
    }
}

/// `miss` when any of `tokens` waited for a fetch, `hit` when all came from the cache, none for none.
fn token_cache(tokens: &[TokenRecord]) -> Option<&'static str> {
    if tokens.is_empty() {
        None
    } else if tokens.iter().any(|t| t.cache == "miss") {
        Some("miss")
    } else {
        Some("hit")
    }
}

/// `us` after `base` (an attempt never ended, 0, is at the base: JS reads it as not after its start).
fn after(us: u64, base: u64) -> u64 {
    us.saturating_sub(base)
}

impl Serialize for At<'_, RequestRecord> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (r, base) = (self.0, self.1);
        (
            after(r.start_us, base),
            after(r.end_us, base),
            &r.method,
            r.url_template,
            &r.server_address,
            r.server_port,
            r.status,
            r.error_code,
            r.retries,
            r.hold_ms,
            Each(if r.attempts.len() > 1 { &r.attempts } else { &[] }, base),
            Waits(&r.tokens, base),
            token_cache(&r.tokens),
        )
            .serialize(s)
    }
}

impl Serialize for At<'_, AttemptRecord> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (a, base) = (self.0, self.1);
        (after(a.start_us, base), after(a.end_us, base), a.status, a.lost, a.hold_ms, a.token_refreshed).serialize(s)
    }
}

impl Serialize for At<'_, TokenRecord> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (t, base) = (self.0, self.1);
        (after(t.start_us, base), after(t.end_us, base), t.cache, t.joined, t.error_code).serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_common_call_is_one_short_array_without_its_lone_attempt_or_cached_token() {
        let t0 = 1_765_000_000_000_000;
        let record = CallRecord {
            requests: vec![RequestRecord {
                start_us: t0,
                end_us: t0 + 180,
                method: "GET".into(),
                url_template: Some("/api/v2/organizations/me"),
                server_address: Some("api.mypurecloud.com".into()),
                status: Some(200),
                attempts: vec![AttemptRecord { start_us: t0 + 2, end_us: t0 + 170, status: Some(200), ..Default::default() }],
                tokens: vec![TokenRecord { start_us: t0 + 5, end_us: t0 + 6, cache: "hit", ..Default::default() }],
                ..Default::default()
            }],
            tokens: vec![],
        };
        assert_eq!(
            serde_json::to_string(&record).unwrap(),
            r#"[1765000000000000,[[0,180,"GET","/api/v2/organizations/me","api.mypurecloud.com",null,200,null,0,0,[],[],"hit"]],[]]"#
        );
    }

    #[test]
    fn a_retried_request_keeps_its_attempts_and_missed_waits_and_the_earliest_start_is_the_base() {
        let t0 = 1_765_000_000_000_000;
        let record = CallRecord {
            requests: vec![RequestRecord {
                start_us: t0 + 10,
                end_us: t0 + 50,
                method: "POST".into(),
                error_code: Some("TIMEOUT"),
                retries: 1,
                hold_ms: 1200,
                attempts: vec![
                    AttemptRecord { start_us: t0 + 10, end_us: t0 + 20, status: Some(429), hold_ms: 1200, ..Default::default() },
                    AttemptRecord { start_us: t0 + 30, end_us: 0, lost: Some("timeout"), token_refreshed: true, ..Default::default() },
                ],
                tokens: vec![
                    TokenRecord { start_us: t0 + 11, end_us: t0 + 12, cache: "hit", ..Default::default() },
                    TokenRecord { start_us: t0 + 31, end_us: t0 + 40, cache: "miss", ..Default::default() },
                ],
                ..Default::default()
            }],
            tokens: vec![TokenRecord { start_us: t0, end_us: t0 + 4, cache: "miss", joined: true, error_code: None }],
        };
        assert_eq!(
            serde_json::to_string(&record).unwrap(),
            r#"[1765000000000000,[[10,50,"POST",null,null,null,null,"TIMEOUT",1,1200,[[10,20,429,null,1200,false],[30,0,null,"timeout",0,true]],[[31,40,"miss",false,null]],"miss"]],[[0,4,"miss",true,null]]]"#
        );
        assert_eq!(serde_json::to_string(&CallRecord::default()).unwrap(), "[0,[],[]]");
    }
}

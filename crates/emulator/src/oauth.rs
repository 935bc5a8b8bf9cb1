//! `POST /oauth/token`: client credentials with HTTP Basic auth, as the official SDKs send it.

use crate::ids::random_token;
use crate::rate_limit::{self, Verdict};
use crate::reply::Reply;
use crate::state::{lock, write, State, TokenRec};
use crate::time::now_ms;
use base64::Engine;
use serde_json::json;
use std::time::{Duration, Instant};

/// `(client_id, secret)` from `Authorization: Basic …`, if well-formed.
pub fn parse_basic(header: Option<&str>) -> Option<(String, String)> {
    let h = header?.trim();
    let (scheme, rest) = h.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD.decode(rest.trim()).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (id, secret) = text.split_once(':')?;
    (!id.is_empty()).then(|| (id.to_string(), secret.to_string()))
}

fn oauth_error(status: u16, error: &str, description: &str) -> Reply {
    Reply::status_json(status, json!({"error": error, "description": description, "error_description": description}))
}

/// Handles a token request.
pub fn token(state: &State, authorization: Option<&str>, body: &[u8]) -> Reply {
    let form: Vec<(String, String)> = url_form(body);
    let grant = form.iter().find(|(k, _)| k == "grant_type").map(|(_, v)| v.as_str());
    let Some((client_id, secret)) = parse_basic(authorization) else {
        return oauth_error(401, "invalid_client", "authentication failed");
    };
    state.count(&client_id, |c| c.token_requests += 1);
    let fail = |r: Reply| {
        state.count(&client_id, |c| c.token_failures += 1);
        r
    };
    let Some(client) = state.client(&client_id) else {
        return fail(oauth_error(401, "invalid_client", "client not found"));
    };
    if client.secret != secret {
        return fail(oauth_error(401, "invalid_client", "authentication failed"));
    }
    match grant {
        None => return fail(oauth_error(400, "invalid_request", "grant_type is required")),
        Some("client_credentials") => {}
        Some(_) => return fail(oauth_error(400, "unsupported_grant_type", "unsupported grant type")),
    }
    if client.state != "active" {
        return fail(oauth_error(401, "invalid_client", &format!("client is {}", client.state)));
    }
    let budget = client.token_rate_limit;
    let verdict = {
        let mut w = lock(&state.token_windows);
        rate_limit::check(
            w.entry(client_id.clone()).or_default(),
            budget.limit,
            Duration::from_secs(budget.window_seconds as u64),
            Instant::now(),
        )
    };
    if let Verdict::Limited { retry_after } = verdict {
        return fail(
            oauth_error(400, "invalid_request", "rate limit exceeded; try again later")
                .header("retry-after", rate_limit::ceil_secs(retry_after).to_string()),
        );
    }
    let token = random_token(40);
    write(&state.tokens).insert(
        token.clone(),
        TokenRec {
            client_id: client_id.clone(),
            expires_at: Instant::now() + Duration::from_secs(client.token_lifetime_seconds),
            issued_ms: now_ms(),
            revoked: false,
        },
    );
    state.count(&client_id, |c| c.tokens_issued += 1);
    Reply::json(json!({"access_token": token, "token_type": "bearer", "expires_in": client.token_lifetime_seconds}))
}

/// Parses an `application/x-www-form-urlencoded` body (lenient: bad pairs are skipped).
pub fn url_form(body: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(body);
    text.split('&')
        .filter(|p| !p.is_empty())
        .filter_map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            Some((decode(k)?, decode(v)?))
        })
        .collect()
}

fn decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let h = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
                out.push(u8::from_str_radix(h, 16).ok()?);
                i += 2;
            }
            b'%' => return None,
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_parsing_never_panics() {
        let b64 = base64::engine::general_purpose::STANDARD.encode("id:se:cret");
        assert_eq!(parse_basic(Some(&format!("Basic {b64}"))), Some(("id".into(), "se:cret".into())));
        for bad in ["", "Basic", "Basic !!!", "Bearer abc", "Basic Og==", "basic", "Basic \u{1F600}"] {
            assert_eq!(parse_basic(Some(bad)), None, "{bad}");
        }
        assert_eq!(parse_basic(None), None);
    }

    #[test]
    fn forms() {
        assert_eq!(url_form(b"grant_type=client_credentials"), vec![("grant_type".into(), "client_credentials".into())]);
        assert_eq!(url_form(b"a=b%20c&d"), vec![("a".into(), "b c".into()), ("d".into(), "".into())]);
        assert!(url_form(b"a=%zz&b=%").is_empty());
    }
}

//! The page-end rules, in one place: given one page of a listing, where its items are and what the
//! next page is — the next page number, a `cursor`, a `nextUri`, a search's `nextPage` — or that
//! there is none. The core's paginator and the tutorial helper `fetchWithPaginationAndRetry` (which
//! reads pages from the caller's function) both ask this module.

use super::style::PageStyle;
use serde_json::Value;

/// Where a page keeps its items, in the order they are looked for.
pub const ITEM_KEYS: &[&str] = &["entities", "results", "conversations"];

/// Keys a listing page may carry besides its items: a page of only these is an empty page (Genesys
/// answers an analytics query that matches nothing with `{}` or `{ "totalHits": 0 }`).
pub const PAGING_KEYS: &[&str] = &[
    "total",
    "totalHits",
    "pageCount",
    "pageNumber",
    "pageSize",
    "cursor",
    "nextUri",
    "selfUri",
    "firstUri",
    "lastUri",
    "previousUri",
    "nextPage",
    "previousPage",
    "currentPage",
    "types",
    "dataAvailabilityDate",
    "aggregations",
];

/// What is known of a listing before this page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageState {
    /// 1-based number of the page just read.
    pub page_number: u32,
    /// Items read so far, this page included.
    pub seen: u64,
    /// The `cursor` that led to this page, if any.
    pub cursor: Option<String>,
    /// The `nextUri` that led to this page, if any.
    pub next_uri: Option<String>,
    /// The `nextPage` that led to this page, if any.
    pub next_page: Option<String>,
}

/// The page after this one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// This page number.
    Number(u32),
    /// Ask again with this `cursor`.
    Cursor(String),
    /// Fetch this path (the server's `nextUri`; the egress rule applies before it is used).
    NextUri(String),
    /// A search's follow-up token (`nextPage`, a q64 value).
    NextPage(String),
    /// The listing is complete.
    End,
}

/// Why a body cannot be paged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageError {
    /// Not a listing page at all (no item array, and keys a page does not have).
    NotAPage(String),
    /// The server repeated the token that led to this page: fetching it again would loop.
    Stuck(&'static str),
}

/// The key holding `body`'s items (the first of [`ITEM_KEYS`] that is an array), if any.
pub fn items_key(body: &Value) -> Option<&'static str> {
    ITEM_KEYS.iter().copied().find(|k| body.get(*k).is_some_and(is_items))
}

/// An item array, or the `{ "length": n }` a JS caller sends instead of the array itself.
fn is_items(v: &Value) -> bool {
    v.is_array() || v.get("length").is_some_and(Value::is_u64)
}

fn len_of(v: &Value) -> u64 {
    v.as_array().map(|a| a.len() as u64).or_else(|| v.get("length").and_then(Value::as_u64)).unwrap_or(0)
}

fn count(body: &Value, key: &str) -> Option<u64> {
    body.get(key).and_then(Value::as_u64)
}

fn token<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    body.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// The page after `body`, `state` describing the listing up to and including `body` (its items are
/// in `state.seen`). `style` is the caller's, when it knows it: an analytics query without
/// `totalHits` pages on until an empty page.
///
/// In order: no items → the end; `pageCount` → the next number while below it; `totalHits` → the next
/// number while fewer were seen; `cursor`, `nextUri`, `nextPage` → that token (one that does not
/// advance is an error); `total` → the next number while fewer were seen.
///
/// ```
/// use genesys_tenants_core::pipeline::page_end::{next_page, Next, PageState};
/// let page = serde_json::json!({"entities": [1, 2], "pageCount": 3});
/// let state = PageState { page_number: 1, seen: 2, ..Default::default() };
/// assert_eq!(next_page(&page, &state, None), Ok(Next::Number(2)));
/// let last = serde_json::json!({"conversations": [1], "cursor": null});
/// assert_eq!(next_page(&last, &state, None), Ok(Next::End));
/// ```
pub fn next_page(body: &Value, state: &PageState, style: Option<PageStyle>) -> Result<Next, PageError> {
    let Some(key) = items_key(body) else {
        return match body.as_object() {
            Some(m) => match m.keys().find(|k| !PAGING_KEYS.contains(&k.as_str())) {
                Some(other) => Err(PageError::NotAPage(format!("has no entities, results or conversations (it has '{other}')"))),
                None => Ok(Next::End),
            },
            None => Err(PageError::NotAPage("is not an object".into())),
        };
    };
    if len_of(&body[key]) == 0 {
        return Ok(Next::End);
    }
    let number = |more: bool| if more { Next::Number(state.page_number + 1) } else { Next::End };
    let counted = || {
        if let Some(pages) = count(body, "pageCount") {
            return Some(number(u64::from(state.page_number) < pages));
        }
        count(body, "totalHits").map(|hits| number(state.seen < hits))
    };
    let advance = |field: &'static str, value: &str, last: &Option<String>| {
        if last.as_deref() == Some(value) {
            Err(PageError::Stuck(field))
        } else {
            Ok(value.to_string())
        }
    };
    let tokened = || -> Option<Result<Next, PageError>> {
        if let Some(c) = token(body, "cursor") {
            return Some(advance("cursor", c, &state.cursor).map(Next::Cursor));
        }
        if let Some(u) = token(body, "nextUri") {
            return Some(advance("nextUri", u, &state.next_uri).map(Next::NextUri));
        }
        token(body, "nextPage").map(|p| advance("nextPage", p, &state.next_page).map(Next::NextPage))
    };
    // A listing read by its tokens follows them first, even when it also counts its pages.
    if matches!(style, Some(PageStyle::Cursor | PageStyle::AnalyticsJob)) {
        if let Some(next) = tokened() {
            return next;
        }
    }
    if let Some(next) = counted() {
        return Ok(next);
    }
    if let Some(next) = tokened() {
        return next;
    }
    if let Some(total) = count(body, "total") {
        return Ok(number(state.seen < total));
    }
    Ok(number(style == Some(PageStyle::AnalyticsQuery)))
}

/// One page read: where its items are, how many, and what follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The key holding the items (`None`: an empty page without one).
    pub items_key: Option<&'static str>,
    /// Items on this page.
    pub items: u64,
    /// The page after it.
    pub next: Next,
}

/// [`next_page`] for a caller that counted the items *before* this page (`before.seen`).
pub fn read(body: &Value, before: &PageState, style: Option<PageStyle>) -> Result<Step, PageError> {
    let key = items_key(body);
    let items = key.map_or(0, |k| len_of(&body[k]));
    let state = PageState { seen: before.seen + items, ..before.clone() };
    Ok(Step { items_key: key, items, next: next_page(body, &state, style)? })
}

/// [`read`] for a listing read outside the core (the tutorial helper, whose caller's function
/// fetches the pages): takes the page's summary (its top-level fields, item arrays as
/// `{ "length": n }`) and the listing so far `{ pageNumber, seen, cursor?, nextUri?, nextPage? }`;
/// returns `{ items, next }`, `next` being `null` or `{ kind, token }` (`pageNumber`, `cursor`,
/// `nextUri`, `nextPage`). A body that is not a listing page is `INVALID_OPTIONS` (`apiCall`: the
/// caller's function resolved to it); a token that does not advance is `UPSTREAM_ERROR`.
///
/// ```
/// use genesys_tenants_core::pipeline::page_end::step_json;
/// let s = serde_json::json!({"entities": {"length": 2}, "cursor": "c2"});
/// let r = step_json(&s, &serde_json::json!({"pageNumber": 1, "seen": 0})).unwrap();
/// assert_eq!(r["next"], serde_json::json!({"kind": "cursor", "token": "c2"}));
/// ```
pub fn step_json(summary: &Value, state: &Value) -> Result<Value, crate::error::Error> {
    use crate::error::Error;
    let text = |k: &str| state.get(k).and_then(Value::as_str).map(str::to_string);
    let before = PageState {
        page_number: state.get("pageNumber").and_then(Value::as_u64).unwrap_or(1).min(u64::from(u32::MAX)) as u32,
        seen: state.get("seen").and_then(Value::as_u64).unwrap_or(0),
        cursor: text("cursor"),
        next_uri: text("nextUri"),
        next_page: text("nextPage"),
    };
    let step = read(summary, &before, None).map_err(|e| match e {
        PageError::NotAPage(why) => {
            Error::InvalidOptions { option: "apiCall".into(), reason: format!("must resolve to a listing page; the answer {why}") }
        }
        PageError::Stuck(field) => Error::Upstream {
            tenant_id: String::new(),
            status: 200,
            body: Value::Null,
            message: Some(format!(
                "the listing's {field} did not advance after page {}: stopping rather than fetching the same page again",
                before.page_number
            )),
            correlation_id: None,
        },
    })?;
    let next = match step.next {
        Next::End => Value::Null,
        Next::Number(n) => serde_json::json!({"kind": "pageNumber", "token": n}),
        Next::Cursor(c) => serde_json::json!({"kind": "cursor", "token": c}),
        Next::NextUri(u) => serde_json::json!({"kind": "nextUri", "token": u}),
        Next::NextPage(p) => serde_json::json!({"kind": "nextPage", "token": p}),
    };
    Ok(serde_json::json!({"items": step.items_key, "next": next}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(page_number: u32, seen: u64) -> PageState {
        PageState { page_number, seen, ..Default::default() }
    }

    #[test]
    fn the_rules_in_order() {
        let cases: Vec<(Value, PageState, Next)> = vec![
            (json!({"entities": [], "pageCount": 9}), at(1, 0), Next::End),
            (json!({"entities": [1], "pageCount": 2}), at(1, 1), Next::Number(2)),
            (json!({"entities": [1], "pageCount": 2}), at(2, 2), Next::End),
            (json!({"conversations": [1, 2], "totalHits": 3}), at(1, 2), Next::Number(2)),
            (json!({"conversations": [1], "totalHits": 3}), at(2, 3), Next::End),
            (json!({"conversations": [1], "cursor": "c2"}), at(1, 1), Next::Cursor("c2".into())),
            (json!({"entities": [1], "nextUri": "/api/v2/x?after=2"}), at(1, 1), Next::NextUri("/api/v2/x?after=2".into())),
            (json!({"results": [1], "nextPage": "q64-2"}), at(1, 1), Next::NextPage("q64-2".into())),
            (json!({"results": [1], "total": 5}), at(1, 1), Next::Number(2)),
            (json!({"results": [1], "total": 1}), at(1, 1), Next::End),
            (json!({"entities": [1]}), at(1, 1), Next::End),
            (json!({}), at(1, 0), Next::End),
            (json!({"totalHits": 0}), at(1, 0), Next::End),
            (json!({"entities": {"length": 2}, "pageCount": 3}), at(1, 2), Next::Number(2)),
        ];
        for (body, state, want) in cases {
            assert_eq!(next_page(&body, &state, None), Ok(want), "{body}");
        }
    }

    #[test]
    fn a_token_listing_follows_its_tokens_first() {
        let body = json!({"conversations": [1], "cursor": "c2", "pageCount": 1});
        assert_eq!(next_page(&body, &at(1, 1), Some(PageStyle::Cursor)), Ok(Next::Cursor("c2".into())));
        assert_eq!(next_page(&body, &at(1, 1), None), Ok(Next::End), "counted first otherwise");
    }

    #[test]
    fn an_analytics_query_without_total_hits_pages_until_empty() {
        assert_eq!(next_page(&json!({"conversations": [1]}), &at(1, 1), Some(PageStyle::AnalyticsQuery)), Ok(Next::Number(2)));
        assert_eq!(next_page(&json!({"conversations": [1]}), &at(1, 1), Some(PageStyle::AnalyticsJob)), Ok(Next::End));
    }

    #[test]
    fn tokens_must_advance_and_pages_must_be_pages() {
        let state = PageState { page_number: 2, seen: 2, cursor: Some("c".into()), ..Default::default() };
        assert_eq!(next_page(&json!({"entities": [1], "cursor": "c"}), &state, None), Err(PageError::Stuck("cursor")));
        assert!(matches!(next_page(&json!({"id": "u1", "name": "not a page"}), &at(1, 0), None), Err(PageError::NotAPage(_))));
        assert!(matches!(next_page(&json!([1, 2]), &at(1, 0), None), Err(PageError::NotAPage(_))));
    }
}

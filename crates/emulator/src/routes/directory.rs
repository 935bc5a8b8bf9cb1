//! Users (list, get, search) and routing queues.

use crate::call::{grouped, Call};
use crate::error_body::ApiError;
use crate::paging::{self, PageReq};
use crate::reply::Reply;
use crate::world::OrgData;
use base64::Engine;
use serde_json::{json, Map, Value};

/// A page of `items` (only the page's items are copied: a listing of a 10,000-user org costs a page,
/// not the org, so a heavy tenant's paging does not load the emulator out of proportion).
fn listing<V: std::borrow::Borrow<Value>>(items: &[V], page: PageReq, base: &str, extra: &str) -> Reply {
    let total = items.len();
    let mut m = Map::new();
    m.insert("entities".into(), Value::Array(page.slice(items).iter().map(|v| v.borrow().clone()).collect()));
    m.insert("pageSize".into(), json!(page.size));
    m.insert("pageNumber".into(), json!(page.number));
    m.insert("total".into(), json!(total));
    m.insert("pageCount".into(), json!(page.page_count(total)));
    m.extend(page.uris(base, extra, total));
    Reply::json(Value::Object(m))
}

pub(super) fn users(data: &OrgData, call: &Call<'_>) -> Result<Reply, ApiError> {
    let page = paging::parse(call.q("pageSize"), call.q("pageNumber"), 25, 500)?;
    let state = call.q("state").unwrap_or("active");
    if !["active", "inactive", "deleted", "any"].contains(&state) {
        return Err(ApiError::bad_request("invalid.value", &format!("Value [{state}] is not valid for field state")));
    }
    let g = grouped(&call.query);
    let ids = g.get("id");
    let mut items: Vec<&Value> = data
        .users
        .iter()
        .filter(|u| state == "any" || u["state"] == state)
        .filter(|u| ids.is_none_or(|ids| ids.iter().any(|i| u["id"] == i.as_str())))
        .collect();
    if call.q("sortOrder").is_some_and(|s| s.eq_ignore_ascii_case("desc")) {
        items.reverse();
    }
    Ok(listing(&items, page, "/api/v2/users", ""))
}

pub(super) fn user(data: &OrgData, call: &Call<'_>) -> Result<Reply, ApiError> {
    let id = call.params.first().map(String::as_str).unwrap_or("");
    data.users.iter().find(|u| u["id"] == id).cloned().map(Reply::json).ok_or_else(ApiError::not_found)
}

fn text_of(u: &Value, field: &str) -> String {
    u.get(field).and_then(Value::as_str).unwrap_or("").to_ascii_lowercase()
}

fn matches(u: &Value, q: &Value) -> Result<bool, ApiError> {
    let kind = q.get("type").and_then(Value::as_str).unwrap_or("");
    let fields: Vec<String> = q
        .get("fields")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default();
    let mut values: Vec<String> = q
        .get("values")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_ascii_lowercase).collect())
        .unwrap_or_default();
    if let Some(v) = q.get("value").and_then(Value::as_str) {
        values.push(v.to_ascii_lowercase());
    }
    let any_field = |f: &dyn Fn(&str) -> bool| fields.iter().any(|field| f(&text_of(u, field)));
    Ok(match kind {
        "MATCH_ALL" => true,
        "EXACT" => values.iter().any(|v| any_field(&|t| t == v)),
        "CONTAINS" => values.iter().any(|v| any_field(&|t| t.contains(v.as_str()))),
        "STARTS_WITH" => values.iter().any(|v| any_field(&|t| t.starts_with(v.as_str()))),
        other => return Err(ApiError::bad_request("bad.request", &format!("Unsupported query type [{other}]"))),
    })
}

pub(super) fn search(data: &OrgData, body: Value) -> Result<Reply, ApiError> {
    let obj = body.as_object().ok_or_else(|| ApiError::bad_request("bad.request", "The search body must be an object"))?;
    let page = paging::parse_json(obj.get("pageSize"), obj.get("pageNumber"), 25, 100)?;
    let queries: Vec<Value> = match obj.get("query") {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(a)) => a.clone(),
        Some(_) => return Err(ApiError::bad_request("bad.request", "query must be an array")),
    };
    let mut results = Vec::new();
    for u in &data.users {
        let mut ok = true;
        for q in &queries {
            ok &= matches(u, q)?;
        }
        if ok {
            results.push(u.clone());
        }
    }
    if obj.get("sortOrder").and_then(Value::as_str).is_some_and(|s| s == "DESC") {
        results.reverse();
    }
    let total = results.len();
    let count = page.page_count(total);
    let link = |n: usize| {
        let mut b = obj.clone();
        b.insert("pageNumber".into(), json!(n));
        b.insert("pageSize".into(), json!(page.size));
        let q64 = base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(&b).unwrap_or_default());
        format!("/api/v2/users/search?q64={q64}")
    };
    let mut m = Map::new();
    m.insert("total".into(), json!(total));
    m.insert("pageCount".into(), json!(count));
    m.insert("pageSize".into(), json!(page.size));
    m.insert("pageNumber".into(), json!(page.number));
    m.insert("currentPage".into(), json!(link(page.number)));
    if page.number < count {
        m.insert("nextPage".into(), json!(link(page.number + 1)));
    }
    if page.number > 1 {
        m.insert("previousPage".into(), json!(link(page.number - 1)));
    }
    m.insert("types".into(), json!(["users"]));
    m.insert("results".into(), Value::Array(page.slice(&results).to_vec()));
    Ok(Reply::json(Value::Object(m)))
}

pub(super) fn search_q64(data: &OrgData, call: &Call<'_>) -> Result<Reply, ApiError> {
    let q64 = call.q("q64").ok_or_else(|| ApiError::bad_request("bad.request", "q64 is required"))?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(q64.trim())
        .map_err(|_| ApiError::bad_request("bad.request", "q64 is not valid base64"))?;
    let body: Value = serde_json::from_slice(&raw).map_err(|_| ApiError::bad_request("bad.request", "q64 is not a JSON search body"))?;
    search(data, body)
}

pub(super) fn queues(data: &OrgData, call: &Call<'_>) -> Result<Reply, ApiError> {
    let page = paging::parse(call.q("pageSize"), call.q("pageNumber"), 25, 500)?;
    let name = call.q("name").map(str::to_ascii_lowercase);
    let mut items: Vec<Value> = data
        .queues
        .iter()
        .filter(|q| match &name {
            None => true,
            Some(n) => {
                let qn = text_of(q, "name");
                let core = n.trim_matches('*');
                match (n.starts_with('*'), n.ends_with('*')) {
                    (true, true) => qn.contains(core),
                    (true, false) => qn.ends_with(core),
                    (false, true) => qn.starts_with(core),
                    (false, false) => qn == core,
                }
            }
        })
        .cloned()
        .collect();
    if call.q("sortOrder").is_some_and(|s| s.eq_ignore_ascii_case("desc")) {
        items.reverse();
    }
    let extra = call.q("name").map(|n| format!("&name={n}")).unwrap_or_default();
    Ok(listing(&items, page, "/api/v2/routing/queues", &extra))
}

pub(super) fn queue(data: &OrgData, call: &Call<'_>) -> Result<Reply, ApiError> {
    let id = call.params.first().map(String::as_str).unwrap_or("");
    data.queues.iter().find(|q| q["id"] == id).cloned().map(Reply::json).ok_or_else(ApiError::not_found)
}

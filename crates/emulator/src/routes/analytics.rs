//! Analytics: the details query, aggregates, and details jobs.

use crate::call::Call;
use crate::error_body::ApiError;
use crate::ids::random_uuid;
use crate::paging;
use crate::reply::Reply;
use crate::state::{lock, State};
use crate::time::{format_iso, now_ms, parse_interval};
use crate::world::OrgData;
use base64::Engine;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

fn interval_of(body: &Value) -> Result<(i64, i64), ApiError> {
    match body.get("interval") {
        None | Some(Value::Null) => Err(ApiError::bad_request("bad.request", "interval is required")),
        Some(Value::String(s)) => parse_interval(s)
            .ok_or_else(|| ApiError::bad_request("invalid.date", &format!("Invalid interval [{s}]: expected start/end in ISO-8601"))),
        Some(_) => Err(ApiError::bad_request("invalid.date", "interval must be a string")),
    }
}

/// Conversations started inside the interval, in the requested order.
fn matching(data: &OrgData, body: &Value) -> Result<Vec<Value>, ApiError> {
    let (start, end) = interval_of(body)?;
    let mut v: Vec<Value> = data.conversations.iter().filter(|(t, _)| *t >= start && *t < end).map(|(_, c)| c.clone()).collect();
    match body.get("order").and_then(Value::as_str) {
        None | Some("asc") | Some("unordered") => {}
        Some("desc") => v.reverse(),
        Some(o) => return Err(ApiError::bad_request("invalid.value", &format!("Invalid order [{o}]"))),
    }
    Ok(v)
}

pub(super) fn details_query(data: &OrgData, call: &Call<'_>) -> Result<Reply, ApiError> {
    let body = call.json()?;
    if !body.is_object() {
        return Err(ApiError::bad_request("bad.request", "The query body must be an object"));
    }
    let paging = body.get("paging");
    let page = paging::parse_json(paging.and_then(|p| p.get("pageSize")), paging.and_then(|p| p.get("pageNumber")), 25, 100)?;
    let all = matching(data, &body)?;
    let slice = page.slice(&all);
    let mut m = Map::new();
    // A page past the end carries no `conversations` key at all.
    if !slice.is_empty() {
        m.insert("conversations".into(), Value::Array(slice.to_vec()));
    }
    m.insert("totalHits".into(), json!(all.len()));
    Ok(Reply::json(Value::Object(m)))
}

pub(super) fn aggregates(data: &OrgData, call: &Call<'_>) -> Result<Reply, ApiError> {
    let body = call.json()?;
    let (start, end) = interval_of(&body)?;
    let metrics: Vec<String> = match body.get("metrics") {
        Some(Value::Array(a)) if !a.is_empty() => a.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => return Err(ApiError::bad_request("bad.request", "metrics is required")),
    };
    let group_by: Vec<String> = body
        .get("groupBy")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default();
    let mut groups: BTreeMap<String, (Map<String, Value>, u64, u64)> = BTreeMap::new();
    for (t, c) in data.conversations.iter().filter(|(t, _)| *t >= start && *t < end) {
        let _ = t;
        let seg = &c["participants"][0]["sessions"][0];
        let mut g = Map::new();
        for dim in &group_by {
            let v = match dim.as_str() {
                "queueId" => seg["segments"][0]["queueId"].clone(),
                "mediaType" => seg["mediaType"].clone(),
                "originatingDirection" => c["originatingDirection"].clone(),
                _ => Value::Null,
            };
            g.insert(dim.clone(), v);
        }
        let key = serde_json::to_string(&g).unwrap_or_default();
        let e = groups.entry(key).or_insert((g, 0, 0));
        e.1 += 1;
        e.2 += 240_000;
    }
    let interval = format!("{}/{}", format_iso(start), format_iso(end));
    let results: Vec<Value> = groups
        .into_values()
        .map(|(g, n, handle)| {
            let ms: Vec<Value> = metrics
                .iter()
                .map(|m| match m.as_str() {
                    "tHandle" => json!({"metric": m, "stats": {"count": n, "sum": handle, "min": 240_000, "max": 240_000}}),
                    _ => json!({"metric": m, "stats": {"count": n}}),
                })
                .collect();
            json!({"group": g, "data": [{"interval": interval, "metrics": ms}]})
        })
        .collect();
    Ok(Reply::json(json!({"results": results})))
}

pub(super) fn submit_job(state: &State, org_id: &str, data: &OrgData, call: &Call<'_>) -> Result<Reply, ApiError> {
    let body = call.json()?;
    let conversations = matching(data, &body)?;
    let id = random_uuid();
    let job =
        crate::state::Job { org_id: org_id.into(), submitted: Instant::now(), submitted_ms: now_ms(), conversations, cancelled: false };
    lock(&state.jobs).insert(id.clone(), job);
    Ok(Reply::status_json(202, json!({"jobId": id})))
}

fn job_state(state: &State, job: &crate::state::Job) -> &'static str {
    if job.cancelled {
        "CANCELLED"
    } else if job.submitted.elapsed() >= Duration::from_millis(state.initial.job_delay_ms) {
        "FULFILLED"
    } else {
        "QUEUED"
    }
}

fn with_job<T>(
    state: &State,
    org_id: &str,
    call: &Call<'_>,
    f: impl FnOnce(&mut crate::state::Job) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let id = call.params.first().map(String::as_str).unwrap_or("");
    let mut jobs = lock(&state.jobs);
    let job = jobs.get_mut(id).filter(|j| j.org_id == org_id).ok_or_else(ApiError::not_found)?;
    f(job)
}

pub(super) fn job_status(state: &State, org_id: &str, call: &Call<'_>) -> Result<Reply, ApiError> {
    with_job(state, org_id, call, |job| {
        let s = job_state(state, job);
        let mut v = json!({"state": s, "submissionDate": format_iso(job.submitted_ms), "expirationDate": format_iso(job.submitted_ms + 86_400_000)});
        if s == "FULFILLED" {
            v["completionDate"] = json!(format_iso(job.submitted_ms + state.initial.job_delay_ms as i64));
        }
        Ok(Reply::json(v))
    })
}

pub(super) fn cancel_job(state: &State, org_id: &str, call: &Call<'_>) -> Result<Reply, ApiError> {
    with_job(state, org_id, call, |job| {
        job.cancelled = true;
        Ok(Reply::empty(204))
    })
}

pub(super) fn job_results(state: &State, org_id: &str, call: &Call<'_>) -> Result<Reply, ApiError> {
    let page = paging::parse(call.q("pageSize"), None, 100, 1000)?;
    let offset = match call.q("cursor") {
        None | Some("") => 0,
        Some(c) => base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(c)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.strip_prefix("offset:").and_then(|n| n.parse::<usize>().ok()))
            .ok_or_else(|| ApiError::bad_request("bad.request", "invalid cursor"))?,
    };
    with_job(state, org_id, call, |job| {
        if job_state(state, job) != "FULFILLED" {
            return Err(ApiError::bad_request("bad.request", "The job is not fulfilled yet"));
        }
        let end = (offset + page.size).min(job.conversations.len());
        let start = offset.min(end);
        let mut m = Map::new();
        m.insert("conversations".into(), Value::Array(job.conversations[start..end].to_vec()));
        m.insert("dataAvailabilityDate".into(), json!(format_iso(now_ms())));
        if end < job.conversations.len() {
            m.insert("cursor".into(), json!(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("offset:{end}"))));
        }
        Ok(Reply::json(Value::Object(m)))
    })
}

pub(super) fn availability() -> Reply {
    Reply::json(json!({"dataAvailabilityDate": format_iso(now_ms())}))
}

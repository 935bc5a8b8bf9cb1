//! The Notifications API's REST side: channels and their topic subscriptions (the state is
//! [`crate::notifications::Hub`]; the WebSocket is `notifications::socket`).

use crate::call::Call;
use crate::error_body::ApiError;
use crate::notifications::TopicChange;
use crate::reply::Reply;
use crate::state::State;
use serde_json::{json, Value};

/// The longest topic name accepted.
const MAX_TOPIC: usize = 512;

pub(super) fn create(state: &State, call: &Call<'_>) -> Reply {
    Reply::json(state.notifications.create(&call.client.client_id, &call.client.org_id, &call.token))
}

pub(super) fn list(state: &State, call: &Call<'_>) -> Reply {
    let all = call.q("includechannels").is_some_and(|v| v.eq_ignore_ascii_case("oauthclient"));
    Reply::json(json!({"entities": state.notifications.list(&call.client.client_id, &call.token, all)}))
}

pub(super) fn head(state: &State, call: &Call<'_>) -> Result<Reply, ApiError> {
    let id = call.params.first().map(String::as_str).unwrap_or("");
    if state.notifications.exists_for(&call.client.client_id, id) {
        Ok(Reply::empty(200))
    } else {
        Err(ApiError::not_found())
    }
}

/// `[{"id": "<topic>"}, …]`: the topics of a PUT or POST body.
fn topics(call: &Call<'_>) -> Result<Vec<String>, ApiError> {
    let bad = |m: &str| ApiError::bad_request("bad.request", m);
    let Value::Array(items) = call.json()? else {
        return Err(bad("The request body must be an array of topics: [{\"id\": \"v2.users.{id}.presence\"}]."));
    };
    items
        .iter()
        .map(|t| match t.get("id").and_then(Value::as_str) {
            Some(id) if !id.trim().is_empty() && id.len() <= MAX_TOPIC && !id.contains(char::is_whitespace) => Ok(id.to_string()),
            _ => Err(bad("Each topic must be an object with a non-empty \"id\" (the topic name).")),
        })
        .collect()
}

/// GET (`None`), PUT, POST and DELETE of `…/channels/{id}/subscriptions`.
pub(super) fn subscriptions(state: &State, call: &Call<'_>) -> Result<Reply, ApiError> {
    let id = call.params.first().map(String::as_str).unwrap_or("");
    state.notifications.count_subscription_call(&call.client.client_id);
    let change = match call.method {
        "PUT" => Some(TopicChange::Replace(topics(call)?)),
        "POST" => Some(TopicChange::Add(topics(call)?)),
        "DELETE" => Some(TopicChange::Clear),
        _ => None,
    };
    let delete = matches!(change, Some(TopicChange::Clear));
    let list = state.notifications.subscriptions(&call.client.client_id, id, change)?;
    if delete {
        return Ok(Reply::empty(204));
    }
    Ok(Reply::json(json!({"entities": list.iter().map(|t| json!({"id": t})).collect::<Vec<_>>()})))
}

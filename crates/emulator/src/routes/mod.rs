//! Route handlers, by area.

mod analytics;
mod directory;
mod notifications;
mod org;

use crate::call::Call;
use crate::error_body::ApiError;
use crate::reply::Reply;
use crate::state::State;

/// Runs the handler of route `name`.
pub fn dispatch(state: &State, name: &str, call: &Call<'_>, issued_ms: i64) -> Result<Reply, ApiError> {
    let org = state.orgs.get(&call.client.org_id).ok_or_else(ApiError::not_found)?;
    match name {
        "org.me" => Ok(org::me(&org.0)),
        "limits.ns" => org::limits(call),
        "tokens.me" => Ok(org::token_info(&org.0, call, issued_ms)),
        "tokens.me.head" => Ok(Reply::empty(200)),
        "tokens.me.delete" => Ok(org::revoke_self(state, call)),
        "oauth.client" => org::oauth_client(state, call, false),
        "oauth.secret" => org::oauth_client(state, call, true),
        "users.list" => directory::users(&org.1, call),
        "users.get" => directory::user(&org.1, call),
        "users.search" => directory::search(&org.1, call.json()?),
        "users.search.q64" => directory::search_q64(&org.1, call),
        "queues.list" => directory::queues(&org.1, call),
        "queues.get" => directory::queue(&org.1, call),
        "details.query" => analytics::details_query(&org.1, call),
        "aggregates.query" => analytics::aggregates(&org.1, call),
        "jobs.submit" => analytics::submit_job(state, &org.0.id, &org.1, call),
        "jobs.get" => analytics::job_status(state, &org.0.id, call),
        "jobs.delete" => analytics::cancel_job(state, &org.0.id, call),
        "jobs.results" => analytics::job_results(state, &org.0.id, call),
        "jobs.availability" => Ok(analytics::availability()),
        "notifications.channels.create" => Ok(notifications::create(state, call)),
        "notifications.channels.list" => Ok(notifications::list(state, call)),
        "notifications.channel.head" => notifications::head(state, call),
        "notifications.subscriptions" => notifications::subscriptions(state, call),
        _ => Err(ApiError::not_found()),
    }
}

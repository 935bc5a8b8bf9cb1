//! Organization, limits, tokens/me and OAuth client routes.

use crate::call::Call;
use crate::error_body::ApiError;
use crate::ids::random_token;
use crate::reply::Reply;
use crate::state::{write, State};
use crate::time::format_iso;
use crate::world::Org;
use serde_json::{json, Value};

pub(super) fn me(org: &Org) -> Reply {
    Reply::json(json!({
        "id": org.id, "name": org.name, "defaultLanguage": "en-us", "defaultCountryCode": "US",
        "thirdPartyOrgName": org.name.to_ascii_lowercase().replace(' ', "-"), "domain": format!("{}.example", org.name.to_ascii_lowercase().replace(' ', "-")),
        "features": {}, "version": 1, "state": "active", "productPlatform": "GenesysCloud",
        "selfUri": "/api/v2/organizations/me",
    }))
}

pub(super) fn limits(call: &Call<'_>) -> Result<Reply, ApiError> {
    let ns = call.params.first().map(String::as_str).unwrap_or("");
    if ns != "platform-api" {
        return Err(ApiError::not_found());
    }
    let b = call.client.rate_limit;
    let per_minute = (b.limit as u64 * 60) / (b.window_seconds.max(1) as u64);
    Ok(Reply::json(json!({"entities": [
        {"key": "client.credentials.token.rate.per.minute", "namespace": ns, "value": per_minute},
        {"key": "token.rate.per.minute", "namespace": ns, "value": per_minute},
        {"key": "request.bytes.max", "namespace": ns, "value": crate::call::MAX_BODY},
    ]})))
}

fn client_json(c: &crate::world::Client, org: &Option<(String, String)>) -> Value {
    json!({
        "id": c.client_id, "name": c.name, "accessTokenValiditySeconds": c.token_lifetime_seconds,
        "authorizedGrantType": "CLIENT-CREDENTIALS", "scope": c.scopes, "roleDivisions": [],
        "state": c.state.to_ascii_uppercase(), "organization": org.as_ref().map(|(id, name)| json!({"id": id, "name": name})),
        "selfUri": format!("/api/v2/oauth/clients/{}", c.client_id),
    })
}

pub(super) fn token_info(org: &Org, call: &Call<'_>, issued_ms: i64) -> Reply {
    let o = json!({"id": org.id, "name": org.name});
    Reply::json(json!({
        "organization": o, "homeOrganization": o, "authorizedScope": call.client.scopes,
        "OAuthClient": client_json(&call.client, &Some((org.id.clone(), org.name.clone()))),
        "dateTokenIssued": format_iso(issued_ms),
    }))
}

pub(super) fn revoke_self(state: &State, call: &Call<'_>) -> Reply {
    if let Some(t) = write(&state.tokens).get_mut(&call.token) {
        t.revoked = true;
    }
    state.notifications.tokens_gone([call.token.as_str()]);
    Reply::empty(204)
}

/// GET a client of the caller's org, or (regenerate) give it a new secret.
pub(super) fn oauth_client(state: &State, call: &Call<'_>, regenerate: bool) -> Result<Reply, ApiError> {
    let id = call.params.first().cloned().unwrap_or_default();
    let mut clients = write(&state.clients);
    let c = clients.get_mut(&id).filter(|c| c.org_id == call.client.org_id).ok_or_else(ApiError::not_found)?;
    let org = state.orgs.get(&c.org_id).map(|(o, _)| (o.id.clone(), o.name.clone()));
    if !regenerate {
        // Secrets are only shown at creation or reset (2025 behaviour).
        return Ok(Reply::json(client_json(c, &org)));
    }
    c.secret = random_token(30);
    let mut v = client_json(c, &org);
    v["secret"] = json!(c.secret);
    Ok(Reply::json(v))
}

//! The world the emulator serves: orgs with their users, queues and conversations, and OAuth
//! clients (one per tenant). Loadable from JSON (camelCase); [`World::demo`] builds the
//! built-in demo world.

use crate::ids::{random_token, stable_uuid};
use crate::time::{format_iso, parse_interval};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// A request budget: `limit` per `window_seconds`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Budget {
    /// Requests allowed per window.
    pub limit: u32,
    /// Window length in seconds.
    pub window_seconds: u32,
}

/// Generated conversations of an org.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationSpec {
    /// How many.
    pub count: u32,
    /// Spread evenly over this `start/end` interval.
    pub interval: String,
}

/// An organization.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Org {
    /// Org id (UUID-like).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Environment host, e.g. `mypurecloud.ie`.
    pub region: String,
    /// When true, tokens need the route's OAuth scope.
    #[serde(default)]
    pub scope_enforcement: bool,
    /// Number of generated users.
    #[serde(default)]
    pub users: u32,
    /// Number of generated queues.
    #[serde(default)]
    pub queues: u32,
    /// Generated analytics conversations.
    #[serde(default)]
    pub conversations: Option<ConversationSpec>,
}

/// An OAuth client-credentials client, and the tenant entry the config service serves for it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Client {
    /// The tenant id in the config service.
    pub tenant_id: String,
    /// OAuth client id.
    pub client_id: String,
    /// Current secret (random when empty).
    #[serde(default)]
    pub secret: String,
    /// The org it belongs to.
    pub org_id: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Permissions of its roles.
    #[serde(default)]
    pub permissions: Vec<String>,
    /// OAuth scopes (only checked when the org enforces scopes).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// `expires_in` of its tokens.
    #[serde(default = "default_lifetime")]
    pub token_lifetime_seconds: u64,
    /// Per-token API budget.
    #[serde(default = "default_rate")]
    pub rate_limit: Budget,
    /// Token-creation budget for this client.
    #[serde(default = "default_token_rate")]
    pub token_rate_limit: Budget,
    /// `active`, `disabled` or `inactive`.
    #[serde(default = "default_state")]
    pub state: String,
    /// Served as `requiredScopes` by the config service.
    #[serde(default)]
    pub required_scopes: Vec<String>,
    /// Served as `rotationIntervalMs`.
    #[serde(default)]
    pub rotation_interval_ms: u64,
}

fn default_lifetime() -> u64 {
    86_400
}
fn default_rate() -> Budget {
    Budget { limit: 300, window_seconds: 60 }
}
fn default_token_rate() -> Budget {
    Budget { limit: 600, window_seconds: 60 }
}
fn default_state() -> String {
    "active".into()
}
fn default_true() -> bool {
    true
}
fn default_job_delay() -> u64 {
    200
}

/// The whole world.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct World {
    /// Orgs.
    pub orgs: Vec<Org>,
    /// OAuth clients, one per tenant.
    pub clients: Vec<Client>,
    /// Send `inin-ratelimit-*` headers (real Genesys may no longer send them).
    #[serde(default = "default_true")]
    pub rate_limit_headers: bool,
    /// Delay before a details job is FULFILLED.
    #[serde(default = "default_job_delay")]
    pub job_delay_ms: u64,
    /// How a missing scope is answered: `"genesys"` (default: `app.not.authorized.for.scope`, as the
    /// real service does) or `"legacy"` (`missing.scopes` with `WWW-Authenticate`).
    #[serde(default)]
    pub scope_errors: ScopeErrors,
}

/// The shape of a missing-scope 403.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ScopeErrors {
    /// `app.not.authorized.for.scope`, "App not authorized to use scope [a, b]".
    #[default]
    Genesys,
    /// `missing.scopes`, `messageParams.scopes`, `WWW-Authenticate: Bearer error="insufficient_scope"`.
    Legacy,
}

/// Every permission the emulator's routes check.
pub const ALL_PERMISSIONS: &[&str] = &[
    "directory:user:view",
    "routing:queue:view",
    "analytics:conversationDetail:view",
    "analytics:agentConversationDetail:view",
    "analytics:conversationAggregate:view",
    "oauth:client:view",
    "oauth:client:edit",
    "oauth:client:add",
    "oauth:token:delete",
];

impl World {
    /// Parses a world file; gives every client without a secret a random one.
    pub fn from_json(text: &str) -> Result<World, String> {
        let mut w: World = serde_json::from_str(text).map_err(|e| format!("invalid world: {e}"))?;
        w.fill_secrets();
        w.check()?;
        Ok(w)
    }

    fn fill_secrets(&mut self) {
        for c in &mut self.clients {
            if c.secret.is_empty() {
                c.secret = random_token(30);
            }
            if c.name.is_empty() {
                c.name = format!("{} integration", c.tenant_id);
            }
        }
    }

    fn check(&self) -> Result<(), String> {
        for c in &self.clients {
            if !self.orgs.iter().any(|o| o.id == c.org_id) {
                return Err(format!("client {} names unknown org {}", c.client_id, c.org_id));
            }
            if c.rate_limit.limit == 0 || c.rate_limit.window_seconds == 0 {
                return Err(format!("client {}: rateLimit must be positive", c.client_id));
            }
        }
        for o in &self.orgs {
            if let Some(cs) = &o.conversations {
                parse_interval(&cs.interval).ok_or_else(|| format!("org {}: bad conversations interval", o.id))?;
            }
        }
        Ok(())
    }

    /// The built-in demo world: five tenants in five regions.
    ///
    /// | tenant | region | what is special |
    /// |---|---|---|
    /// | acme-corp | mypurecloud.com | every permission; 1,234 users, 30 queues, 437 conversations in 2024-01-01/08 |
    /// | acme | mypurecloud.ie | a prefix of acme-corp on purpose; every permission; 50 users |
    /// | globex | mypurecloud.de | lacks directory:user:view and analytics permissions |
    /// | initech | usw2.pure.cloud | org enforces scopes; client lacks users:readonly |
    /// | umbrella | mypurecloud.jp | 1-hour tokens, 60 requests per minute |
    pub fn demo() -> World {
        let all: Vec<String> = ALL_PERMISSIONS.iter().map(|s| s.to_string()).collect();
        let org = |key: &str, name: &str, region: &str, users: u32, queues: u32| Org {
            id: stable_uuid(&["org", key]),
            name: name.into(),
            region: region.into(),
            scope_enforcement: false,
            users,
            queues,
            conversations: None,
        };
        let mut acme_corp = org("acme-corp", "Acme Corp", "mypurecloud.com", 1234, 30);
        acme_corp.conversations =
            Some(ConversationSpec { count: 437, interval: "2024-01-01T00:00:00.000Z/2024-01-08T00:00:00.000Z".into() });
        let acme = org("acme", "Acme EU", "mypurecloud.ie", 50, 5);
        let globex = org("globex", "Globex", "mypurecloud.de", 40, 8);
        let mut initech = org("initech", "Initech", "usw2.pure.cloud", 20, 4);
        initech.scope_enforcement = true;
        let umbrella = org("umbrella", "Umbrella", "mypurecloud.jp", 10, 3);
        let client = |tenant: &str, org: &Org, permissions: Vec<String>| Client {
            tenant_id: tenant.into(),
            client_id: stable_uuid(&["client", tenant]),
            secret: String::new(),
            org_id: org.id.clone(),
            name: String::new(),
            permissions,
            scopes: vec![],
            token_lifetime_seconds: default_lifetime(),
            rate_limit: default_rate(),
            token_rate_limit: default_token_rate(),
            state: default_state(),
            required_scopes: vec![],
            rotation_interval_ms: 0,
        };
        let globex_perms = vec!["routing:queue:view".to_string(), "oauth:client:view".to_string()];
        let mut initech_client = client("initech", &initech, all.clone());
        initech_client.scopes = vec!["organization:readonly".into(), "routing:readonly".into(), "analytics:readonly".into()];
        let mut umbrella_client = client("umbrella", &umbrella, all.clone());
        umbrella_client.token_lifetime_seconds = 3600;
        umbrella_client.rate_limit = Budget { limit: 60, window_seconds: 60 };
        let mut w = World {
            clients: vec![
                client("acme-corp", &acme_corp, all.clone()),
                client("acme", &acme, all.clone()),
                client("globex", &globex, globex_perms),
                initech_client,
                umbrella_client,
            ],
            orgs: vec![acme_corp, acme, globex, initech, umbrella],
            rate_limit_headers: true,
            job_delay_ms: default_job_delay(),
            scope_errors: ScopeErrors::Genesys,
        };
        w.fill_secrets();
        w
    }
}

/// The generated entities of one org, built once at start-up.
#[derive(Debug, Clone, Default)]
pub struct OrgData {
    /// Users, sorted by name.
    pub users: Vec<Value>,
    /// Queues, sorted by name.
    pub queues: Vec<Value>,
    /// Conversations, sorted by start, with their start in Unix ms.
    pub conversations: Vec<(i64, Value)>,
}

const DIVISION: &str = "Home";

impl OrgData {
    /// Generates an org's entities deterministically from its id.
    pub fn generate(org: &Org) -> OrgData {
        let division =
            json!({"id": stable_uuid(&[&org.id, "division"]), "name": DIVISION, "selfUri": "/api/v2/authorization/divisions/home"});
        let domain = format!("{}.example", org.name.to_ascii_lowercase().replace(' ', "-"));
        let users: Vec<Value> = (1..=org.users)
            .map(|i| {
                let id = stable_uuid(&[&org.id, "user", &i.to_string()]);
                json!({
                    "id": id, "name": format!("User {i:05}"), "email": format!("user{i:05}@{domain}"),
                    "username": format!("user{i:05}@{domain}"), "state": "active", "division": division,
                    "version": 1, "selfUri": format!("/api/v2/users/{id}"),
                })
            })
            .collect();
        let queues: Vec<Value> = (1..=org.queues)
            .map(|i| {
                let id = stable_uuid(&[&org.id, "queue", &i.to_string()]);
                json!({"id": id, "name": format!("Queue {i:03}"), "division": division, "memberCount": 0, "selfUri": format!("/api/v2/routing/queues/{id}")})
            })
            .collect();
        let mut conversations = Vec::new();
        if let Some(spec) = &org.conversations {
            if let Some((start, end)) = parse_interval(&spec.interval) {
                let step = (end - start) / spec.count.max(1) as i64;
                for i in 0..spec.count as i64 {
                    let t = start + i * step;
                    let id = stable_uuid(&[&org.id, "conversation", &i.to_string()]);
                    let queue_id = queues.get((i as usize) % queues.len().max(1)).and_then(|q| q["id"].as_str()).unwrap_or("").to_string();
                    let media = ["voice", "chat", "email"][(i % 3) as usize];
                    let direction = if i % 4 == 0 { "outbound" } else { "inbound" };
                    let user_id = users.get((i as usize) % users.len().max(1)).and_then(|u| u["id"].as_str()).map(str::to_string);
                    let conv = json!({
                        "conversationId": id,
                        "conversationStart": format_iso(t),
                        "conversationEnd": format_iso(t + 300_000),
                        "originatingDirection": direction,
                        "divisionIds": [division["id"]],
                        "participants": [
                            {"participantId": stable_uuid(&[&id, "customer"]), "purpose": "customer",
                             "sessions": [{"mediaType": media, "segments": [{"segmentStart": format_iso(t), "segmentEnd": format_iso(t + 60_000), "segmentType": "interact", "queueId": queue_id}]}]},
                            {"participantId": stable_uuid(&[&id, "agent"]), "purpose": "agent", "userId": user_id,
                             "sessions": [{"mediaType": media, "segments": [{"segmentStart": format_iso(t + 60_000), "segmentEnd": format_iso(t + 300_000), "segmentType": "interact", "queueId": queue_id}]}]},
                        ],
                    });
                    conversations.push((t, conv));
                }
            }
        }
        OrgData { users, queues, conversations }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_world_is_as_documented() {
        let w = World::demo();
        assert_eq!(w.clients.len(), 5);
        let regions: std::collections::HashSet<_> = w.orgs.iter().map(|o| o.region.clone()).collect();
        assert_eq!(regions.len(), 5);
        let globex = w.clients.iter().find(|c| c.tenant_id == "globex").unwrap();
        assert!(!globex.permissions.contains(&"directory:user:view".to_string()));
        assert!(w.orgs.iter().any(|o| o.scope_enforcement));
        let data = OrgData::generate(&w.orgs[0]);
        assert_eq!((data.users.len(), data.conversations.len()), (1234, 437));
        assert!(w.clients.iter().all(|c| c.secret.len() >= 30));
    }

    #[test]
    fn world_json_round_trip_and_errors() {
        let text = serde_json::to_string(&World::demo()).unwrap();
        assert_eq!(World::from_json(&text).unwrap().clients.len(), 5);
        assert!(World::from_json("{}").is_err());
        assert!(World::from_json(r#"{"orgs":[],"clients":[{"tenantId":"t","clientId":"c","orgId":"nope"}]}"#).is_err());
    }
}

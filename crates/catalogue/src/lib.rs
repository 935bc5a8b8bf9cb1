//! Every operation of the Genesys Cloud Platform API that the pinned official SDK
//! (`purecloud-platform-client-v2`) can call, and every other one the published OpenAPI definition
//! lists — its permissions (ANY / ALL / none), the OAuth scopes it accepts (any one of them) and
//! whether it is safe to send again — generated from Genesys's published definitions by
//! `scripts/gen-catalogue.mjs` into `data/operations.json`, which is committed (builds stay offline)
//! and compiled in. The sources are joined by path shape (literal segments and parameter slots),
//! never by parameter names; lookups match a concrete path by shape the same way.
//!
//! The core's pre-flight and retry rules and the emulator's route requirements read this one table.
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod data;
mod operation;
mod suggest;
mod table;
mod trie;

pub use operation::{Operation, Permissions};
pub use suggest::closest_scopes;
pub use table::Catalogue;

use std::sync::OnceLock;

/// The generated data, as committed.
pub const DATA: &str = include_str!("../data/operations.json");

/// The catalogue, parsed on first use (~2 ms) and kept for the process.
///
/// ```
/// let c = genesys_catalogue::catalogue();
/// let op = c.lookup("GET", "/api/v2/users/me").unwrap();
/// assert_eq!(op.scopes, Some(&["user-basic-info"][..]));
/// assert!(c.is_scope("analytics:readonly"));
/// ```
pub fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| data::parse(DATA).unwrap_or_else(|e| panic!("crates/catalogue/data/operations.json is corrupt: {e}")))
}

/// Parses catalogue data (the committed file is [`DATA`]; [`catalogue`] parses it once). For benches
/// and for checking a regenerated file.
pub fn parse(text: &'static str) -> Result<Catalogue, String> {
    data::parse(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_data_parses_and_indexes_every_operation() {
        let c = catalogue();
        assert!(c.operations().len() > 3000, "{}", c.operations().len());
        for op in c.operations() {
            let concrete = op.template.split('/').map(|s| if s.starts_with('{') { "x1" } else { s }).collect::<Vec<_>>().join("/");
            let found = c.lookup(op.method, &concrete).unwrap_or_else(|| panic!("{} {}", op.method, op.template));
            // A concrete path may also match a literal sibling (`/users/{id}` vs `/users/x1` never does).
            assert_eq!((found.method, found.template), (op.method, op.template));
        }
        assert!(c.sdk.starts_with("purecloud-platform-client-v2@"));
    }

    #[test]
    fn the_facts_sheets_operations() {
        let c = catalogue();
        let users_me = c.lookup("get", "/api/v2/users/me").unwrap();
        assert_eq!((users_me.sdk_method, users_me.permissions), ("getUsersMe", Permissions::None));
        let search = c.lookup("POST", "/api/v2/users/search").unwrap();
        assert_eq!(search.permissions, Permissions::Any(&["directory:user:view"]));
        assert!(search.replay_safe);
        assert_eq!(c.lookup("GET", "/api/v2/users/search?q64=abc").unwrap().sdk_method, "getUsersSearch");
        assert_eq!(c.lookup("GET", "/api/v2/users/abc-123").unwrap().template, "/api/v2/users/{userId}");
        let queue = c.lookup("GET", "/api/v2/routing/queues/q1").unwrap();
        assert_eq!(queue.permissions, Permissions::All(&["routing:queue:view"]));
        let jobs = c.lookup("POST", "/api/v2/analytics/conversations/details/jobs").unwrap();
        assert!(jobs.accepts_scope("analytics:readonly") && !jobs.replay_safe, "read-only scope, but not safe to replay");
        assert!(c.lookup("DELETE", "/api/v2/tokens/u1").unwrap().accepts_scope("user-basic-info"));
        assert!(!c.lookup("GET", "/api/v2/tokens/me").unwrap().accepts_scope("users:readonly"));
        let secret = c.lookup("POST", "/api/v2/oauth/clients/c1/secret").unwrap();
        assert_eq!((secret.scopes, secret.replay_safe), (Some(&["oauth"][..]), false));
        assert!(c.lookup("GET", "/api/v2/no-such-thing").is_none());
        assert!(
            c.lookup("PATCH", "/api/v2/organizations/me").is_none()
                || c.lookup("PATCH", "/api/v2/organizations/me").unwrap().method == "PATCH"
        );
        assert!(c.lookup("GET", "/api/v2/users//x").is_none());
    }

    /// A concrete path for `template`: each parameter slot gets a value of its own, never a literal
    /// of the API (so a sibling literal cannot capture it).
    fn concrete(template: &str) -> String {
        let mut n = 0;
        template
            .split('/')
            .map(|s| {
                if s.starts_with('{') {
                    n += 1;
                    format!("v{n}-0b1c")
                } else {
                    s.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    /// Every entry is found from a concrete path of its own shape — 100 % of the catalogue matches
    /// itself, whatever the parameters are named — and no two entries share a method and shape.
    #[test]
    fn every_entry_matches_itself_by_shape() {
        let c = catalogue();
        let mut shapes = std::collections::HashSet::new();
        for op in c.operations() {
            let shape: String = op.template.split('/').map(|s| if s.starts_with('{') { "{}" } else { s }).collect::<Vec<_>>().join("/");
            assert!(shapes.insert((op.method, shape)), "{} {}: a second entry of this shape", op.method, op.template);
            let path = concrete(op.template);
            for sent in [path.clone(), format!("{path}?pageSize=1"), format!("{path}/"), op.template.to_string()] {
                let found = c.lookup(&op.method.to_ascii_lowercase(), &sent).unwrap_or_else(|| panic!("{} {sent}: not found", op.method));
                assert!(std::ptr::eq(found, op), "{} {sent} found {} {}", op.method, found.method, found.template);
            }
        }
        assert_eq!(shapes.len(), c.operations().len());
    }

    /// Two operations a pre-flight sample missed (issue 23): one the SDK dropped but the API still
    /// serves, one whose path the definition writes as a long YAML key.
    #[test]
    fn the_operations_the_sample_missed() {
        let c = catalogue();
        let settings = c.lookup("DELETE", "/api/v2/webchat/settings").expect("in the published definition");
        assert_eq!((settings.scopes, settings.permissions), (Some(&["web-chat"][..]), Permissions::Any(&["webchat:deployment:delete"])));
        let version = c
            .lookup("GET", "/api/v2/socialmedia/topics/t-1/dataingestionrules/facebook/r-1/versions/3")
            .expect("in the SDK and the definition");
        assert_eq!(version.template, "/api/v2/socialmedia/topics/{topicId}/dataingestionrules/facebook/{facebookIngestionRuleId}/versions/{dataIngestionRuleVersion}");
        assert_eq!(version.scopes, Some(&["social-media", "social-media:readonly"][..]));
        // The reader that skipped the long key gave its scopes to the operation before it: a write
        // that seemed to accept a read-only scope.
        let patch = c.lookup("PATCH", "/api/v2/socialmedia/topics/t-1/dataingestionrules/facebook/r-1").unwrap();
        assert_eq!(patch.scopes, Some(&["social-media"][..]));
        for op in c.operations() {
            let list = op.scopes.unwrap_or_default();
            let unique: std::collections::BTreeSet<_> = list.iter().collect();
            assert_eq!(unique.len(), list.len(), "{} {}: {list:?}", op.method, op.template);
        }
    }

    /// What the catalogue does not know, pinned: the SDK's operations newer than the OpenAPI
    /// definition used (scopes unknown: pre-flight lets the API decide), those newer than the SDK
    /// docs too, or documented by a name that is no permission (`content_management_user`):
    /// permissions unknown. Regenerating from newer definitions lowers these; a change either way
    /// is a decision, seen here.
    #[test]
    fn what_the_catalogue_does_not_know() {
        let c = catalogue();
        let count = |f: &dyn Fn(&Operation) -> bool| c.operations().iter().filter(|o| f(o)).count();
        assert_eq!(c.operations().len(), 3356);
        assert_eq!(count(&|o| o.scopes.is_none()), 176, "scopes unknown");
        assert_eq!(count(&|o| o.permissions == Permissions::Unknown), 41, "permissions unknown");
        // 35 of them are in neither source; 6 are documented by a name that is no permission.
        assert_eq!(count(&|o| o.permissions == Permissions::Unknown && o.scopes.is_none()), 35);
        assert_eq!(count(&|o| o.scopes == Some(&[])), 51, "no scope needed");
        // The definition's operations the SDK dropped: all of them known to the definition.
        assert_eq!(count(&|o| !o.in_sdk), 41);
        assert_eq!(count(&|o| !o.in_sdk && (o.scopes.is_none() || o.permissions == Permissions::Unknown)), 0);
        assert!(!c.lookup("DELETE", "/api/v2/webchat/settings").unwrap().in_sdk);
        assert!(c.lookup("GET", "/api/v2/users/me").unwrap().in_sdk);
        // The data's own counts (written by the generator) are the table's.
        let header: serde_json::Value = serde_json::from_str(DATA).unwrap();
        let counts = &header["counts"];
        let pairs = [
            ("operations", c.operations().len()),
            ("inSdk", count(&|o| o.in_sdk)),
            ("definitionOnly", count(&|o| !o.in_sdk)),
            ("scopesUnknown", count(&|o| o.scopes.is_none())),
            ("scopesNone", count(&|o| o.scopes == Some(&[]))),
            ("scopesKnown", count(&|o| o.scopes.is_some_and(|s| !s.is_empty()))),
            ("permissionsUnknown", count(&|o| o.permissions == Permissions::Unknown)),
            ("replaySafe", count(&|o| o.replay_safe)),
        ];
        for (key, n) in pairs {
            assert_eq!(counts[key].as_u64(), Some(n as u64), "{key}");
        }
    }

    #[test]
    fn scope_names_are_genesys_names() {
        let c = catalogue();
        assert!(c.is_scope("users:readonly") && c.is_scope("user-basic-info") && !c.is_scope("user:read"));
        assert!(c.scope_names().all(|s| s.chars().all(|ch| ch.is_ascii_lowercase() || ch == ':' || ch == '-')));
        assert!(c.scope_names().count() > 100);
    }
}

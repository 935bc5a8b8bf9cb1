//! Every operation of the Genesys Cloud Platform API that the pinned official SDK
//! (`purecloud-platform-client-v2`) can call — its permissions (ANY / ALL / none), the OAuth scopes
//! it accepts (any one of them) and whether it is safe to send again — generated from Genesys's
//! published definitions by `scripts/gen-catalogue.mjs` into `data/operations.json`, which is
//! committed (builds stay offline) and compiled in.
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

    #[test]
    fn scope_names_are_genesys_names() {
        let c = catalogue();
        assert!(c.is_scope("users:readonly") && c.is_scope("user-basic-info") && !c.is_scope("user:read"));
        assert!(c.scope_names().all(|s| s.chars().all(|ch| ch.is_ascii_lowercase() || ch == ':' || ch == '-')));
        assert!(c.scope_names().count() > 100);
    }
}

//! The table of every operation, with its path index and the set of scope names.

use crate::operation::Operation;
use crate::trie;
use std::collections::BTreeSet;

/// The whole table, with a path index.
#[derive(Debug)]
pub struct Catalogue {
    /// `purecloud-platform-client-v2@<version>` the table was generated from.
    pub sdk: &'static str,
    operations: Vec<Operation>,
    index: trie::Trie,
    scope_names: BTreeSet<&'static str>,
}

impl Catalogue {
    pub(crate) fn new(sdk: &'static str, operations: Vec<Operation>) -> Catalogue {
        let index = trie::Trie::build(operations.iter().map(|o| (o.method, o.template)));
        let scope_names = operations.iter().filter_map(|o| o.scopes).flatten().copied().collect();
        Catalogue { sdk, operations, index, scope_names }
    }

    /// The operation a request calls: `path` as sent (`/api/v2/users/abc?x=1`; the query is
    /// ignored). Literal segments win over parameters (`/users/search` is not `/users/{userId}`);
    /// `None` for a path or method the API does not have.
    pub fn lookup(&self, method: &str, path: &str) -> Option<&Operation> {
        let path = path.split(['?', '#']).next().unwrap_or("");
        self.index.find(method, path).map(|i| &self.operations[i])
    }

    /// Every operation, sorted by path then method.
    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }

    /// True when `name` is an OAuth scope some operation accepts (`users:readonly`).
    pub fn is_scope(&self, name: &str) -> bool {
        self.scope_names.contains(name)
    }

    /// Every scope name, sorted.
    pub fn scope_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.scope_names.iter().copied()
    }
}

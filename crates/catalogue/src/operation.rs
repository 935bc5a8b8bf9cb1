//! One operation of the Platform API and what it requires.

/// What an operation requires in permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permissions {
    /// The docs say: no permission needed.
    None,
    /// Any one of these.
    Any(&'static [&'static str]),
    /// Every one of these.
    All(&'static [&'static str]),
    /// Not documented for this operation (an operation newer than the docs used).
    Unknown,
}

impl Permissions {
    /// The listed permissions (empty for `None` and `Unknown`).
    pub fn list(&self) -> &'static [&'static str] {
        match self {
            Permissions::Any(p) | Permissions::All(p) => p,
            _ => &[],
        }
    }

    /// `"ANY"`, `"ALL"`, `"NONE"` or `"UNKNOWN"`.
    pub fn mode(&self) -> &'static str {
        match self {
            Permissions::None => "NONE",
            Permissions::Any(_) => "ANY",
            Permissions::All(_) => "ALL",
            Permissions::Unknown => "UNKNOWN",
        }
    }
}

/// One operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// HTTP method, upper case.
    pub method: &'static str,
    /// Path template, `{name}` for a parameter (`/api/v2/users/{userId}`).
    pub template: &'static str,
    /// The SDK method that calls it (`getUser`); for an operation the pinned SDK no longer has
    /// (`in_sdk` false), the name the published definition gives it.
    pub sdk_method: &'static str,
    /// Permissions required.
    pub permissions: Permissions,
    /// OAuth scopes accepted, any one of them: `Some([])` when none is needed, `None` when the
    /// definition does not say.
    pub scopes: Option<&'static [&'static str]>,
    /// Safe to send again after a 5xx or a lost answer (idempotent methods, query and search POSTs).
    pub replay_safe: bool,
    /// True when the pinned SDK can call it; false when only the published definition lists it
    /// (deprecated routes the SDK dropped, such as `/api/v2/webchat/*`: the API still serves them,
    /// and a raw request reaches them).
    pub in_sdk: bool,
}

impl Operation {
    /// True when holding `scope` lets a token call this operation (unknown scopes: true).
    pub fn accepts_scope(&self, scope: &str) -> bool {
        match self.scopes {
            None | Some([]) => true,
            Some(list) => list.contains(&scope),
        }
    }
}

//! Redis key names. All keys of one tenant share the hash tag `{<hex tenant id>}` so the Lua
//! scripts touch a single slot in Redis Cluster.

/// The keys of one tenant and credential fingerprint.
#[derive(Debug, Clone)]
pub struct Keys {
    /// Sealed shared token.
    pub token: String,
    /// Refresh lease (owner value, PX).
    pub lock: String,
    /// Fence counter: bumped by each lease winner; a stale holder cannot overwrite.
    pub fence: String,
    /// The shared rate budget: the current fixed window and the budget replicas learned (a hash).
    pub rate: String,
    /// A 429 pause every replica honours (PX = what is left of it).
    pub pause: String,
    /// The outcome of testing the pending credential `kfp` (sealed), so one replica tests it.
    pub stage: String,
}

impl Keys {
    /// Keys under `prefix` for `tenant_id` and credentials fingerprint `kfp`.
    ///
    /// ```
    /// use genesys_tenants_core::store::Keys;
    /// let k = Keys::new("gt:", "acme", "f00d");
    /// assert_eq!(k.token, "gt:{61636d65}:tok:f00d");
    /// ```
    pub fn new(prefix: &str, tenant_id: &str, kfp: &str) -> Keys {
        let tag = format!("{prefix}{{{}}}", hex::encode(tenant_id.as_bytes()));
        Keys {
            token: format!("{tag}:tok:{kfp}"),
            lock: format!("{tag}:lock:{kfp}"),
            fence: format!("{tag}:fence"),
            rate: format!("{tag}:win"),
            pause: format!("{tag}:pause"),
            stage: format!("{tag}:stage:{kfp}"),
        }
    }

    /// The pub/sub channel for rotation fan-out.
    pub fn channel(prefix: &str) -> String {
        format!("{prefix}events")
    }
}

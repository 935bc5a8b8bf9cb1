//! What tests tune in the Notifications API (`PUT /__control/notifications/settings`), with the real
//! service's values as defaults.

use serde::Serialize;

/// Behaviour that tests tune (`PUT /__control/notifications/settings`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// Heartbeat period of new sockets (real: about 30 s).
    pub heartbeat_ms: u64,
    /// Lifetime of new channels (real: 24 h).
    pub channel_lifetime_ms: u64,
    /// Channels per OAuth client before the oldest is evicted (real: 20).
    pub max_channels_per_client: usize,
    /// Topics per channel (real: 1,000).
    pub max_topics_per_channel: usize,
    /// Events queued per socket before a publisher waits (then drops).
    pub socket_queue: usize,
    /// A fault: answer `connectUri` under this base (e.g. `wss://evil.example`) instead of the emulator's own.
    pub connect_uri_base: Option<String>,
    /// A channel goes when the token that created it is revoked (at once) or expires (within the pruner's
    /// 5 s). Off by default: the real behaviour is unconfirmed (see the README).
    pub channels_die_with_token: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            heartbeat_ms: 30_000,
            channel_lifetime_ms: 86_400_000,
            max_channels_per_client: 20,
            max_topics_per_channel: 1_000,
            socket_queue: 1_024,
            connect_uri_base: None,
            channels_die_with_token: false,
        }
    }
}

//! The Notifications API's counts (`GET /__control/notifications`) and resets.

use super::{remove, Hub, Inner, Removal};
use crate::sync::lock;
use serde::Serialize;
use serde_json::{json, Value};

/// Counts of one OAuth client.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientCounts {
    /// `POST /channels` answered with a channel.
    pub channels_created: u64,
    /// Channels removed because a newer one went over the limit.
    pub evictions: u64,
    /// Channels that reached `expires` (or were expired by a control call).
    pub expired: u64,
    /// Subscription calls (GET, PUT, POST, DELETE), any outcome.
    pub subscription_calls: u64,
    /// Subscription calls refused for the topic limit.
    pub topic_limit_refusals: u64,
    /// Channels closed because their token was revoked or expired (`channelsDieWithToken`).
    pub token_deaths: u64,
}

impl Hub {
    /// Counts back to zero; with `world`, also every channel closed and forgotten and the settings back
    /// to their defaults (as `POST /__control/reset` does with tokens).
    pub fn reset(&self, world: bool) {
        let mut g = lock(&self.inner);
        g.counts.clear();
        g.undelivered = 0;
        for ch in g.channels.values_mut() {
            (ch.delivered, ch.dropped, ch.connections) = (0, 0, 0);
        }
        if world {
            let ids: Vec<String> = g.channels.keys().cloned().collect();
            for id in ids {
                remove(&mut g, &id, Removal::Reset);
            }
            let next_conn = g.next_conn;
            *g = Inner { next_conn, ..Inner::default() };
        }
        drop(g);
        self.publishes.clear();
    }

    /// Counters and channels, as `GET /__control/notifications` answers.
    pub fn counters_json(&self) -> Value {
        let g = lock(&self.inner);
        let mut channels: Vec<Value> = g
            .channels
            .iter()
            .map(|(id, c)| {
                json!({
                    "id": id, "clientId": c.client_id, "orgId": c.org_id, "topics": c.topics.len(),
                    "connected": c.socket.is_some(), "silenced": c.silenced, "delivered": c.delivered,
                    "dropped": c.dropped, "connections": c.connections, "expires": c.expires_iso,
                })
            })
            .collect();
        channels.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
        json!({
            "clients": g.counts,
            "channels": channels,
            "liveChannels": g.channels.len(),
            "liveSockets": g.channels.values().filter(|c| c.socket.is_some()).count(),
            "eventsDelivered": g.channels.values().map(|c| c.delivered).sum::<u64>(),
            "undelivered": g.undelivered,
            "settings": g.settings,
        })
    }
}

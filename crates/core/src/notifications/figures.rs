//! A tenant's real-time-event figures as `stats()`, `metrics()`, the Prometheus text and the
//! OpenTelemetry instruments report them: [`NotificationStats`], and [`FIGURES`], the one list of
//! their names, kinds, units and meanings that the Prometheus text and `lib/otel.js` both read.

use serde::Serialize;

/// One tenant's figures in this process (in shared mode, channels and sockets are the holder's:
/// 0 on the other replicas; events are those delivered to this process's subscriptions).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationStats {
    /// Channels held now.
    pub channels: u64,
    /// WebSockets connected now (a draining one after a move included).
    pub sockets: u64,
    /// Channels created (`POST …/channels`), moves and rebuilds included.
    pub channels_created: u64,
    /// WebSocket connections made.
    pub connections: u64,
    /// Events delivered to this process's subscriptions (each event once, however many subscribers).
    pub delivered: u64,
    /// Events a full subscription queue dropped (a slow consumer).
    pub dropped: u64,
    /// Events seen a second time (a move's overlap, two holders for a moment) and not delivered again.
    pub duplicates: u64,
    /// Moves completed (socket_closing, expiry, rotation).
    pub moves: u64,
    /// Channels renewed in place ahead of their expiry (subscriptions set again, same channel).
    pub renewals: u64,
    /// Sockets lost (closed unasked, or silent past `heartbeatTimeoutMs`).
    pub lost: u64,
    /// Lost sockets replaced (reconnected to their channel, or a new channel).
    pub rebuilds: u64,
    /// 1 when this process holds the tenant's channels (in process: always, once subscribed; in
    /// shared mode: on the one replica holding them for the fleet, 0 on the others).
    pub holder: u64,
}

/// How a figure is exposed.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Figure {
    /// Its key in [`NotificationStats`]'s JSON (`stats().tenants[id].notifications[key]`).
    pub key: &'static str,
    /// Its name after `genesys_tenants_` (Prometheus, `_total` added to a counter) or
    /// `genesys_tenants.` (OpenTelemetry, `_` read as `.`).
    pub name: &'static str,
    /// `counter` or `gauge`.
    pub kind: &'static str,
    /// The OpenTelemetry unit.
    pub unit: &'static str,
    /// What it counts.
    pub help: &'static str,
    /// Its value.
    #[serde(skip)]
    pub value: fn(&NotificationStats) -> u64,
}

/// Every figure, in the order the Prometheus text lists them.
pub const FIGURES: &[Figure] = &[
    Figure {
        key: "channels",
        name: "notification_channels",
        kind: "gauge",
        unit: "{channel}",
        help: "Notification channels this process holds for the tenant.",
        value: |s| s.channels,
    },
    Figure {
        key: "sockets",
        name: "notification_sockets",
        kind: "gauge",
        unit: "{socket}",
        help: "Notification WebSockets connected.",
        value: |s| s.sockets,
    },
    Figure {
        key: "channelsCreated",
        name: "notification_channels_created",
        kind: "counter",
        unit: "{channel}",
        help: "Notification channels created, moves and rebuilds included.",
        value: |s| s.channels_created,
    },
    Figure {
        key: "connections",
        name: "notification_connections",
        kind: "counter",
        unit: "{connection}",
        help: "Notification WebSocket connections made.",
        value: |s| s.connections,
    },
    Figure {
        key: "delivered",
        name: "notification_events_delivered",
        kind: "counter",
        unit: "{event}",
        help: "Events delivered to this process's subscriptions, each once.",
        value: |s| s.delivered,
    },
    Figure {
        key: "dropped",
        name: "notification_events_dropped",
        kind: "counter",
        unit: "{event}",
        help: "Events dropped by a full subscription queue (a slow consumer).",
        value: |s| s.dropped,
    },
    Figure {
        key: "duplicates",
        name: "notification_events_duplicate",
        kind: "counter",
        unit: "{event}",
        help: "Events seen again (a move's overlap) and not delivered again.",
        value: |s| s.duplicates,
    },
    Figure {
        key: "moves",
        name: "notification_channel_moves",
        kind: "counter",
        unit: "{move}",
        help: "Channels moved to a new channel (socket_closing, expiry, rotation).",
        value: |s| s.moves,
    },
    Figure {
        key: "renewals",
        name: "notification_channel_renewals",
        kind: "counter",
        unit: "{renewal}",
        help: "Channels renewed in place ahead of their expiry.",
        value: |s| s.renewals,
    },
    Figure {
        key: "lost",
        name: "notification_sockets_lost",
        kind: "counter",
        unit: "{socket}",
        help: "Notification sockets lost (closed unasked or silent).",
        value: |s| s.lost,
    },
    Figure {
        key: "rebuilds",
        name: "notification_socket_rebuilds",
        kind: "counter",
        unit: "{rebuild}",
        help: "Lost notification sockets replaced (reconnected, or a new channel).",
        value: |s| s.rebuilds,
    },
    Figure {
        key: "holder",
        name: "notification_holder",
        kind: "gauge",
        unit: "1",
        help: "1 when this process holds the tenant's notification channels (in shared mode, one replica).",
        value: |s| s.holder,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_has_one_figure_under_its_json_key() {
        let s = NotificationStats {
            channels: 1,
            sockets: 2,
            channels_created: 3,
            connections: 4,
            delivered: 5,
            dropped: 6,
            duplicates: 7,
            moves: 8,
            renewals: 9,
            lost: 10,
            rebuilds: 11,
            holder: 12,
        };
        let json = serde_json::to_value(s).unwrap();
        let fields = json.as_object().unwrap();
        assert_eq!(fields.len(), FIGURES.len());
        for f in FIGURES {
            assert_eq!(fields[f.key].as_u64(), Some((f.value)(&s)), "{}", f.key);
            assert!(matches!(f.kind, "counter" | "gauge"));
        }
    }
}

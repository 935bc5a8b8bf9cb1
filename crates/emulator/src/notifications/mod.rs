//! The Notifications API: channels per OAuth client (at most [`Settings::max_channels_per_client`],
//! the least recently used evicted by one more), their topics (at most [`Settings::max_topics_per_channel`]), the
//! topic → channels index events fan out through, each channel's live socket, and counters.
//!
//! One mutex over everything, held briefly and never across an await. A socket is reached through
//! two queues: a bounded one for events (a slow reader costs the publisher a bounded wait, then a
//! drop, never unbounded memory) and a small unbounded one for the rare control messages
//! (closing warning, close, kill, silence: at most a handful per channel).

pub mod control;
mod counters;
mod publish;
mod settings;
pub mod socket;

pub use counters::ClientCounts;
pub use settings::Settings;

use crate::error_body::ApiError;
use crate::sync::lock;
use crate::time::{format_iso, now_ms};
use axum::extract::ws::Utf8Bytes;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// What a socket is told besides events.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Ctl {
    /// Send `v2.system.socket_closing`, then close after the grace period.
    Closing(Duration),
    /// Send a close frame and end (expiry, eviction, reset).
    Close(&'static str),
    /// End without a close frame (the TCP connection just goes).
    Kill,
    /// Stop heartbeats, events and pongs; keep the connection open.
    Silence,
    /// The channel's `expires` moved (a subscription call renewed it).
    Extend(Instant),
}

struct Socket {
    conn: u64,
    events: mpsc::Sender<Utf8Bytes>,
    ctl: mpsc::UnboundedSender<Ctl>,
}

impl Socket {
    fn tell(&self, c: Ctl) {
        // The socket task may have ended already: nothing to tell then.
        let _ = self.ctl.send(c);
    }
}

struct Channel {
    client_id: String,
    org_id: String,
    /// SHA-256 of the creating token (`includechannels=token` lists only those).
    token_hash: String,
    expires_at: Instant,
    expires_iso: String,
    /// Its lifetime: a PUT or POST of its subscriptions renews `expires` by this much from then.
    lifetime: Duration,
    /// Creation, the last subscription call or the last socket connection: the eviction order.
    last_used: Instant,
    connect_uri: String,
    topics: BTreeSet<String>,
    socket: Option<Socket>,
    silenced: bool,
    delivered: u64,
    dropped: u64,
    connections: u64,
}

impl Channel {
    fn json(&self, id: &str) -> Value {
        json!({"id": id, "connectUri": self.connect_uri, "expires": self.expires_iso})
    }

    /// Renews `expires` to `lifetime` from now (the docs: "to maintain a channel for longer than 24 hours,
    /// resubscribe to topics").
    fn renew(&mut self) {
        let now = Instant::now();
        self.expires_at = now + self.lifetime;
        self.expires_iso = format_iso(now_ms().saturating_add(self.lifetime.as_millis().min(i64::MAX as u128) as i64));
        if let Some(s) = &self.socket {
            s.tell(Ctl::Extend(self.expires_at));
        }
    }
}

#[derive(Default)]
struct Inner {
    channels: HashMap<String, Channel>,
    /// Per client, channel ids oldest first.
    order: HashMap<String, VecDeque<String>>,
    by_topic: HashMap<String, HashSet<String>>,
    counts: BTreeMap<String, ClientCounts>,
    settings: Settings,
    next_conn: u64,
    /// Events that found a subscribed channel without a (listening) socket.
    undelivered: u64,
}

/// Why a channel goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Removal {
    Evicted,
    Expired,
    TokenGone,
    Reset,
}

/// The Notifications API's state (one per emulator).
///
/// ```
/// use genesys_emulator::notifications::{Hub, TopicChange};
/// let hub = Hub::default();
/// let ch = hub.create("client-1", "org-1", "token-1");
/// let id = ch["id"].as_str().unwrap();
/// assert!(id.starts_with("streaming-0-"));
/// let topics = hub.subscriptions("client-1", id, Some(TopicChange::Replace(vec!["v2.users.u1.presence".into()]))).unwrap();
/// assert_eq!(topics, ["v2.users.u1.presence"]);
/// // Another client does not see it.
/// assert!(hub.subscriptions("client-2", id, None).is_err());
/// ```
#[derive(Default)]
pub struct Hub {
    inner: Mutex<Inner>,
    /// `ws://127.0.0.1:PORT`, known once the main listener is bound.
    base: OnceLock<String>,
    publishes: publish::Registry,
}

/// Where a socket's task gets its work.
pub(crate) struct Attached {
    pub(crate) conn: u64,
    pub(crate) events: mpsc::Receiver<Utf8Bytes>,
    pub(crate) ctl: mpsc::UnboundedReceiver<Ctl>,
    pub(crate) expires_at: Instant,
    pub(crate) heartbeat: Duration,
}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Hub {
    /// Records the main listener's address (`connectUri` points there).
    pub fn set_base(&self, ws_base: String) {
        let _ = self.base.set(ws_base);
    }

    /// The current settings.
    pub fn settings(&self) -> Settings {
        lock(&self.inner).settings.clone()
    }

    /// `POST /api/v2/notifications/channels`: a new channel. One over the limit evicts one of the client's: as
    /// the API reference says, "the channel with oldest last used date", "channels without an active
    /// connection … first".
    pub fn create(&self, client_id: &str, org_id: &str, token: &str) -> Value {
        let mut g = lock(&self.inner);
        let inner = &mut *g;
        prune(inner, Instant::now());
        let max = inner.settings.max_channels_per_client.max(1);
        while inner.order.get(client_id).is_some_and(|o| o.len() >= max) {
            let victim = inner.order.get(client_id).and_then(|o| {
                o.iter().filter_map(|id| inner.channels.get(id).map(|c| (id, c))).min_by_key(|(_, c)| (c.socket.is_some(), c.last_used))
            });
            match victim.map(|(id, _)| id.clone()) {
                Some(id) => remove(inner, &id, Removal::Evicted),
                None => break,
            }
        }
        let id = format!("streaming-0-{}", hex::encode(rand::random::<[u8; 16]>()));
        let base = inner.settings.connect_uri_base.clone().or_else(|| self.base.get().cloned()).unwrap_or_default();
        let lifetime = inner.settings.channel_lifetime_ms;
        let now = Instant::now();
        let ch = Channel {
            client_id: client_id.to_string(),
            org_id: org_id.to_string(),
            token_hash: hash(token),
            expires_at: now + Duration::from_millis(lifetime),
            expires_iso: format_iso(now_ms().saturating_add(lifetime.min(i64::MAX as u64) as i64)),
            lifetime: Duration::from_millis(lifetime),
            last_used: now,
            connect_uri: format!("{}/channels/{id}", base.trim_end_matches('/')),
            topics: BTreeSet::new(),
            socket: None,
            silenced: false,
            delivered: 0,
            dropped: 0,
            connections: 0,
        };
        let answer = ch.json(&id);
        inner.order.entry(client_id.to_string()).or_default().push_back(id.clone());
        inner.channels.insert(id, ch);
        inner.counts.entry(client_id.to_string()).or_default().channels_created += 1;
        answer
    }

    /// `GET /api/v2/notifications/channels`: this token's channels, or (`all`) the client's — those of other
    /// tokens without their id ("Channel Ids for other access tokens will not be shown, but will be presented
    /// to show their existence", the API reference), so without `connectUri` either.
    pub fn list(&self, client_id: &str, token: &str, all: bool) -> Vec<Value> {
        let mut g = lock(&self.inner);
        prune(&mut g, Instant::now());
        let h = hash(token);
        let ids = g.order.get(client_id).cloned().unwrap_or_default();
        ids.iter()
            .filter_map(|id| g.channels.get(id).map(|c| (id, c)))
            .filter(|(_, c)| all || c.token_hash == h)
            .map(|(id, c)| if c.token_hash == h { c.json(id) } else { json!({"expires": c.expires_iso}) })
            .collect()
    }

    /// `HEAD /channels/{id}`: the channel exists (not expired) and is the client's ("Returns a 200 OK if
    /// channel exists, and a 404 Not Found if it doesnt").
    pub fn exists_for(&self, client_id: &str, id: &str) -> bool {
        let g = lock(&self.inner);
        g.channels.get(id).is_some_and(|c| c.client_id == client_id && c.expires_at > Instant::now())
    }

    /// Counts a call on the subscriptions route (any outcome).
    pub fn count_subscription_call(&self, client_id: &str) {
        lock(&self.inner).counts.entry(client_id.to_string()).or_default().subscription_calls += 1;
    }

    /// The topics of the client's channel `id` after `change` (`None`: read only).
    pub fn subscriptions(&self, client_id: &str, id: &str, change: Option<TopicChange>) -> Result<Vec<String>, ApiError> {
        let mut g = lock(&self.inner);
        let inner = &mut *g;
        let now = Instant::now();
        let live = inner.channels.get(id).is_some_and(|c| c.client_id == client_id && c.expires_at > now);
        if !live {
            if inner.channels.get(id).is_some_and(|c| c.expires_at <= now) {
                remove(inner, id, Removal::Expired);
            }
            return Err(ApiError::not_found());
        }
        let max = inner.settings.max_topics_per_channel;
        let Some(ch) = inner.channels.get_mut(id) else { return Err(ApiError::not_found()) };
        ch.last_used = now;
        let Some(change) = change else { return Ok(ch.topics.iter().cloned().collect()) };
        let renews = !matches!(change, TopicChange::Clear);
        let next: BTreeSet<String> = match change {
            TopicChange::Replace(t) => t.into_iter().collect(),
            TopicChange::Add(t) => ch.topics.iter().cloned().chain(t).collect(),
            TopicChange::Clear => BTreeSet::new(),
        };
        if next.len() > max {
            inner.counts.entry(client_id.to_string()).or_default().topic_limit_refusals += 1;
            return Err(topic_limit(max, next.len()));
        }
        for gone in ch.topics.difference(&next) {
            if let Some(set) = inner.by_topic.get_mut(gone) {
                set.remove(id);
                if set.is_empty() {
                    inner.by_topic.remove(gone);
                }
            }
        }
        for added in next.difference(&ch.topics) {
            inner.by_topic.entry(added.clone()).or_default().insert(id.to_string());
        }
        ch.topics = next;
        if renews {
            ch.renew();
        }
        Ok(ch.topics.iter().cloned().collect())
    }

    /// A socket connects to channel `id`: `None` when there is no such live channel. A second socket
    /// on a channel replaces the first (closed).
    pub(crate) fn attach(&self, id: &str) -> Option<Attached> {
        let mut g = lock(&self.inner);
        let inner = &mut *g;
        let queue = inner.settings.socket_queue.max(1);
        let heartbeat = Duration::from_millis(inner.settings.heartbeat_ms.max(1));
        inner.next_conn += 1;
        let conn = inner.next_conn;
        let ch = inner.channels.get_mut(id).filter(|c| c.expires_at > Instant::now())?;
        let (etx, erx) = mpsc::channel(queue);
        let (ctx, crx) = mpsc::unbounded_channel();
        if let Some(old) = ch.socket.replace(Socket { conn, events: etx, ctl: ctx }) {
            old.tell(Ctl::Close("replaced by a new connection"));
        }
        ch.silenced = false;
        ch.connections += 1;
        ch.last_used = Instant::now();
        Some(Attached { conn, events: erx, ctl: crx, expires_at: ch.expires_at, heartbeat })
    }

    /// Whether channel `id` exists and has not expired (the WebSocket handshake's check).
    pub(crate) fn exists(&self, id: &str) -> bool {
        lock(&self.inner).channels.get(id).is_some_and(|c| c.expires_at > Instant::now())
    }

    /// The socket `conn` of channel `id` has ended.
    pub(crate) fn detach(&self, id: &str, conn: u64) {
        let mut g = lock(&self.inner);
        if let Some(ch) = g.channels.get_mut(id) {
            if ch.socket.as_ref().is_some_and(|s| s.conn == conn) {
                ch.socket = None;
            }
        }
    }

    /// The socket of channel `id` reached the channel's `expires`.
    pub(crate) fn expire_due(&self, id: &str) {
        let mut g = lock(&self.inner);
        if g.channels.get(id).is_some_and(|c| c.expires_at <= Instant::now()) {
            remove(&mut g, id, Removal::Expired);
        }
    }

    /// Counts events a socket is writing.
    pub(crate) fn count_delivered(&self, id: &str, n: u64) {
        if let Some(ch) = lock(&self.inner).channels.get_mut(id) {
            ch.delivered += n;
        }
    }

    /// Takes back events a socket failed to write.
    pub(crate) fn uncount_delivered(&self, id: &str, n: u64) {
        if n == 0 {
            return;
        }
        if let Some(ch) = lock(&self.inner).channels.get_mut(id) {
            ch.delivered = ch.delivered.saturating_sub(n);
            ch.dropped += n;
        }
    }

    /// These tokens were revoked or expired: with `channelsDieWithToken`, the channels they created go.
    pub fn tokens_gone<'a>(&self, tokens: impl IntoIterator<Item = &'a str>) {
        let mut g = lock(&self.inner);
        if !g.settings.channels_die_with_token {
            return;
        }
        let gone: HashSet<String> = tokens.into_iter().map(hash).collect();
        let ids: Vec<String> = g.channels.iter().filter(|(_, c)| gone.contains(&c.token_hash)).map(|(id, _)| id.clone()).collect();
        for id in ids {
            remove(&mut g, &id, Removal::TokenGone);
        }
    }

    /// Drops expired channels (the emulator's pruner calls this now and then).
    pub fn prune(&self) {
        prune(&mut lock(&self.inner), Instant::now());
    }
}

/// How a subscription call changes a channel's topics.
pub enum TopicChange {
    /// PUT: these topics, no others.
    Replace(Vec<String>),
    /// POST: these as well.
    Add(Vec<String>),
    /// DELETE: none.
    Clear,
}

/// Over the topic limit. The code is the one this emulator chose (see the README's evidence section).
fn topic_limit(max: usize, asked: usize) -> ApiError {
    let mut e = ApiError::bad_request(
        "notification.subscription.limit",
        &format!("A channel can be subscribed to at most {max} topics; this request would make it {asked}."),
    );
    e.message_params.insert("max".into(), json!(max));
    e
}

fn prune(inner: &mut Inner, now: Instant) {
    let due: Vec<String> = inner.channels.iter().filter(|(_, c)| c.expires_at <= now).map(|(id, _)| id.clone()).collect();
    for id in due {
        remove(inner, &id, Removal::Expired);
    }
}

fn remove(inner: &mut Inner, id: &str, why: Removal) {
    let Some(ch) = inner.channels.remove(id) else { return };
    if let Some(o) = inner.order.get_mut(&ch.client_id) {
        o.retain(|x| x != id);
        if o.is_empty() {
            inner.order.remove(&ch.client_id);
        }
    }
    for t in &ch.topics {
        if let Some(set) = inner.by_topic.get_mut(t) {
            set.remove(id);
            if set.is_empty() {
                inner.by_topic.remove(t);
            }
        }
    }
    let counts = inner.counts.entry(ch.client_id.clone()).or_default();
    let reason = match why {
        Removal::Evicted => {
            counts.evictions += 1;
            "channel evicted: too many channels for this client"
        }
        Removal::Expired => {
            counts.expired += 1;
            "channel expired"
        }
        Removal::TokenGone => {
            counts.token_deaths += 1;
            "the channel's token expired or was revoked"
        }
        Removal::Reset => "emulator reset",
    };
    if let Some(s) = &ch.socket {
        s.tell(Ctl::Close(reason));
    }
}

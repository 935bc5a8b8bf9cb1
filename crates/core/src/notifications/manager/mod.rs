//! One tenant's channel manager: a task that owns the tenant's channels and answers, one at a
//! time, subscribers' commands (add and remove topics, leave), its sockets' notes
//! (`socket_closing`, lost) and its timers (a renewal in place, or a move, ahead of expiry; a
//! rebuild after a failure), and rotations announced on the event bus. Events never pass through it: the sockets hand them to
//! the [`Router`], so they keep flowing while a REST call here waits.
//!
//! A move is make-before-break: a new channel is created, its socket connected, its topics
//! subscribed, and only then is the old socket closed — once it has drained: what the server queued
//! on it before the new channel's subscription is delivered first. It is drained when an event
//! arrives twice (the old socket has reached what both carry), when it has delivered nothing for
//! [`QUIET`] twice over, or after [`MAX_DRAIN`]. The router's dedupe memory drops what both delivered. A lost socket is reconnected to its channel (its subscriptions set again), else the
//! channel is rebuilt, with a doubling pause between failed attempts (at most [`MAX_BACKOFF`]).

mod moves;

use super::packing::{plan, TOPICS_PER_CHANNEL};
use super::queue::Queue;
use super::rest::{create_channel, set_subscriptions};
use super::router::Router;
use super::socket::{connect, Note, Socket};
use super::ChannelStats;
use crate::error::{Error, Result};
use crate::events::EventKind;
use crate::options::NotificationOptions;
use crate::pipeline::Pipeline;
use serde_json::json;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use url::Url;

/// Longest pause between two failed rebuilds of a channel.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Longest margin before a channel's (or its token's) expiry at which it is moved.
pub(crate) const MAX_MOVE_MARGIN: Duration = Duration::from_secs(600);

/// How often a draining socket is looked at; two looks without an event: drained.
pub(crate) const QUIET: Duration = Duration::from_millis(100);
/// The longest an old socket is kept after a move.
pub(crate) const MAX_DRAIN: Duration = Duration::from_secs(10);

/// An old socket after a move, kept until it has delivered what only it carried.
struct Drain {
    socket: Socket,
    duplicates: u64,
    events: u64,
    quiet_looks: u32,
    until: Instant,
}

/// What a subscription asks of its tenant's manager.
pub(crate) enum Command {
    Add { sub: u64, queue: Arc<Queue>, topics: Vec<String>, reply: oneshot::Sender<Result<()>> },
    Remove { sub: u64, topics: Vec<String>, reply: oneshot::Sender<Result<()>> },
    Leave { sub: u64, reply: Option<oneshot::Sender<()>> },
}

struct Channel {
    id: String,
    uri: Url,
    topics: BTreeSet<String>,
    socket: Option<Socket>,
    /// When to renew it (`renew`) or move it ahead of its expiry (or its token's).
    move_at: Option<Instant>,
    /// `move_at` is for a renewal in place (its own expiry comes first), not a move (its token's).
    renew: bool,
    /// When the server expires it, as last known.
    expires: Option<std::time::SystemTime>,
    /// Its lifetime as created (`expires` less the creation time): what a renewal is assumed to give
    /// when the server's listing does not show it (another token's channel).
    lifetime: Option<Duration>,
    /// When to try again after a failed move or rebuild.
    retry_at: Option<Instant>,
    failures: u32,
}

pub(crate) struct Manager {
    pub(crate) tenant: String,
    pub(crate) pipeline: Arc<Pipeline>,
    pub(crate) router: Arc<Router>,
    pub(crate) settings: NotificationOptions,
    pub(crate) tls: Arc<rustls::ClientConfig>,
    pub(crate) stats: Arc<ChannelStats>,
    channels: Vec<Channel>,
    /// Each subscriber's topics; a topic is wanted while one subscriber has it.
    subs: HashMap<u64, HashSet<String>>,
    wanted: HashMap<String, usize>,
    notes_tx: mpsc::UnboundedSender<Note>,
    notes_rx: mpsc::UnboundedReceiver<Note>,
    next_key: u64,
    draining: Vec<Drain>,
}

impl Manager {
    pub(crate) fn new(
        tenant: String,
        pipeline: Arc<Pipeline>,
        router: Arc<Router>,
        tls: Arc<rustls::ClientConfig>,
        stats: Arc<ChannelStats>,
    ) -> Manager {
        let (notes_tx, notes_rx) = mpsc::unbounded_channel();
        let settings = pipeline.options().notifications;
        Manager {
            tenant,
            pipeline,
            router,
            settings,
            tls,
            stats,
            channels: Vec::new(),
            subs: HashMap::new(),
            wanted: HashMap::new(),
            notes_tx,
            notes_rx,
            next_key: 0,
            draining: Vec::new(),
        }
    }

    /// Runs until `stop` or until every subscription handle is gone; then closes every socket and
    /// ends every subscriber's queue.
    pub(crate) async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>, stop: CancellationToken) {
        let mut bus = self.pipeline.events.subscribe();
        loop {
            let due = self.channels.iter().filter_map(|c| c.retry_at.or(c.move_at)).min();
            tokio::select! {
                biased;
                _ = stop.cancelled() => break,
                cmd = commands.recv() => match cmd {
                    Some(c) => self.command(c).await,
                    None => break,
                },
                Some(note) = self.notes_rx.recv() => self.note(note).await,
                ev = bus.recv() => match ev {
                    Ok(ev) if ev.tenant_id.as_deref() == Some(self.tenant.as_str())
                        && (ev.kind == EventKind::CredentialsRotated.as_str() || ev.kind == EventKind::CredentialsPromoted.as_str()) =>
                    {
                        // The old client's token may be revoked next: every channel moves to one made with the new token.
                        for i in 0..self.channels.len() {
                            self.move_channel(i, "rotation").await;
                        }
                    }
                    // A tenant that left the config: its channels close and its subscriptions end.
                    Ok(ev) if super::removed_from_config(&ev, &self.tenant) => break,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                    _ => {}
                },
                _ = tokio::time::sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => self.due().await,
                _ = tokio::time::sleep(QUIET), if !self.draining.is_empty() => self.drain().await,
            }
        }
        self.shutdown().await;
    }

    async fn shutdown(&mut self) {
        for d in std::mem::take(&mut self.draining) {
            self.stats.sockets.fetch_sub(1, Ordering::Relaxed);
            d.socket.close().await;
        }
        let channels = std::mem::take(&mut self.channels);
        for c in channels {
            if let Some(s) = c.socket {
                self.stats.sockets.fetch_sub(1, Ordering::Relaxed);
                s.close().await;
            }
            self.event(EventKind::NotificationsChannelClosed, json!({"channelId": c.id, "reason": "close"}));
        }
        self.stats.channels.store(0, Ordering::Relaxed);
        self.router.close_all();
    }

    fn event(&self, kind: EventKind, data: serde_json::Value) {
        self.pipeline.events.emit(kind, Some(&self.tenant), data);
    }

    fn count_channels(&self) {
        self.stats.channels.store(self.channels.len(), Ordering::Relaxed);
    }

    async fn command(&mut self, c: Command) {
        match c {
            Command::Add { sub, queue, topics, reply } => {
                let r = self.add(sub, &queue, topics).await;
                let _ = reply.send(r);
            }
            Command::Remove { sub, topics, reply } => {
                self.router.remove(sub, &topics);
                let r = self.release(sub, &topics).await;
                let _ = reply.send(r);
            }
            Command::Leave { sub, reply } => {
                let topics = self.router.drop_subscriber(sub);
                let _ = self.release(sub, &topics).await;
                self.subs.remove(&sub);
                if let Some(r) = reply {
                    let _ = r.send(());
                }
            }
        }
    }

    /// Adds topics to a subscriber: new ones go to channels with room, then to new channels, within
    /// the budget (all or nothing). Resolves once the server has them.
    async fn add(&mut self, sub: u64, queue: &Arc<Queue>, topics: Vec<String>) -> Result<()> {
        let mut seen = HashSet::new();
        let topics: Vec<String> = topics.into_iter().filter(|t| seen.insert(t.clone())).collect();
        let mine = self.subs.entry(sub).or_default();
        let added: Vec<String> = topics.iter().filter(|t| !mine.contains(*t)).cloned().collect();
        let new: Vec<String> = added.iter().filter(|t| !self.wanted.contains_key(*t)).cloned().collect();
        let loads: Vec<usize> = self.channels.iter().map(|c| c.topics.len()).collect();
        let budget = self.settings.channel_budget as usize;
        let placed = plan(&loads, &new, budget).map_err(|needed| {
            Error::invalid_option(
                "topics",
                format!(
                    "{} topics would need {needed} channels; this tenant's budget (notifications.channelBudget) is {budget} channels of {TOPICS_PER_CHANNEL} topics",
                    self.wanted.len() + new.len()
                ),
            )
        })?;
        // The router first: an event that arrives as soon as the server has the topic is delivered.
        self.router.add(sub, queue, &added);
        let mine = self.subs.entry(sub).or_default();
        for t in &added {
            mine.insert(t.clone());
            *self.wanted.entry(t.clone()).or_insert(0) += 1;
        }
        let result = self.place(placed).await;
        if result.is_err() {
            self.router.remove(sub, &added);
            let _ = self.release(sub, &added).await;
        }
        result
    }

    async fn place(&mut self, placed: super::packing::Plan) -> Result<()> {
        for (i, topics) in placed.fill {
            let c = &mut self.channels[i];
            c.topics.extend(topics);
            let all: Vec<String> = c.topics.iter().cloned().collect();
            set_subscriptions(&self.pipeline, &self.tenant, &c.id, &all).await?;
        }
        for topics in placed.open {
            let c = self.open(topics, "subscribe").await?;
            self.channels.push(c);
            self.count_channels();
        }
        Ok(())
    }

    /// Takes topics from a subscriber; topics no one wants any more leave their channels (an empty
    /// channel is closed).
    async fn release(&mut self, sub: u64, topics: &[String]) -> Result<()> {
        let Some(mine) = self.subs.get_mut(&sub) else { return Ok(()) };
        let mut gone = HashSet::new();
        for t in topics {
            if mine.remove(t) {
                if let Some(n) = self.wanted.get_mut(t) {
                    *n -= 1;
                    if *n == 0 {
                        self.wanted.remove(t);
                        gone.insert(t.clone());
                    }
                }
            }
        }
        if gone.is_empty() {
            return Ok(());
        }
        let mut result = Ok(());
        let mut i = 0;
        while i < self.channels.len() {
            let c = &mut self.channels[i];
            let before = c.topics.len();
            c.topics.retain(|t| !gone.contains(t));
            if c.topics.is_empty() {
                let c = self.channels.remove(i);
                self.count_channels();
                // Nothing subscribed stays on the server: the channel is inert until it expires.
                let _ = set_subscriptions(&self.pipeline, &self.tenant, &c.id, &[]).await;
                if let Some(s) = c.socket {
                    self.stats.sockets.fetch_sub(1, Ordering::Relaxed);
                    s.close().await;
                }
                self.event(EventKind::NotificationsChannelClosed, json!({"channelId": c.id, "reason": "unused"}));
                continue;
            }
            if c.topics.len() != before {
                let all: Vec<String> = c.topics.iter().cloned().collect();
                let id = c.id.clone();
                if let Err(e) = set_subscriptions(&self.pipeline, &self.tenant, &id, &all).await {
                    result = Err(e);
                }
            }
            i += 1;
        }
        result
    }

    /// A new channel carrying `topics`: created, connected, subscribed — in that order, so nothing
    /// published after the subscription can miss the socket.
    async fn open(&mut self, topics: Vec<String>, reason: &str) -> Result<Channel> {
        let info = create_channel(&self.pipeline, &self.tenant).await?;
        self.stats.created.fetch_add(1, Ordering::Relaxed);
        let socket = self.connect(&info.id, &info.connect_uri).await?;
        if let Err(e) = set_subscriptions(&self.pipeline, &self.tenant, &info.id, &topics).await {
            self.stats.sockets.fetch_sub(1, Ordering::Relaxed);
            socket.close().await;
            return Err(e);
        }
        self.event(EventKind::NotificationsChannelOpened, json!({"channelId": info.id, "topics": topics.len(), "reason": reason}));
        let (move_at, renew) = self.move_at(info.expires).map_or((None, false), |(at, renew)| (Some(at), renew));
        let lifetime = info.expires.and_then(|e| e.duration_since(std::time::SystemTime::now()).ok());
        Ok(Channel {
            id: info.id,
            uri: info.connect_uri,
            topics: topics.into_iter().collect(),
            socket: Some(socket),
            move_at,
            renew,
            expires: info.expires,
            lifetime,
            retry_at: None,
            failures: 0,
        })
    }

    async fn connect(&mut self, channel_id: &str, uri: &Url) -> Result<Socket> {
        let within = self.pipeline.options().request_timeout;
        let ws = connect(uri, &self.pipeline.http, &self.tls, within).await.map_err(|reason| Error::Network {
            tenant_id: Some(self.tenant.clone()),
            reason: format!("notification channel {channel_id}: {reason}"),
        })?;
        self.next_key += 1;
        self.stats.sockets.fetch_add(1, Ordering::Relaxed);
        self.stats.connections.fetch_add(1, Ordering::Relaxed);
        Ok(Socket::spawn(self.next_key, ws, Arc::clone(&self.router), self.notes_tx.clone(), self.settings.heartbeat_timeout))
    }

    fn index_of(&self, key: u64) -> Option<usize> {
        self.channels.iter().position(|c| c.socket.as_ref().is_some_and(|s| s.key == key))
    }

    async fn note(&mut self, note: Note) {
        match note {
            Note::Closing(key) => {
                if let Some(i) = self.index_of(key) {
                    self.move_channel(i, "socket-closing").await;
                }
            }
            Note::Lost(key, why) => {
                // A note from a socket already replaced or closed is stale.
                let Some(i) = self.index_of(key) else { return };
                if let Some(s) = self.channels[i].socket.take() {
                    self.stats.sockets.fetch_sub(1, Ordering::Relaxed);
                    s.close().await;
                }
                self.stats.lost.fetch_add(1, Ordering::Relaxed);
                let id = self.channels[i].id.clone();
                self.event(EventKind::NotificationsChannelLost, json!({"channelId": id, "reason": why.as_str()}));
                self.rebuild(i).await;
            }
        }
    }
}

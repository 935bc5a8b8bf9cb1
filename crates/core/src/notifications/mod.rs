//! Real-time events over Genesys's Notifications API, for every tenant: channels
//! (`POST /api/v2/notifications/channels`), topic subscriptions and the WebSocket that carries the
//! events, managed per tenant.
//!
//! - [`frame`]: a socket's text frames, read as untrusted input; [`packing`]: topics into channels
//!   of at most 1,000, within `notifications.channelBudget`; [`dedupe`]: the memory that delivers an
//!   event seen on two channels once; [`queue`]: a subscriber's bounded queue (drop-oldest);
//!   [`router`]: one tenant's fan-out; [`rest`]: the channel REST calls, through the pipeline;
//!   [`socket`]: one WebSocket; `manager`: one tenant's channels; `shared`: with `redisUrl`, one
//!   replica holds each tenant's channels and every replica reads the events from a Redis stream;
//!   `wire`: a typed error as JSON, how a holder's refusal reaches the replica that asked.
//! - [`Notifications`] holds one manager per tenant; [`Subscription`] is a caller's handle.
//!
//! The orchestrator builds it and closes it ([`Notifications::close`]).

pub mod dedupe;
pub mod figures;
pub mod frame;
mod manager;
pub mod packing;
pub mod queue;
pub mod rest;
pub mod router;
mod shared;
pub mod socket;
mod wire;

use crate::error::{Error, Result};
use crate::events::EventKind;
use crate::pipeline::Pipeline;
use crate::sync::lock;
pub use figures::NotificationStats;
use manager::{Command, Manager};
use queue::Queue;
use router::Router;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// Most topics one `subscribe`/`add`/`remove` call takes (the largest budget's worth).
pub const MAX_TOPICS_PER_CALL: usize = 19_000;

/// How long `close()` waits for one tenant's manager to close its sockets before it is aborted.
const MANAGER_CLOSE_WAIT: Duration = Duration::from_secs(5);

/// One tenant's channel counters.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelStats {
    /// Channels held now.
    pub channels: AtomicUsize,
    /// Sockets open now.
    pub sockets: AtomicUsize,
    /// Channels created (`POST …/channels`), moves and rebuilds included.
    pub created: AtomicU64,
    /// WebSocket connections made.
    pub connections: AtomicU64,
    /// Moves (socket_closing, expiry, rotation) completed.
    pub moves: AtomicU64,
    /// Sockets lost (closed unasked or silent).
    pub lost: AtomicU64,
    /// Lost sockets replaced (the same channel again, or a new one).
    pub rebuilds: AtomicU64,
    /// Channels renewed in place ahead of their expiry.
    pub renewals: AtomicU64,
    /// Shared mode: duplicates the holder's own dedupe dropped (its router is not the tenant's).
    pub holder_duplicates: AtomicU64,
    /// Shared mode: events the holder's queue to Redis dropped (Redis slower than the sockets).
    pub holder_dropped: AtomicU64,
    /// This process holds the tenant's channels (in process: set when the manager starts; shared
    /// mode: while this replica holds the lease and runs the manager).
    pub holder: AtomicBool,
}

struct TenantEntry {
    commands: mpsc::UnboundedSender<Command>,
    router: Arc<Router>,
    stats: Arc<ChannelStats>,
}

/// Every tenant's channel manager.
pub struct Notifications {
    pipeline: Arc<Pipeline>,
    tenants: Mutex<HashMap<String, TenantEntry>>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    next_id: AtomicU64,
    stop: CancellationToken,
}

impl std::fmt::Debug for Notifications {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifications").field("tenants", &lock(&self.tenants).len()).finish_non_exhaustive()
    }
}

/// True for the `config.updated` event that removes `tenant_id` from the config.
fn removed_from_config(ev: &crate::events::Event, tenant_id: &str) -> bool {
    ev.kind == EventKind::ConfigUpdated.as_str()
        && ev.data.get("removed").and_then(|r| r.as_array()).is_some_and(|r| r.iter().any(|t| t.as_str() == Some(tenant_id)))
}

/// Checks a call's topics: 1 to [`MAX_TOPICS_PER_CALL`], each a topic name.
fn check_topics(topics: &[String]) -> Result<()> {
    if topics.len() > MAX_TOPICS_PER_CALL {
        return Err(Error::invalid_option("topics", format!("at most {MAX_TOPICS_PER_CALL} topics per call")));
    }
    if let Some(i) = topics.iter().position(|t| !frame::valid_topic(t)) {
        // Named by position: an options error never quotes what it was given.
        return Err(Error::invalid_option(
            &format!("topics[{i}]"),
            format!("is not a topic name (letters, digits and . _ - ? & : , only; at most {} bytes)", frame::MAX_TOPIC_LEN),
        ));
    }
    Ok(())
}

impl Notifications {
    /// The managers of `pipeline`'s tenants (none runs until a subscription asks).
    pub fn new(pipeline: Arc<Pipeline>) -> Notifications {
        let stop = pipeline.cancel.child_token();
        Notifications { pipeline, tenants: Mutex::default(), tasks: Mutex::default(), next_id: AtomicU64::new(0), stop }
    }

    /// Subscribes to `topics` of a tenant: resolves once the server has them (channels created,
    /// connected and subscribed as needed). Errors: `UNKNOWN_TENANT`, `INVALID_OPTIONS` (a topic
    /// name, or more topics than the channel budget holds), `HOST_NOT_ALLOWED` (a `connectUri`
    /// off the tenant's streaming host), the pipeline's (`AUTH_FAILED`, `RATE_LIMITED`, …), `CLOSED`.
    pub async fn subscribe(&self, tenant_id: &str, topics: Vec<String>) -> Result<Subscription> {
        self.pipeline.check_ready()?;
        self.pipeline.tenant(tenant_id)?;
        check_topics(&topics)?;
        let tls = self.pipeline.http.websocket_tls()?;
        let commands = {
            let mut tenants = lock(&self.tenants);
            let entry = match tenants.get(tenant_id) {
                Some(e) if !e.commands.is_closed() => e,
                _ => {
                    let (tx, rx) = mpsc::unbounded_channel();
                    let router = Arc::new(Router::new(tenant_id));
                    let stats = Arc::new(ChannelStats::default());
                    let (pipeline, stop) = (Arc::clone(&self.pipeline), self.stop.child_token());
                    let task = match self.pipeline.store.clone() {
                        Some(store) => {
                            let (tenant, router, stats) = (tenant_id.to_string(), Arc::clone(&router), Arc::clone(&stats));
                            tokio::spawn(shared::Shared { tenant, pipeline, store, router, tls, stats }.run(rx, stop))
                        }
                        None => {
                            stats.holder.store(true, Ordering::Relaxed);
                            tokio::spawn(
                                Manager::new(tenant_id.to_string(), pipeline, Arc::clone(&router), tls, Arc::clone(&stats)).run(rx, stop),
                            )
                        }
                    };
                    lock(&self.tasks).push(task);
                    tenants.insert(tenant_id.to_string(), TenantEntry { commands: tx, router, stats });
                    &tenants[tenant_id]
                }
            };
            entry.commands.clone()
        };
        let sub = Subscription {
            id: self.next_id.fetch_add(1, Ordering::Relaxed) + 1,
            tenant_id: tenant_id.to_string(),
            queue: Arc::new(Queue::new(self.pipeline.options().notifications.queue_size)),
            commands,
            pipeline: Arc::clone(&self.pipeline),
        };
        sub.add(topics).await?;
        Ok(sub)
    }

    /// A tenant's channel counters (`None`: it never subscribed).
    pub fn stats(&self, tenant_id: &str) -> Option<Arc<ChannelStats>> {
        lock(&self.tenants).get(tenant_id).map(|e| Arc::clone(&e.stats))
    }

    /// A tenant's figures in this process (`None`: it never subscribed), for `stats()` and `metrics()`.
    pub fn figures(&self, tenant_id: &str) -> Option<NotificationStats> {
        let tenants = lock(&self.tenants);
        let e = tenants.get(tenant_id)?;
        let (s, r) = (&e.stats, &e.router);
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Some(NotificationStats {
            channels: s.channels.load(Ordering::Relaxed) as u64,
            sockets: s.sockets.load(Ordering::Relaxed) as u64,
            channels_created: load(&s.created),
            connections: load(&s.connections),
            delivered: load(&r.delivered),
            dropped: load(&r.dropped) + load(&s.holder_dropped),
            duplicates: load(&r.duplicates) + load(&s.holder_duplicates),
            moves: load(&s.moves),
            renewals: load(&s.renewals),
            lost: load(&s.lost),
            rebuilds: load(&s.rebuilds),
            holder: u64::from(s.holder.load(Ordering::Relaxed)),
        })
    }

    /// Stops every manager: every socket closed, every subscription ended (their batches return
    /// `None`). Bounded: a manager that does not finish within 5 s is aborted.
    pub async fn close(&self) {
        self.stop.cancel();
        let tasks: Vec<_> = lock(&self.tasks).drain(..).collect();
        for mut t in tasks {
            if tokio::time::timeout(MANAGER_CLOSE_WAIT, &mut t).await.is_err() {
                t.abort();
            }
        }
        for (_, e) in lock(&self.tenants).drain() {
            e.router.close_all();
        }
    }
}

/// A subscription to some of a tenant's topics: its events arrive in batches
/// ([`Subscription::next_batch`]); topics can be added and removed; dropping it leaves.
pub struct Subscription {
    id: u64,
    tenant_id: String,
    queue: Arc<Queue>,
    commands: mpsc::UnboundedSender<Command>,
    pipeline: Arc<Pipeline>,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription").field("id", &self.id).field("tenant", &self.tenant_id).finish_non_exhaustive()
    }
}

impl Subscription {
    /// This subscription's id (in `notifications.dropped` events).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The tenant.
    pub fn tenant_id(&self) -> &str {
        &self.tenant_id
    }

    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<Result<T>>) -> Command) -> Result<T> {
        let (tx, rx) = oneshot::channel();
        self.commands.send(make(tx)).map_err(|_| Error::Closed)?;
        // The manager answers after its REST calls, each bounded by the pipeline; close() ends it.
        self.pipeline.until_closed(async { rx.await.unwrap_or(Err(Error::Closed)) }).await
    }

    /// Adds topics (resolves once the server has them).
    pub async fn add(&self, topics: Vec<String>) -> Result<()> {
        check_topics(&topics)?;
        if self.queue.is_closed() {
            return Err(Error::Closed);
        }
        let queue = Arc::clone(&self.queue);
        let sub = self.id;
        let r = self.ask(move |reply| Command::Add { sub, queue, topics, reply }).await;
        self.pipeline.redacted(&self.tenant_id, r)
    }

    /// Removes topics (resolves once the server no longer sends them, or they were not subscribed).
    pub async fn remove(&self, topics: Vec<String>) -> Result<()> {
        check_topics(&topics)?;
        let sub = self.id;
        let r = self.ask(move |reply| Command::Remove { sub, topics, reply }).await;
        self.pipeline.redacted(&self.tenant_id, r)
    }

    /// Leaves: the topics no other subscription has are unsubscribed; [`Subscription::next_batch`]
    /// returns what was queued, then `None`. Idempotent; bounded.
    pub async fn close(&self) {
        let (tx, rx) = oneshot::channel();
        if self.commands.send(Command::Leave { sub: self.id, reply: Some(tx) }).is_ok() {
            let _ = tokio::time::timeout(MANAGER_CLOSE_WAIT, rx).await;
        }
        self.queue.close();
    }

    /// The next events as JSON text `{"events":[{topicName, eventBody, metadata, tenantId}, …],
    /// "dropped":n}` (`dropped`: events lost to a full queue since the last batch, also emitted as
    /// `notifications.dropped`); `None` once closed.
    pub async fn next_batch(&self) -> Option<String> {
        let b = self.queue.next_batch().await?;
        if b.dropped > 0 {
            self.pipeline.events.emit(
                EventKind::NotificationsDropped,
                Some(&self.tenant_id),
                serde_json::json!({"subscriptionId": self.id, "count": b.dropped}),
            );
        }
        let mut text = String::with_capacity(32 + b.items.iter().map(|i| i.len() + 1).sum::<usize>());
        text.push_str(r#"{"events":["#);
        for (i, item) in b.items.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            text.push_str(item);
        }
        text.push_str(&format!(r#"],"dropped":{}}}"#, b.dropped));
        Some(text)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Leave { sub: self.id, reply: None });
        self.queue.close();
    }
}

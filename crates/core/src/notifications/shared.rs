//! Shared mode (with `redisUrl`): one replica holds each tenant's channels for the fleet. Per tenant,
//! this task keeps this replica's wanted topics in Redis, takes (or renews) the tenant's lease, and —
//! while it holds it — runs the tenant's [`Manager`] over the union of every replica's topics, its
//! events appended to the tenant's Redis stream; every replica, the holder included, reads that
//! stream into its own [`Router`]. The store's side is `store/notifications.rs`.
//!
//! A subscription's `add` resolves once the holder has applied a version at least as new as the one
//! its change made (or after `requestTimeoutMs` when no holder answered: events flow once one does).

use super::manager::{Command, Manager};
use super::queue::Queue;
use super::router::Router;
use super::ChannelStats;
use crate::error::Result;
use crate::pipeline::Pipeline;
use crate::store::SharedStore;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{interval, Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

/// How often the stream is read (and the wanted topics looked at, when holding).
const POLL: Duration = Duration::from_millis(50);
/// The holder's own queue of events to append (its pseudo-subscriber).
const HOLDER_QUEUE: usize = 100_000;

/// The channels this replica holds for the fleet.
struct Holding {
    commands: mpsc::UnboundedSender<Command>,
    stop: CancellationToken,
    manager: tokio::task::JoinHandle<()>,
    forwarder: tokio::task::JoinHandle<()>,
    /// Renews the lease every third of it; ends when a renewal fails (another replica may hold it).
    renewer: tokio::task::JoinHandle<()>,
    /// The topics the manager has (the fleet's union it last applied).
    topics: BTreeSet<String>,
    applied: u64,
}

pub(crate) struct Shared {
    pub(crate) tenant: String,
    pub(crate) pipeline: Arc<Pipeline>,
    pub(crate) store: Arc<SharedStore>,
    pub(crate) router: Arc<Router>,
    pub(crate) tls: Arc<rustls::ClientConfig>,
    pub(crate) stats: Arc<ChannelStats>,
}

impl Shared {
    fn lease(&self) -> Duration {
        self.store.lease()
    }

    /// Runs until `stop`: local commands, the lease, the holder's work, the stream.
    pub(crate) async fn run(self, mut commands: mpsc::UnboundedReceiver<Command>, stop: CancellationToken) {
        let mut subs: HashMap<u64, HashSet<String>> = HashMap::new();
        let mut holding: Option<Holding> = None;
        let mut cursor: Option<String> = None;
        let mut last_hold = Instant::now() - self.lease();
        let mut last_want = Instant::now();
        let mut bus = self.pipeline.events.subscribe();
        let mut tick = interval(POLL);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                _ = stop.cancelled() => break,
                cmd = commands.recv() => match cmd {
                    Some(c) => self.command(c, &mut subs).await,
                    None => break,
                },
                ev = bus.recv() => match ev {
                    // A tenant that left the config: its channels close and its subscriptions end.
                    Ok(ev) if super::removed_from_config(&ev, &self.tenant) => break,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                    _ => {}
                },
                _ = tick.tick() => {
                    // Read from where we left off; a new reader starts at the stream's end.
                    if cursor.is_none() {
                        cursor = self.store.stream_tail(&self.tenant).await.ok();
                    }
                    if let Some(after) = cursor.clone() {
                        if let Ok((next, events)) = self.store.read_events(&self.tenant, &after).await {
                            for e in &events {
                                self.router.deliver_text(&e.topic, &e.text);
                            }
                            cursor = Some(next);
                        }
                    }
                    let now = Instant::now();
                    if now.duration_since(last_want) >= self.lease() / 3 && !subs.is_empty() {
                        // Still here: the holder keeps counting our topics.
                        last_want = now;
                        let _ = self.store.put_wanted_topics(&self.tenant, &union(&subs)).await;
                    }
                    // The holder's lease is renewed by its own task (a long apply() must not let it
                    // lapse); a renewal that fails ends the holding here.
                    if holding.as_ref().is_some_and(|h| h.renewer.is_finished()) {
                        if let Some(h) = holding.take() {
                            stop_holding(h).await;
                        }
                    }
                    if holding.is_none() && now.duration_since(last_hold) >= self.lease() / 3 {
                        last_hold = now;
                        if self.store.hold_channels(&self.tenant, self.lease()).await.unwrap_or(false) {
                            holding = Some(self.start_holding());
                        }
                    }
                    if let Some(h) = holding.as_mut() {
                        self.apply(h).await;
                    }
                }
            }
        }
        if let Some(h) = holding.take() {
            stop_holding(h).await;
            self.store.release_channels(&self.tenant).await;
        }
        let _ = self.store.put_wanted_topics(&self.tenant, &BTreeSet::new()).await;
        self.router.close_all();
    }

    async fn command(&self, c: Command, subs: &mut HashMap<u64, HashSet<String>>) {
        match c {
            Command::Add { sub, queue, topics, reply } => {
                self.router.add(sub, &queue, &topics);
                subs.entry(sub).or_default().extend(topics);
                self.publish_wants(subs, Some(reply)).await;
            }
            Command::Remove { sub, topics, reply } => {
                self.router.remove(sub, &topics);
                if let Some(mine) = subs.get_mut(&sub) {
                    for t in &topics {
                        mine.remove(t);
                    }
                }
                self.publish_wants(subs, Some(reply)).await;
            }
            Command::Leave { sub, reply } => {
                self.router.drop_subscriber(sub);
                subs.remove(&sub);
                self.publish_wants(subs, None).await;
                if let Some(r) = reply {
                    let _ = r.send(());
                }
            }
        }
    }

    /// Writes this replica's topics; `reply` is answered once the holder applied them (bounded).
    async fn publish_wants(&self, subs: &HashMap<u64, HashSet<String>>, reply: Option<oneshot::Sender<Result<()>>>) {
        let version = self.store.put_wanted_topics(&self.tenant, &union(subs)).await;
        let Some(reply) = reply else { return };
        let Ok(version) = version else {
            // Redis is down: nothing can reach the holder now; the periodic write retries.
            let _ = reply.send(Ok(()));
            return;
        };
        let (store, tenant) = (Arc::clone(&self.store), self.tenant.clone());
        let within = self.pipeline.options().request_timeout;
        tokio::spawn(async move {
            let end = Instant::now() + within;
            while Instant::now() < end && !reply.is_closed() {
                if store.applied(&tenant).await.is_ok_and(|a| a >= version) {
                    break;
                }
                tokio::time::sleep(POLL).await;
            }
            let _ = reply.send(Ok(()));
        });
    }

    fn start_holding(&self) -> Holding {
        let router = Arc::new(Router::new(&self.tenant));
        let queue = Arc::new(Queue::new(HOLDER_QUEUE));
        router.add(0, &queue, &[]);
        let (tx, rx) = mpsc::unbounded_channel();
        let stop = self.pipeline.cancel.child_token();
        let m = Manager::new(self.tenant.clone(), Arc::clone(&self.pipeline), router, Arc::clone(&self.tls), Arc::clone(&self.stats));
        let manager = tokio::spawn(m.run(rx, stop.clone()));
        let (store, tenant) = (Arc::clone(&self.store), self.tenant.clone());
        let forwarder = tokio::spawn(async move {
            while let Some(batch) = queue.next_batch().await {
                let events: Vec<(String, Arc<str>)> =
                    batch.items.into_iter().filter_map(|t| Router::topic_of(&t).map(|topic| (topic.to_string(), Arc::clone(&t)))).collect();
                let _ = store.publish_events(&tenant, &events).await;
            }
        });
        let (store, tenant, lease, until) = (Arc::clone(&self.store), self.tenant.clone(), self.lease(), stop.clone());
        let renewer = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = until.cancelled() => return,
                    _ = tokio::time::sleep(lease / 3) => {}
                }
                if !store.hold_channels(&tenant, lease).await.unwrap_or(false) {
                    return;
                }
            }
        });
        Holding { commands: tx, stop, manager, forwarder, renewer, topics: BTreeSet::new(), applied: 0 }
    }

    /// Brings the holder's channels to the fleet's union, then records the version.
    async fn apply(&self, h: &mut Holding) {
        // A replica silent for three lease periods is gone: its topics no longer count.
        let Ok((version, wanted)) = self.store.wanted_topics(&self.tenant, self.lease() * 3).await else { return };
        if version == h.applied && wanted == h.topics {
            return;
        }
        let wanted: BTreeSet<String> = wanted.into_iter().filter(|t| super::frame::valid_topic(t)).collect();
        let add: Vec<String> = wanted.difference(&h.topics).cloned().collect();
        let remove: Vec<String> = h.topics.difference(&wanted).cloned().collect();
        let queue = Arc::new(Queue::new(1)); // unused: sub 0 already has the holder's queue in its router
        if !remove.is_empty() {
            let (tx, rx) = oneshot::channel();
            let _ = h.commands.send(Command::Remove { sub: 0, topics: remove, reply: tx });
            if !matches!(rx.await, Ok(Ok(()))) {
                return;
            }
        }
        if !add.is_empty() {
            let (tx, rx) = oneshot::channel();
            let _ = h.commands.send(Command::Add { sub: 0, queue, topics: add, reply: tx });
            if !matches!(rx.await, Ok(Ok(()))) {
                return;
            }
        }
        h.topics = wanted;
        h.applied = version;
        let _ = self.store.set_applied(&self.tenant, version).await;
    }
}

async fn stop_holding(h: Holding) {
    h.stop.cancel();
    h.renewer.abort();
    let _ = tokio::time::timeout(Duration::from_secs(5), h.manager).await;
    // The manager closed its router, hence the holder's queue: the forwarder ends after what is left.
    let _ = tokio::time::timeout(Duration::from_secs(5), h.forwarder).await;
}

fn union(subs: &HashMap<u64, HashSet<String>>) -> BTreeSet<String> {
    subs.values().flatten().cloned().collect()
}

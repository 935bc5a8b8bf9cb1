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
use crate::error::{Error, Result};
use crate::pipeline::Pipeline;
use crate::store::SharedStore;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::Ordering;
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
    /// The topics the manager has (the fleet's union it last applied, less what it refused).
    topics: BTreeSet<String>,
    applied: u64,
    /// Each replica's new topics last refused (not asked again while they stay the same).
    refused: HashMap<String, Refusal>,
    /// The holder's own fan-out (to its queue to Redis), and its duplicates and drops already counted
    /// in the tenant's figures.
    router: Arc<Router>,
    counted: (u64, u64),
}

impl Holding {
    /// Adds what the holder's dedupe and queue dropped since the last look to the tenant's figures.
    fn count(&mut self, stats: &ChannelStats) {
        let now = (self.router.duplicates.load(Ordering::Relaxed), self.router.dropped.load(Ordering::Relaxed));
        stats.holder_duplicates.fetch_add(now.0.saturating_sub(self.counted.0), Ordering::Relaxed);
        stats.holder_dropped.fetch_add(now.1.saturating_sub(self.counted.1), Ordering::Relaxed);
        self.counted = now;
    }
}

/// What the holder could not apply of one replica's topics, and why.
struct Refusal {
    topics: BTreeSet<String>,
    /// The error, as `wire` writes it (redacted).
    error: serde_json::Value,
    /// The version it was last recorded at.
    version: u64,
}

/// A caller waiting for the holder: its answer, and for an `add`, what to take back if refused.
struct Asked {
    reply: oneshot::Sender<Result<()>>,
    undo: Option<(u64, Vec<String>, mpsc::UnboundedSender<Undo>)>,
}

/// An `add` the holder refused, sent back to the tenant's task to be taken back, then answered.
struct Undo {
    sub: u64,
    topics: Vec<String>,
    error: Error,
    reply: oneshot::Sender<Result<()>>,
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
        let (undo_tx, mut undo_rx) = mpsc::unbounded_channel::<Undo>();
        loop {
            tokio::select! {
                biased;
                _ = stop.cancelled() => break,
                cmd = commands.recv() => match cmd {
                    Some(c) => self.command(c, &mut subs, &undo_tx).await,
                    None => break,
                },
                Some(u) = undo_rx.recv() => self.undo(u, &mut subs).await,
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
                            stop_holding(h, &self.stats).await;
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
                        h.count(&self.stats);
                    }
                }
            }
        }
        if let Some(h) = holding.take() {
            stop_holding(h, &self.stats).await;
            self.store.release_channels(&self.tenant).await;
        }
        let _ = self.store.put_wanted_topics(&self.tenant, &BTreeSet::new()).await;
        self.router.close_all();
    }

    async fn command(&self, c: Command, subs: &mut HashMap<u64, HashSet<String>>, undo: &mpsc::UnboundedSender<Undo>) {
        match c {
            Command::Add { sub, queue, topics, reply } => {
                let mine = subs.entry(sub).or_default();
                let mut added: Vec<String> = topics.into_iter().filter(|t| !mine.contains(t)).collect();
                added.sort();
                added.dedup();
                self.router.add(sub, &queue, &added);
                mine.extend(added.iter().cloned());
                self.publish_wants(subs, Some(Asked { reply, undo: Some((sub, added, undo.clone())) })).await;
            }
            Command::Remove { sub, topics, reply } => {
                self.router.remove(sub, &topics);
                if let Some(mine) = subs.get_mut(&sub) {
                    for t in &topics {
                        mine.remove(t);
                    }
                }
                self.publish_wants(subs, Some(Asked { reply, undo: None })).await;
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

    /// An `add` the holder refused: its topics leave the subscription (as an in-process refusal
    /// leaves nothing behind), this replica's topics are written again, then the `add` rejects.
    async fn undo(&self, u: Undo, subs: &mut HashMap<u64, HashSet<String>>) {
        self.router.remove(u.sub, &u.topics);
        if let Some(mine) = subs.get_mut(&u.sub) {
            for t in &u.topics {
                mine.remove(t);
            }
        }
        let _ = self.store.put_wanted_topics(&self.tenant, &union(subs)).await;
        let _ = u.reply.send(Err(u.error));
    }

    /// Writes this replica's topics; `asked` is answered once the holder applied them, or — for an
    /// `add` — refused them (bounded by `requestTimeoutMs`: no holder, no answer).
    async fn publish_wants(&self, subs: &HashMap<u64, HashSet<String>>, asked: Option<Asked>) {
        let version = self.store.put_wanted_topics(&self.tenant, &union(subs)).await;
        let Some(Asked { reply, undo }) = asked else { return };
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
                match store.wanted_outcome(&tenant).await {
                    // Refused at this version or a later one (which still held these topics).
                    Ok((_, Some((at, error)))) if at >= version && undo.is_some() => {
                        if let (Some((sub, topics, tx)), Some(error)) = (undo, super::wire::from_wire(&error)) {
                            let _ = tx.send(Undo { sub, topics, error, reply });
                        }
                        return;
                    }
                    Ok((applied, _)) if applied >= version => break,
                    _ => {}
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
        let m = Manager::new(
            self.tenant.clone(),
            Arc::clone(&self.pipeline),
            Arc::clone(&router),
            Arc::clone(&self.tls),
            Arc::clone(&self.stats),
        );
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
        Holding {
            commands: tx,
            stop,
            manager,
            forwarder,
            renewer,
            topics: BTreeSet::new(),
            applied: 0,
            refused: HashMap::new(),
            router,
            counted: (0, 0),
        }
    }

    /// Brings the holder's channels to the fleet's union, then records the version. Each replica's
    /// new topics are added on their own: topics one replica wants that do not fit the budget (or
    /// whose REST calls fail) are refused to that replica only — the refusal, written to Redis, rejects
    /// its `add` with the error an in-process one gets — and the others' are applied.
    async fn apply(&self, h: &mut Holding) {
        // A replica silent for three lease periods is gone: its topics no longer count.
        let Ok((version, by_replica)) = self.store.wanted_by_replica(&self.tenant, self.lease() * 3).await else { return };
        let by_replica: Vec<(String, BTreeSet<String>)> = by_replica
            .into_iter()
            .map(|(owner, topics)| (owner, topics.into_iter().filter(|t| super::frame::valid_topic(t)).collect()))
            .collect();
        let wanted: BTreeSet<String> = by_replica.iter().flat_map(|(_, t)| t.iter().cloned()).collect();
        if version == h.applied && wanted == h.topics {
            return;
        }
        let remove: Vec<String> = h.topics.difference(&wanted).cloned().collect();
        if !remove.is_empty() {
            let (tx, rx) = oneshot::channel();
            let _ = h.commands.send(Command::Remove { sub: 0, topics: remove, reply: tx });
            if !matches!(rx.await, Ok(Ok(()))) {
                return;
            }
        }
        let mut topics: BTreeSet<String> = h.topics.intersection(&wanted).cloned().collect();
        let mut refusals: Vec<String> = Vec::new();
        h.refused.retain(|owner, _| by_replica.iter().any(|(o, _)| o == owner));
        for (owner, theirs) in &by_replica {
            let new: BTreeSet<String> = theirs.difference(&topics).cloned().collect();
            if new.is_empty() {
                h.refused.remove(owner);
                continue;
            }
            // Refused already: not asked again while that replica wants the same, refused again at
            // this version (another `add` of the same topics gets the same answer).
            if let Some(r) = h.refused.get_mut(owner).filter(|r| r.topics == new) {
                if r.version < version {
                    r.version = version;
                    refusals.push(owner.clone());
                }
                continue;
            }
            let queue = Arc::new(Queue::new(1)); // unused: sub 0 already has the holder's queue in its router
            let (tx, rx) = oneshot::channel();
            let _ = h.commands.send(Command::Add { sub: 0, queue, topics: new.iter().cloned().collect(), reply: tx });
            match rx.await {
                Ok(Ok(())) => {
                    h.refused.remove(owner);
                    topics.extend(new);
                }
                Ok(Err(e)) => {
                    let e = match self.pipeline.redacted(&self.tenant, Err::<(), _>(e)) {
                        Err(e) => e,
                        Ok(()) => continue,
                    };
                    let error = super::wire::to_wire(&e);
                    h.refused.insert(owner.clone(), Refusal { topics: new, error, version });
                    refusals.push(owner.clone());
                }
                Err(_) => return, // the manager ended
            }
        }
        // The refusals before the version: a replica that sees the version applied has seen them.
        for owner in refusals {
            if let Some(r) = h.refused.get(&owner) {
                let _ = self.store.refuse_wanted(&self.tenant, &[owner], version, &r.error).await;
            }
        }
        h.topics = topics;
        h.applied = version;
        let _ = self.store.set_applied(&self.tenant, version).await;
    }
}

async fn stop_holding(mut h: Holding, stats: &ChannelStats) {
    h.count(stats);
    h.stop.cancel();
    h.renewer.abort();
    let _ = tokio::time::timeout(Duration::from_secs(5), h.manager).await;
    // The manager closed its router, hence the holder's queue: the forwarder ends after what is left.
    let _ = tokio::time::timeout(Duration::from_secs(5), h.forwarder).await;
}

fn union(subs: &HashMap<u64, HashSet<String>>) -> BTreeSet<String> {
    subs.values().flatten().cloned().collect()
}

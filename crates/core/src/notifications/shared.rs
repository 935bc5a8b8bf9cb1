//! Shared mode (with `redisUrl`): one replica holds each tenant's channels for the fleet. Per tenant,
//! this task keeps this replica's wanted topics in Redis, takes (or renews) the tenant's lease, and —
//! while it holds it — runs the tenant's [`Manager`] over the union of every replica's topics, its
//! events appended to the tenant's Redis stream; every replica, the holder included, reads that
//! stream into its own [`Router`]. The store's side is `store/notifications.rs`.
//!
//! A subscription's `add` resolves once the holder has applied a version at least as new as the one
//! its change made (or after `requestTimeoutMs` when no holder answered: events flow once one does).
//! Each `add`/`remove` not answered yet is written with its own id, and the holder applies a
//! replica's `add`s one at a time in the order they were made: a refusal is recorded under the id of
//! the one that did not fit, as in process; a failed removal, under the ids of the `remove`s it served.

use super::manager::{Command, Manager};
use super::queue::Queue;
use super::router::Router;
use super::ChannelStats;
use crate::error::{Error, Result};
use crate::pipeline::Pipeline;
use crate::store::{SharedStore, WantedChange};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{interval, Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

/// How often the stream is read (and the wanted topics looked at, when holding).
const POLL: Duration = Duration::from_millis(50);
/// The holder's own queue of events to append (its pseudo-subscriber).
const HOLDER_QUEUE: usize = 100_000;
/// The last request id given (unique in this process, so a refusal names one request).
static LAST_ASK: AtomicU64 = AtomicU64::new(0);

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
    /// The new topics last refused, by replica and request id (0: topics of no pending request); not
    /// asked again while they stay the same.
    refused: HashMap<(String, u64), BTreeSet<String>>,
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

/// A caller waiting for the holder: its request id, its answer, where to say it was answered, and
/// for an `add`, what to take back if refused.
struct Asked {
    id: u64,
    reply: oneshot::Sender<Result<()>>,
    answered: mpsc::UnboundedSender<Answered>,
    undo: Option<(u64, Vec<String>)>,
}

/// A request the holder answered, sent back to the tenant's task: done (it leaves the pending
/// requests; a `remove` that failed is answered by its waiter, its topics staying removed here as in
/// process), or an `add` refused (to take back, then answer).
enum Answered {
    Applied(u64),
    Refused(Undo),
}

/// An `add` the holder refused.
struct Undo {
    id: u64,
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
        // This replica's `add`s the holder has not answered yet, oldest first.
        let mut pending: Vec<WantedChange> = Vec::new();
        let mut holding: Option<Holding> = None;
        let mut cursor: Option<String> = None;
        let mut last_hold = Instant::now() - self.lease();
        let mut last_want = Instant::now();
        let mut bus = self.pipeline.events.subscribe();
        let mut tick = interval(POLL);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let (undo_tx, mut undo_rx) = mpsc::unbounded_channel::<Answered>();
        loop {
            tokio::select! {
                biased;
                _ = stop.cancelled() => break,
                cmd = commands.recv() => match cmd {
                    Some(c) => self.command(c, &mut subs, &mut pending, &undo_tx).await,
                    None => break,
                },
                Some(a) = undo_rx.recv() => match a {
                    Answered::Applied(id) => pending.retain(|p| p.id != id),
                    Answered::Refused(u) => self.undo(u, &mut subs, &mut pending).await,
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
                        let _ = self.store.put_wanted_topics(&self.tenant, &union(&subs), &pending).await;
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
                            self.stats.holder.store(true, Ordering::Relaxed);
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
        let _ = self.store.put_wanted_topics(&self.tenant, &BTreeSet::new(), &[]).await;
        self.router.close_all();
    }

    async fn command(
        &self,
        c: Command,
        subs: &mut HashMap<u64, HashSet<String>>,
        pending: &mut Vec<WantedChange>,
        undo: &mpsc::UnboundedSender<Answered>,
    ) {
        let id = LAST_ASK.fetch_add(1, Ordering::Relaxed) + 1;
        match c {
            Command::Add { sub, queue, topics, reply } => {
                let mine = subs.entry(sub).or_default();
                let mut added: Vec<String> = topics.into_iter().filter(|t| !mine.contains(t)).collect();
                added.sort();
                added.dedup();
                self.router.add(sub, &queue, &added);
                mine.extend(added.iter().cloned());
                pending.push(WantedChange { id, topics: added.iter().cloned().collect(), remove: false });
                let asked = Asked { id, reply, answered: undo.clone(), undo: Some((sub, added)) };
                self.publish_wants(subs, pending, Some(asked)).await;
            }
            Command::Remove { sub, topics, reply } => {
                self.router.remove(sub, &topics);
                if let Some(mine) = subs.get_mut(&sub) {
                    for t in &topics {
                        mine.remove(t);
                    }
                }
                pending.push(WantedChange { id, topics: topics.iter().cloned().collect(), remove: true });
                self.publish_wants(subs, pending, Some(Asked { id, reply, answered: undo.clone(), undo: None })).await;
            }
            Command::Leave { sub, reply } => {
                self.router.drop_subscriber(sub);
                subs.remove(&sub);
                self.publish_wants(subs, pending, None).await;
                if let Some(r) = reply {
                    let _ = r.send(());
                }
            }
        }
    }

    /// An `add` the holder refused: its topics leave the subscription (as an in-process refusal
    /// leaves nothing behind), this replica's topics are written again, then the `add` rejects.
    async fn undo(&self, u: Undo, subs: &mut HashMap<u64, HashSet<String>>, pending: &mut Vec<WantedChange>) {
        pending.retain(|p| p.id != u.id);
        self.router.remove(u.sub, &u.topics);
        if let Some(mine) = subs.get_mut(&u.sub) {
            for t in &u.topics {
                mine.remove(t);
            }
        }
        let _ = self.store.put_wanted_topics(&self.tenant, &union(subs), pending).await;
        let _ = u.reply.send(Err(u.error));
    }

    /// Writes this replica's topics; `asked` is answered once the holder applied them, or refused
    /// them (an `add`), or failed to remove them (a `remove`) — bounded by `requestTimeoutMs`: no
    /// holder, no answer.
    async fn publish_wants(&self, subs: &HashMap<u64, HashSet<String>>, pending: &[WantedChange], asked: Option<Asked>) {
        let version = self.store.put_wanted_topics(&self.tenant, &union(subs), pending).await;
        let Some(Asked { id, reply, answered, undo }) = asked else { return };
        let Ok(version) = version else {
            // Redis is down: nothing can reach the holder now; the periodic write retries.
            let _ = answered.send(Answered::Applied(id));
            let _ = reply.send(Ok(()));
            return;
        };
        let (store, tenant) = (Arc::clone(&self.store), self.tenant.clone());
        let within = self.pipeline.options().request_timeout;
        tokio::spawn(async move {
            let end = Instant::now() + within;
            while Instant::now() < end && !reply.is_closed() {
                match store.wanted_outcome(&tenant, id).await {
                    // This request refused (read at this version or a later one).
                    Ok((_, Some((at, error)))) if at >= version => {
                        store.forget_refusal(&tenant, id).await;
                        let error = super::wire::from_wire(&error).unwrap_or(Error::Closed);
                        match undo {
                            Some((sub, topics)) => {
                                let _ = answered.send(Answered::Refused(Undo { id, sub, topics, error, reply }));
                            }
                            None => {
                                let _ = answered.send(Answered::Applied(id));
                                let _ = reply.send(Err(error));
                            }
                        }
                        return;
                    }
                    Ok((applied, _)) if applied >= version => break,
                    _ => {}
                }
                tokio::time::sleep(POLL).await;
            }
            let _ = answered.send(Answered::Applied(id));
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
    /// new topics are added on their own, and within a replica, those of its pending `add`s one
    /// request at a time, oldest first (topics of no pending request — answered ones, or a new
    /// holder's first look — before them): topics that do not fit the budget (or whose REST calls
    /// fail) are refused to that request only — the refusal, written to Redis under its id, rejects
    /// that `add` with the error an in-process one gets — and the rest are applied.
    async fn apply(&self, h: &mut Holding) {
        // A replica silent for three lease periods is gone: its topics no longer count.
        let Ok((version, by_replica)) = self.store.wanted_by_replica(&self.tenant, self.lease() * 3).await else { return };
        let valid = |t: &String| super::frame::valid_topic(t);
        let wanted: BTreeSet<String> = by_replica.iter().flat_map(|r| r.topics.iter().filter(|t| valid(t)).cloned()).collect();
        if version == h.applied && wanted == h.topics {
            return;
        }
        let remove: Vec<String> = h.topics.difference(&wanted).cloned().collect();
        let mut refusals: Vec<(String, u64, serde_json::Value)> = Vec::new();
        if !remove.is_empty() {
            let (tx, rx) = oneshot::channel();
            let _ = h.commands.send(Command::Remove { sub: 0, topics: remove.clone(), reply: tx });
            match rx.await {
                Ok(Ok(())) => {}
                // As in process: the topics leave the holder's channels' books (not asked again) and
                // the error goes to the `remove`s that took them away.
                Ok(Err(e)) => {
                    if let Err(e) = self.pipeline.redacted(&self.tenant, Err::<(), _>(e)) {
                        let error = super::wire::to_wire(&e);
                        for r in &by_replica {
                            for c in r.pending.iter().filter(|c| c.remove && remove.iter().any(|t| c.topics.contains(t))) {
                                refusals.push((r.owner.clone(), c.id, error.clone()));
                            }
                        }
                    }
                }
                Err(_) => return, // the manager ended
            }
        }
        let mut topics: BTreeSet<String> = h.topics.intersection(&wanted).cloned().collect();
        let mut refused: HashMap<(String, u64), BTreeSet<String>> = HashMap::new();
        for r in &by_replica {
            for (id, new) in requests(r, &topics) {
                let key = (r.owner.clone(), id);
                // Refused already: not asked again while that request brings the same topics.
                if h.refused.get(&key) == Some(&new) {
                    refused.insert(key, new);
                    continue;
                }
                let queue = Arc::new(Queue::new(1)); // unused: sub 0 already has the holder's queue in its router
                let (tx, rx) = oneshot::channel();
                let _ = h.commands.send(Command::Add { sub: 0, queue, topics: new.iter().cloned().collect(), reply: tx });
                match rx.await {
                    Ok(Ok(())) => topics.extend(new),
                    Ok(Err(e)) => {
                        let Err(e) = self.pipeline.redacted(&self.tenant, Err::<(), _>(e)) else { continue };
                        if id != 0 {
                            refusals.push((r.owner.clone(), id, super::wire::to_wire(&e)));
                        }
                        refused.insert(key, new);
                    }
                    Err(_) => return, // the manager ended
                }
            }
        }
        h.refused = refused;
        // The refusals before the version: a replica that sees the version applied has seen them.
        for (owner, id, error) in refusals {
            let _ = self.store.refuse_wanted(&self.tenant, &owner, id, version, &error).await;
        }
        h.topics = topics;
        h.applied = version;
        let _ = self.store.set_applied(&self.tenant, version).await;
    }
}

/// One replica's topics the holder does not have yet, as requests to apply in order: `(0, …)` for
/// those of no pending `add` first, then each pending `add`'s (by id, oldest first); empty ones left out.
fn requests(r: &crate::store::ReplicaWants, have: &BTreeSet<String>) -> Vec<(u64, BTreeSet<String>)> {
    let mut rest: BTreeSet<String> = r.topics.iter().filter(|t| super::frame::valid_topic(t) && !have.contains(*t)).cloned().collect();
    let mut out = Vec::new();
    for a in r.pending.iter().filter(|c| !c.remove) {
        let mine: BTreeSet<String> = a.topics.iter().filter(|t| rest.contains(*t)).cloned().collect();
        if !mine.is_empty() {
            rest.retain(|t| !mine.contains(t));
            out.push((a.id, mine));
        }
    }
    if !rest.is_empty() {
        out.insert(0, (0, rest));
    }
    out
}

async fn stop_holding(mut h: Holding, stats: &ChannelStats) {
    h.count(stats);
    stats.holder.store(false, Ordering::Relaxed);
    h.stop.cancel();
    h.renewer.abort();
    let _ = tokio::time::timeout(Duration::from_secs(5), h.manager).await;
    // The manager closed its router, hence the holder's queue: the forwarder ends after what is left.
    let _ = tokio::time::timeout(Duration::from_secs(5), h.forwarder).await;
}

fn union(subs: &HashMap<u64, HashSet<String>>) -> BTreeSet<String> {
    subs.values().flatten().cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ReplicaWants;

    fn set(v: &[&str]) -> BTreeSet<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_replicas_pending_adds_are_applied_one_at_a_time_in_order() {
        let r = ReplicaWants {
            owner: "r1".into(),
            topics: set(&["a", "b", "c", "d", "e", "x"]),
            pending: vec![
                WantedChange { id: 7, topics: set(&["c"]), remove: false },
                WantedChange { id: 8, topics: set(&["y"]), remove: true },
                WantedChange { id: 9, topics: set(&["d", "e", "a"]), remove: false },
            ],
        };
        // `a` is held already; `b` is of no pending add (first); then 7's `c`, then 9's `d`, `e`.
        assert_eq!(requests(&r, &set(&["a", "x"])), vec![(0, set(&["b"])), (7, set(&["c"])), (9, set(&["d", "e"]))]);
        // Everything held: nothing to ask.
        assert!(requests(&r, &r.topics).is_empty());
    }
}

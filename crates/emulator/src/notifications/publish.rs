//! Publishing events (a control call). Each event is built once — `eventBody.seq`, a fresh
//! `metadata.CorrelationId` — and queued to every channel subscribed to its topic *at that moment*,
//! so a channel subscribed mid-stream receives what follows and two channels on one topic receive
//! the same text (same CorrelationId).

use super::Hub;
use crate::ids::random_uuid;
use crate::sync::lock;
use axum::extract::ws::Utf8Bytes;
use serde_json::{json, Map, Value};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc::error::TrySendError;
use tokio::time::Instant;

/// How long a publisher waits for room in a full socket queue. A socket still full after that is closed
/// as too slow (once: its later events find no socket), so one stuck reader never throttles the others.
const SLOW_READER: Duration = Duration::from_secs(5);
/// How many publish statuses are kept for `GET /__control/notifications/publish/{id}`.
const KEPT: usize = 64;

/// What to publish.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Topic, e.g. `v2.users.{id}.presence`.
    pub topic: String,
    /// How many events.
    pub count: u64,
    /// Only channels of clients in this org.
    pub org_id: Option<String>,
    /// Only channels of this OAuth client.
    pub client_id: Option<String>,
    /// Events per second (as fast as the sockets take them when absent).
    pub rate: Option<f64>,
    /// Fields of every event's `eventBody` (besides `seq`).
    pub event_body: Map<String, Value>,
    /// `eventBody.seq` of the first event; each next one is one more.
    pub start_seq: u64,
}

/// A publication's progress.
pub struct Status {
    id: u64,
    spec: Spec,
    published: AtomicU64,
    queued: AtomicU64,
    undelivered: AtomicU64,
    done: AtomicBool,
    cancel: AtomicBool,
}

impl Status {
    /// Progress as JSON: `{id, topic, count, firstSeq, published, queued, undelivered, done}`.
    pub fn json(&self) -> Value {
        json!({
            "id": self.id, "topic": self.spec.topic, "count": self.spec.count, "firstSeq": self.spec.start_seq,
            "lastSeq": self.spec.start_seq + self.spec.count.saturating_sub(1),
            "published": self.published.load(Ordering::SeqCst), "queued": self.queued.load(Ordering::SeqCst),
            "undelivered": self.undelivered.load(Ordering::SeqCst), "done": self.done.load(Ordering::SeqCst),
        })
    }

    /// Asks a running publication to stop after its current event.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::SeqCst);
    }
}

/// The last [`KEPT`] publications.
#[derive(Default)]
pub(super) struct Registry {
    next: AtomicU64,
    recent: Mutex<VecDeque<Arc<Status>>>,
}

impl Registry {
    pub(super) fn add(&self, spec: Spec) -> Arc<Status> {
        let id = self.next.fetch_add(1, Ordering::SeqCst) + 1;
        let s = Arc::new(Status {
            id,
            spec,
            published: AtomicU64::new(0),
            queued: AtomicU64::new(0),
            undelivered: AtomicU64::new(0),
            done: AtomicBool::new(false),
            cancel: AtomicBool::new(false),
        });
        let mut r = lock(&self.recent);
        if r.len() == KEPT {
            r.pop_front();
        }
        r.push_back(Arc::clone(&s));
        s
    }

    pub(super) fn get(&self, id: u64) -> Option<Arc<Status>> {
        lock(&self.recent).iter().find(|s| s.id == id).cloned()
    }

    pub(super) fn clear(&self) {
        for s in lock(&self.recent).drain(..) {
            s.cancel();
        }
    }
}

impl Hub {
    /// Registers a publication (run it with [`Hub::publish`]).
    pub fn new_publication(&self, spec: Spec) -> Arc<Status> {
        self.publishes.add(spec)
    }

    /// A publication by id.
    pub fn publication(&self, id: u64) -> Option<Arc<Status>> {
        self.publishes.get(id)
    }

    /// Publishes `status`'s events, paced when it has a rate; returns when all are queued (or cancelled).
    pub async fn publish(&self, status: Arc<Status>) {
        let spec = &status.spec;
        let started = Instant::now();
        for i in 0..spec.count {
            if status.cancel.load(Ordering::SeqCst) {
                break;
            }
            if let Some(rate) = spec.rate {
                tokio::time::sleep_until(started + Duration::from_secs_f64(i as f64 / rate)).await;
            }
            let mut body = spec.event_body.clone();
            body.insert("seq".into(), json!(spec.start_seq + i));
            let event = json!({
                "topicName": spec.topic, "version": "2", "eventBody": body,
                "metadata": {"CorrelationId": random_uuid()},
            });
            let text = Utf8Bytes::from(event.to_string());
            let (targets, undelivered) = self.targets(spec);
            status.undelivered.fetch_add(undelivered, Ordering::SeqCst);
            for (id, conn, tx) in targets {
                let sent = match tx.try_send(text.clone()) {
                    Ok(()) => true,
                    Err(TrySendError::Full(t)) => {
                        let ok = tx.send_timeout(t, SLOW_READER).await.is_ok();
                        if !ok {
                            self.too_slow(&id, conn);
                        }
                        ok
                    }
                    Err(TrySendError::Closed(_)) => false,
                };
                if sent {
                    status.queued.fetch_add(1, Ordering::SeqCst);
                } else {
                    status.undelivered.fetch_add(1, Ordering::SeqCst);
                    self.count_dropped(&id);
                }
            }
            status.published.fetch_add(1, Ordering::SeqCst);
        }
        status.done.store(true, Ordering::SeqCst);
    }

    /// The event queues of the live, listening channels subscribed to the topic (within the spec's org or
    /// client), and how many subscribed channels had no socket to take the event (or a silenced one).
    #[allow(clippy::type_complexity)]
    fn targets(&self, spec: &Spec) -> (Vec<(String, u64, tokio::sync::mpsc::Sender<Utf8Bytes>)>, u64) {
        let mut g = lock(&self.inner);
        let inner = &mut *g;
        let now = std::time::Instant::now();
        let mut out = Vec::new();
        let mut missed = 0;
        for id in inner.by_topic.get(&spec.topic).into_iter().flatten() {
            let Some(ch) = inner.channels.get_mut(id) else { continue };
            if ch.expires_at <= now
                || spec.org_id.as_ref().is_some_and(|o| *o != ch.org_id)
                || spec.client_id.as_ref().is_some_and(|c| *c != ch.client_id)
            {
                continue;
            }
            match &ch.socket {
                Some(s) if !ch.silenced => out.push((id.clone(), s.conn, s.events.clone())),
                _ => {
                    ch.dropped += 1;
                    missed += 1;
                }
            }
        }
        inner.undelivered += missed;
        (out, missed)
    }

    /// Socket `conn` of channel `id` took no event for [`SLOW_READER`]: closed, the channel stays.
    fn too_slow(&self, id: &str, conn: u64) {
        let mut g = lock(&self.inner);
        if let Some(ch) = g.channels.get_mut(id) {
            if ch.socket.as_ref().is_some_and(|s| s.conn == conn) {
                if let Some(s) = ch.socket.take() {
                    s.tell(super::Ctl::Close("socket too slow: its queue stayed full"));
                }
            }
        }
    }

    fn count_dropped(&self, id: &str) {
        let mut g = lock(&self.inner);
        g.undelivered += 1;
        if let Some(ch) = g.channels.get_mut(id) {
            ch.dropped += 1;
        }
    }
}

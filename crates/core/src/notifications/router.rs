//! One tenant's fan-out: an event from any of its sockets goes through the dedupe memory once and
//! then to the queue of every subscriber of its topic. Shared by the socket tasks, so events flow
//! while the manager is busy with REST calls (a move, a rebuild).

use super::dedupe::Seen;
use super::frame::EventFrame;
use super::queue::Queue;
use crate::sync::lock;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

struct Subscriber {
    topics: HashSet<String>,
    queue: Arc<Queue>,
}

#[derive(Default)]
struct State {
    seen: Seen,
    subscribers: HashMap<u64, Subscriber>,
}

/// The fan-out of one tenant.
pub struct Router {
    tenant_json: String,
    state: Mutex<State>,
    /// Events delivered to at least one subscriber.
    pub delivered: AtomicU64,
    /// Events seen a second time (a move's overlap) and not delivered again.
    pub duplicates: AtomicU64,
    /// Events a full subscriber queue dropped (a slow consumer), one per queue.
    pub dropped: AtomicU64,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router").field("tenant", &self.tenant_json).finish_non_exhaustive()
    }
}

impl Router {
    /// The fan-out of `tenant_id`.
    pub fn new(tenant_id: &str) -> Router {
        Router {
            tenant_json: serde_json::to_string(tenant_id).unwrap_or_else(|_| "null".into()),
            state: Mutex::default(),
            delivered: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        }
    }

    /// Adds `topics` to a subscriber (made on first use), with its queue.
    pub fn add(&self, id: u64, queue: &Arc<Queue>, topics: &[String]) {
        let mut s = lock(&self.state);
        let sub = s.subscribers.entry(id).or_insert_with(|| Subscriber { topics: HashSet::new(), queue: Arc::clone(queue) });
        sub.topics.extend(topics.iter().cloned());
    }

    /// Removes `topics` from a subscriber.
    pub fn remove(&self, id: u64, topics: &[String]) {
        if let Some(sub) = lock(&self.state).subscribers.get_mut(&id) {
            for t in topics {
                sub.topics.remove(t);
            }
        }
    }

    /// Forgets a subscriber and closes its queue; its topics, for the manager to release.
    pub fn drop_subscriber(&self, id: u64) -> Vec<String> {
        let sub = lock(&self.state).subscribers.remove(&id);
        match sub {
            Some(s) => {
                s.queue.close();
                s.topics.into_iter().collect()
            }
            None => Vec::new(),
        }
    }

    /// Closes every subscriber's queue (the manager stops).
    pub fn close_all(&self) {
        let subs: Vec<_> = lock(&self.state).subscribers.drain().collect();
        for (_, s) in subs {
            s.queue.close();
        }
    }

    /// Delivers one event: once, to every subscriber of its topic.
    pub fn deliver(&self, ev: &EventFrame) {
        let mut s = lock(&self.state);
        if !s.seen.first(&ev.topic, ev.correlation_id.as_deref(), &ev.body) {
            self.duplicates.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let mut text: Option<Arc<str>> = None;
        for sub in s.subscribers.values().filter(|sub| sub.topics.contains(&ev.topic)) {
            let t = text.get_or_insert_with(|| self.render(ev));
            if sub.queue.push(Arc::clone(t)) {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
        if text.is_some() {
            self.delivered.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Delivers an event already rendered (by the replica holding the tenant's channels, in shared
    /// mode) to every subscriber of `topic` here, once.
    pub fn deliver_text(&self, topic: &str, text: &Arc<str>) {
        let mut s = lock(&self.state);
        // Two holders for a moment (a lease taken over while the old holder still had its socket)
        // append the same text: delivered once.
        if !s.seen.first(topic, None, text) {
            self.duplicates.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let mut any = false;
        for sub in s.subscribers.values().filter(|sub| sub.topics.contains(topic)) {
            if sub.queue.push(Arc::clone(text)) {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
            any = true;
        }
        if any {
            self.delivered.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The topic of a text [`Router`] rendered (it starts with its `topicName`, which needs no escape).
    ///
    /// ```
    /// use genesys_tenants_core::notifications::router::Router;
    /// assert_eq!(Router::topic_of(r#"{"topicName":"v2.a","eventBody":1}"#), Some("v2.a"));
    /// ```
    pub fn topic_of(text: &str) -> Option<&str> {
        let rest = text.strip_prefix(r#"{"topicName":""#)?;
        rest.split('"').next()
    }

    /// `{ topicName, eventBody, metadata, tenantId }` as JSON text; body and metadata as the server
    /// sent them (already checked to be JSON).
    fn render(&self, ev: &EventFrame) -> Arc<str> {
        // The topic passed `valid_topic` (no character JSON escapes).
        format!(r#"{{"topicName":"{}","eventBody":{},"metadata":{},"tenantId":{}}}"#, ev.topic, ev.body, ev.metadata, self.tenant_json)
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(topic: &str, corr: &str) -> EventFrame {
        EventFrame { topic: topic.into(), body: "{\"a\":1}".into(), metadata: "{}".into(), correlation_id: Some(corr.into()) }
    }

    #[test]
    fn once_to_each_subscriber_of_the_topic() {
        let r = Router::new("acme");
        let (q1, q2) = (Arc::new(Queue::new(10)), Arc::new(Queue::new(10)));
        r.add(1, &q1, &["t1".into()]);
        r.add(2, &q2, &["t2".into(), "t1".into()]);
        r.deliver(&ev("t1", "c1"));
        r.deliver(&ev("t1", "c1"));
        r.deliver(&ev("t2", "c2"));
        assert_eq!(q1.try_batch().unwrap().items.len(), 1);
        let b = q2.try_batch().unwrap();
        assert_eq!(b.items.len(), 2);
        let v: serde_json::Value = serde_json::from_str(&b.items[0]).unwrap();
        assert_eq!(v, serde_json::json!({"topicName":"t1","eventBody":{"a":1},"metadata":{},"tenantId":"acme"}));
        assert_eq!(r.duplicates.load(Ordering::Relaxed), 1);
        assert_eq!(r.drop_subscriber(1), vec!["t1".to_string()]);
        assert!(q1.is_closed());
    }
}

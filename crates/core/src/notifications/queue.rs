//! One subscriber's queue: bounded, drop-oldest. A consumer slower than its events loses the oldest
//! ones, counted, rather than holding the socket (backpressure would stall every other subscriber
//! of the tenant and, past the server's buffer, get the socket closed — and a lost socket loses
//! events for everyone). The count reaches the consumer with its next batch and as a
//! `notifications.dropped` event.

use crate::sync::lock;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// Items handed over in one batch at most (one crossing to JS).
pub const MAX_BATCH: usize = 512;

#[derive(Debug, Default)]
struct State {
    items: VecDeque<Arc<str>>,
    dropped: u64,
    closed: bool,
}

/// A bounded queue of rendered events (JSON text).
#[derive(Debug)]
pub struct Queue {
    state: Mutex<State>,
    notify: Notify,
    capacity: usize,
}

/// What [`Queue::next_batch`] hands over.
#[derive(Debug, Default, PartialEq)]
pub struct Batch {
    /// Events, oldest first.
    pub items: Vec<Arc<str>>,
    /// Events dropped since the last batch.
    pub dropped: u64,
}

impl Queue {
    /// A queue of at most `capacity` items (at least 1).
    pub fn new(capacity: usize) -> Queue {
        Queue { state: Mutex::default(), notify: Notify::new(), capacity: capacity.max(1) }
    }

    /// Adds an item; when full, the oldest is dropped and counted (then `true`). Nothing once closed.
    ///
    /// ```
    /// use genesys_tenants_core::notifications::queue::Queue;
    /// let q = Queue::new(2);
    /// for s in ["a", "b", "c"] { q.push(s.into()); }
    /// let b = q.try_batch().unwrap();
    /// assert_eq!((b.items.len(), &*b.items[0], b.dropped), (2, "b", 1));
    /// ```
    pub fn push(&self, item: Arc<str>) -> bool {
        let dropped = {
            let mut s = lock(&self.state);
            if s.closed {
                return false;
            }
            let full = s.items.len() >= self.capacity;
            if full {
                s.items.pop_front();
                s.dropped += 1;
            }
            s.items.push_back(item);
            full
        };
        self.notify.notify_one();
        dropped
    }

    /// Ends the queue: [`Queue::next_batch`] returns what is left, then `None`.
    pub fn close(&self) {
        lock(&self.state).closed = true;
        // Every waiter (two `next()` calls at once), and a permit for one that is about to wait.
        self.notify.notify_waiters();
        self.notify.notify_one();
    }

    /// True once closed.
    pub fn is_closed(&self) -> bool {
        lock(&self.state).closed
    }

    /// The next batch if one is ready (`None`: nothing yet, or closed and empty).
    pub fn try_batch(&self) -> Option<Batch> {
        let mut s = lock(&self.state);
        if s.items.is_empty() && s.dropped == 0 {
            return None;
        }
        let n = s.items.len().min(MAX_BATCH);
        let items = s.items.drain(..n).collect();
        Some(Batch { items, dropped: std::mem::take(&mut s.dropped) })
    }

    /// Waits for the next batch; `None` once the queue is closed and empty.
    pub async fn next_batch(&self) -> Option<Batch> {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(b) = self.try_batch() {
                return Some(b);
            }
            if self.is_closed() {
                return None;
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn close_ends_after_what_is_left() {
        let q = Arc::new(Queue::new(10));
        q.push("a".into());
        q.close();
        q.push("b".into());
        assert_eq!(q.next_batch().await.unwrap().items.len(), 1);
        assert_eq!(q.next_batch().await, None);
    }

    #[tokio::test]
    async fn close_wakes_every_waiter() {
        let q = Arc::new(Queue::new(10));
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                tokio::spawn({
                    let q = Arc::clone(&q);
                    async move { q.next_batch().await }
                })
            })
            .collect();
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        q.close();
        for w in waiters {
            assert_eq!(tokio::time::timeout(std::time::Duration::from_secs(5), w).await.unwrap().unwrap(), None);
        }
    }

    #[tokio::test]
    async fn a_waiting_consumer_wakes() {
        let q = Arc::new(Queue::new(10));
        let q2 = Arc::clone(&q);
        let t = tokio::spawn(async move { q2.next_batch().await });
        tokio::task::yield_now().await;
        q.push("x".into());
        assert_eq!(&*t.await.unwrap().unwrap().items[0], "x");
    }
}

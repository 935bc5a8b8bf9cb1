//! The memory of events already delivered, so an event seen on two channels during a move reaches
//! subscribers once. Key: `metadata.CorrelationId` when the server sent one, else a hash of the
//! topic and the raw `eventBody`. Bounded: the last [`DEDUPE_KEYS`] keys (a move's overlap lasts
//! seconds; at 1,000 events a second that is still a minute of memory), about 1 MiB at most.

use std::collections::{HashSet, VecDeque};
use std::hash::{BuildHasher, Hash, Hasher};

/// Keys remembered per tenant.
pub const DEDUPE_KEYS: usize = 65_536;

/// The last `capacity` keys, oldest forgotten first.
#[derive(Debug)]
pub struct Seen {
    keys: HashSet<u64>,
    order: VecDeque<u64>,
    capacity: usize,
    hasher: std::collections::hash_map::RandomState,
}

impl Default for Seen {
    fn default() -> Self {
        Seen::with_capacity(DEDUPE_KEYS)
    }
}

impl Seen {
    /// Remembers at most `capacity` keys (at least 1).
    pub fn with_capacity(capacity: usize) -> Seen {
        Seen { keys: HashSet::new(), order: VecDeque::new(), capacity: capacity.max(1), hasher: Default::default() }
    }

    /// True the first time an event is seen (remembered from then on), false for a repeat.
    ///
    /// ```
    /// use genesys_tenants_core::notifications::dedupe::Seen;
    /// let mut s = Seen::with_capacity(2);
    /// assert!(s.first("t", Some("c1"), "{}"));
    /// assert!(!s.first("t", Some("c1"), "{\"other\":1}"), "same CorrelationId");
    /// assert!(s.first("t", None, "{\"seq\":1}"));
    /// assert!(!s.first("t", None, "{\"seq\":1}"), "same topic and body");
    /// ```
    pub fn first(&mut self, topic: &str, correlation_id: Option<&str>, body: &str) -> bool {
        let mut h = self.hasher.build_hasher();
        match correlation_id {
            Some(c) => (0u8, c).hash(&mut h),
            None => (1u8, topic, body).hash(&mut h),
        }
        let key = h.finish();
        if !self.keys.insert(key) {
            return false;
        }
        self.order.push_back(key);
        if self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.keys.remove(&old);
            }
        }
        true
    }

    /// Keys held.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// True when nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_is_bounded_and_forgets_the_oldest() {
        let mut s = Seen::with_capacity(100);
        for i in 0..1000 {
            assert!(s.first("t", Some(&i.to_string()), ""));
        }
        assert_eq!(s.len(), 100);
        assert!(s.first("t", Some("0"), ""), "forgotten");
        assert!(!s.first("t", Some("999"), ""), "remembered");
    }
}

//! The deliveries this process accepted, for replay protection.

use super::Refusal;
use crate::sync::lock;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Live deliveries remembered in process. Past this many, new deliveries are refused
/// ([`Refusal::Busy`]) rather than an unexpired one forgotten.
pub const SEEN_CAPACITY: usize = 10_000;

/// Delivery ids accepted in this process, each remembered strictly longer than it can be accepted
/// (until after [`super::Delivery::acceptable_until_ms`]); bounded by [`SEEN_CAPACITY`] live ids, past
/// which new deliveries are refused, never an unexpired id forgotten.
#[derive(Debug, Default)]
pub struct SeenDeliveries {
    inner: Mutex<Seen>,
}

/// Delivery id → last acceptable instant (Unix ms), and the ids in the order they came.
#[derive(Debug, Default)]
struct Seen {
    until: HashMap<String, u64>,
    order: VecDeque<(u64, String)>,
}

impl SeenDeliveries {
    /// Records `id`, acceptable until `until_ms` inclusive. `Err(Replayed)` if it was there,
    /// `Err(Busy)` when [`SEEN_CAPACITY`] live ids are remembered already.
    pub fn first_time(&self, id: &str, until_ms: u64, now_ms: u64) -> Result<(), Refusal> {
        let mut g = lock(&self.inner);
        let Seen { until: map, order } = &mut *g;
        // Deliveries come in timestamp order only roughly: drop what has expired at the front, and
        // leave a later expired one to when it reaches the front (a harmless, bounded delay).
        while let Some((until, old)) = order.front() {
            if *until >= now_ms {
                break;
            }
            map.remove(old);
            order.pop_front();
        }
        if map.contains_key(id) {
            return Err(Refusal::Replayed);
        }
        if map.len() >= SEEN_CAPACITY {
            return Err(Refusal::Busy);
        }
        map.insert(id.to_string(), until_ms);
        order.push_back((until_ms, id.to_string()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::sign;
    use super::super::tests::{settings, NOW};
    use super::*;

    #[test]
    fn a_delivery_is_accepted_once_and_forgotten_after_its_window() {
        let seen = SeenDeliveries::default();
        assert_eq!(seen.first_time("abc", 2_000, 1_000), Ok(()));
        assert_eq!(seen.first_time("abc", 2_000, 1_500), Err(Refusal::Replayed));
        assert_eq!(seen.first_time("def", 3_000, 1_500), Ok(()));
        assert_eq!(seen.first_time("abc", 4_000, 2_500), Ok(()), "forgotten once its window passed (it would be stale anyway)");
    }

    /// The last millisecond verify() accepts is a millisecond the delivery is still remembered
    /// (issue 23, item 5: it was forgotten at `now == t + tolerance`).
    #[test]
    fn a_delivery_is_remembered_through_the_last_instant_it_is_accepted() {
        let s = settings();
        let body = br#"{"tenantId":"acme"}"#;
        let h = sign(&s.secret, NOW, body);
        let first = s.verify(Some(&h), body, NOW * 1000).unwrap();
        let edge = first.acceptable_until_ms;
        assert_eq!(edge, NOW * 1000 + 300_000);
        let seen = SeenDeliveries::default();
        assert_eq!(seen.first_time(&first.id, edge, NOW * 1000), Ok(()));
        for now in [edge - 1, edge] {
            let again = s.verify(Some(&h), body, now).expect("still fresh");
            assert_eq!(seen.first_time(&again.id, again.acceptable_until_ms, now), Err(Refusal::Replayed), "at {now}");
        }
        assert_eq!(s.verify(Some(&h), body, edge + 1).unwrap_err(), Refusal::Stale { tolerance_ms: 300_000 });
    }

    #[test]
    fn past_its_capacity_the_memory_refuses_instead_of_forgetting() {
        let seen = SeenDeliveries::default();
        for i in 0..SEEN_CAPACITY {
            assert_eq!(seen.first_time(&i.to_string(), 10_000, 0), Ok(()));
        }
        assert_eq!(seen.first_time("one-more", 10_000, 0), Err(Refusal::Busy));
        assert_eq!(seen.first_time("0", 10_000, 5_000), Err(Refusal::Replayed), "the oldest is still remembered");
        assert_eq!(seen.first_time("one-more", 20_000, 10_001), Ok(()), "room again once they expire");
    }
}

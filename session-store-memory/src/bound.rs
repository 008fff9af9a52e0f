//! The store-wide bound on sessions: a count of the entries in every shard, and a slot taken
//! before an entry is added, so the store never holds more than `max` and never evicts below it;
//! and a count of the entries without a subject, so eviction knows store-wide whether an
//! anonymous session is left to go before a signed-in one.

use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug)]
pub(crate) struct Bound {
    count: AtomicUsize,
    max: usize,
    anonymous: AtomicUsize,
}

impl Bound {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            count: AtomicUsize::new(0),
            max,
            anonymous: AtomicUsize::new(0),
        }
    }

    /// Takes a slot for a new entry; `false` when the store is full.
    pub(crate) fn reserve(&self) -> bool {
        self.count
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .is_ok()
    }

    /// Gives back the slot of an entry that left its shard.
    pub(crate) fn release(&self) {
        self.count.fetch_sub(1, Ordering::AcqRel);
    }

    /// An entry without a subject was added.
    pub(crate) fn anonymous_added(&self) {
        self.anonymous.fetch_add(1, Ordering::AcqRel);
    }

    /// An entry without a subject left, or gained a subject.
    pub(crate) fn anonymous_gone(&self) {
        self.anonymous.fetch_sub(1, Ordering::AcqRel);
    }

    /// Whether any shard holds an entry without a subject.
    pub(crate) fn has_anonymous(&self) -> bool {
        self.anonymous.load(Ordering::Acquire) > 0
    }

    /// Entries held, expired ones not yet removed included.
    pub(crate) fn held(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }
}

//! The store-wide bound on sessions: a count of the entries in every shard, and a slot taken
//! before an entry is added, so the store never holds more than `max` and never evicts below it.

use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug)]
pub(crate) struct Bound {
    count: AtomicUsize,
    max: usize,
}

impl Bound {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            count: AtomicUsize::new(0),
            max,
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

    /// Entries held, expired ones not yet removed included.
    pub(crate) fn held(&self) -> usize {
        self.count.load(Ordering::Acquire)
    }
}

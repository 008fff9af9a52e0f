//! The subject index: subject to the ids bound to it.
//!
//! Lock order: a shard lock may be held while this index is locked, never the reverse, so the two
//! kinds of locks cannot deadlock. Nothing awaits while either is held, which is why plain std
//! mutexes fit.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use session_core::SessionId;

use crate::sync::lock;

#[derive(Debug, Default)]
pub(crate) struct Subjects(Mutex<HashMap<String, HashSet<SessionId>>>);

impl Subjects {
    /// Moves `id` from `old` (if any) to `new`.
    pub(crate) fn rebind(&self, id: SessionId, old: Option<&str>, new: &str) {
        let mut map = lock(&self.0);
        if let Some(old) = old {
            remove(&mut map, old, &id);
        }
        map.entry(new.to_owned()).or_default().insert(id);
    }

    /// Forgets `id` under `subject`.
    pub(crate) fn unbind(&self, subject: &str, id: &SessionId) {
        remove(&mut lock(&self.0), subject, id);
    }

    /// The ids bound to `subject`, possibly including some that just expired.
    pub(crate) fn ids(&self, subject: &str) -> Vec<SessionId> {
        lock(&self.0)
            .get(subject)
            .map(|ids| ids.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Removes `subject` and returns the ids it had.
    pub(crate) fn take(&self, subject: &str) -> HashSet<SessionId> {
        lock(&self.0).remove(subject).unwrap_or_default()
    }
}

fn remove(map: &mut HashMap<String, HashSet<SessionId>>, subject: &str, id: &SessionId) {
    if let Some(ids) = map.get_mut(subject) {
        ids.remove(id);
        if ids.is_empty() {
            map.remove(subject);
        }
    }
}

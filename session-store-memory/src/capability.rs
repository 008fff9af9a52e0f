//! The memory store's optional capabilities: [`SubjectIndex`] and [`Enumerate`].

use std::time::Instant;

use session_core::{Enumerate, SessionId, StoreError, SubjectIndex, async_trait, validate_subject};

use crate::MemoryStore;
use crate::shard::{self, Shard, live};
use crate::sync::lock;

#[async_trait]
impl SubjectIndex for MemoryStore {
    async fn bind_subject(&self, id: &SessionId, subject: &str) -> Result<bool, StoreError> {
        validate_subject(subject)?;
        let mut cache = lock(self.shard(id));
        let Some(entry) = live(&mut cache, self.books(), id, Instant::now()) else {
            return Ok(false);
        };
        let old = entry.subject.replace(subject.to_owned());
        if old.is_none() {
            self.books().bound.anonymous_gone();
        }
        self.subjects.rebind(*id, old.as_deref(), subject);
        Ok(true)
    }

    async fn subject_sessions(&self, subject: &str) -> Result<Vec<SessionId>, StoreError> {
        validate_subject(subject)?;
        let now = Instant::now();
        let mut out = Vec::new();
        for id in self.subjects.ids(subject) {
            let mut cache = lock(self.shard(&id));
            let bound = cache
                .peek(&id)
                .is_some_and(|e| e.subject.as_deref() == Some(subject));
            // `live` also drops the binding of a session found expired here.
            if bound && live(&mut cache, self.books(), &id, now).is_some() {
                out.push(id);
            }
        }
        Ok(out)
    }

    async fn revoke_subject(&self, subject: &str) -> Result<u64, StoreError> {
        validate_subject(subject)?;
        let now = Instant::now();
        let mut ended = 0;
        for id in self.subjects.take(subject) {
            let mut cache = lock(self.shard(&id));
            // A session rebound to another subject since `take` is no longer this subject's.
            if cache
                .peek(&id)
                .is_some_and(|e| e.subject.as_deref() == Some(subject))
                && shard::remove(&mut cache, self.books(), &id).is_some_and(|e| e.is_live(now))
            {
                ended += 1;
            }
        }
        Ok(ended)
    }
}

#[async_trait]
impl Enumerate for MemoryStore {
    async fn count(&self) -> Result<u64, StoreError> {
        let now = Instant::now();
        let live_in =
            |shard: &Shard| lock(shard).iter().filter(|(_, e)| e.is_live(now)).count() as u64;
        Ok(self.shards().iter().map(live_in).sum())
    }

    async fn ids(&self) -> Result<Vec<SessionId>, StoreError> {
        let now = Instant::now();
        let mut out = Vec::new();
        for shard in self.shards() {
            let cache = lock(shard);
            out.extend(
                cache
                    .iter()
                    .filter(|(_, e)| e.is_live(now))
                    .map(|(id, _)| *id),
            );
        }
        Ok(out)
    }
}

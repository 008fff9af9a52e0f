//! Optional capabilities beyond [`Store`]: each a separate trait with its own conformance cases,
//! so a minimal store implements `Store` alone.

use async_trait::async_trait;

use crate::{SessionId, Store, StoreError, Value};

/// Sessions indexed by subject (a user id), so a user's sessions can be listed and revoked.
///
/// # Contract
/// - A session is bound to at most one subject; binding again moves it.
/// - Only live sessions are listed: a session that expired or was removed with
///   [`Store::del_all`] disappears from its subject's list without any cleanup having run.
/// - A binding ends with its session (expiry, [`Store::del_all`], [`Store::take`], a revoke): a
///   session started again under the same id by any creating write ([`Store::set`],
///   [`Store::set_many`], [`Store::incr`], [`Store::compare_and_set`]) is unbound, and a revoke of
///   the old subject neither counts nor ends it.
/// - Subjects are compared exactly, like keys: no subject is a pattern or prefix of another.
/// - Subjects are checked with [`validate_subject`](crate::validate_subject) before any I/O.
#[async_trait]
pub trait SubjectIndex: Store {
    /// Binds live session `id` to `subject` and returns `true`; returns `false` and binds nothing
    /// when the session is missing or expired. The session's expiry is not moved.
    async fn bind_subject(&self, id: &SessionId, subject: &str) -> Result<bool, StoreError>;

    /// The live sessions bound to `subject`, in no particular order.
    async fn subject_sessions(&self, subject: &str) -> Result<Vec<SessionId>, StoreError>;

    /// The live sessions bound to `subject`, each with the value of `key` in it (`None` when the
    /// session lacks the key), in no particular order: what listing a user's sessions reads.
    ///
    /// The provided body lists the sessions, then reads the key of all of them at once
    /// ([`Store::get_many`], concurrently), dropping a session that ended in between: correct,
    /// and as many requests as sessions. The backends of this family override it with one query
    /// (SQL stores) or one listing and one concurrent batch (Redis).
    async fn subject_sessions_with(
        &self,
        subject: &str,
        key: &str,
    ) -> Result<Vec<(SessionId, Option<Value>)>, StoreError> {
        crate::validate_key(key, crate::KeyKind::Store)?;
        let ids = self.subject_sessions(subject).await?;
        let keys = [key];
        let reads = ids.iter().map(|id| self.get_many(id, &keys, None));
        let read = futures::future::try_join_all(reads).await?;
        Ok(ids
            .into_iter()
            .zip(read)
            .filter_map(|(id, values)| Some((id, values?.pop().flatten())))
            .collect())
    }

    /// Removes every session bound to `subject`, as [`Store::del_all`] would, and returns how many
    /// live sessions it ended.
    async fn revoke_subject(&self, subject: &str) -> Result<u64, StoreError>;
}

/// Physical removal of expired sessions, for backends that do not expire data by themselves
/// (SQL tables). Expired data is already invisible to reads; this reclaims its space.
///
/// Run it periodically with [`spawn_cleanup`](crate::spawn_cleanup).
///
/// # Contract
/// - Only expired sessions are removed; a live session is never touched.
/// - One call removes at most `batch` sessions, so it never holds locks for long, and exactly
///   `batch` while at least that many are expired (fewer tells the caller none are left, which
///   [`delete_all_expired`](crate::delete_all_expired) relies on); it returns how many it removed. Several callers (several app instances) may run it at once without deadlock,
///   and each expired session is removed once.
#[async_trait]
pub trait ExpiredCleanup: Store {
    /// Removes up to `batch` expired sessions and returns how many it removed.
    async fn delete_expired(&self, batch: usize) -> Result<u64, StoreError>;
}

/// Listing every live session, for backends that can do it cheaply.
///
/// # Contract
/// Expired and removed sessions are neither counted nor listed.
#[async_trait]
pub trait Enumerate: Store {
    /// The number of live sessions.
    async fn count(&self) -> Result<u64, StoreError>;

    /// The ids of every live session, in no particular order.
    async fn ids(&self) -> Result<Vec<SessionId>, StoreError>;
}

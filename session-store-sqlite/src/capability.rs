//! The SQLite store's optional capabilities: [`SubjectIndex`], [`ExpiredCleanup`], [`Enumerate`].

use session_core::{
    Enumerate, ExpiredCleanup, KeyKind, SessionId, StoreError, SubjectIndex, Value, async_trait,
    validate_key, validate_subject,
};

use crate::SqliteStore;
use crate::clock::now_ms;
use crate::queries;

#[async_trait]
impl SubjectIndex for SqliteStore {
    async fn bind_subject(&self, id: &SessionId, subject: &str) -> Result<bool, StoreError> {
        validate_subject(subject)?;
        let (id, subject) = (*id, subject.to_owned());
        self.run("bind_subject", move |conn| {
            queries::bind_subject(conn, &id, &subject, now_ms())
        })
        .await
    }

    async fn subject_sessions(&self, subject: &str) -> Result<Vec<SessionId>, StoreError> {
        validate_subject(subject)?;
        let subject = subject.to_owned();
        self.run("subject_sessions", move |conn| {
            queries::subject_sessions(conn, &subject, now_ms())
        })
        .await
    }

    async fn subject_sessions_with(
        &self,
        subject: &str,
        key: &str,
    ) -> Result<Vec<(SessionId, Option<Value>)>, StoreError> {
        validate_subject(subject)?;
        validate_key(key, KeyKind::Store)?;
        let (subject, key) = (subject.to_owned(), key.to_owned());
        self.run("subject_sessions_with", move |conn| {
            queries::subject_sessions_with(conn, &subject, &key, now_ms())
        })
        .await
    }

    async fn revoke_subject(&self, subject: &str) -> Result<u64, StoreError> {
        validate_subject(subject)?;
        let subject = subject.to_owned();
        self.run("revoke_subject", move |conn| {
            queries::revoke_subject(conn, &subject, now_ms())
        })
        .await
    }
}

#[async_trait]
impl ExpiredCleanup for SqliteStore {
    async fn delete_expired(&self, batch: usize) -> Result<u64, StoreError> {
        self.run("delete_expired", move |conn| {
            queries::delete_expired(conn, now_ms(), batch)
        })
        .await
    }
}

#[async_trait]
impl Enumerate for SqliteStore {
    async fn count(&self) -> Result<u64, StoreError> {
        self.run("count", |conn| queries::count(conn, now_ms()))
            .await
    }

    async fn ids(&self) -> Result<Vec<SessionId>, StoreError> {
        self.run("ids", |conn| queries::ids(conn, now_ms())).await
    }
}

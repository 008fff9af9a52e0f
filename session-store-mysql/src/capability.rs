//! The MySQL store's optional capabilities: [`SubjectIndex`], [`ExpiredCleanup`],
//! [`Enumerate`].

use session_core::{
    Enumerate, ExpiredCleanup, KeyKind, SessionId, StoreError, SubjectIndex, Value, async_trait,
    decode_listed, validate_key, validate_subject,
};

use crate::MySqlStore;
use crate::error::Result;

fn to_ids(rows: Vec<Vec<u8>>) -> Vec<SessionId> {
    rows.into_iter()
        .filter_map(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .map(SessionId::from_bytes)
        .collect()
}

impl MySqlStore {
    async fn ids_where(
        &self,
        context: &'static str,
        sql: &sqlx::SqlStr,
        subject: Option<&str>,
    ) -> std::result::Result<Vec<SessionId>, StoreError> {
        self.op(context, || async {
            let mut query = sqlx::query_scalar::<_, Vec<u8>>(sql.clone());
            if let Some(subject) = subject {
                query = query.bind(subject);
            }
            Result::Ok(to_ids(query.fetch_all(self.pool()).await?))
        })
        .await
    }
}

#[async_trait]
impl SubjectIndex for MySqlStore {
    async fn bind_subject(
        &self,
        id: &SessionId,
        subject: &str,
    ) -> std::result::Result<bool, StoreError> {
        validate_subject(subject)?;
        self.op("bind_subject", || async {
            let done = sqlx::query(self.queries().bind_subject.clone())
                .bind(subject)
                .bind(id.as_bytes().as_slice())
                .execute(self.pool())
                .await?;
            Ok(done.rows_affected() == 1)
        })
        .await
    }

    async fn subject_sessions(
        &self,
        subject: &str,
    ) -> std::result::Result<Vec<SessionId>, StoreError> {
        validate_subject(subject)?;
        self.ids_where(
            "subject_sessions",
            &self.queries().subject_sessions,
            Some(subject),
        )
        .await
    }

    async fn subject_sessions_with(
        &self,
        subject: &str,
        key: &str,
    ) -> std::result::Result<Vec<(SessionId, Option<Value>)>, StoreError> {
        validate_subject(subject)?;
        validate_key(key, KeyKind::Store)?;
        self.op("subject_sessions_with", || async {
            let rows: Vec<(Vec<u8>, Option<String>)> =
                sqlx::query_as(self.queries().subject_sessions_with.clone())
                    .bind(crate::queries::path(key))
                    .bind(subject)
                    .fetch_all(self.pool())
                    .await?;
            Ok::<_, crate::error::MySqlError>(decode_listed(rows)?)
        })
        .await
    }

    async fn revoke_subject(&self, subject: &str) -> std::result::Result<u64, StoreError> {
        validate_subject(subject)?;
        // Removes the live sessions and counts them; expired ones still bound are cleanup's, and
        // a `set` that starts one again unbinds it.
        self.op("revoke_subject", || async {
            let done = sqlx::query(self.queries().revoke.clone())
                .bind(subject)
                .execute(self.pool())
                .await?;
            Ok(done.rows_affected())
        })
        .await
    }
}

#[async_trait]
impl ExpiredCleanup for MySqlStore {
    /// Picks up to `batch` expired sessions with a plain read (no locks), then deletes those by
    /// primary key, each only if still expired once its row is locked. So cleaners never hold gap
    /// or range locks (InnoDB takes them for a ranged `DELETE` at `REPEATABLE READ`), rows are
    /// locked in key order (no deadlock between cleaners), and a session a writer revived in
    /// between stays.
    async fn delete_expired(&self, batch: usize) -> std::result::Result<u64, StoreError> {
        if batch == 0 {
            return Ok(0);
        }
        let limit = i64::try_from(batch).unwrap_or(i64::MAX);
        self.op("delete_expired", || async {
            let ids: Vec<Vec<u8>> = sqlx::query_scalar(self.queries().expired_ids.clone())
                .bind(limit)
                .fetch_all(self.pool())
                .await?;
            if ids.is_empty() {
                return Ok(0);
            }
            let mut delete = sqlx::query(self.queries().delete_expired(ids.len()));
            for id in &ids {
                delete = delete.bind(id.as_slice());
            }
            Ok(delete.execute(self.pool()).await?.rows_affected())
        })
        .await
    }
}

#[async_trait]
impl Enumerate for MySqlStore {
    async fn count(&self) -> std::result::Result<u64, StoreError> {
        self.op("count", || async {
            let count: i64 = sqlx::query_scalar(self.queries().count.clone())
                .fetch_one(self.pool())
                .await?;
            Result::Ok(count.unsigned_abs())
        })
        .await
    }

    async fn ids(&self) -> std::result::Result<Vec<SessionId>, StoreError> {
        self.ids_where("ids", &self.queries().ids, None).await
    }
}

//! The PostgreSQL store's optional capabilities: [`SubjectIndex`], [`ExpiredCleanup`],
//! [`Enumerate`].

use session_core::{
    Enumerate, ExpiredCleanup, KeyKind, SessionId, StoreError, SubjectIndex, Value, async_trait,
    decode_listed, document_member, validate_key, validate_subject,
};

use crate::PostgresStore;
use crate::error::Result;

fn to_ids(rows: Vec<Vec<u8>>) -> Vec<SessionId> {
    rows.into_iter()
        .filter_map(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .map(SessionId::from_bytes)
        .collect()
}

impl PostgresStore {
    async fn ids_where(
        &self,
        context: &'static str,
        sql: sqlx::SqlStr,
        subject: Option<&str>,
    ) -> std::result::Result<Vec<SessionId>, StoreError> {
        self.op(context, async {
            let mut query = sqlx::query_scalar::<_, Vec<u8>>(sql);
            if let Some(subject) = subject {
                query = query.bind(subject);
            }
            Ok::<_, crate::error::PgError>(to_ids(query.fetch_all(self.pool()).await?))
        })
        .await
    }
}

#[async_trait]
impl SubjectIndex for PostgresStore {
    async fn bind_subject(
        &self,
        id: &SessionId,
        subject: &str,
    ) -> std::result::Result<bool, StoreError> {
        validate_subject(subject)?;
        self.op("bind_subject", async {
            let done = sqlx::query(self.queries().bind_subject.clone())
                .bind(id.as_bytes().as_slice())
                .bind(subject)
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
            self.queries().subject_sessions.clone(),
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
        self.op("subject_sessions_with", async {
            let rows: Vec<(Vec<u8>, Option<String>)> =
                sqlx::query_as(self.queries().subject_sessions_with.clone())
                    .bind(subject)
                    .bind(document_member(key))
                    .fetch_all(self.pool())
                    .await?;
            Ok::<_, crate::error::PgError>(decode_listed(rows)?)
        })
        .await
    }

    async fn revoke_subject(&self, subject: &str) -> std::result::Result<u64, StoreError> {
        validate_subject(subject)?;
        self.op("revoke_subject", async {
            let live: i64 = sqlx::query_scalar(self.queries().revoke.clone())
                .bind(subject)
                .fetch_one(self.pool())
                .await?;
            Ok(live.unsigned_abs())
        })
        .await
    }
}

#[async_trait]
impl ExpiredCleanup for PostgresStore {
    async fn delete_expired(&self, batch: usize) -> std::result::Result<u64, StoreError> {
        let batch = i32::try_from(batch).unwrap_or(i32::MAX);
        self.op("delete_expired", async {
            let done = sqlx::query(self.queries().delete_expired.clone())
                .bind(batch)
                .execute(self.pool())
                .await?;
            Result::Ok(done.rows_affected())
        })
        .await
    }
}

#[async_trait]
impl Enumerate for PostgresStore {
    async fn count(&self) -> std::result::Result<u64, StoreError> {
        self.op("count", async {
            let count: i64 = sqlx::query_scalar(self.queries().count.clone())
                .fetch_one(self.pool())
                .await?;
            Result::Ok(count.unsigned_abs())
        })
        .await
    }

    async fn ids(&self) -> std::result::Result<Vec<SessionId>, StoreError> {
        self.ids_where("ids", self.queries().ids.clone(), None)
            .await
    }
}

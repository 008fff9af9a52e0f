//! The Redis store's optional capability: [`SubjectIndex`].
//!
//! A subject's index is a sorted set in its own slot (`<prefix>subject:{<subject>}`), members the
//! sessions' hex ids, scored by bind time. The session's hash holds the binding itself, so the
//! index is only a list of candidates: listing checks each candidate's hash and prunes members
//! whose session is gone or bound elsewhere. Every command touches one slot, so this works on a
//! cluster without CROSSSLOT errors.

use futures::future::try_join_all;
use session_core::{
    KeyKind, SessionId, StoreError, SubjectIndex, Value, async_trait, validate_key,
    validate_subject,
};

use crate::RedisStore;
use crate::error::Result;
use crate::keys::SUBJECT;
use crate::script;
use crate::sweep::now_ms;

impl RedisStore {
    /// The live sessions bound to `subject`, each with the stored text of `key` when one is
    /// asked: the index's candidates, each checked against its hash (one `HMGET` per candidate,
    /// all at once); candidates whose session is gone or bound elsewhere are pruned.
    async fn listed(
        &self,
        subject: &str,
        key: Option<&str>,
    ) -> Result<Vec<(SessionId, Option<String>)>> {
        let index = self.keys.subject(subject);
        let candidates = self.candidates(&index).await?;
        let checks = candidates.iter().map(|id| {
            let mut conn = self.connection.clone();
            let hash = self.keys.session(id);
            async move {
                let mut fields: Vec<Option<String>> = redis::cmd("HMGET")
                    .arg(&hash)
                    .arg(SUBJECT)
                    .arg(key.unwrap_or(SUBJECT))
                    .query_async(&mut conn)
                    .await?;
                let value = fields.pop().flatten().filter(|_| key.is_some());
                let live = fields.pop().flatten().as_deref() == Some(subject);
                Result::Ok((*id, live, value))
            }
        });
        let checked = try_join_all(checks).await?;
        let stale: Vec<String> = checked
            .iter()
            .filter(|(_, live, _)| !live)
            .map(|(id, _, _)| id.to_hex())
            .collect();
        if !stale.is_empty() {
            let mut conn = self.connection.clone();
            let _: i64 = redis::cmd("ZREM")
                .arg(&index)
                .arg(&stale)
                .query_async(&mut conn)
                .await?;
        }
        Ok(checked
            .into_iter()
            .filter(|(_, live, _)| *live)
            .map(|(id, _, value)| (id, value))
            .collect())
    }

    /// The index's candidates, as ids.
    pub(crate) async fn candidates(&self, index: &str) -> Result<Vec<SessionId>> {
        let mut conn = self.connection.clone();
        let members: Vec<String> = redis::cmd("ZRANGE")
            .arg(index)
            .arg(0)
            .arg(-1)
            .query_async(&mut conn)
            .await?;
        Ok(members
            .iter()
            .filter_map(|m| SessionId::from_hex(m).ok())
            .collect())
    }
}

#[async_trait]
impl SubjectIndex for RedisStore {
    async fn bind_subject(
        &self,
        id: &SessionId,
        subject: &str,
    ) -> std::result::Result<bool, StoreError> {
        validate_subject(subject)?;
        let mut conn = self.connection.clone();
        let (hash, index) = (self.keys.session(id), self.keys.subject(subject));
        self.op_on("bind_subject", &hash, async {
            let old: Option<String> = script::BIND
                .key(&hash)
                .arg(subject)
                .arg(SUBJECT)
                .invoke_async(&mut conn)
                .await?;
            let Some(old) = old else { return Ok(false) };
            let member = id.to_hex();
            let _: i64 = redis::cmd("ZADD")
                .arg(&index)
                .arg(now_ms())
                .arg(&member)
                .query_async(&mut conn)
                .await?;
            if !old.is_empty() && old != subject {
                let old_index = self.keys.subject(&old);
                let _: i64 = redis::cmd("ZREM")
                    .arg(&old_index)
                    .arg(&member)
                    .query_async(&mut conn)
                    .await?;
            }
            // After the member is in the index (the sweep relies on that order).
            let pttl: i64 = redis::cmd("PTTL").arg(&hash).query_async(&mut conn).await?;
            let deadline = now_ms() + pttl.max(0) as u64;
            self.register_and_sweep(subject, deadline).await?;
            Ok(true)
        })
        .await
    }

    async fn subject_sessions(
        &self,
        subject: &str,
    ) -> std::result::Result<Vec<SessionId>, StoreError> {
        validate_subject(subject)?;
        let listed = self
            .op("subject_sessions", self.listed(subject, None))
            .await?;
        Ok(listed.into_iter().map(|(id, _)| id).collect())
    }

    async fn subject_sessions_with(
        &self,
        subject: &str,
        key: &str,
    ) -> std::result::Result<Vec<(SessionId, Option<Value>)>, StoreError> {
        validate_subject(subject)?;
        validate_key(key, KeyKind::Store)?;
        self.op("subject_sessions_with", async {
            let listed = self.listed(subject, Some(key)).await?;
            listed
                .into_iter()
                .map(|(id, text)| Ok((id, text.as_deref().map(serde_json::from_str).transpose()?)))
                .collect::<Result<Vec<_>>>()
        })
        .await
    }

    async fn revoke_subject(&self, subject: &str) -> std::result::Result<u64, StoreError> {
        validate_subject(subject)?;
        let index = self.keys.subject(subject);
        let ended = self
            .op("revoke_subject", async {
                let candidates = self.candidates(&index).await?;
                let revokes = candidates.iter().map(|id| {
                    let mut conn = self.connection.clone();
                    let hash = self.keys.session(id);
                    async move {
                        let gone: i64 = script::REVOKE_ONE
                            .key(&hash)
                            .arg(subject)
                            .arg(SUBJECT)
                            .invoke_async(&mut conn)
                            .await?;
                        Result::Ok(gone as u64)
                    }
                });
                let ended: u64 = try_join_all(revokes).await?.into_iter().sum();
                let mut conn = self.connection.clone();
                let _: i64 = redis::cmd("DEL").arg(&index).query_async(&mut conn).await?;
                Ok(ended)
            })
            .await;
        // Which sessions ended is known to the server only: forget every cached reply here at
        // once (the call may also have stopped halfway) rather than wait for its invalidations.
        self.forget_cached();
        ended
    }
}

//! Subject indexes of users who never return: found through a registry and removed once none of
//! their sessions is left.
//!
//! A subject's index (a sorted set) cannot simply expire: its sessions extend themselves on
//! every visit, and an index gone before its last session would hide that session from a
//! revocation. So each bind also records the subject in one registry (`<prefix>subjects`, a sorted
//! set scored by when the subject's newest known session would expire), and sweeps a few
//! subjects whose score has passed: it checks their candidates, drops the dead ones (an index
//! with no member left is gone, as Redis removes empty sets), and gives a subject with live
//! sessions a new score from their remaining lifetimes. An index with a live session is never
//! removed, so nothing a revocation must find is lost; an index whose users never come back is
//! gone at the first bind after its last session expired.

use std::time::{SystemTime, UNIX_EPOCH};

use futures::future::try_join_all;

use crate::RedisStore;
use crate::error::Result;
use crate::keys::SUBJECT;

/// How many subjects one bind sweeps at most: small, so a login never pays for a backlog.
pub(crate) const SWEEP_BATCH: usize = 8;

/// The score of a subject whose index was found non-empty with no live session in it (a bind
/// raced the sweep): looked at again a minute later.
const RECHECK_MS: u64 = 60_000;

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl RedisStore {
    /// Records that `subject` has a session living until at least `deadline_ms` (a score only
    /// ever raised), then sweeps up to [`SWEEP_BATCH`] subjects whose score has passed; returns
    /// how many indexes it removed.
    pub(crate) async fn register_and_sweep(&self, subject: &str, deadline_ms: u64) -> Result<u64> {
        let mut conn = self.connection.clone();
        let registry = self.keys.subjects();
        let (_, due): (i64, Vec<String>) = redis::pipe()
            .cmd("ZADD")
            .arg(&registry)
            .arg("GT")
            .arg(deadline_ms)
            .arg(subject)
            .cmd("ZRANGEBYSCORE")
            .arg(&registry)
            .arg("-inf")
            .arg(now_ms())
            .arg("LIMIT")
            .arg(0)
            .arg(SWEEP_BATCH)
            .query_async(&mut conn)
            .await?;
        let swept = due.iter().map(|subject| self.sweep_subject(subject));
        Ok(try_join_all(swept).await?.into_iter().sum())
    }

    /// Looks at one subject past its score: drops the index members whose session is gone or
    /// bound elsewhere, and either forgets the subject (no index left) or scores it by its
    /// sessions' remaining lifetimes. Returns 1 when the index is gone.
    async fn sweep_subject(&self, subject: &str) -> Result<u64> {
        let index = self.keys.subject(subject);
        let registry = self.keys.subjects();
        let candidates = self.candidates(&index).await?;
        let checks = candidates.iter().map(|id| {
            let mut conn = self.connection.clone();
            let hash = self.keys.session(id);
            async move {
                let (bound, pttl): (Option<String>, i64) = redis::pipe()
                    .cmd("HGET")
                    .arg(&hash)
                    .arg(SUBJECT)
                    .cmd("PTTL")
                    .arg(&hash)
                    .query_async(&mut conn)
                    .await?;
                let live = bound.as_deref() == Some(subject) && pttl > 0;
                Result::Ok((id.to_hex(), live.then_some(pttl as u64)))
            }
        });
        let checked = try_join_all(checks).await?;
        let dead: Vec<&String> = checked
            .iter()
            .filter(|(_, live)| live.is_none())
            .map(|(member, _)| member)
            .collect();
        let mut conn = self.connection.clone();
        let left: i64 = if dead.is_empty() {
            redis::cmd("ZCARD")
                .arg(&index)
                .query_async(&mut conn)
                .await?
        } else {
            let (_, left): (i64, i64) = redis::pipe()
                .cmd("ZREM")
                .arg(&index)
                .arg(&dead)
                .cmd("ZCARD")
                .arg(&index)
                .query_async(&mut conn)
                .await?;
            left
        };
        let longest = checked.iter().filter_map(|(_, live)| *live).max();
        if left > 0 {
            let deadline = now_ms() + longest.unwrap_or(RECHECK_MS);
            let _: i64 = redis::cmd("ZADD")
                .arg(&registry)
                .arg("GT")
                .arg(deadline)
                .arg(subject)
                .query_async(&mut conn)
                .await?;
            return Ok(0);
        }
        // The index is gone (Redis removes an empty set). A bind racing this adds its member to
        // the index before it registers the subject, so it is either seen here or registers
        // after this removal.
        let _: i64 = redis::cmd("ZREM")
            .arg(&registry)
            .arg(subject)
            .query_async(&mut conn)
            .await?;
        let exists: i64 = redis::cmd("EXISTS")
            .arg(&index)
            .query_async(&mut conn)
            .await?;
        if exists > 0 {
            let _: i64 = redis::cmd("ZADD")
                .arg(&registry)
                .arg("GT")
                .arg(now_ms() + RECHECK_MS)
                .arg(subject)
                .query_async(&mut conn)
                .await?;
            return Ok(0);
        }
        Ok(1)
    }
}

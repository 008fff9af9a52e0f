//! The `Store` trait: the per-key storage contract every backend keeps.

use std::time::Duration;

use async_trait::async_trait;

use crate::{SessionId, StoreError};

/// A session's data: string keys to JSON values.
pub type Map = serde_json::Map<String, serde_json::Value>;

/// A JSON value stored under one key.
pub type Value = serde_json::Value;

/// One change in a [`Store::set_many`] batch.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Set `key` to the value, as [`Store::set`].
    Set(String, Value),
    /// Remove `key`, as [`Store::del`].
    Del(String),
}

impl Change {
    /// The key this change touches.
    pub fn key(&self) -> &str {
        match self {
            Self::Set(key, _) | Self::Del(key) => key,
        }
    }
}

/// Per-key session storage.
///
/// A store is deliberately small: it knows nothing of tokens, cookies or users, only of sessions
/// (named by a [`SessionId`]) holding JSON values under string keys, each session with one expiry.
///
/// # Contract
///
/// Every implementation keeps all of these rules; the `conformance-tests` crate has a case for
/// each one, and a store is ready when `conformance_tests::store_suite!` passes.
///
/// **Existence.** A session exists from its first `set` (or a `set_many` holding a `Set`) until
/// [`del_all`](Store::del_all) or its expiry. [`update`](Store::update),
/// [`incr_live`](Store::incr_live) and [`compare_and_set_live`](Store::compare_and_set_live)
/// write only to a live session and never create one. `get` and `get_all` on a missing or expired session
/// answer `Ok(None)`, never an error. `get_all` of a live session with no keys left answers
/// `Ok(Some(empty map))`. `del`, `del_all`, `take` and `extend` never create a session.
///
/// **Expiry.** Expiry is per session, on one clock for every instance: the backend's (the
/// database or cache server's own time) where there is a server, else the process's (the memory
/// store; SQLite files, which several processes on one machine share, use the system clock).
/// Instances on machines whose clocks differ must not decide expiry by their own clocks. `set`, `del`, `set_many`, `update` and `extend` move it to
/// now + `ttl` (when the session exists after the operation); `get` and `get_all` move it only when
/// `touch` is `Some(ttl)`, so a read need not be a write. Expired data is never returned, whether or
/// not any cleanup ran, and a `set` on an expired session starts an empty session: nothing from
/// before the expiry comes back. `extend` on a missing or expired session returns `false` and
/// creates nothing.
///
/// **Atomicity.** Every operation on one key is atomic, and writes to different keys of one session
/// never lose each other, under any concurrency, across processes and across store instances
/// sharing the backend. Reading a session (or a key), changing it and writing it back is allowed
/// only where the backend serializes it for every writer: a row lock, a server-side script or
/// transaction, a lock every process takes (a file lock, say). A lock held only inside one store
/// instance does not count: a second instance, in another process or the same one, does not take
/// it, and the two lose each other's writes; unserialized read-change-write is the bug this rule
/// forbids. [`incr`](Store::incr) and [`compare_and_set`](Store::compare_and_set) make a
/// read-modify-write of one key safe for applications (counters, carts, quotas). Of concurrent
/// `compare_and_set` calls expecting a key absent from a missing session, exactly one wins
/// (creating the session): the session manager claims a rotation that way, so racing requests
/// of one browser agree on one new session. [`take`](Store::take) is atomic: with the claim,
/// it is what lets a session move without a moment in which its token finds nothing.
///
/// **Freshness.** Through one store instance every read sees every write that instance
/// completed. A read without touch (`get`, `get_many`, `get_all` with `touch: None`) may trail a
/// write completed through *another* instance by a bound the store documents, when the store
/// serves such reads from a cache kept coherent with the backend (the Redis store's client-side
/// cache; every other store has no such lag). Writes, reads with touch, `take`, `incr` and
/// `compare_and_set` never trail. Code that must see other instances' completed writes at once
/// uses one of those: the session manager's revocation check reads by adding 0.
///
/// **Fidelity.** Every JSON value round-trips exactly: strings with NUL, all of Unicode, `u64::MAX`,
/// `i64::MIN`, floats, deep nesting, large values. Any key that
/// [`validate_key`](crate::validate_key) accepts with [`KeyKind::Store`](crate::KeyKind::Store)
/// works, including keys with `:`, `*`, `%`, `_`, quotes, dots and emoji; no key is a pattern.
///
/// **Isolation.** Session ids are opaque: a store keys on the whole id, so no prefix or pattern of
/// one id reaches another session.
///
/// **Input.** Keys are checked with [`validate_key`](crate::validate_key) (`KeyKind::Store`) and
/// TTLs with [`validate_ttl`](crate::validate_ttl) before any I/O; a refused input is an
/// [`StoreError::InvalidInput`] or [`StoreError::TooLarge`] and changes nothing.
///
/// **Errors.** Failures are [`StoreError`] kinds a caller can act on; an operation never panics and
/// never hangs. The trait has no timeout of its own: each store that does I/O bounds its
/// operations with its own timeout (a setting of the store, with a default it documents) and
/// answers [`StoreError::Unavailable`] when it passes; a store without I/O (the memory store)
/// needs none.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// The value of `key` in session `id`, or `None` when the session or the key is missing.
    ///
    /// With `touch: Some(ttl)`, a live session's expiry moves to now + `ttl` in the same operation.
    async fn get(
        &self,
        id: &SessionId,
        key: &str,
        touch: Option<Duration>,
    ) -> Result<Option<Value>, StoreError>;

    /// The values of `keys` in session `id`, in order (`None` for a missing key; a key asked twice
    /// answers twice), or `None` when the session is missing or expired.
    ///
    /// One operation: every value comes from one state of the session (no write lands between
    /// two of the keys read), and with `touch` the expiry moves in that same step. On every
    /// backend of this family it is also one round trip: one request to the server and one reply,
    /// whatever the number of keys (one Redis script or `HMGET`, one SQL statement), never a
    /// request per key.
    ///
    /// With `touch: Some(ttl)`, a live session's expiry moves to now + `ttl` in the same operation.
    ///
    /// The provided body reads the whole session with [`get_all`](Store::get_all): correct, only
    /// more to read. Every key is validated first.
    async fn get_many(
        &self,
        id: &SessionId,
        keys: &[&str],
        touch: Option<Duration>,
    ) -> Result<Option<Vec<Option<Value>>>, StoreError> {
        for key in keys {
            crate::validate_key(key, crate::KeyKind::Store)?;
        }
        let Some(map) = self.get_all(id, touch).await? else {
            return Ok(None);
        };
        // Cloned, not taken: a key asked twice answers twice.
        Ok(Some(
            keys.iter().map(|key| map.get(*key).cloned()).collect(),
        ))
    }

    /// Every key of session `id`, or `None` when the session is missing or expired.
    ///
    /// With `touch: Some(ttl)`, a live session's expiry moves to now + `ttl` in the same operation.
    async fn get_all(
        &self,
        id: &SessionId,
        touch: Option<Duration>,
    ) -> Result<Option<Map>, StoreError>;

    /// Sets `key` to `value`, creating the session if it is missing or expired (empty, in that
    /// case), and moves the expiry to now + `ttl`.
    async fn set(
        &self,
        id: &SessionId,
        key: &str,
        value: Value,
        ttl: Duration,
    ) -> Result<(), StoreError>;

    /// Removes `key`; a missing key is not an error. A live session stays live (possibly with no
    /// keys) and its expiry moves to now + `ttl`; a missing session stays missing.
    async fn del(&self, id: &SessionId, key: &str, ttl: Duration) -> Result<(), StoreError>;

    /// Removes the whole session; a missing session is not an error.
    async fn del_all(&self, id: &SessionId) -> Result<(), StoreError>;
    /// Removes the whole session, as [`del_all`](Store::del_all), and returns every key it held;
    /// `None` when it was missing or expired (and then nothing is removed that could be read).
    ///
    /// Atomic: no write lands between the read and the removal, so a write that succeeded
    /// before is in the returned map, and one that comes after finds no session (an `update`
    /// returns `false`). Session rotation moves a session to a new id with it, which is how a
    /// request racing a login can never have its write silently dropped.
    ///
    /// Required: a default built from `get_all` and `del_all` would lose writes landing between
    /// the two.
    async fn take(&self, id: &SessionId) -> Result<Option<Map>, StoreError>;

    /// Moves a live session's expiry to now + `ttl` and returns `true`; returns `false` and creates
    /// nothing when the session is missing or expired.
    async fn extend(&self, id: &SessionId, ttl: Duration) -> Result<bool, StoreError>;

    /// Adds `delta` to the integer under `key` and returns the new value, atomically: of any
    /// number of concurrent increments, none is lost. A missing key counts as `0`, and a missing
    /// or expired session is created (empty, as [`set`](Store::set) does); the expiry moves to
    /// now + `ttl`.
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`] when the value is not a JSON integer that fits an `i64`, or
    /// when the sum would overflow; nothing changes then.
    ///
    /// Required: a default built from `get` and `set` would lose increments.
    async fn incr(
        &self,
        id: &SessionId,
        key: &str,
        delta: i64,
        ttl: Duration,
    ) -> Result<i64, StoreError>;

    /// As [`incr`](Store::incr), but only in a live session: `Ok(None)`, creating nothing, when
    /// the session is missing or expired (as [`update`](Store::update) is to `set`). The session
    /// manager counts with it, so an increment racing a logout or a rotation never leaves a
    /// record under an id that no longer has a session (where a racing `update` would land, and
    /// be lost).
    ///
    /// # Errors
    /// As [`incr`](Store::incr).
    ///
    /// Required: a default built from `extend` and `incr` would race with `del_all` and `take`.
    async fn incr_live(
        &self,
        id: &SessionId,
        key: &str,
        delta: i64,
        ttl: Duration,
    ) -> Result<Option<i64>, StoreError>;

    /// As [`compare_and_set`](Store::compare_and_set), but only in a live session: `Ok(None)`,
    /// creating and changing nothing, when the session is missing or expired.
    ///
    /// Required, as [`incr_live`](Store::incr_live) is.
    async fn compare_and_set_live(
        &self,
        id: &SessionId,
        key: &str,
        expected: Option<Value>,
        new: Value,
        ttl: Duration,
    ) -> Result<Option<bool>, StoreError>;

    /// Sets `key` to `new` only if its value is now exactly `expected` (`None`: the key is
    /// absent, or the session missing), atomically, and returns whether it did. Values compare
    /// as JSON exactly (`1` is not `1.0`; object key order does not matter). On success a missing
    /// or expired session is created and the expiry moves to now + `ttl`; on failure nothing
    /// changes, the expiry included.
    ///
    /// Required: a default built from `get` and `set` would let two callers both win.
    async fn compare_and_set(
        &self,
        id: &SessionId,
        key: &str,
        expected: Option<Value>,
        new: Value,
        ttl: Duration,
    ) -> Result<bool, StoreError>;

    /// Applies `changes` in order, as `set_many` does, but only to a live session: returns `true`
    /// when it did, and `false`, changing and creating nothing, when the session is missing or
    /// expired. A session removed by `del_all` before or while this runs is never recreated by
    /// it; this is how a request's flush cannot bring back a session that was logged out during
    /// the request. With an empty batch it acts as [`extend`](Store::extend).
    ///
    /// Required: a default built from `extend` and `set_many` would race with `del_all`.
    async fn update(
        &self,
        id: &SessionId,
        changes: Vec<Change>,
        ttl: Duration,
    ) -> Result<bool, StoreError>;

    /// Applies `changes` in order, as if by `set` and `del`, and moves the expiry to now + `ttl`.
    /// An empty batch changes nothing.
    ///
    /// Backends override this to do it in one round trip (and atomically where they can). The
    /// provided body calls `set`/`del` once per change: correct, only slower. Every change's key is
    /// validated before the first one is applied.
    async fn set_many(
        &self,
        id: &SessionId,
        changes: Vec<Change>,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        crate::validate_ttl(ttl)?;
        for change in &changes {
            crate::validate_key(change.key(), crate::KeyKind::Store)?;
        }
        for change in changes {
            match change {
                Change::Set(key, value) => self.set(id, &key, value, ttl).await?,
                Change::Del(key) => self.del(id, &key, ttl).await?,
            }
        }
        Ok(())
    }

    /// A short name of the backend (`"redis"`, `"postgres"`...), for log fields and metric
    /// labels ([`ObservedStore`](crate::ObservedStore)). The provided body answers `"custom"`;
    /// each backend of this family names itself, and a wrapper should answer its inner store's.
    fn backend_name(&self) -> &'static str {
        "custom"
    }
}

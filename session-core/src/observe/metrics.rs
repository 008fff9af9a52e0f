//! The metrics hook and what it is told.

use std::time::Duration;

use crate::ErrorKind;

/// Something the session manager counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SessionCount {
    /// A new session was written to the store for the first time.
    Created,
    /// A presented token found its live session.
    Loaded,
    /// A well-formed token found no session: unknown, expired or ended. A store forgets a
    /// session when it expires, so these cannot be told apart.
    NotFound,
    /// A session got a new token and id: a login, [`Session::rotate`](crate::Session::rotate)
    /// or an automatic renewal.
    Rotated,
    /// Sessions ended by [`revoke_all`](crate::SessionManager::revoke_all),
    /// [`end_session_of`](crate::SessionManager::end_session_of) or the per-subject limit.
    Revoked,
    /// A session found on load past its absolute lifetime, and ended then.
    ExpiredOnRead,
    /// A session found on load from another device context, and ended then (device binding).
    DeviceMismatch,
    /// A session found on load bound with an older auth version of its subject, and ended then
    /// ([`SessionManager::bump_auth_version`](crate::SessionManager::bump_auth_version)).
    AuthVersionChanged,
    /// A session was destroyed (a logout, or any of the endings above).
    Destroyed,
}

impl SessionCount {
    /// A short lowercase name (`"created"`, `"not_found"`...), for a metric name or label.
    pub fn name(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Loaded => "loaded",
            Self::NotFound => "not_found",
            Self::Rotated => "rotated",
            Self::Revoked => "revoked",
            Self::ExpiredOnRead => "expired_on_read",
            Self::DeviceMismatch => "device_mismatch",
            Self::AuthVersionChanged => "auth_version_changed",
            Self::Destroyed => "destroyed",
        }
    }
}

/// A [`Store`](crate::Store) operation, as an [`ObservedStore`](crate::ObservedStore) names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreOp {
    /// [`Store::get`](crate::Store::get).
    Get,
    /// [`Store::get_many`](crate::Store::get_many).
    GetMany,
    /// [`Store::get_all`](crate::Store::get_all).
    GetAll,
    /// [`Store::set`](crate::Store::set).
    Set,
    /// [`Store::del`](crate::Store::del).
    Del,
    /// [`Store::del_all`](crate::Store::del_all).
    DelAll,
    /// [`Store::take`](crate::Store::take).
    Take,
    /// [`Store::extend`](crate::Store::extend).
    Extend,
    /// [`Store::incr`](crate::Store::incr).
    Incr,
    /// [`Store::incr_live`](crate::Store::incr_live).
    IncrLive,
    /// [`Store::compare_and_set`](crate::Store::compare_and_set).
    CompareAndSet,
    /// [`Store::compare_and_set_live`](crate::Store::compare_and_set_live).
    CompareAndSetLive,
    /// [`Store::update`](crate::Store::update).
    Update,
    /// [`Store::set_many`](crate::Store::set_many).
    SetMany,
}

impl StoreOp {
    /// The `Store` method's name (`"get_many"`...), for a metric label or a log field.
    pub fn name(self) -> &'static str {
        match self {
            Self::Get => "get",
            Self::GetMany => "get_many",
            Self::GetAll => "get_all",
            Self::Set => "set",
            Self::Del => "del",
            Self::DelAll => "del_all",
            Self::Take => "take",
            Self::Extend => "extend",
            Self::Incr => "incr",
            Self::IncrLive => "incr_live",
            Self::CompareAndSet => "compare_and_set",
            Self::CompareAndSetLive => "compare_and_set_live",
            Self::Update => "update",
            Self::SetMany => "set_many",
        }
    }
}

/// Where counts and latencies go: implement it over the metrics system of your choice.
///
/// Both methods have empty provided bodies, so an implementation takes only what it wants. They
/// are called on the request's task, inline: keep them to an atomic add or a histogram record
/// (the `metrics` crate's macros are), never I/O.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// use session_core::{Metrics, SessionCount, SessionManager};
/// use session_store_memory::MemoryStore;
///
/// #[derive(Default)]
/// struct Created(AtomicU64);
///
/// impl Metrics for Created {
///     fn sessions(&self, count: SessionCount, n: u64) {
///         if count == SessionCount::Created {
///             self.0.fetch_add(n, Ordering::Relaxed);
///         }
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), session_core::SessionError> {
/// let created = Arc::new(Created::default());
/// let manager = SessionManager::builder(MemoryStore::new())
///     .metrics(created.clone())
///     .build()?;
/// let session = manager.create()?;
/// session.set("cart", &["tea"])?;
/// session.save().await?;
/// assert_eq!(created.0.load(Ordering::Relaxed), 1);
/// # Ok(()) }
/// ```
pub trait Metrics: Send + Sync + 'static {
    /// `n` sessions had `count` happen to them (`n` is 1 but for revocations).
    fn sessions(&self, count: SessionCount, n: u64) {
        let _ = (count, n);
    }

    /// A store operation through an [`ObservedStore`](crate::ObservedStore) finished after
    /// `elapsed`, with `error` when it failed: the latency histogram hook and the error counts.
    fn store_operation(
        &self,
        backend: &'static str,
        op: StoreOp,
        elapsed: Duration,
        error: Option<ErrorKind>,
    ) {
        let _ = (backend, op, elapsed, error);
    }
}

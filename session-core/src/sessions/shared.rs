//! What a manager and all its sessions share: the store, the policy, the event channel, the hook
//! and the live registry.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::broadcast;

use super::meta::Meta;
use super::registry::Registry;
use super::{Config, Event, EventKind, PersistHook};
use crate::{Metrics, Session, SessionCount, SessionId, Store, SubjectIndex};

/// How many events a slow observer may fall behind before it misses some.
pub(crate) const EVENT_BUFFER: usize = 1024;

pub(crate) struct Shared {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) subjects: Option<Arc<dyn SubjectIndex>>,
    pub(crate) config: Config,
    pub(crate) events: broadcast::Sender<Event>,
    pub(crate) hook: Option<Arc<dyn PersistHook>>,
    /// Live sessions by application key. Sessions hold this `Shared`, so the registry and its
    /// sessions keep each other alive until they are destroyed or the manager shuts down.
    pub(crate) live: Mutex<Registry>,
    pub(crate) ticker: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// The task that releases resumed live sessions nobody holds any more.
    pub(crate) releaser: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// Closures called with each event as it happens ([`SessionManager::on`]).
    ///
    /// [`SessionManager::on`]: crate::SessionManager::on
    pub(crate) observers: Mutex<Vec<Observer>>,
    /// Where counts go ([`SessionManagerBuilder::metrics`]); none by default.
    ///
    /// [`SessionManagerBuilder::metrics`]: crate::SessionManagerBuilder::metrics
    pub(crate) metrics: Option<Arc<dyn Metrics>>,
}

/// An observer of every event of a manager's sessions.
pub(crate) type Observer = Arc<dyn Fn(&Event) + Send + Sync>;

/// Locks a std mutex; nothing panics while one is held, so a poisoned lock holds consistent data.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    /// Sends an event to the manager's subscribers and observers (nobody listening is fine).
    pub(crate) fn emit(
        &self,
        session: SessionId,
        kind: EventKind,
        handle: Option<&Session>,
    ) -> Event {
        match kind {
            EventKind::Rotated { .. } => self.count(SessionCount::Rotated, 1),
            EventKind::Destroyed => self.count(SessionCount::Destroyed, 1),
            _ => {}
        }
        let event = Event {
            session,
            kind,
            handle: handle.cloned(),
        };
        // Cloned out first: an observer may register another one, or emit in turn.
        let observers: Vec<Observer> = lock(&self.observers).clone();
        for observer in observers {
            observer(&event);
        }
        let _ = self.events.send(event.clone());
        event
    }

    /// Tells the metrics hook, if there is one, that `n` sessions had `what` happen.
    pub(crate) fn count(&self, what: SessionCount, n: u64) {
        if let Some(metrics) = &self.metrics {
            metrics.sessions(what, n);
        }
    }

    /// The TTL a write at `now_ms` gives the session: its idle timeout, cut short by the absolute
    /// lifetime. `None` once the absolute lifetime has passed.
    pub(crate) fn ttl(&self, meta: &Meta, now_ms: u64) -> Option<Duration> {
        let idle = self.idle_timeout(meta);
        match self.config.absolute_lifetime {
            None => Some(idle),
            Some(lifetime) => {
                let end = meta.created_ms.saturating_add(lifetime.as_millis() as u64);
                let left = end.checked_sub(now_ms).filter(|ms| *ms > 0)?;
                Some(idle.min(Duration::from_millis(left)))
            }
        }
    }

    /// The idle timeout of a session with this metadata.
    /// Its own, else the anonymous one for a session without a subject, else the configured one.
    pub(crate) fn idle_timeout(&self, meta: &Meta) -> Duration {
        match (meta.idle_timeout_ms, &meta.subject) {
            (Some(own), _) => Duration::from_millis(own),
            (None, None) => self.config.anonymous_idle_timeout(),
            (None, Some(_)) => self.config.idle_timeout,
        }
    }

    /// Tells observers that session `id` was ended outside any handle, and retires the live
    /// handle of it, if there is one, so the registry never holds an ended session.
    pub(crate) fn ended(&self, id: SessionId) {
        let live = lock(&self.live).by_id(&id);
        match live {
            Some(session) => {
                session.retire_handle();
                session.emit(EventKind::Destroyed);
            }
            None => {
                self.emit(id, EventKind::Destroyed, None);
            }
        }
    }

    /// Whether the absolute lifetime of a session with this metadata has passed.
    pub(crate) fn past_lifetime(&self, meta: &Meta, now_ms: u64) -> bool {
        self.ttl(meta, now_ms).is_none()
    }
}

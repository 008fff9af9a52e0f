//! Releasing live sessions that joined by resume once nobody holds them, so an application
//! resuming many sessions (a web app, every visitor's tab) does not keep them all registered.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::shared::{Shared, lock};
use super::{EventKind, PersistReason, periodic};
use crate::SessionManager;

impl SessionManager {
    /// Starts the task that releases unheld resumed sessions, if configured.
    pub(super) fn ensure_releaser(&self) {
        let Some(after) = self.shared.config.release_resumed_after else {
            return;
        };
        periodic::ensure(
            &self.shared,
            |shared| &shared.releaser,
            (after / 2).max(Duration::from_millis(1)),
            "resumed live sessions nobody holds are not released",
            move |shared| async move {
                release_unheld(&shared, after).await;
            },
        );
    }
}

/// Persists and releases every resumed session only the registry has held for `after`; how
/// many. One whose persist fails stays registered (logged) and is tried again later; one that a
/// connection took up while it persisted stays too.
pub(super) async fn release_unheld(shared: &Arc<Shared>, after: Duration) -> usize {
    let now = Instant::now();
    let Some(since) = now.checked_sub(after) else {
        return 0;
    };
    let unheld = lock(&shared.live).begin_release(now, since);
    let mut released = 0;
    for session in unheld {
        let persisted = session.persist(PersistReason::Release).await;
        if let Err(error) = &persisted
            && !session.is_destroyed()
        {
            tracing::warn!(%error, "a resumed session could not persist; it stays live");
        }
        if lock(&shared.live).finish_release(&session, persisted.is_ok()) {
            session.release();
            session.emit(EventKind::Released);
            released += 1;
        }
    }
    released
}

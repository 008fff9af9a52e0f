//! The registry of live sessions: by application key, and by id so a connection that presents a
//! session's token finds the handle other connections already share.

use std::collections::HashMap;
use std::time::Instant;

use crate::{Session, SessionId};

#[derive(Default)]
pub(crate) struct Registry {
    by_key: HashMap<String, Session>,
    key_of: HashMap<SessionId, String>,
    /// The keys of sessions that joined by resume, with whether anything but the registry holds
    /// them.
    resumed: HashMap<String, Holding>,
}

/// Whether a resumed session is held outside the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holding {
    /// Held, or not looked at yet.
    Held,
    /// Only the registry has held it since then.
    UnheldSince(Instant),
    /// Being released: persisting, and removed after unless a connection took it up meanwhile.
    Releasing,
}

impl Registry {
    pub(crate) fn contains_key(&self, key: &str) -> bool {
        self.by_key.contains_key(key)
    }

    pub(crate) fn insert(&mut self, key: String, session: Session) {
        self.key_of.insert(session.id(), key.clone());
        self.by_key.insert(key, session);
    }

    /// Registers a session that joined by resume: released once nobody holds it.
    pub(crate) fn insert_resumed(&mut self, key: String, session: Session) {
        self.resumed.insert(key.clone(), Holding::Held);
        self.insert(key, session);
    }

    /// The resumed sessions only the registry has held since at least `since`, now marked as
    /// being released (each looked at now for the first time is marked unheld from now).
    pub(crate) fn begin_release(&mut self, now: Instant, since: Instant) -> Vec<Session> {
        let mut unheld = Vec::new();
        for (key, holding) in &mut self.resumed {
            let Some(session) = self.by_key.get(key) else {
                continue;
            };
            // Clones in events not yet received count as holders: a release waits for them.
            if session.holders() > 1 {
                *holding = Holding::Held;
                continue;
            }
            match *holding {
                Holding::UnheldSince(at) if at <= since => {
                    *holding = Holding::Releasing;
                    unheld.push(session.clone());
                }
                Holding::Held => *holding = Holding::UnheldSince(now),
                Holding::UnheldSince(_) | Holding::Releasing => {}
            }
        }
        unheld
    }

    /// Ends the release of `session`: removes it when `persisted` and no connection took it up
    /// since [`begin_release`](Self::begin_release); whether it did.
    pub(crate) fn finish_release(&mut self, session: &Session, persisted: bool) -> bool {
        let Some(key) = self.key_of.get(&session.id()).cloned() else {
            return false;
        };
        let Some(holding) = self.resumed.get_mut(&key) else {
            return false;
        };
        if *holding != Holding::Releasing {
            return false;
        }
        if !persisted {
            *holding = Holding::Held;
            return false;
        }
        self.remove(&key);
        true
    }

    /// A handle is handed out under `key`: a release under way is called off.
    fn taken_up(&mut self, key: &str) {
        if let Some(holding) = self.resumed.get_mut(key) {
            *holding = Holding::Held;
        }
    }

    pub(crate) fn get(&mut self, key: &str) -> Option<Session> {
        let session = self.by_key.get(key).cloned()?;
        self.taken_up(key);
        Some(session)
    }

    pub(crate) fn by_id(&mut self, id: &SessionId) -> Option<Session> {
        let key = self.key_of.get(id)?.clone();
        self.get(&key)
    }

    /// Removes the session under `key` (and its id entry, whatever its id is now).
    pub(crate) fn remove(&mut self, key: &str) -> Option<Session> {
        let session = self.by_key.remove(key)?;
        self.key_of.retain(|_, k| k != key);
        self.resumed.remove(key);
        Some(session)
    }

    /// Follows a rotation of the session under `key`.
    pub(crate) fn renamed(&mut self, key: &str, old: &SessionId, new: SessionId) {
        if self.key_of.remove(old).is_some() || self.by_key.contains_key(key) {
            self.key_of.insert(new, key.to_owned());
        }
    }

    pub(crate) fn keys(&self) -> Vec<String> {
        self.by_key.keys().cloned().collect()
    }

    pub(crate) fn sessions(&self) -> Vec<Session> {
        self.by_key.values().cloned().collect()
    }

    pub(crate) fn drain(&mut self) -> Vec<Session> {
        self.key_of.clear();
        self.resumed.clear();
        self.by_key.drain().map(|(_, s)| s).collect()
    }
}

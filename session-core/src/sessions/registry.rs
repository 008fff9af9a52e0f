//! The registry of live sessions: by application key, and by id so a connection that presents a
//! session's token finds the handle other connections already share.

use std::collections::HashMap;

use crate::{Session, SessionId};

#[derive(Default)]
pub(crate) struct Registry {
    by_key: HashMap<String, Session>,
    key_of: HashMap<SessionId, String>,
}

impl Registry {
    pub(crate) fn contains_key(&self, key: &str) -> bool {
        self.by_key.contains_key(key)
    }

    pub(crate) fn insert(&mut self, key: String, session: Session) {
        self.key_of.insert(session.id(), key.clone());
        self.by_key.insert(key, session);
    }

    pub(crate) fn get(&self, key: &str) -> Option<Session> {
        self.by_key.get(key).cloned()
    }

    pub(crate) fn by_id(&self, id: &SessionId) -> Option<Session> {
        self.by_key.get(self.key_of.get(id)?).cloned()
    }

    /// Removes the session under `key` (and its id entry, whatever its id is now).
    pub(crate) fn remove(&mut self, key: &str) -> Option<Session> {
        let session = self.by_key.remove(key)?;
        self.key_of.retain(|_, k| k != key);
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
        self.by_key.drain().map(|(_, s)| s).collect()
    }
}

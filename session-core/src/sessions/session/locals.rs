//! In-process values attached to a session (a client handle, a logger), never persisted: by
//! name, as cagey's `session.set(key, anything)`, or by type.

use std::any::{Any, TypeId};
use std::sync::Arc;

use super::Session;
use crate::sessions::shared::lock;

/// Where a local value is kept: under a name, or under its type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum LocalKey {
    Name(String),
    Type(TypeId),
}

impl Session {
    /// Attaches an in-process value under `name` (a WebSocket sender, a game client...),
    /// replacing any previous one. Never persisted; every connection of a live session sees it.
    pub fn set_local<T: Any + Send + Sync>(&self, name: &str, value: T) {
        self.put_local(LocalKey::Name(name.to_owned()), Arc::new(value));
    }

    /// The in-process value under `name`, if one is attached and it is a `T`.
    pub fn local<T: Any + Send + Sync>(&self, name: &str) -> Option<Arc<T>> {
        self.get_local(&LocalKey::Name(name.to_owned()))
    }

    /// The in-process value under `name`, made by `make` and attached first if there is none:
    /// one atomic step, so two connections racing to set up a shared resource (a broadcast
    /// channel, say) get the same one. `None` when the value there is not a `T`.
    pub fn local_or_insert_with<T: Any + Send + Sync>(
        &self,
        name: &str,
        make: impl FnOnce() -> T,
    ) -> Option<Arc<T>> {
        let value = lock(&self.0.locals)
            .entry(LocalKey::Name(name.to_owned()))
            .or_insert_with(|| Arc::new(make()))
            .clone();
        value.downcast::<T>().ok()
    }

    /// Detaches the in-process value under `name`, returning it if it is a `T`.
    pub fn remove_local<T: Any + Send + Sync>(&self, name: &str) -> Option<Arc<T>> {
        self.take_local(&LocalKey::Name(name.to_owned()))
    }

    /// Attaches an in-process value of type `T`, replacing any previous one of that type.
    pub fn insert_typed_local<T: Any + Send + Sync>(&self, value: T) {
        self.put_local(LocalKey::Type(TypeId::of::<T>()), Arc::new(value));
    }

    /// The in-process value of type `T`, if one is attached.
    pub fn typed_local<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.get_local(&LocalKey::Type(TypeId::of::<T>()))
    }

    /// Detaches the in-process value of type `T`, returning it.
    pub fn remove_typed_local<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.take_local(&LocalKey::Type(TypeId::of::<T>()))
    }

    fn put_local(&self, key: LocalKey, value: Arc<dyn Any + Send + Sync>) {
        lock(&self.0.locals).insert(key, value);
    }

    fn get_local<T: Any + Send + Sync>(&self, key: &LocalKey) -> Option<Arc<T>> {
        let value = lock(&self.0.locals).get(key).cloned()?;
        value.downcast::<T>().ok()
    }

    fn take_local<T: Any + Send + Sync>(&self, key: &LocalKey) -> Option<Arc<T>> {
        let value = lock(&self.0.locals).remove(key)?;
        value.downcast::<T>().ok()
    }
}

//! In-process values attached to a session (a client handle, a logger), never persisted.

use std::any::{Any, TypeId};
use std::sync::Arc;

use super::Session;
use crate::sessions::shared::lock;

impl Session {
    /// Attaches an in-process value of type `T` (a client handle, a logger...), replacing any
    /// previous one. Never persisted.
    pub fn insert_local<T: Any + Send + Sync>(&self, value: T) {
        lock(&self.0.locals).insert(TypeId::of::<T>(), Arc::new(value));
    }

    /// The in-process value of type `T`, if one is attached.
    pub fn local<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        let value = lock(&self.0.locals).get(&TypeId::of::<T>()).cloned()?;
        value.downcast::<T>().ok()
    }

    /// Detaches the in-process value of type `T`, returning it.
    pub fn remove_local<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        let value = lock(&self.0.locals).remove(&TypeId::of::<T>())?;
        value.downcast::<T>().ok()
    }
}

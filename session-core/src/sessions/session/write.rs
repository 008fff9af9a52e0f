//! Buffered changes: `set`, `remove` and `clear` change the handle; `save` writes them.

use serde::Serialize;

use super::Session;
use crate::sessions::SessionError;
use crate::{KeyKind, StoreError, Value, validate_key};

impl Session {
    /// Sets `key` to `value` in the handle; [`save`](Session::save) writes it, and reads through
    /// the handle see it at once.
    ///
    /// The configured most keys a session may hold is checked here when the handle knows every
    /// key of the session (a new or live session, or after [`get_all`](Session::get_all)); a
    /// request that read only some keys cannot count the others without reading them all, so
    /// for it the limit is not checked. The value's size always is.
    ///
    /// The count is not kept in the store, on purpose: it would be a new duty of every
    /// [`Store`](crate::Store), ours and third parties', and a count read at save would cost a
    /// round trip on every write of a request that did not read the whole session. What bounds
    /// a session then is its keys times [`max_value_bytes`](crate::ConfigBuilder::max_value_bytes)
    /// (the key names are the application's). An application that names keys from client input
    /// should call [`get_all`](Session::get_all) before such a `set`, so the limit is checked,
    /// or map the input onto a fixed set of keys.
    ///
    /// # Errors
    /// [`SessionError::Store`] with `InvalidInput` for an invalid key, or `TooLarge` when the value
    /// or the number of keys exceeds the configured limits; nothing changes then.
    /// [`SessionError::Destroyed`] on a destroyed session, [`SessionError::RotatedOut`] on a
    /// rotated-out one.
    pub fn set<T: Serialize + ?Sized>(&self, key: &str, value: &T) -> Result<(), SessionError> {
        validate_key(key, KeyKind::User)?;
        let value = self.encode(value)?;
        let max_keys = self.shared().config.max_keys;
        let mut state = self.state();
        state.writable()?;
        if state.complete && !matches!(state.cache.get(key), Some(Some(_))) {
            let held = state.cache.values().filter(|v| v.is_some()).count();
            if held >= max_keys {
                return Err(StoreError::TooLarge {
                    what: "session keys",
                    size: held + 1,
                    limit: max_keys,
                }
                .into());
            }
        }
        state.cache.insert(key.to_owned(), Some(value.clone()));
        state.dirty.insert(key.to_owned(), Some(value));
        Ok(())
    }

    /// `value` as JSON, refused with `TooLarge` over the configured largest value.
    pub(super) fn encode<T: Serialize + ?Sized>(&self, value: &T) -> Result<Value, SessionError> {
        let value = serde_json::to_value(value)?;
        let limit = self.shared().config.max_value_bytes;
        let size = crate::json::json_len(&value)?;
        if size > limit {
            return Err(StoreError::TooLarge {
                what: "value",
                size,
                limit,
            }
            .into());
        }
        Ok(value)
    }

    /// Removes `key` in the handle; [`save`](Session::save) writes the removal.
    ///
    /// # Errors
    /// As [`set`](Session::set).
    pub fn remove(&self, key: &str) -> Result<(), SessionError> {
        validate_key(key, KeyKind::User)?;
        let mut state = self.state();
        state.writable()?;
        let had = matches!(state.cache.insert(key.to_owned(), None), Some(Some(_)));
        // A new session that never had the key has nothing to remove in the store.
        if had || state.stored || !state.complete {
            state.dirty.insert(key.to_owned(), None);
        }
        Ok(())
    }

    /// Removes every key (the session itself stays; see [`destroy`](Session::destroy)); a handle
    /// that does not know every key reads their names first. [`save`](Session::save) writes the
    /// removals.
    ///
    /// # Errors
    /// [`SessionError::Destroyed`] or [`SessionError::RotatedOut`], as [`set`](Session::set);
    /// [`SessionError::Store`] when reading fails.
    pub async fn clear(&self) -> Result<(), SessionError> {
        self.state().writable()?;
        self.get_all().await?;
        let mut state = self.state();
        state.writable()?;
        let keys: Vec<String> = state.cache.keys().cloned().collect();
        for key in keys {
            state.cache.insert(key.clone(), None);
            state.dirty.insert(key, None);
        }
        Ok(())
    }
}

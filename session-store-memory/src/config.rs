//! `MemoryStoreBuilder`: the memory store's settings and their defaults.

use std::num::NonZeroUsize;

use session_core::StoreError;

use crate::MemoryStore;

/// The default bound on live sessions.
pub const DEFAULT_MAX_SESSIONS: usize = 100_000;

/// The default number of shards (independent locks).
pub const DEFAULT_SHARDS: usize = 16;

/// Settings for a [`MemoryStore`].
///
/// # Examples
/// ```
/// let store = session_store_memory::MemoryStore::builder()
///     .max_sessions(10_000)
///     .shards(8)
///     .build()
///     .expect("valid settings");
/// ```
#[derive(Debug, Clone)]
pub struct MemoryStoreBuilder {
    max_sessions: usize,
    shards: usize,
}

impl Default for MemoryStoreBuilder {
    fn default() -> Self {
        Self {
            max_sessions: DEFAULT_MAX_SESSIONS,
            shards: DEFAULT_SHARDS,
        }
    }
}

impl MemoryStoreBuilder {
    /// The most sessions the store keeps; past it, the least recently used session of a shard is
    /// dropped to make room. Each shard holds `max_sessions / shards` (rounded up).
    ///
    /// The default is [`DEFAULT_MAX_SESSIONS`].
    pub fn max_sessions(mut self, max_sessions: usize) -> Self {
        self.max_sessions = max_sessions;
        self
    }

    /// How many independently locked shards the sessions are spread over, so tasks working on
    /// different sessions rarely wait for each other. Capped at `max_sessions`.
    ///
    /// The default is [`DEFAULT_SHARDS`].
    pub fn shards(mut self, shards: usize) -> Self {
        self.shards = shards;
        self
    }

    /// Builds the store.
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`] when `max_sessions` or `shards` is zero.
    pub fn build(self) -> Result<MemoryStore, StoreError> {
        let invalid = |what: &str| StoreError::InvalidInput(format!("{what} must be at least 1"));
        let max = NonZeroUsize::new(self.max_sessions).ok_or_else(|| invalid("max_sessions"))?;
        let shards = NonZeroUsize::new(self.shards).ok_or_else(|| invalid("shards"))?;
        let shards = shards.min(max);
        let per_shard = max.get().div_ceil(shards.get());
        let per_shard = NonZeroUsize::new(per_shard).unwrap_or(NonZeroUsize::MIN);
        Ok(MemoryStore::with_shards(shards.get(), per_shard))
    }
}

//! [`TowerSessionsStore`]: tower-sessions' `SessionStore` over one of our stores.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use session_core::{Map, RESERVED_KEY_PREFIX, Store};
use tower_sessions_core::SessionStore;
use tower_sessions_core::session::{Id, Record};
use tower_sessions_core::session_store::{Error, Result};

use crate::error::{ended_meanwhile, from_store};
use crate::id::store_id;
use crate::record::{self, EXPIRY_KEY};

/// How many fresh random ids `create` tries before it gives up. A 128-bit id taken by chance
/// even once means something is wrong with the randomness; a few tries show it without looping.
const CREATE_ATTEMPTS: usize = 4;

/// tower-sessions' [`SessionStore`] over any [`Store`] of this family (or a third party's).
///
/// Give it to `tower_sessions::SessionManagerLayer::new` in place of a tower-sessions store;
/// nothing else in the application changes. See the [crate docs](crate) for what its
/// whole-record `save` keeps and what it cannot.
#[derive(Clone)]
pub struct TowerSessionsStore {
    store: Arc<dyn Store>,
}

impl TowerSessionsStore {
    /// The adapter over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// The store underneath, to reach it directly (counters with `incr`, say).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }
}

impl fmt::Debug for TowerSessionsStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TowerSessionsStore").finish_non_exhaustive()
    }
}

#[async_trait]
impl SessionStore for TowerSessionsStore {
    /// Claims the record's id (a fresh random one if it is taken) and writes the record.
    ///
    /// The claim is a `compare_and_set` of the expiry key against "absent", so of two creators
    /// of one id exactly one wins, and a live session is never overwritten.
    async fn create(&self, record: &mut Record) -> Result<()> {
        let ttl = record::ttl_until(record.expiry_date)
            .ok_or_else(|| Error::Encode("the session's expiry date has passed".to_owned()))?;
        // Every key checked before anything is written.
        let mut changes = record::changes(record, &Map::new())?;
        changes.retain(|change| change.key() != EXPIRY_KEY);
        let expiry = record::expiry_value(record.expiry_date);
        for _ in 0..CREATE_ATTEMPTS {
            let id = store_id(&record.id);
            let claimed = self
                .store
                .compare_and_set(&id, EXPIRY_KEY, None, expiry.clone(), ttl)
                .await
                .map_err(from_store)?;
            if !claimed {
                tracing::warn!("a new session id was taken already; drawing another");
                record.id = Id::default();
                continue;
            }
            if changes.is_empty()
                || self
                    .store
                    .update(&id, changes, ttl)
                    .await
                    .map_err(from_store)?
            {
                return Ok(());
            }
            return Err(ended_meanwhile());
        }
        Err(Error::Backend(format!(
            "{CREATE_ATTEMPTS} random session ids in a row were taken: is the OS randomness broken?"
        )))
    }

    /// Writes the keys this request changed (and removes those it removed) in one `update`, which
    /// never recreates a session that ended meanwhile.
    async fn save(&self, record: &Record) -> Result<()> {
        let id = store_id(&record.id);
        let Some(ttl) = record::ttl_until(record.expiry_date) else {
            // Saved past its expiry date: it has ended.
            return self.store.del_all(&id).await.map_err(from_store);
        };
        let written = match record::loaded_data(record) {
            Some(before) => {
                let changes = record::changes(record, before)?;
                self.store.update(&id, changes, ttl).await
            }
            // Cleared (or never loaded through this crate): the record is the whole session, so
            // every stored key it lacks goes. A read with touch never trails another instance.
            None => match self
                .store
                .get_all(&id, Some(ttl))
                .await
                .map_err(from_store)?
            {
                Some(mut before) => {
                    before.retain(|key, _| !key.starts_with(RESERVED_KEY_PREFIX));
                    let changes = record::changes(record, &before)?;
                    self.store.update(&id, changes, ttl).await
                }
                None => Ok(false),
            },
        };
        if written.map_err(from_store)? {
            Ok(())
        } else {
            tracing::debug!(session = ?id, "save of a session that ended meanwhile refused");
            Err(ended_meanwhile())
        }
    }

    async fn load(&self, session_id: &Id) -> Result<Option<Record>> {
        let stored = self
            .store
            .get_all(&store_id(session_id), None)
            .await
            .map_err(from_store)?;
        Ok(stored.map(|map| record::loaded(*session_id, map)))
    }

    async fn delete(&self, session_id: &Id) -> Result<()> {
        self.store
            .del_all(&store_id(session_id))
            .await
            .map_err(from_store)
    }
}

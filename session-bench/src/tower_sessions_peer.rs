//! tower-sessions' stores as a bench row: driven through its `SessionStore` trait as its
//! middleware does (load the whole record, change it, save it whole). Shared, as source, with the
//! peers that run in a process of their own (`peers-sqlx/`).

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use tower_sessions::cookie::time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::SessionStore;

use crate::adapter::{Adapter, Error, Handle, missing};
use crate::workload::TTL;

/// A tower-sessions store.
pub struct Peer<S>(pub S);

/// The workload's expiry from now.
fn expiry() -> OffsetDateTime {
    OffsetDateTime::now_utc() + Duration::from_secs(TTL.as_secs())
}

/// Creates a session holding `data` through the peer's store, as its middleware would; answers
/// its id.
pub async fn create<S: SessionStore>(store: &S, data: &[(String, String)]) -> Result<Id, Error> {
    let data: HashMap<String, serde_json::Value> = data
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().into()))
        .collect();
    let mut record = Record {
        id: Id::default(),
        data,
        expiry_date: expiry(),
    };
    store.create(&mut record).await?;
    Ok(record.id)
}

#[async_trait]
impl<S: SessionStore> Adapter for Peer<S> {
    async fn create(&self, data: &[(String, String)]) -> Result<Handle, Error> {
        Ok(create(&self.0, data).await?.to_string())
    }

    async fn read(&self, handle: &Handle, key: &str) -> Result<String, Error> {
        let id = Id::from_str(handle)?;
        let record = self.0.load(&id).await?.ok_or_else(|| missing("session"))?;
        let value = record
            .data
            .get(key)
            .cloned()
            .ok_or_else(|| missing("key"))?;
        Ok(serde_json::from_value(value)?)
    }

    async fn write(&self, handle: &Handle, key: &str, value: &str) -> Result<(), Error> {
        let id = Id::from_str(handle)?;
        let mut record = self.0.load(&id).await?.ok_or_else(|| missing("session"))?;
        record.data.insert(key.to_owned(), value.into());
        record.expiry_date = expiry();
        self.0.save(&record).await?;
        Ok(())
    }

    /// tower-sessions has no atomic increment: its users read, add and write back, as its
    /// middleware's session does (load the record, change it, save it whole).
    async fn increment(&self, handle: &Handle, key: &str) -> Result<(), Error> {
        let id = Id::from_str(handle)?;
        let mut record = self.0.load(&id).await?.ok_or_else(|| missing("session"))?;
        let now = record.data.get(key).and_then(|v| v.as_i64()).unwrap_or(0);
        record.data.insert(key.to_owned(), (now + 1).into());
        record.expiry_date = expiry();
        self.0.save(&record).await?;
        Ok(())
    }

    async fn count(&self, handle: &Handle, key: &str) -> Result<i64, Error> {
        let id = Id::from_str(handle)?;
        let record = self.0.load(&id).await?.ok_or_else(|| missing("session"))?;
        Ok(record.data.get(key).and_then(|v| v.as_i64()).unwrap_or(0))
    }
}

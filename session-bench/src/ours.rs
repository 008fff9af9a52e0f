//! Our rows: every backend through the store (`get`/`set`/`set_many`), and through the manager
//! (token in, session out: the path a web request takes).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use session_core::{Change, SessionId, SessionManager, Store, Token};

use crate::adapter::{Adapter, Error, Handle, missing};
use crate::workload::TTL;

/// The store path: a read is one `get`, a write one `set` (expiry reset in the same call), a
/// create one `set_many`.
pub struct StorePath<S>(pub Arc<S>);

#[async_trait]
impl<S: Store> Adapter for StorePath<S> {
    async fn create(&self, data: &[(String, String)]) -> Result<Handle, Error> {
        let id = Token::generate()?.id();
        let changes = data
            .iter()
            .map(|(k, v)| Change::Set(k.clone(), v.as_str().into()))
            .collect();
        self.0.set_many(&id, changes, TTL).await?;
        Ok(id.to_hex())
    }

    async fn read(&self, handle: &Handle, key: &str) -> Result<String, Error> {
        let id = SessionId::from_hex(handle)?;
        match self.0.get(&id, key, None).await? {
            Some(serde_json::Value::String(s)) => Ok(s),
            _ => Err(missing("key")),
        }
    }

    async fn write(&self, handle: &Handle, key: &str, value: &str) -> Result<(), Error> {
        let id = SessionId::from_hex(handle)?;
        Ok(self.0.set(&id, key, value.into(), TTL).await?)
    }

    async fn increment(&self, handle: &Handle, key: &str) -> Result<(), Error> {
        let id = SessionId::from_hex(handle)?;
        self.0.incr(&id, key, 1, TTL).await?;
        Ok(())
    }

    async fn count(&self, handle: &Handle, key: &str) -> Result<i64, Error> {
        let id = SessionId::from_hex(handle)?;
        Ok(self
            .0
            .get(&id, key, None)
            .await?
            .and_then(|v| v.as_i64())
            .unwrap_or(0))
    }
}

/// The store calls a manager request makes, without the manager: a read loads the whole session
/// (`get_all`); a write loads it and then `update`s the key and the metadata; a create writes the
/// keys and the metadata. Set against the manager path, it shows what the manager itself costs
/// (token parsing, hashing, policy, the session object); set against the store path, what
/// loading whole sessions costs.
pub struct WholeSessionPath<S>(pub Arc<S>);

/// Metadata of the manager's size and shape (JSON text in a string), under its reserved key.
fn meta() -> Change {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    Change::Set(
        "__sys:meta".into(),
        serde_json::json!({
            "created_ms": now, "previous_visit_ms": now, "latest_visit_ms": now, "touched_ms": now,
        })
        .to_string()
        .into(),
    )
}

#[async_trait]
impl<S: Store> Adapter for WholeSessionPath<S> {
    async fn create(&self, data: &[(String, String)]) -> Result<Handle, Error> {
        let id = Token::generate()?.id();
        let mut changes: Vec<Change> = data
            .iter()
            .map(|(k, v)| Change::Set(k.clone(), v.as_str().into()))
            .collect();
        changes.push(meta());
        self.0.set_many(&id, changes, TTL).await?;
        Ok(id.to_hex())
    }

    async fn read(&self, handle: &Handle, key: &str) -> Result<String, Error> {
        let id = SessionId::from_hex(handle)?;
        let mut session = self
            .0
            .get_all(&id, None)
            .await?
            .ok_or_else(|| missing("session"))?;
        match session.remove(key) {
            Some(serde_json::Value::String(s)) => Ok(s),
            _ => Err(missing("key")),
        }
    }

    async fn write(&self, handle: &Handle, key: &str, value: &str) -> Result<(), Error> {
        let id = SessionId::from_hex(handle)?;
        self.0
            .get_all(&id, None)
            .await?
            .ok_or_else(|| missing("session"))?;
        let changes = vec![Change::Set(key.to_owned(), value.into()), meta()];
        if self.0.update(&id, changes, TTL).await? {
            Ok(())
        } else {
            Err(missing("session"))
        }
    }
}

/// The manager path: the handle is the client's token; every request opens it (as the HTTP
/// layer does: the first read brings the metadata with the key), works on it, and saves it (which
/// writes only when something changed or a touch is due).
pub struct ManagerPath(pub SessionManager);

#[async_trait]
impl Adapter for ManagerPath {
    async fn create(&self, data: &[(String, String)]) -> Result<Handle, Error> {
        let session = self.0.create()?;
        for (k, v) in data {
            session.set(k, v)?;
        }
        session.save().await?;
        Ok(session.token().as_str().to_owned())
    }

    async fn read(&self, handle: &Handle, key: &str) -> Result<String, Error> {
        // As the HTTP layer does: the handle reads the metadata and the key in one round trip.
        let session = self.0.open([handle], None)?;
        let value: Option<String> = session.get(key).await?;
        if session.is_new() {
            return Err(missing("session"));
        }
        session.save().await?;
        value.ok_or_else(|| missing("key"))
    }

    async fn write(&self, handle: &Handle, key: &str, value: &str) -> Result<(), Error> {
        let session = self.0.open([handle], None)?;
        session.set(key, value)?;
        session.save().await?;
        if session.opened_with().is_none() {
            return Err(missing("session"));
        }
        Ok(())
    }

    async fn increment(&self, handle: &Handle, key: &str) -> Result<(), Error> {
        let session = self.0.open([handle], None)?;
        session.incr(key, 1).await?;
        if session.opened_with().is_none() {
            return Err(missing("session"));
        }
        session.save().await?;
        Ok(())
    }

    async fn count(&self, handle: &Handle, key: &str) -> Result<i64, Error> {
        let session = self.0.open([handle], None)?;
        Ok(session.get(key).await?.unwrap_or(0))
    }
}

/// The manager's policy for the workload: sessions live the workload's TTL.
pub fn manager<S: Store>(store: Arc<S>) -> Result<SessionManager, Error> {
    let config = session_core::Config::builder()
        .idle_timeout(TTL)
        .touch_interval(Duration::from_secs(60))
        .build()?;
    Ok(SessionManager::builder_from_arc(store)
        .config(config)
        .build()?)
}

//! What every measured library implements: create a session, read one key, write one key. One
//! adapter per (library, backend); a factory makes a fresh one (empty backend) per phase.

use async_trait::async_trait;

/// A boxed error: the harness only counts and reports errors.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// What a row is measured against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// This project.
    Ours,
    /// The raw driver doing the least round trips: the floor.
    Baseline,
    /// Another session library.
    Peer,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ours => "ours",
            Self::Baseline => "baseline",
            Self::Peer => "peer",
        }
    }
}

/// A session as the library's client holds it (a token, an id), as text.
pub type Handle = String;

/// One library on one backend.
#[async_trait]
pub trait Adapter: Send + Sync {
    /// Creates a session holding `data` with the workload's TTL.
    async fn create(&self, data: &[(String, String)]) -> Result<Handle, Error>;
    /// Loads the session and reads `key` as a string (missing is an error).
    async fn read(&self, handle: &Handle, key: &str) -> Result<String, Error>;
    /// Loads the session, sets `key`, and saves it with the expiry reset.
    async fn write(&self, handle: &Handle, key: &str, value: &str) -> Result<(), Error>;
    /// Adds one to the integer under `key` (missing: 0) the way the library's users would: an
    /// atomic increment where the library has one, else a read then a write.
    async fn increment(&self, handle: &Handle, key: &str) -> Result<(), Error> {
        let _ = (handle, key);
        Err(UNSUPPORTED.into())
    }
    /// The integer under `key` (missing: 0).
    async fn count(&self, handle: &Handle, key: &str) -> Result<i64, Error> {
        let _ = (handle, key);
        Err(UNSUPPORTED.into())
    }
}

/// The error of an operation an adapter does not offer.
pub const UNSUPPORTED: &str = "not offered by this row";

/// Makes fresh adapters (on an emptied backend) for one row.
#[async_trait]
pub trait Factory: Send + Sync {
    /// The library's name, e.g. `ours-store`.
    fn library(&self) -> &str;
    /// The backend's name, e.g. `redis`.
    fn backend(&self) -> &str;
    fn kind(&self) -> Kind;
    /// Whether the row measures creates only (its reads and writes are not what it is for).
    fn creates_only(&self) -> bool {
        false
    }
    /// An adapter on an empty backend.
    async fn make(&self) -> Result<Box<dyn Adapter>, Error>;
}

/// A missing session or key.
pub fn missing(what: &str) -> Error {
    format!("missing {what}").into()
}

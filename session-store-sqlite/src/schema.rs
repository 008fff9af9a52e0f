//! The schema, created and migrated by the store itself, versioned with `PRAGMA user_version`, and
//! the settings every connection gets.
//!
//! One table, `sessions`, one row per session: `id` (32-byte blob, the primary key),
//! `expires_at` (ms since the epoch), `subject` (the [`SubjectIndex`](session_core::SubjectIndex)
//! binding) and `data`, the session's keys as one JSON object in the layout of
//! [`session_core::DocumentEdit`] (member names of hex digits, each value its JSON text in a
//! string), stored as SQLite's JSONB. Indexed on `expires_at` so cleanup finds expired rows
//! without a scan, and on `subject`.
//!
//! Version 1 kept one row per key in `session_entries` (in `WITHOUT ROWID` tables); version 2
//! folds each session's keys into its `data`, in a table with rowids, in the migrating
//! transaction.

use std::ffi::c_int;
use std::time::Duration;

use rusqlite::hooks::{CheckpointMode, Wal};
use rusqlite::{Connection, TransactionBehavior};

use crate::error::{Result, SqliteError};

/// Each migration brings the schema from version `index` to `index + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    "CREATE TABLE sessions (
         id BLOB PRIMARY KEY NOT NULL,
         expires_at INTEGER NOT NULL,
         subject TEXT
     ) WITHOUT ROWID;
     CREATE INDEX sessions_expires_at ON sessions (expires_at);
     CREATE INDEX sessions_subject ON sessions (subject) WHERE subject IS NOT NULL;
     CREATE TABLE session_entries (
         session_id BLOB NOT NULL,
         key TEXT NOT NULL,
         value TEXT NOT NULL,
         PRIMARY KEY (session_id, key)
     ) WITHOUT ROWID;",
    // 2: one row per session, the keys in `data` as JSONB, in a table with rowids: a
    // `WITHOUT ROWID` table keeps rows inside its primary-key b-tree, where a row over about a
    // quarter of a page (a 10-key session is more) spills into overflow pages on every access.
    // `hex` of a TEXT is its UTF-8 bytes, as `document_member` writes them; `jsonb_group_object`
    // keeps each value's text as a string.
    "CREATE TABLE sessions_v2 (
         id BLOB PRIMARY KEY NOT NULL,
         expires_at INTEGER NOT NULL,
         subject TEXT,
         data BLOB NOT NULL
     );
     INSERT INTO sessions_v2 (id, expires_at, subject, data)
     SELECT s.id, s.expires_at, s.subject, coalesce(
         (SELECT jsonb_group_object('k' || lower(hex(CAST(e.key AS BLOB))), e.value)
          FROM session_entries e WHERE e.session_id = s.id),
         jsonb('{}'))
     FROM sessions s;
     DROP TABLE session_entries;
     DROP TABLE sessions;
     ALTER TABLE sessions_v2 RENAME TO sessions;
     CREATE INDEX sessions_expires_at ON sessions (expires_at);
     CREATE INDEX sessions_subject ON sessions (subject) WHERE subject IS NOT NULL;",
];

/// The schema version this code writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The size the WAL file is cut back to after a checkpoint: it may grow past it under load (a
/// checkpoint cannot finish while readers hold old snapshots), but never stays larger.
pub const JOURNAL_SIZE_LIMIT: i64 = 4 * 1024 * 1024;

/// SQLite's own automatic checkpoint size, in WAL pages, kept by [`checkpoint_after_commit`],
/// which replaces it.
const AUTOCHECKPOINT_PAGES: c_int = 1000;

/// The WAL size, in pages, past which a commit waits for readers of old snapshots and starts
/// the WAL over (a `RESTART` checkpoint): 16 MiB at the default 4 KiB page. A `PASSIVE`
/// checkpoint cannot reset a WAL while some reader always holds an old snapshot, so under a
/// flood with many readers it grew without end (63 MB in one finding); past this size it stops.
pub const WAL_RESTART_PAGES: c_int = 4096;

/// The WAL hook of every file connection, run after each commit with the write lock released:
/// a `PASSIVE` checkpoint from [`AUTOCHECKPOINT_PAGES`] on, as SQLite would, and a `RESTART`
/// one from [`WAL_RESTART_PAGES`] on. The commit has happened either way, so a checkpoint that
/// cannot finish (readers still busy after the busy timeout) is logged and left to the next
/// commit, never reported as the write's failure.
fn checkpoint_after_commit(wal: &Wal, pages: c_int) -> rusqlite::Result<()> {
    let mode = match pages {
        p if p >= WAL_RESTART_PAGES => CheckpointMode::RESTART,
        p if p >= AUTOCHECKPOINT_PAGES => CheckpointMode::PASSIVE,
        _ => return Ok(()),
    };
    if let Err(e) = wal.checkpoint_v2(mode) {
        tracing::debug!(pages, error = %e, "WAL checkpoint left to a later commit");
    }
    Ok(())
}

/// Settings for one new connection: a busy timeout (so writers queue instead of failing), WAL
/// (readers never block the writer) for files, with its size limited ([`JOURNAL_SIZE_LIMIT`]
/// after a checkpoint, [`WAL_RESTART_PAGES`] under load),
/// incremental auto-vacuum for new files (so a cleanup gives space back), and
/// `synchronous = NORMAL`, which is durable under WAL except for the last commits on power loss.
pub(crate) fn configure(conn: &Connection, busy_timeout: Duration, file: bool) -> Result<()> {
    conn.busy_timeout(busy_timeout)?;
    // Every statement the store runs stays prepared: about 16, and `get_many`'s fixed forms (8 key
    // counts, with and without a touch); rusqlite keeps 16 by default.
    conn.set_prepared_statement_cache_capacity(48);
    if file {
        // Takes effect only in a file without tables yet (a file made by an older release keeps
        // its setting: its freed pages are reused, and `VACUUM` once gives them back).
        conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
        conn.pragma_update(None, "journal_size_limit", JOURNAL_SIZE_LIMIT)?;
        // Turning a new file to WAL takes an exclusive lock, and SQLite answers `SQLITE_BUSY` at
        // once instead of calling the busy handler when another connection holds the file (seen
        // with several stores opening one new file together), so wait here as the handler would.
        retry_busy(busy_timeout, || {
            conn.pragma_update(None, "journal_mode", "WAL")
        })?;
        conn.wal_hook(Some(checkpoint_after_commit));
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(())
}

/// Runs `step` until it does not fail with `SQLITE_BUSY`, for at most `timeout`.
fn retry_busy<T>(
    timeout: Duration,
    mut step: impl FnMut() -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    let deadline = std::time::Instant::now() + timeout;
    let mut pause = Duration::from_millis(1);
    loop {
        match step() {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy
                    && std::time::Instant::now() + pause < deadline =>
            {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            result => return result,
        }
    }
}

/// Brings the schema to [`SCHEMA_VERSION`]. Runs in one `IMMEDIATE` transaction, so several
/// processes opening the same file at once migrate it exactly once.
pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(SqliteError::NewerSchema {
            found,
            known: SCHEMA_VERSION,
        });
    }
    for migration in &MIGRATIONS[found as usize..] {
        tx.execute_batch(migration)?;
    }
    if found < SCHEMA_VERSION {
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        tracing::info!(
            from = found,
            to = SCHEMA_VERSION,
            "migrated the session schema"
        );
    }
    tx.commit()?;
    Ok(())
}

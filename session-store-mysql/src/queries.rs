//! The SQL of each operation, built once per store from its table name.
//!
//! Every statement takes the time from the server (`NOW_MS`). The `data` object holds each key
//! under a member name of hex digits ([`document_member`](session_core::document_member): `k` and
//! the key's UTF-8 bytes in hex), its value the exact JSON text of the value in a JSON string. So
//! every JSON path is `$.k<hex>`, a plain identifier on every server: no key is ever parsed as path
//! syntax (MariaDB 10.11 cannot address a member named `--` even quoted), and a write is `JSON_SET`
//! and `JSON_REMOVE` on the row in the statement that locks it (`JSON_MERGE_PATCH` drops changes on
//! MariaDB 10.11 when a patch mixes values and `null`s in another order than the document's).

use std::collections::HashMap;
use std::sync::RwLock;

use sqlx::{AssertSqlSafe, SqlSafeStr, SqlStr};

use crate::schema::Names;

/// Now, in milliseconds since the epoch, on the server's clock and independent of the
/// connection's `time_zone`.
const NOW_MS: &str =
    "(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', UTC_TIMESTAMP(6)) DIV 1000)";

/// The value at the path bound here, as its JSON text, or NULL.
const VALUE: &str = "JSON_UNQUOTE(JSON_EXTRACT(data, ?))";

/// The JSON path of `key`.
pub(crate) fn path(key: &str) -> String {
    path_of(&session_core::document_member(key))
}

/// The JSON path of the member named `name`.
pub(crate) fn path_of(name: &str) -> String {
    format!("$.{name}")
}

/// `data` with `sets` keys set and `dels` keys removed: binds `path, text` per set, then `path`
/// per removal.
fn edit(sets: usize, dels: usize) -> String {
    let mut edited = "data".to_owned();
    if sets > 0 {
        edited = format!("JSON_SET({edited}{})", ", ?, ?".repeat(sets));
    }
    if dels > 0 {
        edited = format!("JSON_REMOVE({edited}{})", ", ?".repeat(dels));
    }
    edited
}

/// How many keys have a `get_many` statement of their own (more read the whole row).
pub(crate) const FIXED_GET_MANY: usize = 8;

/// The statements of one store.
#[derive(Debug)]
pub(crate) struct Queries {
    /// The quoted table, for the statements built per batch shape.
    table: String,
    /// The statements built per batch shape so far: `(creates, sets, removals)`.
    shaped: RwLock<HashMap<(bool, usize, usize), SqlStr>>,
    /// Binds: path, id.
    pub(crate) get: SqlStr,
    /// Binds: id.
    pub(crate) get_all: SqlStr,
    /// Binds: path 1..=n, id; the `n`th holds `n` keys.
    pub(crate) get_many: Vec<SqlStr>,
    /// A `set`: [`Queries::write`] for one set.
    pub(crate) set: SqlStr,
    /// A `del`: [`Queries::update`] for one removal.
    pub(crate) del: SqlStr,
    /// Makes sure the session is there and live (an expired one starts empty), holding its row
    /// lock for the transaction. Binds: id, ttl ms, ttl ms.
    pub(crate) ensure: SqlStr,
    /// The key's value in the locked row. Binds: path, id.
    pub(crate) get_for_update: SqlStr,
    /// Sets one key of a row the transaction holds. Binds: path, text, ttl ms, id.
    pub(crate) write_locked: SqlStr,
    /// A compare-and-set of a present value. Binds: path, text, ttl ms, id, path, expected text.
    pub(crate) swap: SqlStr,
    /// The row, locked, and whether it is live. Binds: id.
    pub(crate) lock_row: SqlStr,
    /// The key's value in the row, locked, and whether the row is live. Binds: path, id.
    pub(crate) get_live_for_update: SqlStr,
    /// Binds: id.
    pub(crate) delete: SqlStr,
    /// Moves a live session's expiry (also a touching read's first step). Binds: ttl ms, id.
    pub(crate) extend: SqlStr,
    /// Binds: subject, id.
    pub(crate) bind_subject: SqlStr,
    /// Binds: subject.
    pub(crate) subject_sessions: SqlStr,
    /// Binds: the key's path, subject.
    pub(crate) subject_sessions_with: SqlStr,
    /// Binds: subject.
    pub(crate) revoke: SqlStr,
    /// Binds: batch.
    pub(crate) expired_ids: SqlStr,
    pub(crate) count: SqlStr,
    pub(crate) ids: SqlStr,
}

fn sql(text: String) -> SqlStr {
    AssertSqlSafe(text).into_sql_str()
}

impl Queries {
    pub(crate) fn new(names: &Names) -> Self {
        let table = &names.sessions;
        // Statements on one session name its row by primary key. Left to itself the optimizer
        // may walk the `expires_at` index for the `live` condition instead, locking index
        // entries before the row; a writer locks the row first and the index entry after, and
        // the two deadlock.
        let t = &by_id(table);
        let live = format!("expires_at > {NOW_MS}");
        Self {
            table: table.clone(),
            shaped: RwLock::default(),
            get: sql(format!("SELECT {VALUE} FROM {t} WHERE id = ? AND {live}")),
            get_all: sql(format!("SELECT data FROM {t} WHERE id = ? AND {live}")),
            get_many: (1..=FIXED_GET_MANY)
                .map(|n| {
                    let values = vec![VALUE; n].join(", ");
                    sql(format!("SELECT {values} FROM {t} WHERE id = ? AND {live}"))
                })
                .collect(),
            set: sql(write(table, 1, 0)),
            del: sql(update(table, 0, 1)),
            ensure: sql(format!(
                "INSERT INTO {table} (id, expires_at, data) VALUES (?, {NOW_MS} + ?, '{{}}') \
                 ON DUPLICATE KEY UPDATE \
                 subject = IF({live}, subject, NULL), \
                 data = IF({live}, data, '{{}}'), \
                 expires_at = IF({live}, expires_at, {NOW_MS} + ?)"
            )),
            get_for_update: sql(format!("SELECT {VALUE} FROM {t} WHERE id = ? FOR UPDATE")),
            write_locked: sql(format!(
                "UPDATE {t} SET data = JSON_SET(data, ?, ?), expires_at = {NOW_MS} + ? WHERE id = ?"
            )),
            // Compared as bytes: the stored text is the canonical JSON of the value, as is the
            // expected text, so equal values have equal texts.
            swap: sql(format!(
                "UPDATE {t} SET data = JSON_SET(data, ?, ?), expires_at = {NOW_MS} + ? \
                 WHERE id = ? AND {live} AND CAST({VALUE} AS BINARY) = CAST(? AS BINARY)"
            )),
            lock_row: sql(format!(
                "SELECT data, {live} FROM {t} WHERE id = ? FOR UPDATE"
            )),
            get_live_for_update: sql(format!(
                "SELECT {VALUE}, {live} FROM {t} WHERE id = ? FOR UPDATE"
            )),
            delete: sql(format!("DELETE FROM {table} WHERE id = ?")),
            extend: sql(format!(
                "UPDATE {t} SET expires_at = {NOW_MS} + ? WHERE id = ? AND {live}"
            )),
            bind_subject: sql(format!(
                "UPDATE {t} SET subject = ? WHERE id = ? AND {live}"
            )),
            subject_sessions: sql(format!(
                "SELECT id FROM {table} WHERE subject = ? AND {live}"
            )),
            subject_sessions_with: sql(format!(
                "SELECT id, {VALUE} FROM {table} WHERE subject = ? AND {live}"
            )),
            revoke: sql(format!("DELETE FROM {table} WHERE subject = ? AND {live}")),
            expired_ids: sql(format!(
                "SELECT id FROM {table} WHERE expires_at <= {NOW_MS} ORDER BY expires_at LIMIT ?"
            )),
            count: sql(format!("SELECT COUNT(*) FROM {table} WHERE {live}")),
            ids: sql(format!("SELECT id FROM {table} WHERE {live}")),
        }
    }

    /// Applies `sets` sets and `dels` removals, creating the session (or starting an expired one
    /// empty) with the sets alone. Binds: id, ttl ms, the new session's `data`, the edit's
    /// paths and texts, the new session's `data` again, ttl ms.
    pub(crate) fn write(&self, sets: usize, dels: usize) -> SqlStr {
        self.shaped((true, sets, dels), || write(&self.table, sets, dels))
    }

    /// Applies `sets` sets and `dels` removals to a live session only. Binds: the edit's paths
    /// and texts, ttl ms, id.
    pub(crate) fn update(&self, sets: usize, dels: usize) -> SqlStr {
        self.shaped((false, sets, dels), || update(&self.table, sets, dels))
    }

    /// The statement of one batch shape, built the first time it is asked for (an application's
    /// batches come in a few shapes, so the text is built once rather than on every write).
    fn shaped(&self, shape: (bool, usize, usize), build: impl FnOnce() -> String) -> SqlStr {
        let known = self
            .shaped
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&shape)
            .cloned();
        if let Some(statement) = known {
            return statement;
        }
        let statement = sql(build());
        let mut shaped = self.shaped.write().unwrap_or_else(|p| p.into_inner());
        // Bounded: a store that meets ever new shapes builds the text each time instead.
        if shaped.len() < 256 {
            shaped.insert(shape, statement.clone());
        }
        statement
    }

    /// Deletes the listed expired sessions that are still expired once locked. (`DELETE` takes
    /// no index hint on MySQL; `expires_at + 0` keeps the optimizer off the `expires_at` index,
    /// for the reason in [`Queries::new`].)
    pub(crate) fn delete_expired(&self, count: usize) -> SqlStr {
        let marks = vec!["?"; count].join(", ");
        sql(format!(
            "DELETE FROM {} WHERE id IN ({marks}) AND expires_at + 0 <= {NOW_MS}",
            self.table
        ))
    }
}

/// A table named in a statement on one session: by its primary key (see [`Queries::new`]).
fn by_id(table: &str) -> String {
    format!("{table} FORCE INDEX (PRIMARY)")
}

/// See [`Queries::write`]. In `ON DUPLICATE KEY UPDATE`, assignments run left to right and later
/// ones see the new values: `expires_at` goes last, so the others still see the old expiry.
fn write(t: &str, sets: usize, dels: usize) -> String {
    let live = format!("expires_at > {NOW_MS}");
    format!(
        "INSERT INTO {t} (id, expires_at, data) VALUES (?, {NOW_MS} + ?, ?) \
         ON DUPLICATE KEY UPDATE \
         subject = IF({live}, subject, NULL), \
         data = IF({live}, {}, ?), \
         expires_at = {NOW_MS} + ?",
        edit(sets, dels)
    )
}

/// See [`Queries::update`].
fn update(t: &str, sets: usize, dels: usize) -> String {
    let t = by_id(t);
    format!(
        "UPDATE {t} SET data = {}, expires_at = {NOW_MS} + ? WHERE id = ? AND expires_at > {NOW_MS}",
        edit(sets, dels)
    )
}

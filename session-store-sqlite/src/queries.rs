//! The SQL behind each operation, as synchronous functions on one connection.
//!
//! A session is one row; its keys live in the row's `data` document (see
//! [`session_core::DocumentEdit`] for its layout), kept in SQLite's binary JSONB (a read finds one
//! member without parsing the others) and changed by `jsonb_patch` in the statement that writes the
//! row, so writers to different keys never lose each other and nothing is read and written back by
//! the client. Most operations are one statement (`UPDATE ... RETURNING`, `DELETE ... RETURNING`,
//! an upsert): SQLite runs it in its own write transaction, taking the write lock before it reads,
//! so it never fails with `SQLITE_BUSY` by upgrading a read lock and concurrent writers (threads or
//! processes) queue on the busy timeout. The two that must read before deciding (`incr`,
//! `compare_and_set`) run in an `IMMEDIATE` transaction, for the same reason.

use std::sync::LazyLock;

use rusqlite::{
    Connection, OptionalExtension, ToSql, Transaction, TransactionBehavior, params,
    params_from_iter,
};
use session_core::{DocumentEdit, Map, SessionId, Value, document_member};

use crate::error::Result;

fn write_tx(conn: &mut Connection) -> Result<Transaction<'_>> {
    Ok(conn.transaction_with_behavior(TransactionBehavior::Immediate)?)
}

fn decode(text: &str) -> Result<Value> {
    Ok(session_core::decode_value(text)?)
}

/// The JSON path of `key` in a session's `data`: a plain identifier, never parsed as syntax.
fn path(key: &str) -> String {
    format!("$.{}", document_member(key))
}

/// Applies a merge patch to a live session, or creates the session (an expired one starts empty
/// and unbound) with it. Every `sessions.` column here is the row as it was before the statement.
const UPSERT: &str =
    "INSERT INTO sessions (id, expires_at, data) VALUES (?1, ?3, jsonb_patch('{}', ?4))
     ON CONFLICT (id) DO UPDATE SET
         data = jsonb_patch(CASE WHEN sessions.expires_at > ?2 THEN sessions.data ELSE '{}' END, ?4),
         subject = CASE WHEN sessions.expires_at > ?2 THEN sessions.subject END,
         expires_at = ?3";

/// Applies a merge patch to a live session only.
const UPDATE: &str = "UPDATE sessions SET data = jsonb_patch(data, ?4), expires_at = ?3
     WHERE id = ?1 AND expires_at > ?2";

/// Writes `patch` (a merge patch of the session's `data`) and the new deadline; returns whether
/// the session exists afterwards.
fn patch(
    conn: &Connection,
    id: &SessionId,
    patch: &str,
    now: i64,
    expires: i64,
    create: bool,
) -> Result<bool> {
    let statement = if create { UPSERT } else { UPDATE };
    let changed =
        conn.prepare_cached(statement)?
            .execute(params![id.as_bytes(), now, expires, patch])?;
    Ok(changed == 1)
}

/// `data` of a live session, or of one a touch made live longer.
fn data_of(
    conn: &Connection,
    id: &SessionId,
    now: i64,
    touch_to: Option<i64>,
) -> Result<Option<String>> {
    Ok(match touch_to {
        None => conn
            .prepare_cached("SELECT json(data) FROM sessions WHERE id = ?1 AND expires_at > ?2")?
            .query_row(params![id.as_bytes(), now], |row| row.get(0))
            .optional()?,
        Some(expires) => conn
            .prepare_cached(
                "UPDATE sessions SET expires_at = ?3 WHERE id = ?1 AND expires_at > ?2
                 RETURNING json(data)",
            )?
            .query_row(params![id.as_bytes(), now, expires], |row| row.get(0))
            .optional()?,
    })
}

/// The JSON text of `key` in a live session (made live longer first with a touch): `None` for a
/// session that is not live, `Some(None)` for a key it does not hold.
fn text_of(
    conn: &Connection,
    id: &SessionId,
    key: &str,
    now: i64,
    touch_to: Option<i64>,
) -> Result<Option<Option<String>>> {
    Ok(texts_of(conn, id, &[key], now, touch_to)?.map(|texts| texts.into_iter().next().flatten()))
}

/// `Store::get`: one statement, an `UPDATE ... RETURNING` with a touch.
pub(crate) fn get(
    conn: &mut Connection,
    id: &SessionId,
    key: &str,
    now: i64,
    touch_to: Option<i64>,
) -> Result<Option<Value>> {
    let text = text_of(conn, id, key, now, touch_to)?;
    text.flatten().as_deref().map(decode).transpose()
}

/// `Store::get_all`: one statement.
pub(crate) fn get_all(
    conn: &mut Connection,
    id: &SessionId,
    now: i64,
    touch_to: Option<i64>,
) -> Result<Option<Map>> {
    let data = data_of(conn, id, now, touch_to)?;
    Ok(data
        .as_deref()
        .map(session_core::decode_document)
        .transpose()?)
}

/// The most keys a `get_many` reads with a statement of their own count, one `json_extract` per
/// key, so SQLite finds each member in the binary document and nothing else is converted or
/// parsed; more keys (or none) read the whole document.
const FIXED_GET_MANY: usize = 8;

/// The fixed `get_many` statements, index `count - 1`: without a touch (`?1` id, `?2` now, then
/// one path per key) and with one (`?3` the new deadline, then the paths).
static GET_MANY: LazyLock<[Vec<String>; 2]> = LazyLock::new(|| {
    let statement = |count: usize, touch: bool| {
        let first = if touch { 4 } else { 3 };
        let columns: Vec<String> = (first..first + count)
            .map(|i| format!("json_extract(data, ?{i})"))
            .collect();
        let columns = columns.join(", ");
        match touch {
            false => format!("SELECT {columns} FROM sessions WHERE id = ?1 AND expires_at > ?2"),
            true => format!(
                "UPDATE sessions SET expires_at = ?3 WHERE id = ?1 AND expires_at > ?2
                 RETURNING {columns}"
            ),
        }
    };
    [false, true].map(|touch| {
        (1..=FIXED_GET_MANY)
            .map(|count| statement(count, touch))
            .collect()
    })
});

/// The JSON texts of 1 to [`FIXED_GET_MANY`] keys of a live session, in one statement of their
/// count (with a touch, an `UPDATE ... RETURNING`): `None` for a session that is not live.
fn texts_of<K: AsRef<str>>(
    conn: &Connection,
    id: &SessionId,
    keys: &[K],
    now: i64,
    touch_to: Option<i64>,
) -> Result<Option<Vec<Option<String>>>> {
    let statement = keys
        .len()
        .checked_sub(1)
        .and_then(|i| GET_MANY[usize::from(touch_to.is_some())].get(i))
        .unwrap_or_else(|| unreachable!("texts_of is called with 1 to {FIXED_GET_MANY} keys"));
    let paths: Vec<String> = keys.iter().map(|key| path(key.as_ref())).collect();
    let id = id.as_bytes();
    let mut binds: Vec<&dyn ToSql> = vec![&id, &now];
    if let Some(expires) = &touch_to {
        binds.push(expires);
    }
    binds.extend(paths.iter().map(|path| path as &dyn ToSql));
    Ok(conn
        .prepare_cached(statement)?
        .query_row(params_from_iter(binds), |row| {
            (0..keys.len())
                .map(|i| row.get::<_, Option<String>>(i))
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .optional()?)
}

/// `Store::get_many`: one statement reading the row.
pub(crate) fn get_many(
    conn: &mut Connection,
    id: &SessionId,
    keys: &[String],
    now: i64,
    touch_to: Option<i64>,
) -> Result<Option<Vec<Option<Value>>>> {
    if !(1..=FIXED_GET_MANY).contains(&keys.len()) {
        let data = data_of(conn, id, now, touch_to)?;
        let members: Vec<String> = keys.iter().map(|key| document_member(key)).collect();
        return Ok(data
            .as_deref()
            .map(|data| session_core::decode_members(data, &members))
            .transpose()?);
    }
    texts_of(conn, id, keys, now, touch_to)?
        .map(|texts| {
            texts
                .iter()
                .map(|text| text.as_deref().map(decode).transpose())
                .collect()
        })
        .transpose()
}

/// `Store::set_many` (and `set`, `del`, as batches of one) and `Store::update`: one statement.
/// Creates the session only when `create` is set. Returns whether the session exists afterwards.
pub(crate) fn apply(
    conn: &mut Connection,
    id: &SessionId,
    edit: &DocumentEdit,
    now: i64,
    expires: i64,
    create: bool,
) -> Result<bool> {
    patch(conn, id, &edit.merge_patch(), now, expires, create)
}

/// Sets one key of a live or new session to `json`, as a merge patch.
fn put(
    conn: &Connection,
    id: &SessionId,
    key: &str,
    json: &str,
    now: i64,
    expires: i64,
) -> Result<()> {
    let edit = DocumentEdit {
        sets: vec![(document_member(key), json.to_owned())],
        removals: Vec::new(),
    };
    patch(conn, id, &edit.merge_patch(), now, expires, true).map(drop)
}

/// `Store::incr`: read, decide and write in one `IMMEDIATE` transaction, so increments queue on
/// the write lock and none is lost. The outer error is the database's; the inner one a refused
/// increment (nothing written).
pub(crate) fn incr(
    conn: &mut Connection,
    id: &SessionId,
    key: &str,
    delta: i64,
    (now, expires): (i64, i64),
    create: bool,
) -> Result<std::result::Result<Option<i64>, session_core::StoreError>> {
    let tx = write_tx(conn)?;
    let Some(current) = live_text(&tx, id, key, now, create)? else {
        return Ok(Ok(None)); // no live session, and not to be created
    };
    let current = current.as_deref().map(decode).transpose()?;
    let next = match session_core::incremented(current.as_ref(), delta) {
        Ok(next) => next,
        Err(refused) => return Ok(Err(refused)), // the transaction rolls back
    };
    put(&tx, id, key, &next.to_string(), now, expires)?;
    tx.commit()?;
    Ok(Ok(Some(next)))
}

/// The text of `key` in a live session (`Some(None)`: the key is absent); `None` when the
/// session is missing or expired, unless `create`, which treats it as an empty session.
fn live_text(
    conn: &Connection,
    id: &SessionId,
    key: &str,
    now: i64,
    create: bool,
) -> Result<Option<Option<String>>> {
    match text_of(conn, id, key, now, None)? {
        Some(text) => Ok(Some(text)),
        None if create => Ok(Some(None)),
        None => Ok(None),
    }
}

/// `Store::compare_and_set`: compare and write in one `IMMEDIATE` transaction; on a mismatch it
/// rolls back, so nothing changes, the expiry included.
pub(crate) fn compare_and_set(
    conn: &mut Connection,
    id: &SessionId,
    key: &str,
    expected: Option<&Value>,
    new_json: &str,
    (now, expires): (i64, i64),
    create: bool,
) -> Result<Option<bool>> {
    let tx = write_tx(conn)?;
    let Some(current) = live_text(&tx, id, key, now, create)? else {
        return Ok(None);
    };
    let current = current.as_deref().map(decode).transpose()?;
    if current.as_ref() != expected {
        return Ok(Some(false));
    }
    put(&tx, id, key, new_json, now, expires)?;
    tx.commit()?;
    Ok(Some(true))
}

/// `Store::del_all`: one statement.
pub(crate) fn del_all(conn: &mut Connection, id: &SessionId) -> Result<()> {
    conn.prepare_cached("DELETE FROM sessions WHERE id = ?1")?
        .execute([id.as_bytes()])?;
    Ok(())
}

/// `Store::take`: one statement, so nothing lands between the read and the removal.
pub(crate) fn take(conn: &mut Connection, id: &SessionId, now: i64) -> Result<Option<Map>> {
    let row: Option<(String, bool)> = conn
        .prepare_cached("DELETE FROM sessions WHERE id = ?1 RETURNING json(data), expires_at > ?2")?
        .query_row(params![id.as_bytes(), now], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .optional()?;
    match row {
        Some((data, true)) => Ok(Some(session_core::decode_document(&data)?)),
        _ => Ok(None),
    }
}

/// `Store::extend`: one statement.
pub(crate) fn extend(
    conn: &mut Connection,
    id: &SessionId,
    now: i64,
    expires: i64,
) -> Result<bool> {
    let changed = conn
        .prepare_cached("UPDATE sessions SET expires_at = ?3 WHERE id = ?1 AND expires_at > ?2")?
        .execute(params![id.as_bytes(), now, expires])?;
    Ok(changed == 1)
}

/// `SubjectIndex::bind_subject`: one statement.
pub(crate) fn bind_subject(
    conn: &mut Connection,
    id: &SessionId,
    subject: &str,
    now: i64,
) -> Result<bool> {
    let changed = conn
        .prepare_cached("UPDATE sessions SET subject = ?2 WHERE id = ?1 AND expires_at > ?3")?
        .execute(params![id.as_bytes(), subject, now])?;
    Ok(changed == 1)
}

fn ids_where(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<SessionId>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    let mut ids = Vec::new();
    while let Some(row) = rows.next()? {
        let bytes: [u8; 32] = row.get(0)?;
        ids.push(SessionId::from_bytes(bytes));
    }
    Ok(ids)
}

/// `SubjectIndex::subject_sessions_with`: one statement.
pub(crate) fn subject_sessions_with(
    conn: &mut Connection,
    subject: &str,
    key: &str,
    now: i64,
) -> Result<Vec<(SessionId, Option<Value>)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, json_extract(data, ?3) FROM sessions WHERE subject = ?1 AND expires_at > ?2",
    )?;
    let mut rows = stmt.query(params![subject, now, path(key)])?;
    let mut found = Vec::new();
    while let Some(row) = rows.next()? {
        let bytes: [u8; 32] = row.get(0)?;
        let text: Option<String> = row.get(1)?;
        found.push((
            SessionId::from_bytes(bytes),
            text.as_deref().map(decode).transpose()?,
        ));
    }
    Ok(found)
}

/// `SubjectIndex::subject_sessions`.
pub(crate) fn subject_sessions(
    conn: &mut Connection,
    subject: &str,
    now: i64,
) -> Result<Vec<SessionId>> {
    ids_where(
        conn,
        "SELECT id FROM sessions WHERE subject = ?1 AND expires_at > ?2",
        params![subject, now],
    )
}

/// `SubjectIndex::revoke_subject`: one statement; returns how many live sessions it ended.
pub(crate) fn revoke_subject(conn: &mut Connection, subject: &str, now: i64) -> Result<u64> {
    let mut stmt =
        conn.prepare_cached("DELETE FROM sessions WHERE subject = ?1 RETURNING expires_at > ?2")?;
    let mut rows = stmt.query(params![subject, now])?;
    let mut live = 0;
    while let Some(row) = rows.next()? {
        if row.get::<_, bool>(0)? {
            live += 1;
        }
    }
    Ok(live)
}

/// `ExpiredCleanup::delete_expired`: one statement over at most `batch` sessions, oldest first,
/// found through the `expires_at` index.
pub(crate) fn delete_expired(conn: &mut Connection, now: i64, batch: usize) -> Result<u64> {
    let batch = i64::try_from(batch).unwrap_or(i64::MAX);
    let removed = conn
        .prepare_cached(
            "DELETE FROM sessions WHERE id IN
             (SELECT id FROM sessions WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2)",
        )?
        .execute(params![now, batch])?;
    if (removed as i64) < batch {
        // The last batch of a cleanup: give the freed pages back to the file system, and
        // checkpoint without waiting for anyone, so the WAL can be cut back to its limit.
        // Each step frees one page, so it is stepped to the end.
        let mut vacuum = conn.prepare_cached("PRAGMA incremental_vacuum")?;
        let mut pages = vacuum.query([])?;
        while pages.next()?.is_some() {}
        drop(pages);
        drop(vacuum);
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
    }
    Ok(removed as u64)
}

/// `Enumerate::count`.
pub(crate) fn count(conn: &mut Connection, now: i64) -> Result<u64> {
    let count: i64 = conn
        .prepare_cached("SELECT count(*) FROM sessions WHERE expires_at > ?1")?
        .query_row([now], |row| row.get(0))?;
    Ok(count.unsigned_abs())
}

/// `Enumerate::ids`.
pub(crate) fn ids(conn: &mut Connection, now: i64) -> Result<Vec<SessionId>> {
    ids_where(conn, "SELECT id FROM sessions WHERE expires_at > ?1", [now])
}

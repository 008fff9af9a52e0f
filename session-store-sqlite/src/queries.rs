//! The SQL behind each operation, as synchronous functions on one connection. Every write runs in
//! an `IMMEDIATE` transaction: it takes the write lock up front, so it can never fail with
//! `SQLITE_BUSY` halfway through by upgrading a read lock, and concurrent writers (threads or
//! processes) queue on the busy timeout instead.

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use session_core::{Change, Map, SessionId, Value};

use crate::error::Result;

fn write_tx(conn: &mut Connection) -> Result<Transaction<'_>> {
    Ok(conn.transaction_with_behavior(TransactionBehavior::Immediate)?)
}

fn decode(text: &str) -> Result<Value> {
    Ok(serde_json::from_str(text)?)
}

/// Makes `id` ready for a write at `now`: a live session gets the new deadline; an expired one
/// loses its keys and subject first; a missing one is created when `create` is set. Returns
/// whether the session exists afterwards.
fn prepare_write(
    tx: &Transaction<'_>,
    id: &SessionId,
    now: i64,
    expires: i64,
    create: bool,
) -> Result<bool> {
    let live: Option<bool> = tx
        .prepare_cached("SELECT expires_at > ?2 FROM sessions WHERE id = ?1")?
        .query_row(params![id.as_bytes(), now], |row| row.get(0))
        .optional()?;
    match live {
        Some(true) => {
            tx.prepare_cached("UPDATE sessions SET expires_at = ?2 WHERE id = ?1")?
                .execute(params![id.as_bytes(), expires])?;
            Ok(true)
        }
        Some(false) => {
            // Nothing from before the expiry may come back.
            delete_session(tx, id)?;
            if create {
                insert_session(tx, id, expires)?;
            }
            Ok(create)
        }
        None => {
            if create {
                insert_session(tx, id, expires)?;
            }
            Ok(create)
        }
    }
}

fn insert_session(tx: &Transaction<'_>, id: &SessionId, expires: i64) -> Result<()> {
    tx.prepare_cached("INSERT INTO sessions (id, expires_at) VALUES (?1, ?2)")?
        .execute(params![id.as_bytes(), expires])?;
    Ok(())
}

fn delete_session(conn: &Connection, id: &SessionId) -> Result<()> {
    conn.prepare_cached("DELETE FROM session_entries WHERE session_id = ?1")?
        .execute([id.as_bytes()])?;
    conn.prepare_cached("DELETE FROM sessions WHERE id = ?1")?
        .execute([id.as_bytes()])?;
    Ok(())
}

fn put(conn: &Connection, id: &SessionId, key: &str, json: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO session_entries (session_id, key, value) VALUES (?1, ?2, ?3)
         ON CONFLICT (session_id, key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![id.as_bytes(), key, json])?;
    Ok(())
}

fn remove(conn: &Connection, id: &SessionId, key: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM session_entries WHERE session_id = ?1 AND key = ?2")?
        .execute(params![id.as_bytes(), key])?;
    Ok(())
}

/// Moves a live session's deadline; returns whether it was live.
fn touch(conn: &Connection, id: &SessionId, now: i64, expires: i64) -> Result<bool> {
    let changed = conn
        .prepare_cached("UPDATE sessions SET expires_at = ?3 WHERE id = ?1 AND expires_at > ?2")?
        .execute(params![id.as_bytes(), now, expires])?;
    Ok(changed == 1)
}

fn is_live(conn: &Connection, id: &SessionId, now: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM sessions WHERE id = ?1 AND expires_at > ?2")?
        .query_row(params![id.as_bytes(), now], |_| Ok(()))
        .optional()?
        .is_some())
}

fn value_of(conn: &Connection, id: &SessionId, key: &str) -> Result<Option<Value>> {
    let text: Option<String> = conn
        .prepare_cached("SELECT value FROM session_entries WHERE session_id = ?1 AND key = ?2")?
        .query_row(params![id.as_bytes(), key], |row| row.get(0))
        .optional()?;
    text.as_deref().map(decode).transpose()
}

fn entries_of(conn: &Connection, id: &SessionId) -> Result<Map> {
    let mut stmt =
        conn.prepare_cached("SELECT key, value FROM session_entries WHERE session_id = ?1")?;
    let mut rows = stmt.query([id.as_bytes()])?;
    let mut map = Map::new();
    while let Some(row) = rows.next()? {
        let value: String = row.get(1)?;
        map.insert(row.get(0)?, decode(&value)?);
    }
    Ok(map)
}

/// `Store::get`: one statement without a touch, one short write transaction with one.
pub(crate) fn get(
    conn: &mut Connection,
    id: &SessionId,
    key: &str,
    now: i64,
    touch_to: Option<i64>,
) -> Result<Option<Value>> {
    match touch_to {
        None => {
            let text: Option<String> = conn
                .prepare_cached(
                    "SELECT e.value FROM session_entries e JOIN sessions s ON s.id = e.session_id
                     WHERE e.session_id = ?1 AND e.key = ?2 AND s.expires_at > ?3",
                )?
                .query_row(params![id.as_bytes(), key, now], |row| row.get(0))
                .optional()?;
            text.as_deref().map(decode).transpose()
        }
        Some(expires) => {
            let tx = write_tx(conn)?;
            let value = if touch(&tx, id, now, expires)? {
                value_of(&tx, id, key)?
            } else {
                None
            };
            tx.commit()?;
            Ok(value)
        }
    }
}

/// `Store::get_all`: liveness and keys read in one transaction, so they agree.
pub(crate) fn get_all(
    conn: &mut Connection,
    id: &SessionId,
    now: i64,
    touch_to: Option<i64>,
) -> Result<Option<Map>> {
    let tx = match touch_to {
        None => conn.transaction()?,
        Some(_) => write_tx(conn)?,
    };
    let live = match touch_to {
        None => is_live(&tx, id, now)?,
        Some(expires) => touch(&tx, id, now, expires)?,
    };
    let map = if live {
        Some(entries_of(&tx, id)?)
    } else {
        None
    };
    tx.commit()?;
    Ok(map)
}

/// `Store::set_many` (and `set`, `del`, as batches of one) and `Store::update`: one transaction.
/// A missing session is created only when `may_create` is set and the batch sets something.
/// Returns whether the session exists afterwards.
pub(crate) fn apply(
    conn: &mut Connection,
    id: &SessionId,
    changes: &[(String, Option<String>)],
    now: i64,
    expires: i64,
    may_create: bool,
) -> Result<bool> {
    let create = may_create && changes.iter().any(|(_, json)| json.is_some());
    let tx = write_tx(conn)?;
    let exists = prepare_write(&tx, id, now, expires, create)?;
    if exists {
        for (key, json) in changes {
            match json {
                Some(json) => put(&tx, id, key, json)?,
                None => remove(&tx, id, key)?,
            }
        }
    }
    tx.commit()?;
    Ok(exists)
}

/// `Store::get_many`: liveness (and the touch) and the keys in one transaction.
pub(crate) fn get_many(
    conn: &mut Connection,
    id: &SessionId,
    keys: &[String],
    now: i64,
    touch_to: Option<i64>,
) -> Result<Option<Vec<Option<Value>>>> {
    let tx = match touch_to {
        None => conn.transaction()?,
        Some(_) => write_tx(conn)?,
    };
    let live = match touch_to {
        None => is_live(&tx, id, now)?,
        Some(expires) => touch(&tx, id, now, expires)?,
    };
    let values = if live {
        Some(
            keys.iter()
                .map(|key| value_of(&tx, id, key))
                .collect::<Result<Vec<_>>>()?,
        )
    } else {
        None
    };
    tx.commit()?;
    Ok(values)
}

/// `Store::incr`: read, decide and write in one `IMMEDIATE` transaction, so increments queue on
/// the write lock and none is lost. The outer error is the database's; the inner one a refused
/// increment (nothing written).
pub(crate) fn incr(
    conn: &mut Connection,
    id: &SessionId,
    key: &str,
    delta: i64,
    now: i64,
    expires: i64,
) -> Result<std::result::Result<i64, session_core::StoreError>> {
    let tx = write_tx(conn)?;
    let current = if is_live(&tx, id, now)? {
        value_of(&tx, id, key)?
    } else {
        None
    };
    let next = match session_core::incremented(current.as_ref(), delta) {
        Ok(next) => next,
        Err(refused) => return Ok(Err(refused)), // the transaction rolls back
    };
    prepare_write(&tx, id, now, expires, true)?;
    put(&tx, id, key, &next.to_string())?;
    tx.commit()?;
    Ok(Ok(next))
}

/// `Store::compare_and_set`: compare and write in one `IMMEDIATE` transaction; on a mismatch it
/// rolls back, so nothing changes, the expiry included.
pub(crate) fn compare_and_set(
    conn: &mut Connection,
    id: &SessionId,
    key: &str,
    expected: Option<&Value>,
    new_json: &str,
    now: i64,
    expires: i64,
) -> Result<bool> {
    let tx = write_tx(conn)?;
    let current = if is_live(&tx, id, now)? {
        value_of(&tx, id, key)?
    } else {
        None
    };
    if current.as_ref() != expected {
        return Ok(false);
    }
    prepare_write(&tx, id, now, expires, true)?;
    put(&tx, id, key, new_json)?;
    tx.commit()?;
    Ok(true)
}

/// `Store::del_all`.
pub(crate) fn del_all(conn: &mut Connection, id: &SessionId) -> Result<()> {
    let tx = write_tx(conn)?;
    delete_session(&tx, id)?;
    tx.commit()?;
    Ok(())
}

/// `Store::take`: the keys and the removal in one write transaction, so nothing lands between.
pub(crate) fn take(conn: &mut Connection, id: &SessionId, now: i64) -> Result<Option<Map>> {
    let tx = write_tx(conn)?;
    let map = if is_live(&tx, id, now)? {
        Some(entries_of(&tx, id)?)
    } else {
        None
    };
    delete_session(&tx, id)?;
    tx.commit()?;
    Ok(map)
}

/// `Store::extend`: one statement.
pub(crate) fn extend(
    conn: &mut Connection,
    id: &SessionId,
    now: i64,
    expires: i64,
) -> Result<bool> {
    touch(conn, id, now, expires)
}

/// Serializes a batch for [`apply`]: values become canonical JSON text before any I/O, and a
/// value longer than `limit` refuses the whole batch.
pub(crate) fn encode(
    changes: Vec<Change>,
    limit: usize,
) -> std::result::Result<Vec<(String, Option<String>)>, session_core::StoreError> {
    changes
        .into_iter()
        .map(|change| match change {
            Change::Set(key, value) => Ok((
                key,
                Some(session_core::canonical_json_within(&value, limit)?),
            )),
            Change::Del(key) => Ok((key, None)),
        })
        .collect()
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

/// `SubjectIndex::revoke_subject`: one transaction; returns how many live sessions it ended.
pub(crate) fn revoke_subject(conn: &mut Connection, subject: &str, now: i64) -> Result<u64> {
    let tx = write_tx(conn)?;
    let live: i64 = tx
        .prepare_cached("SELECT count(*) FROM sessions WHERE subject = ?1 AND expires_at > ?2")?
        .query_row(params![subject, now], |row| row.get(0))?;
    tx.prepare_cached(
        "DELETE FROM session_entries WHERE session_id IN (SELECT id FROM sessions WHERE subject = ?1)",
    )?
    .execute([subject])?;
    tx.prepare_cached("DELETE FROM sessions WHERE subject = ?1")?
        .execute([subject])?;
    tx.commit()?;
    Ok(live.unsigned_abs())
}

/// `ExpiredCleanup::delete_expired`: one transaction over at most `batch` sessions, oldest first,
/// found through the `expires_at` index.
pub(crate) fn delete_expired(conn: &mut Connection, now: i64, batch: usize) -> Result<u64> {
    let tx = write_tx(conn)?;
    let batch = i64::try_from(batch).unwrap_or(i64::MAX);
    let ids = ids_where(
        &tx,
        "SELECT id FROM sessions WHERE expires_at <= ?1 ORDER BY expires_at LIMIT ?2",
        params![now, batch],
    )?;
    for id in &ids {
        delete_session(&tx, id)?;
    }
    tx.commit()?;
    if (ids.len() as i64) < batch {
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
    Ok(ids.len() as u64)
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

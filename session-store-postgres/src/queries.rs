//! The SQL of each operation, built once per store from its names. Each operation is one
//! statement, so one round trip; `incr` and `compare_and_set` call the schema's functions.

use std::sync::Arc;

use sqlx::{AssertSqlSafe, SqlSafeStr, SqlStr};

use crate::schema::Names;

/// A statement built from the store's names. Safe to assert: the only text put into it is the
/// schema's and tables' identifiers, which `Names` validated and quoted; values are always bound.
/// Shared as an `Arc<str>`, so each use is a reference-count increment, not a copy.
fn sql(text: String) -> SqlStr {
    AssertSqlSafe(Arc::<str>::from(text)).into_sql_str()
}

/// The statements of one store.
#[derive(Debug)]
pub(crate) struct Queries {
    pub(crate) get: SqlStr,
    pub(crate) get_touch: SqlStr,
    pub(crate) get_all: SqlStr,
    pub(crate) get_all_touch: SqlStr,
    pub(crate) upsert: SqlStr,
    pub(crate) update: SqlStr,
    pub(crate) del_all: SqlStr,
    pub(crate) take: SqlStr,
    pub(crate) incr: SqlStr,
    pub(crate) cas: SqlStr,
    pub(crate) incr_live: SqlStr,
    pub(crate) cas_live: SqlStr,
    /// `get_many` of 1 to [`FIXED_GET_MANY`] keys, one statement per count (index: count - 1).
    pub(crate) get_many_fixed: Vec<SqlStr>,
    pub(crate) extend: SqlStr,
    pub(crate) bind_subject: SqlStr,
    pub(crate) subject_sessions: SqlStr,
    pub(crate) subject_sessions_with: SqlStr,
    pub(crate) revoke: SqlStr,
    pub(crate) delete_expired: SqlStr,
    pub(crate) count: SqlStr,
    pub(crate) ids: SqlStr,
}

/// The most keys a `get_many` reads with a statement of their own count (more read the document).
pub(crate) const FIXED_GET_MANY: usize = 8;

impl Queries {
    pub(crate) fn new(n: &Names) -> Self {
        let s = &n.sessions;
        let expires = "now() + $2 * interval '1 millisecond'";
        let live = "expires_at > now()";
        let touch = format!("UPDATE {s} SET expires_at = {expires} WHERE id = $1 AND {live}");
        Self {
            // $1 id, $2 member: no row for no session, a NULL for a key it does not hold.
            get: sql(format!("SELECT data ->> $2 FROM {s} WHERE id = $1 AND {live}")),
            // $1 id, $2 ttl ms, $3 member
            get_touch: sql(format!("{touch} RETURNING data ->> $3")),
            // $1 id
            get_all: sql(format!("SELECT data::text FROM {s} WHERE id = $1 AND {live}")),
            // $1 id, $2 ttl ms
            get_all_touch: sql(format!("{touch} RETURNING data::text")),
            // $1 id, $2 ttl ms, $3 the sets as an object, $4 the removed members. Creates the
            // session, or starts an expired one empty and unbound; in `DO UPDATE`, `t` is the
            // row as it was, locked.
            upsert: sql(format!(
                "INSERT INTO {s} AS t (id, expires_at, data) VALUES ($1, {expires}, $3::jsonb)
                 ON CONFLICT (id) DO UPDATE SET
                     data = CASE WHEN t.{live} THEN (t.data - $4::text[]) || $3::jsonb ELSE $3::jsonb END,
                     subject = CASE WHEN t.{live} THEN t.subject END,
                     expires_at = EXCLUDED.expires_at"
            )),
            // As `upsert`, on a live session only. Under READ COMMITTED a writer that waited
            // for the row lock re-reads the row, so concurrent edits never lose each other.
            update: sql(format!(
                "UPDATE {s} SET data = (data - $4::text[]) || $3::jsonb, expires_at = {expires}
                 WHERE id = $1 AND {live}"
            )),
            del_all: sql(format!("DELETE FROM {s} WHERE id = $1")),
            // $1 id: the document, and whether the session was live.
            take: sql(format!(
                "DELETE FROM {s} WHERE id = $1 RETURNING data::text, {live}"
            )),
            // $1 id, $2 ttl ms, $3 member, $4 delta
            incr: sql(format!("SELECT {}($1, $2, $3, $4)", n.incr)),
            // $1 id, $2 ttl ms, $3 member, $4 expected (NULL: absent), $5 new
            cas: sql(format!("SELECT {}($1, $2, $3, $4, $5)", n.cas)),
            // As incr and cas: NULL when the session is not live.
            incr_live: sql(format!("SELECT {}($1, $2, $3, $4)", n.incr_live)),
            cas_live: sql(format!("SELECT {}($1, $2, $3, $4, $5)", n.cas_live)),
            // $1 id, then one member per parameter: a statement per count, so PostgreSQL keeps
            // one generic plan for each.
            get_many_fixed: (1..=FIXED_GET_MANY)
                .map(|count| {
                    let columns: Vec<String> =
                        (0..count).map(|i| format!("data ->> ${}", i + 2)).collect();
                    sql(format!(
                        "SELECT {} FROM {s} WHERE id = $1 AND {live}",
                        columns.join(", ")
                    ))
                })
                .collect(),
            // $1 id, $2 ttl ms
            extend: sql(touch.clone()),
            // $1 id, $2 subject
            bind_subject: sql(format!(
                "UPDATE {s} SET subject = $2 WHERE id = $1 AND {live}"
            )),
            subject_sessions: sql(format!("SELECT id FROM {s} WHERE subject = $1 AND {live}")),
            // $1 subject, $2 the key's member
            subject_sessions_with: sql(format!(
                "SELECT id, data ->> $2 FROM {s} WHERE subject = $1 AND {live}"
            )),
            // $1 subject: how many of the removed sessions were live.
            revoke: sql(format!(
                "WITH gone AS (DELETE FROM {s} WHERE subject = $1 RETURNING {live} AS live)
                 SELECT count(*) FILTER (WHERE live) FROM gone"
            )),
            // $1 batch. Up to that many expired sessions, oldest first, skipping rows another
            // transaction holds, so concurrent cleaners never wait on each other.
            delete_expired: sql(format!(
                "WITH doomed AS (
                     SELECT id FROM {s} WHERE expires_at <= now()
                     ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED
                 )
                 DELETE FROM {s} t USING doomed d WHERE t.id = d.id"
            )),
            count: sql(format!("SELECT count(*) FROM {s} WHERE {live}")),
            ids: sql(format!("SELECT id FROM {s} WHERE {live}")),
        }
    }
}

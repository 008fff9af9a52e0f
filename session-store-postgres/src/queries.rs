//! The SQL of each operation, built once per store from its names. Reads are plain statements;
//! writes call the functions of the schema. Each operation is one statement: one round trip.

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
    pub(crate) write: SqlStr,
    pub(crate) del_all: SqlStr,
    pub(crate) take: SqlStr,
    pub(crate) incr: SqlStr,
    pub(crate) cas: SqlStr,
    pub(crate) get_many: SqlStr,
    /// `get_many` of 1 to [`FIXED_GET_MANY`] keys, one statement per count (index: count - 1).
    pub(crate) get_many_fixed: Vec<SqlStr>,
    pub(crate) get_many_touch: SqlStr,
    pub(crate) extend: SqlStr,
    pub(crate) bind_subject: SqlStr,
    pub(crate) subject_sessions: SqlStr,
    pub(crate) revoke: SqlStr,
    pub(crate) delete_expired: SqlStr,
    pub(crate) count: SqlStr,
    pub(crate) ids: SqlStr,
}

/// The most keys a `get_many` reads with a statement of their own count.
pub(crate) const FIXED_GET_MANY: usize = 8;

impl Queries {
    pub(crate) fn new(n: &Names) -> Self {
        let (s, e) = (&n.sessions, &n.entries);
        let expires = "now() + $2 * interval '1 millisecond'";
        let touched = format!(
            "WITH s AS (UPDATE {s} SET expires_at = {expires} WHERE id = $1 AND expires_at > now() RETURNING id)"
        );
        Self {
            // $1 id, $2 key
            get: sql(format!(
                "SELECT e.value FROM {s} s JOIN {e} e ON e.session_id = s.id
                 WHERE s.id = $1 AND s.expires_at > now() AND e.key = $2"
            )),
            // $1 id, $2 ttl ms, $3 key
            get_touch: sql(format!(
                "{touched} SELECT e.value FROM s JOIN {e} e ON e.session_id = s.id WHERE e.key = $3"
            )),
            // $1 id; no row: no session; one row with NULL key: a live, empty session.
            get_all: sql(format!(
                "SELECT e.key, e.value FROM {s} s LEFT JOIN {e} e ON e.session_id = s.id
                 WHERE s.id = $1 AND s.expires_at > now()"
            )),
            // $1 id, $2 ttl ms
            get_all_touch: sql(format!(
                "{touched} SELECT e.key, e.value FROM s LEFT JOIN {e} e ON e.session_id = s.id"
            )),
            // $1 id, $2 ttl ms, $3 keys, $4 values, $5 removed keys, $6 may create
            write: sql(format!("SELECT {}($1, $2, $3, $4, $5, $6)", n.write)),
            del_all: sql(format!("SELECT {}($1)", n.del_all)),
            take: sql(format!("SELECT k, v FROM {}($1)", n.take)),
            // $1 id, $2 ttl ms, $3 key, $4 delta
            incr: sql(format!("SELECT {}($1, $2, $3, $4)", n.incr)),
            // $1 id, $2 ttl ms, $3 key, $4 expected (NULL: absent), $5 new
            cas: sql(format!("SELECT {}($1, $2, $3, $4, $5)", n.cas)),
            // $1 id, $2 keys: a row per asked key, in order, when the session is live
            // $1 id, then one key per parameter: a statement per key count, so PostgreSQL can
            // keep one generic plan for it. With the keys in an array, it plans every execution
            // anew (a custom plan looks cheaper than the generic one for an array of unknown
            // length), which doubled a manager read's time in the benchmark.
            get_many_fixed: (1..=FIXED_GET_MANY)
                .map(|n| {
                    let columns: Vec<String> = (0..n)
                        .map(|i| {
                            format!(
                                "(SELECT e.value FROM {e} e WHERE e.session_id = s.id AND e.key = ${})",
                                i + 2
                            )
                        })
                        .collect();
                    sql(format!(
                        "SELECT {} FROM {s} s WHERE s.id = $1 AND s.expires_at > now()",
                        columns.join(", ")
                    ))
                })
                .collect(),
            // One primary-key lookup per asked key (a join would scan the session's entries).
            get_many: sql(format!(
                "SELECT (SELECT e.value FROM {e} e WHERE e.session_id = s.id AND e.key = k.key)
                 FROM {s} s CROSS JOIN unnest($2::text[]) WITH ORDINALITY AS k(key, ord)
                 WHERE s.id = $1 AND s.expires_at > now() ORDER BY k.ord"
            )),
            // $1 id, $2 ttl ms, $3 keys
            get_many_touch: sql(format!(
                "{touched} SELECT e.value FROM s CROSS JOIN unnest($3::text[]) WITH ORDINALITY AS k(key, ord)
                 LEFT JOIN {e} e ON e.session_id = s.id AND e.key = k.key ORDER BY k.ord"
            )),
            // $1 id, $2 ttl ms
            extend: sql(format!(
                "UPDATE {s} SET expires_at = {expires} WHERE id = $1 AND expires_at > now()"
            )),
            // $1 id, $2 subject
            bind_subject: sql(format!(
                "UPDATE {s} SET subject = $2 WHERE id = $1 AND expires_at > now()"
            )),
            subject_sessions: sql(format!(
                "SELECT id FROM {s} WHERE subject = $1 AND expires_at > now()"
            )),
            revoke: sql(format!("SELECT {}($1)", n.revoke)),
            delete_expired: sql(format!("SELECT {}($1)", n.delete_expired)),
            count: sql(format!("SELECT count(*) FROM {s} WHERE expires_at > now()")),
            ids: sql(format!("SELECT id FROM {s} WHERE expires_at > now()")),
        }
    }
}

//! The SQL of each operation, built once per store from its names. Reads are plain statements;
//! writes call the functions of the schema. Each operation is one statement: one round trip.

use crate::schema::Names;

/// The statements of one store.
#[derive(Debug)]
pub(crate) struct Queries {
    pub(crate) get: String,
    pub(crate) get_touch: String,
    pub(crate) get_all: String,
    pub(crate) get_all_touch: String,
    pub(crate) write: String,
    pub(crate) del_all: String,
    pub(crate) extend: String,
    pub(crate) bind_subject: String,
    pub(crate) subject_sessions: String,
    pub(crate) revoke: String,
    pub(crate) delete_expired: String,
    pub(crate) count: String,
    pub(crate) ids: String,
}

impl Queries {
    pub(crate) fn new(n: &Names) -> Self {
        let (s, e) = (&n.sessions, &n.entries);
        let expires = "now() + $2 * interval '1 millisecond'";
        let touched = format!(
            "WITH s AS (UPDATE {s} SET expires_at = {expires} WHERE id = $1 AND expires_at > now() RETURNING id)"
        );
        Self {
            // $1 id, $2 key
            get: format!(
                "SELECT e.value FROM {s} s JOIN {e} e ON e.session_id = s.id
                 WHERE s.id = $1 AND s.expires_at > now() AND e.key = $2"
            ),
            // $1 id, $2 ttl ms, $3 key
            get_touch: format!(
                "{touched} SELECT e.value FROM s JOIN {e} e ON e.session_id = s.id WHERE e.key = $3"
            ),
            // $1 id; no row: no session; one row with NULL key: a live, empty session.
            get_all: format!(
                "SELECT e.key, e.value FROM {s} s LEFT JOIN {e} e ON e.session_id = s.id
                 WHERE s.id = $1 AND s.expires_at > now()"
            ),
            // $1 id, $2 ttl ms
            get_all_touch: format!(
                "{touched} SELECT e.key, e.value FROM s LEFT JOIN {e} e ON e.session_id = s.id"
            ),
            // $1 id, $2 ttl ms, $3 keys, $4 values, $5 removed keys, $6 may create
            write: format!("SELECT {}($1, $2, $3, $4, $5, $6)", n.write),
            del_all: format!("SELECT {}($1)", n.del_all),
            // $1 id, $2 ttl ms
            extend: format!(
                "UPDATE {s} SET expires_at = {expires} WHERE id = $1 AND expires_at > now()"
            ),
            // $1 id, $2 subject
            bind_subject: format!(
                "UPDATE {s} SET subject = $2 WHERE id = $1 AND expires_at > now()"
            ),
            subject_sessions: format!(
                "SELECT id FROM {s} WHERE subject = $1 AND expires_at > now()"
            ),
            revoke: format!("SELECT {}($1)", n.revoke),
            delete_expired: format!("SELECT {}($1)", n.delete_expired),
            count: format!("SELECT count(*) FROM {s} WHERE expires_at > now()"),
            ids: format!("SELECT id FROM {s} WHERE expires_at > now()"),
        }
    }
}

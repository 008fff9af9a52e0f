//! The schema, in a configurable schema and table name, created and migrated by
//! [`PostgresStore::migrate`](crate::PostgresStore::migrate) from versioned SQL.
//!
//! - `<table>`: one row per session: `id` (bytea, the 32-byte id), `expires_at` (timestamptz, from
//!   the server's clock), `subject`, and `data`, the session's keys as one `jsonb` object in the
//!   layout of [`session_core::DocumentEdit`]: member names of hex digits, each value its exact
//!   JSON text in a string (so a NUL in a value, which `jsonb` refuses raw, and numbers such as
//!   `u64::MAX` keep their text). Indexed on `expires_at` for cleanup and on `subject`.
//! - Functions `<table>_incr` and `<table>_cas`: an increment and a compare-and-set in one call,
//!   under the session row's lock.
//! - `<table>_migrations`: the applied versions.
//!
//! Versions 1 to 3 kept one row per key in `<table>_entries`, written through functions that
//! locked the session row first; version 4 folds each session's keys into its `data` and drops
//! the per-key table and the functions it no longer needs. Stop instances of an older release
//! before migrating: after it, their statements fail (with an error, never silently).

use sqlx::{AssertSqlSafe, PgPool};

use crate::error::{PgError, Result};

/// Quoted, schema-qualified names of everything the store creates.
#[derive(Debug, Clone)]
pub(crate) struct Names {
    pub(crate) quoted_schema: String,
    pub(crate) sessions: String,
    pub(crate) entries: String,
    pub(crate) migrations: String,
    pub(crate) lock: String,
    pub(crate) write: String,
    pub(crate) del_all: String,
    pub(crate) take: String,
    pub(crate) incr: String,
    pub(crate) cas: String,
    pub(crate) incr_live: String,
    pub(crate) cas_live: String,
    pub(crate) revoke: String,
    pub(crate) delete_expired: String,
    /// The bare schema name.
    pub(crate) schema: String,
    /// The bare table name, also for index names (created in the table's schema).
    pub(crate) table: String,
    /// `schema.table`, for logs and the migration lock.
    pub(crate) label: String,
}

/// The longest suffix added to the table name (`_delete_expired`), so every name fits in
/// PostgreSQL's 63-byte identifiers.
const LONGEST_SUFFIX: usize = "_delete_expired".len();

/// Checks an identifier: ASCII letters, digits and `_`, not starting with a digit, short enough.
pub(crate) fn check_identifier(
    what: &str,
    name: &str,
    max: usize,
) -> std::result::Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') || name.len() > max {
        return Err(format!(
            "{what} {name:?} must be 1 to {max} ASCII letters, digits or '_', not starting with a digit"
        ));
    }
    Ok(())
}

impl Names {
    pub(crate) fn new(schema: &str, table: &str) -> std::result::Result<Self, String> {
        check_identifier("schema", schema, 63)?;
        check_identifier("table", table, 63 - LONGEST_SUFFIX)?;
        let q = |suffix: &str| format!("\"{schema}\".\"{table}{suffix}\"");
        Ok(Self {
            quoted_schema: format!("\"{schema}\""),
            sessions: q(""),
            entries: q("_entries"),
            migrations: q("_migrations"),
            lock: q("_lock"),
            write: q("_write"),
            del_all: q("_del_all"),
            take: q("_take"),
            incr: q("_incr"),
            cas: q("_cas"),
            incr_live: q("_incr_live"),
            cas_live: q("_cas_live"),
            revoke: q("_revoke"),
            delete_expired: q("_delete_expired"),
            schema: schema.to_owned(),
            table: table.to_owned(),
            label: format!("{schema}.{table}"),
        })
    }
}

/// The body of an `incr` function after it read the old text into `v_text`: `v_sum` becomes
/// `v_text + p_delta`, or it raises SS001 (not a JSON integer that fits a bigint) or SS002 (the
/// sum overflows). In migrations 3, 4 and 5.
const SUM: &str = "    IF v_text IS NULL THEN
        v_sum := p_delta;
    ELSIF v_text ~ '^-?(0|[1-9][0-9]{0,18})$' THEN
        v_sum := v_text::numeric + p_delta;
        IF v_text::numeric NOT BETWEEN -9223372036854775808 AND 9223372036854775807 THEN
            RAISE EXCEPTION 'the value is not an integer that fits an i64' USING ERRCODE = 'SS001';
        END IF;
    ELSE
        RAISE EXCEPTION 'the value is not an integer that fits an i64' USING ERRCODE = 'SS001';
    END IF;
    IF v_sum NOT BETWEEN -9223372036854775808 AND 9223372036854775807 THEN
        RAISE EXCEPTION 'the sum overflows an i64' USING ERRCODE = 'SS002';
    END IF;";

/// The migrations, in order; version `n` is `MIGRATIONS[n - 1]`.
fn migrations(n: &Names) -> Vec<String> {
    let expires = "now() + p_ttl_ms * interval '1 millisecond'";
    let table = &n.table;
    vec![
        format!(
            r#"
CREATE TABLE {sessions} (
    id bytea PRIMARY KEY,
    expires_at timestamptz NOT NULL,
    subject text
);
CREATE INDEX "{table}_expires_at" ON {sessions} (expires_at);
CREATE INDEX "{table}_subject" ON {sessions} (subject) WHERE subject IS NOT NULL;
CREATE TABLE {entries} (
    session_id bytea NOT NULL,
    key text NOT NULL,
    value text NOT NULL,
    PRIMARY KEY (session_id, key)
);

-- Locks the row of p_id for a write and moves its expiry. An expired session loses its keys and
-- subject first; a missing one is created when p_create is set. Returns whether it exists now.
CREATE FUNCTION {lock}(p_id bytea, p_ttl_ms bigint, p_create boolean) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    v_expired boolean;
BEGIN
    LOOP
        SELECT expires_at <= now() INTO v_expired FROM {sessions} WHERE id = p_id FOR UPDATE;
        EXIT WHEN FOUND;
        IF NOT p_create THEN
            RETURN false;
        END IF;
        INSERT INTO {sessions} (id, expires_at) VALUES (p_id, {expires}) ON CONFLICT (id) DO NOTHING;
        IF FOUND THEN
            RETURN true;
        END IF;
        -- Another writer created it first: go round and lock its row.
    END LOOP;
    IF v_expired THEN
        DELETE FROM {entries} WHERE session_id = p_id;
        IF NOT p_create THEN
            DELETE FROM {sessions} WHERE id = p_id;
            RETURN false;
        END IF;
        UPDATE {sessions} SET expires_at = {expires}, subject = NULL WHERE id = p_id;
    ELSE
        UPDATE {sessions} SET expires_at = {expires} WHERE id = p_id;
    END IF;
    RETURN true;
END
$$;

-- One batch of changes: p_keys/p_values are set, p_dels removed (disjoint, deduplicated: the
-- last change to a key wins). A missing session is created only if p_may_create, which the caller
-- sets when the batch as given sets something (a key set then removed still creates it). Returns
-- whether the session exists afterwards.
CREATE FUNCTION {write}(
    p_id bytea, p_ttl_ms bigint, p_keys text[], p_values text[], p_dels text[], p_may_create boolean
) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF NOT {lock}(p_id, p_ttl_ms, p_may_create) THEN
        RETURN false;
    END IF;
    IF cardinality(p_dels) > 0 THEN
        DELETE FROM {entries} WHERE session_id = p_id AND key = ANY (p_dels);
    END IF;
    IF cardinality(p_keys) > 0 THEN
        INSERT INTO {entries} (session_id, key, value)
        SELECT p_id, k, v FROM unnest(p_keys, p_values) AS u (k, v)
        ON CONFLICT (session_id, key) DO UPDATE SET value = EXCLUDED.value;
    END IF;
    RETURN true;
END
$$;

-- The session row goes first (waiting for any writer), then, in a statement that sees that
-- writer's commit, its entries.
CREATE FUNCTION {del_all}(p_id bytea) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {sessions} WHERE id = p_id;
    DELETE FROM {entries} WHERE session_id = p_id;
END
$$;

-- Ends every session of p_subject; returns how many were live.
CREATE FUNCTION {revoke}(p_subject text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_ids bytea[];
    v_live bigint;
BEGIN
    WITH gone AS (
        DELETE FROM {sessions} WHERE subject = p_subject RETURNING id, expires_at > now() AS live
    )
    SELECT array_agg(id), count(*) FILTER (WHERE live) INTO v_ids, v_live FROM gone;
    DELETE FROM {entries} WHERE session_id = ANY (v_ids);
    RETURN coalesce(v_live, 0);
END
$$;

-- Removes up to p_batch expired sessions, oldest first, skipping rows another transaction holds,
-- so concurrent cleaners never wait on each other and never remove a session twice.
CREATE FUNCTION {delete_expired}(p_batch integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_ids bytea[];
BEGIN
    WITH doomed AS (
        SELECT id FROM {sessions} WHERE expires_at <= now()
        ORDER BY expires_at LIMIT p_batch FOR UPDATE SKIP LOCKED
    ), gone AS (
        DELETE FROM {sessions} s USING doomed d WHERE s.id = d.id RETURNING s.id
    )
    SELECT array_agg(id) INTO v_ids FROM gone;
    DELETE FROM {entries} WHERE session_id = ANY (v_ids);
    RETURN coalesce(cardinality(v_ids), 0);
END
$$;
"#,
            sessions = n.sessions,
            entries = n.entries,
            lock = n.lock,
            write = n.write,
            del_all = n.del_all,
            revoke = n.revoke,
            delete_expired = n.delete_expired,
        ),
        format!(
            r#"
-- Removes session p_id and returns what it held, in one call: a first row of NULLs when it was
-- live (so a live session with no keys is told from a missing one), then its entries. The row
-- goes first, waiting for any writer; the entries are read and removed in a statement that sees
-- that writer's commit, so nothing written before is left out and nothing after can land.
CREATE FUNCTION {take}(p_id bytea) RETURNS TABLE (k text, v text) LANGUAGE plpgsql AS $$
DECLARE
    v_live boolean;
BEGIN
    DELETE FROM {sessions} WHERE id = p_id RETURNING expires_at > now() INTO v_live;
    IF coalesce(v_live, false) THEN
        RETURN QUERY SELECT NULL::text, NULL::text;
        RETURN QUERY DELETE FROM {entries} e WHERE e.session_id = p_id RETURNING e.key, e.value;
    ELSE
        DELETE FROM {entries} e WHERE e.session_id = p_id;
    END IF;
END
$$;
"#,
            sessions = n.sessions,
            entries = n.entries,
            take = n.take,
        ),
        format!(
            r#"
-- Adds p_delta to the integer under p_key and returns the sum. The session row is locked (and
-- created when missing) first, so increments queue and none is lost. A value that is not a JSON
-- integer fitting a bigint (SS001) or a sum that overflows (SS002) raises, which rolls the call
-- back whole: nothing changes.
CREATE FUNCTION {incr}(p_id bytea, p_ttl_ms bigint, p_key text, p_delta bigint)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_text text;
    v_sum numeric;
BEGIN
    PERFORM {lock}(p_id, p_ttl_ms, true);
    SELECT value INTO v_text FROM {entries} WHERE session_id = p_id AND key = p_key;
{sum}
    INSERT INTO {entries} (session_id, key, value) VALUES (p_id, p_key, v_sum::bigint::text)
    ON CONFLICT (session_id, key) DO UPDATE SET value = EXCLUDED.value;
    RETURN v_sum::bigint;
END
$$;

-- Sets p_key to p_new if its canonical JSON text is p_expected (NULL: absent), under the session
-- row's lock (taken, and the row created when missing, first, so two callers cannot both win).
-- A mismatch raises SS003, which rolls the call back whole: nothing changes, the expiry included.
CREATE FUNCTION {cas}(p_id bytea, p_ttl_ms bigint, p_key text, p_expected text, p_new text)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    v_text text;
BEGIN
    PERFORM {lock}(p_id, p_ttl_ms, true);
    SELECT value INTO v_text FROM {entries} WHERE session_id = p_id AND key = p_key;
    IF v_text IS DISTINCT FROM p_expected THEN
        RAISE EXCEPTION 'compare_and_set found another value' USING ERRCODE = 'SS003';
    END IF;
    INSERT INTO {entries} (session_id, key, value) VALUES (p_id, p_key, p_new)
    ON CONFLICT (session_id, key) DO UPDATE SET value = EXCLUDED.value;
    RETURN true;
END
$$;
"#,
            entries = n.entries,
            lock = n.lock,
            incr = n.incr,
            cas = n.cas,
            sum = SUM,
        ),
        format!(
            r#"
-- One row per session: each session's entries folded into its `data`, under the member names
-- `document_member` writes (`k` and the key's UTF-8 bytes in lowercase hex); `jsonb_object_agg`
-- keeps each value's text as a JSON string.
ALTER TABLE {sessions} ADD COLUMN data jsonb NOT NULL DEFAULT '{{}}';
UPDATE {sessions} s SET data = e.doc
FROM (
    SELECT session_id, jsonb_object_agg('k' || encode(convert_to(key, 'UTF8'), 'hex'), value) AS doc
    FROM {entries} GROUP BY session_id
) e
WHERE s.id = e.session_id;
DROP FUNCTION {write}, {take}, {incr}, {cas}, {del_all}, {revoke}, {delete_expired}, {lock};
DROP TABLE {entries};

-- Makes p_id live and locks its row for the rest of the call: a missing session is created, an
-- expired one starts empty and unbound; a live one keeps its keys. Returns the text under
-- p_member, or NULL.
CREATE FUNCTION {lock}(p_id bytea, p_ttl_ms bigint, p_member text) RETURNS text
LANGUAGE sql AS $$
    INSERT INTO {sessions} AS t (id, expires_at) VALUES (p_id, {expires})
    ON CONFLICT (id) DO UPDATE SET
        data = CASE WHEN t.expires_at > now() THEN t.data ELSE '{{}}' END,
        subject = CASE WHEN t.expires_at > now() THEN t.subject END,
        expires_at = EXCLUDED.expires_at
    RETURNING data ->> p_member
$$;

-- Adds p_delta to the integer under p_member and returns the sum, under the session row's lock
-- (taken, and the row created when missing, first), so increments queue and none is lost. A value
-- that is not a JSON integer fitting a bigint (SS001) or a sum that overflows (SS002) raises,
-- which rolls the call back whole: nothing changes.
CREATE FUNCTION {incr}(p_id bytea, p_ttl_ms bigint, p_member text, p_delta bigint)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_text text;
    v_sum numeric;
BEGIN
    v_text := {lock}(p_id, p_ttl_ms, p_member);
{sum}
    UPDATE {sessions} SET data = data || jsonb_build_object(p_member, v_sum::bigint::text)
    WHERE id = p_id;
    RETURN v_sum::bigint;
END
$$;

-- Sets p_member to p_new if its text is p_expected (NULL: absent), under the session row's lock
-- (taken, and the row created when missing, first, so two callers cannot both win). A mismatch
-- raises SS003, which rolls the call back whole: nothing changes, the expiry included.
CREATE FUNCTION {cas}(p_id bytea, p_ttl_ms bigint, p_member text, p_expected text, p_new text)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    IF {lock}(p_id, p_ttl_ms, p_member) IS DISTINCT FROM p_expected THEN
        RAISE EXCEPTION 'compare_and_set found another value' USING ERRCODE = 'SS003';
    END IF;
    UPDATE {sessions} SET data = data || jsonb_build_object(p_member, p_new) WHERE id = p_id;
    RETURN true;
END
$$;
"#,
            sessions = n.sessions,
            entries = n.entries,
            lock = n.lock,
            write = n.write,
            take = n.take,
            incr = n.incr,
            cas = n.cas,
            del_all = n.del_all,
            revoke = n.revoke,
            delete_expired = n.delete_expired,
            sum = SUM,
        ),
        // 5: `incr` and `compare_and_set` that only write to a live session (`Store::incr_live`,
        // `Store::compare_and_set_live`). Only adds functions: a release at version 4 still works.
        format!(
            r#"
-- Adds p_delta to the integer under p_member of a live session and returns the sum, under the
-- row's lock; NULL, creating and changing nothing, when the session is missing or expired.
-- Refusals raise SS001 and SS002, as {incr} does.
CREATE FUNCTION {incr_live}(p_id bytea, p_ttl_ms bigint, p_member text, p_delta bigint)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_text text;
    v_sum numeric;
BEGIN
    SELECT data ->> p_member INTO v_text FROM {sessions}
    WHERE id = p_id AND expires_at > now() FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
{sum}
    UPDATE {sessions} SET data = data || jsonb_build_object(p_member, v_sum::bigint::text),
        expires_at = {expires}
    WHERE id = p_id;
    RETURN v_sum::bigint;
END
$$;

-- Sets p_member of a live session to p_new if its text is p_expected (NULL: absent), under the
-- row's lock; NULL, creating and changing nothing, when the session is missing or expired;
-- false, changing nothing, on a mismatch.
CREATE FUNCTION {cas_live}(p_id bytea, p_ttl_ms bigint, p_member text, p_expected text, p_new text)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    v_text text;
BEGIN
    SELECT data ->> p_member INTO v_text FROM {sessions}
    WHERE id = p_id AND expires_at > now() FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF v_text IS DISTINCT FROM p_expected THEN
        RETURN false;
    END IF;
    UPDATE {sessions} SET data = data || jsonb_build_object(p_member, p_new),
        expires_at = {expires}
    WHERE id = p_id;
    RETURN true;
END
$$;
"#,
            sessions = n.sessions,
            incr = n.incr,
            incr_live = n.incr_live,
            cas_live = n.cas_live,
            sum = SUM,
            expires = expires,
        ),
    ]
}

/// The migration version this code brings a schema to.
pub const SCHEMA_VERSION: i32 = 5;

/// Creates the schema if needed and applies the missing migrations up to version `target`, in one
/// transaction under an advisory lock, so app instances starting together migrate once.
pub(crate) async fn migrate(pool: &PgPool, names: &Names, target: i32) -> Result<()> {
    let all = migrations(names);
    debug_assert_eq!(all.len() as i32, SCHEMA_VERSION);
    let target = target.clamp(0, SCHEMA_VERSION) as usize;
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("session-store-postgres:{}", names.label))
        .execute(&mut *tx)
        .await?;
    let bootstrap = format!(
        "CREATE SCHEMA IF NOT EXISTS {schema};
         CREATE TABLE IF NOT EXISTS {migrations} (
             version integer PRIMARY KEY,
             applied_at timestamptz NOT NULL DEFAULT now()
         );",
        schema = names.quoted_schema,
        migrations = names.migrations
    );
    // A plain string runs as a simple query, which may hold several statements.
    sqlx::raw_sql(AssertSqlSafe(bootstrap))
        .execute(&mut *tx)
        .await?;
    let found: i32 = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT coalesce(max(version), 0) FROM {}",
        names.migrations
    )))
    .fetch_one(&mut *tx)
    .await?;
    if found > SCHEMA_VERSION {
        return Err(PgError::NewerSchema {
            found,
            known: SCHEMA_VERSION,
        });
    }
    for (version, sql) in all.iter().enumerate().take(target).skip(found as usize) {
        sqlx::raw_sql(AssertSqlSafe(sql.as_str()))
            .execute(&mut *tx)
            .await?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO {} (version) VALUES ($1)",
            names.migrations
        )))
        .bind(version as i32 + 1)
        .execute(&mut *tx)
        .await?;
        tracing::info!(version = version + 1, table = %names.label, "applied session schema migration");
    }
    tx.commit().await?;
    Ok(())
}

//! The server-side scripts: each multi-step operation runs atomically in one round trip, and the
//! expiry is set in the same script as the write, so no session key ever exists without one.
//! The store's own field names come in as arguments, from `keys`.

use std::sync::LazyLock;

use redis::Script;

/// KEYS[1] session; ARGV[1] ttl ms; ARGV[2] `1` if the batch may create a missing session; ARGV[3]
/// the number n of (field, value) pairs to set, which follow; then the fields to delete. The
/// client collapses the batch first (the last change of a key wins), so the sets and the deletions
/// name different fields and their order does not matter; the marker field is always one of the
/// sets. A missing session is left missing unless ARGV[2] is `1`. Returns 1 if the session exists
/// afterwards.
///
/// Each command takes its fields in one call (chunked below Lua's argument limit), so a write of
/// ten keys is three commands on the server, not a dozen.
pub(crate) static WRITE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local k = KEYS[1]
if ARGV[2] ~= '1' and redis.call('EXISTS', k) == 0 then return 0 end
local first_del = 4 + 2 * tonumber(ARGV[3])
for i = first_del, #ARGV, 4000 do
    redis.call('HDEL', k, unpack(ARGV, i, math.min(i + 3999, #ARGV)))
end
for i = 4, first_del - 1, 4000 do
    redis.call('HSET', k, unpack(ARGV, i, math.min(i + 3999, first_del - 1)))
end
redis.call('PEXPIRE', k, ARGV[1])
return 1
"#,
    )
});

/// KEYS[1] session; ARGV[1] ttl ms; ARGV[2] field. Moves a live session's expiry and returns the
/// field's value (nil for a missing session or field).
pub(crate) static GET_TOUCH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
if redis.call('PEXPIRE', KEYS[1], ARGV[1]) == 1 then
    return redis.call('HGET', KEYS[1], ARGV[2])
end
return false
"#,
    )
});

/// KEYS[1] session; ARGV[1] ttl ms. Moves a live session's expiry and returns all its fields
/// (an empty array for a missing session).
pub(crate) static GET_ALL_TOUCH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
if redis.call('PEXPIRE', KEYS[1], ARGV[1]) == 1 then
    return redis.call('HGETALL', KEYS[1])
end
return {}
"#,
    )
});

/// KEYS[1] session; ARGV[1] ttl ms; then the fields. `false` for a missing session, else the
/// fields' values in order (nil for a missing one), the expiry moved first. (A read without a
/// touch is a plain `HMGET`.)
pub(crate) static GET_MANY: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local k = KEYS[1]
if redis.call('EXISTS', k) == 0 then return false end
redis.call('PEXPIRE', k, ARGV[1])
if #ARGV == 1 then return {} end
return redis.call('HMGET', k, unpack(ARGV, 2))
"#,
    )
});

/// KEYS[1] session; ARGV[1] ttl ms; ARGV[2] the marker field; ARGV[3] field; ARGV[4] delta;
/// ARGV[5] `1` to create a missing session, `0` to answer nil for one and change nothing.
/// Adds delta to the integer in the field (a missing one is 0) with `HINCRBY` (exact 64-bit
/// arithmetic) and moves the expiry; returns the new value's text. A value that is not an integer (`NOTINT`) or a sum out of range (`RANGE`) is an error
/// and changes nothing.
pub(crate) static INCR: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local k = KEYS[1]
if ARGV[5] == '0' and redis.call('EXISTS', k) == 0 then return false end
local v = redis.call('HGET', k, ARGV[3])
if v and not string.match(v, '^%-?%d+$') then
    return redis.error_reply('NOTINT the value is not an integer')
end
local sum = redis.pcall('HINCRBY', k, ARGV[3], ARGV[4])
if type(sum) == 'table' and sum.err then
    return redis.error_reply('RANGE the value or the sum does not fit an i64')
end
redis.call('HSET', k, ARGV[2], '1')
redis.call('PEXPIRE', k, ARGV[1])
-- The stored text, not `sum`: Lua numbers are doubles and would round a large sum.
return redis.call('HGET', k, ARGV[3])
"#,
    )
});

/// KEYS[1] session; ARGV[1] ttl ms; ARGV[2] the marker field; ARGV[3] field; ARGV[4] `1` when a
/// value is expected (else the field must be absent); ARGV[5] the expected canonical JSON text;
/// ARGV[6] the new one; ARGV[7] `1` to create a missing session, `0` to answer nil for one and
/// change nothing. Sets the field only on a match, and moves the expiry then; returns 1 if it
/// set, 0 (nothing changed) if not.
pub(crate) static COMPARE_AND_SET: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local k = KEYS[1]
if ARGV[7] == '0' and redis.call('EXISTS', k) == 0 then return false end
local v = redis.call('HGET', k, ARGV[3])
if ARGV[4] == '1' then
    if v ~= ARGV[5] then return 0 end
elseif v then
    return 0
end
redis.call('HSET', k, ARGV[3], ARGV[6], ARGV[2], '1')
redis.call('PEXPIRE', k, ARGV[1])
return 1
"#,
    )
});

/// KEYS[1] session. Removes the session and returns all its fields (an empty array for a missing
/// session): one script, so no write lands between the read and the removal.
pub(crate) static TAKE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local fields = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
return fields
"#,
    )
});

/// KEYS[1] session; ARGV[1] subject; ARGV[2] the subject field. Binds a live session; returns its previous subject, `""`
/// when it had none, or nil when the session is missing.
pub(crate) static BIND: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local old = redis.call('HGET', KEYS[1], ARGV[2])
redis.call('HSET', KEYS[1], ARGV[2], ARGV[1])
return old or ''
"#,
    )
});

/// KEYS[1] session; ARGV[1] subject; ARGV[2] the subject field. Removes the session if it is still bound to the subject;
/// returns 1 if it did.
pub(crate) static REVOKE_ONE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
if redis.call('HGET', KEYS[1], ARGV[2]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"#,
    )
});

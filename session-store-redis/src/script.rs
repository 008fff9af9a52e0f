//! The server-side scripts: each multi-step operation runs atomically in one round trip, and the
//! expiry is set in the same script as the write, so no session key ever exists without one.
//! The store's own field names come in as arguments, from `keys`.

use std::sync::LazyLock;

use redis::Script;

/// KEYS[1] session; ARGV[1] ttl ms; ARGV[2] the marker field; ARGV[3] `1` if the batch may create
/// a missing session; then triples (op, field, value) with op `s` (set) or `d` (delete). A missing
/// session is created only if it may be and the batch sets something. Returns 1 if the session
/// exists afterwards.
pub(crate) static WRITE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local k = KEYS[1]
if redis.call('EXISTS', k) == 0 then
    if ARGV[3] ~= '1' then return 0 end
    local creates = false
    for i = 4, #ARGV, 3 do
        if ARGV[i] == 's' then creates = true break end
    end
    if not creates then return 0 end
end
for i = 4, #ARGV, 3 do
    if ARGV[i] == 's' then
        redis.call('HSET', k, ARGV[i + 1], ARGV[i + 2])
    else
        redis.call('HDEL', k, ARGV[i + 1])
    end
end
redis.call('HSET', k, ARGV[2], '1')
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

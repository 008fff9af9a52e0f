//! Time as the database stores it: milliseconds since the Unix epoch, from the system clock that
//! every process on the machine shares.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Now, in milliseconds since the epoch.
pub(crate) fn now_ms() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// `ttl` in whole milliseconds, rounded up so a sub-millisecond TTL is not "already expired".
/// TTLs are validated to at most `MAX_TTL` (ten years), far inside `i64`.
pub(crate) fn ttl_ms(ttl: Duration) -> i64 {
    let ms = ttl.as_nanos().div_ceil(1_000_000);
    i64::try_from(ms).unwrap_or(i64::MAX)
}

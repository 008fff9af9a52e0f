//! Isolation: keys are never patterns, and no id reaches another.

use serde_json::json;
use session_core::{Change, MAX_KEY_LEN, Map, SessionId};

use crate::TestStore;
use crate::check::{CaseResult, LONG, ensure_eq, fresh_id};

/// Keys that are special in some query language or glob.
pub(crate) fn awkward_keys() -> Vec<String> {
    let mut keys: Vec<String> = [
        ":",
        "a:b",
        "*",
        "a*",
        "%",
        "a%",
        "_",
        "a_",
        "?",
        "a?",
        "'",
        "\"",
        "`",
        "\\",
        ".",
        "a.b",
        "$.a",
        "[0]",
        "{a}",
        " ",
        " lead",
        "trail ",
        "with space",
        "🦀",
        "ключ",
        "\u{1F600}x",
        "a\nb",
        "\t",
        "--",
        ";",
        "null",
    ]
    .iter()
    .map(|k| k.to_string())
    .collect();
    keys.push("k".repeat(MAX_KEY_LEN));
    keys
}

/// Every awkward key round-trips, and `get_all` holds exactly those keys.
pub async fn awkward_keys_round_trip(t: TestStore) -> CaseResult {
    let id = fresh_id();
    let keys = awkward_keys();
    for (i, key) in keys.iter().enumerate() {
        t.store.set(&id, key, json!(i), LONG).await?;
    }
    for (i, key) in keys.iter().enumerate() {
        ensure_eq!(
            t.store.get(&id, key, None).await?,
            Some(json!(i)),
            "get of key {key:?}"
        );
    }
    let expected: Map = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.clone(), json!(i)))
        .collect();
    ensure_eq!(
        t.store.get_all(&id, None).await?,
        Some(expected),
        "get_all of awkward keys"
    );
    Ok(())
}

/// A key that looks like a pattern (`a*`, `a%`, `a_`, `a?`) matches only itself, for reads and
/// removals.
pub async fn keys_are_not_patterns(t: TestStore) -> CaseResult {
    let id = fresh_id();
    t.store.set(&id, "ab", json!("plain"), LONG).await?;
    t.store.set(&id, "a", json!("short"), LONG).await?;
    for pattern in ["a*", "a%", "a_", "a?", "a.", "[a]b", "*"] {
        ensure_eq!(
            t.store.get(&id, pattern, None).await?,
            None,
            "get of pattern {pattern:?}"
        );
        t.store.del(&id, pattern, LONG).await?;
    }
    t.store
        .set_many(
            &id,
            vec![Change::Del("%".into()), Change::Del("_b".into())],
            LONG,
        )
        .await?;
    ensure_eq!(
        t.store.get(&id, "ab", None).await?,
        Some(json!("plain")),
        "key ab after pattern removals"
    );
    ensure_eq!(
        t.store.get(&id, "a", None).await?,
        Some(json!("short")),
        "key a after pattern removals"
    );
    Ok(())
}

/// Two sessions never see each other's keys.
pub async fn sessions_are_isolated(t: TestStore) -> CaseResult {
    let (a, b) = (fresh_id(), fresh_id());
    t.store.set(&a, "k", json!("a"), LONG).await?;
    t.store.set(&b, "k", json!("b"), LONG).await?;
    t.store.set(&a, "only-a", json!(1), LONG).await?;
    ensure_eq!(
        t.store.get(&a, "k", None).await?,
        Some(json!("a")),
        "session a"
    );
    ensure_eq!(
        t.store.get(&b, "k", None).await?,
        Some(json!("b")),
        "session b"
    );
    ensure_eq!(
        t.store.get(&b, "only-a", None).await?,
        None,
        "session b reading a's key"
    );
    Ok(())
}

/// Ids that share all but their last byte (or their first half) are separate sessions: writes,
/// reads, `extend` and `del_all` of one never reach the other.
pub async fn ids_sharing_a_prefix_are_isolated(t: TestStore) -> CaseResult {
    let base = *fresh_id().as_bytes();
    let mut last = base;
    last[31] ^= 0x01;
    let mut half = base;
    half[16..].iter_mut().for_each(|b| *b = !*b);
    let mut zero_tail = base;
    zero_tail[8..].fill(0);
    let ids = [base, last, half, zero_tail].map(SessionId::from_bytes);
    for (i, id) in ids.iter().enumerate() {
        t.store.set(id, "n", json!(i), LONG).await?;
    }
    for (i, id) in ids.iter().enumerate() {
        ensure_eq!(
            t.store.get(id, "n", None).await?,
            Some(json!(i)),
            "session {i} of ids sharing a prefix"
        );
    }
    t.store.del_all(&ids[0]).await?;
    ensure_eq!(
        t.store.get_all(&ids[0], None).await?,
        None,
        "the removed session"
    );
    for (i, id) in ids.iter().enumerate().skip(1) {
        let all = t.store.get_all(id, None).await?;
        ensure_eq!(
            all,
            Some(Map::from_iter([("n".to_string(), json!(i))])),
            "session {i} after del_all of its sibling"
        );
    }
    Ok(())
}

//! Values: every JSON value round-trips exactly, large ones and many keys included.

use serde_json::{Value, json};
use session_core::{Change, Map};

use crate::TestStore;
use crate::check::{CaseResult, LONG, ensure_eq, fresh_id};

/// Values of every JSON type and their edge cases.
fn edge_values() -> Vec<Value> {
    vec![
        Value::Null,
        json!(true),
        json!(false),
        json!(0),
        json!(-1),
        json!(u64::MAX),
        json!(i64::MIN),
        json!(i64::MAX),
        json!(1.5),
        json!(-2.25e-10),
        json!(f64::MAX),
        json!(f64::MIN_POSITIVE),
        json!(5e-324),
        json!(0.1),
        json!(""),
        json!("with\u{0}nul"),
        json!("\u{0}"),
        json!("non-BMP: \u{1F980} \u{1D11E} and BMP: ü ß 中"),
        json!("quotes \" ' ` and backslash \\ and \\u0000 as text"),
        json!("control \u{1}\u{1f}\t\n\r"),
        json!("\u{FEFF}bom and \u{200B}zero-width"),
        json!([]),
        json!({}),
        json!([1, "two", null, [3.5, {"four": [true]}]]),
        json!({"nested": {"deeper": {"deepest": [1, 2, {"k\u{0}": "v"}]}}, "": "empty key"}),
        json!({"a": 1, "A": 2, "é": 3, "🦀": 4}),
    ]
}

/// Every JSON type and edge value round-trips exactly through `set`/`get` and `get_all`.
pub async fn edge_values_round_trip(t: TestStore) -> CaseResult {
    let id = fresh_id();
    let values = edge_values();
    for (i, value) in values.iter().enumerate() {
        t.store
            .set(&id, &format!("v{i}"), value.clone(), LONG)
            .await?;
    }
    for (i, value) in values.iter().enumerate() {
        ensure_eq!(
            t.store.get(&id, &format!("v{i}"), None).await?,
            Some(value.clone()),
            "value {i}"
        );
    }
    let expected: Map = values
        .iter()
        .enumerate()
        .map(|(i, v)| (format!("v{i}"), v.clone()))
        .collect();
    ensure_eq!(
        t.store.get_all(&id, None).await?,
        Some(expected),
        "get_all of edge values"
    );
    Ok(())
}

/// Deep nesting (64 levels of arrays and objects) round-trips.
pub async fn deep_nesting_round_trips(t: TestStore) -> CaseResult {
    let id = fresh_id();
    let mut value = json!("bottom");
    for depth in 0..64 {
        value = if depth % 2 == 0 {
            json!([value])
        } else {
            json!({ "d": value })
        };
    }
    t.store.set(&id, "deep", value.clone(), LONG).await?;
    ensure_eq!(
        t.store.get(&id, "deep", None).await?,
        Some(value),
        "deeply nested value"
    );
    Ok(())
}

/// A 1 MiB value round-trips.
pub async fn one_mebibyte_value(t: TestStore) -> CaseResult {
    let id = fresh_id();
    let big: String = (0..1024 * 1024)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    t.store.set(&id, "big", json!(big), LONG).await?;
    let back = t.store.get(&id, "big", None).await?;
    let len = back.as_ref().and_then(Value::as_str).map(str::len);
    ensure_eq!(len, Some(big.len()), "length of the 1 MiB value read back");
    ensure_eq!(back, Some(json!(big)), "1 MiB value");
    Ok(())
}

/// A session with 1,000 keys, written in one `set_many`, reads back whole.
pub async fn thousand_keys(t: TestStore) -> CaseResult {
    let id = fresh_id();
    let changes = (0..1000)
        .map(|i| Change::Set(format!("key-{i}"), json!({ "i": i })))
        .collect();
    t.store.set_many(&id, changes, LONG).await?;
    let all = t.store.get_all(&id, None).await?.unwrap_or_default();
    ensure_eq!(all.len(), 1000, "number of keys in get_all");
    for i in [0, 1, 499, 998, 999] {
        ensure_eq!(
            all.get(&format!("key-{i}")),
            Some(&json!({ "i": i })),
            "key-{i} in get_all"
        );
        ensure_eq!(
            t.store.get(&id, &format!("key-{i}"), None).await?,
            Some(json!({ "i": i })),
            "get key-{i}"
        );
    }
    Ok(())
}

//! JSON as stores keep it: one canonical text per value, so a store can compare values by their
//! text (compare-and-set), and the one rule for an increment.

use serde_json::Value;

use crate::StoreError;

/// The canonical JSON text of `value`: compact, object keys sorted (whatever order the map keeps
/// them in, even with serde_json's `preserve_order`), numbers as serde_json writes them (`1` and
/// `1.0` stay different). Two values are equal exactly when their canonical texts are.
pub fn canonical_json(value: &Value) -> String {
    let mut out = Vec::with_capacity(64);
    write_canonical(value, &mut out);
    // serde_json writes UTF-8 only, and the brackets and commas here are ASCII.
    String::from_utf8(out).unwrap_or_else(|e| unreachable!("serde_json wrote non-UTF-8: {e}"))
}

/// Appends `value`'s canonical text, serialized straight into `out` (no text per scalar).
fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_compact(key, out);
                out.push(b':');
                write_canonical(value, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        scalar => write_compact(scalar, out),
    }
}

/// serde_json's compact text of a string or a scalar, appended to `out`.
fn write_compact<T: serde::Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) {
    // Writing into memory cannot fail, nor can serializing a string or a JSON scalar.
    serde_json::to_writer(&mut *out, value)
        .unwrap_or_else(|e| unreachable!("serializing JSON into memory failed: {e}"));
}

/// The length of `value`'s compact JSON text (as `serde_json::to_vec` would write it), counted
/// without writing the text anywhere.
///
/// # Errors
/// As `serde_json::to_writer`: a map with a key that is not a string.
pub(crate) fn json_len<T: serde::Serialize + ?Sized>(value: &T) -> serde_json::Result<usize> {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    serde_json::to_writer(&mut count, value)?;
    Ok(count.0)
}

/// [`canonical_json`] of `value`, refused with [`StoreError::TooLarge`] when the text is longer
/// than `limit` bytes (a store's largest value).
///
/// # Errors
/// [`StoreError::TooLarge`], naming the size and the limit.
pub fn canonical_json_within(value: &Value, limit: usize) -> Result<String, StoreError> {
    let json = canonical_json(value);
    if json.len() > limit {
        return Err(StoreError::TooLarge {
            what: "value",
            size: json.len(),
            limit,
        });
    }
    Ok(json)
}

/// What [`Store::incr`](crate::Store::incr) stores: `current` (a missing key is `0`) plus `delta`.
///
/// # Errors
/// [`StoreError::InvalidInput`] when `current` is not a JSON integer that fits an `i64`, or the
/// sum overflows.
pub fn incremented(current: Option<&Value>, delta: i64) -> Result<i64, StoreError> {
    let now = match current {
        None => 0,
        Some(value) => value.as_i64().ok_or_else(|| {
            StoreError::InvalidInput(format!(
                "incr: the value is not an integer that fits an i64: {}",
                kind(value)
            ))
        })?,
    };
    now.checked_add(delta)
        .ok_or_else(|| StoreError::InvalidInput("incr: the sum overflows an i64".into()))
}

/// A value's kind, for error messages (never the value itself, which may be private).
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a float",
        Value::Number(_) => "an integer out of range",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn canonical_text_sorts_keys_and_keeps_numbers_exact() {
        let a = json!({"b": [1, {"z": 1, "a": 2}], "a": 1.0});
        assert_eq!(canonical_json(&a), r#"{"a":1.0,"b":[1,{"a":2,"z":1}]}"#);
        assert_ne!(canonical_json(&json!(1)), canonical_json(&json!(1.0)));
        assert_eq!(canonical_json(&json!("a\u{0}\"")), r#""a\u0000\"""#);
        assert_eq!(canonical_json(&json!(u64::MAX)), "18446744073709551615");
    }

    /// The text written straight into a buffer is the text `Value`'s `Display` wrote (what
    /// stores hold from earlier versions, and compare-and-set compares against), and `json_len`
    /// counts what `to_vec` writes.
    #[test]
    fn canonical_text_is_serde_json_compact_text() {
        let values = [
            json!(null),
            json!(true),
            json!(-0.0),
            json!(1e300),
            json!(0.1),
            json!(i64::MIN),
            json!("tab\t é 🎉 \u{7f} \u{1} </script> \\ \""),
            json!(["x", 1, [null, {}], []]),
            json!({"k\"ey": {"é": "v"}, "": 0}),
        ];
        for value in values {
            let sorted: Value = serde_json::from_str(&value.to_string()).unwrap();
            let text = canonical_json(&value);
            assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), value);
            if !matches!(value, Value::Object(_)) {
                assert_eq!(text, value.to_string(), "{value}");
            }
            assert_eq!(canonical_json(&sorted), text);
            assert_eq!(
                json_len(&value).unwrap(),
                serde_json::to_vec(&value).unwrap().len()
            );
        }
    }

    #[test]
    fn increments() {
        assert_eq!(incremented(None, 5).unwrap(), 5);
        assert_eq!(incremented(Some(&json!(-3)), 5).unwrap(), 2);
        for bad in [json!("1"), json!(1.5), json!(null), json!(u64::MAX)] {
            assert!(matches!(
                incremented(Some(&bad), 1),
                Err(StoreError::InvalidInput(_))
            ));
        }
        assert!(incremented(Some(&json!(i64::MAX)), 1).is_err());
        assert_eq!(
            incremented(Some(&json!(i64::MIN + 1)), -1).unwrap(),
            i64::MIN
        );
    }
}

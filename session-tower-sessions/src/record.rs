//! tower-sessions' whole `Record` mapped onto our per-key layout, and back.
//!
//! A record's data keys are the session's keys, one to one. Two reserved keys (in
//! [`RESERVED_KEY_PREFIX`], which no application key may enter) carry what the layout lacks:
//! the record's expiry date in the store, and, in a loaded record only, the data as it was
//! loaded. The second is what lets a whole-record `save` write only the keys its request changed,
//! so two requests writing different keys of one session both land.

use std::collections::HashMap;
use std::time::Duration;

use session_core::{Change, KeyKind, Map, RESERVED_KEY_PREFIX, Value, validate_key};
use time::OffsetDateTime;
use tower_sessions_core::session::{Id, Record};
use tower_sessions_core::session_store::Error;

/// The record's expiry date, in Unix milliseconds: kept so a load answers the date that was saved.
pub(crate) const EXPIRY_KEY: &str = "__sys:ts.expiry";

/// In a loaded record (never in the store): the data as it was loaded, which `save` compares
/// against. An application key cannot take this name (it is reserved), so it cannot be confused
/// with one; `Session::clear` removes it with the rest, and a save then replaces the whole session.
pub(crate) const LOADED_KEY: &str = "__sys:ts.loaded";

/// The record a stored session answers, with the loaded data kept for the save.
pub(crate) fn loaded(id: Id, mut map: Map) -> Record {
    let expiry_date = map
        .remove(EXPIRY_KEY)
        .as_ref()
        .and_then(Value::as_i64)
        .and_then(from_unix_ms)
        // Every session this crate writes has the date; one without it is treated as due.
        .unwrap_or_else(OffsetDateTime::now_utc);
    map.retain(|key, _| !key.starts_with(RESERVED_KEY_PREFIX));
    let mut data: HashMap<String, Value> = HashMap::with_capacity(map.len() + 1);
    data.extend(map.iter().map(|(k, v)| (k.clone(), v.clone())));
    data.insert(LOADED_KEY.to_owned(), Value::Object(map));
    Record {
        id,
        data,
        expiry_date,
    }
}

/// The changes that bring the stored session from `before` to `record`: a `Set` for every key
/// whose value differs, a `Del` for every key `before` had and `record` lacks, and the expiry date.
/// Keys the request left alone are not written, so another request's write to them stands.
///
/// # Errors
/// [`Error::Encode`] for an application key our stores refuse (empty, NUL, too long, or in the
/// reserved namespace); nothing is written then.
pub(crate) fn changes(record: &Record, before: &Map) -> Result<Vec<Change>, Error> {
    let mut changes = Vec::new();
    for (key, value) in user_data(record) {
        validate_key(key, KeyKind::User).map_err(crate::error::from_store)?;
        if before.get(key) != Some(value) {
            changes.push(Change::Set(key.clone(), value.clone()));
        }
    }
    for key in before.keys() {
        if !record.data.contains_key(key) {
            changes.push(Change::Del(key.clone()));
        }
    }
    changes.push(Change::Set(
        EXPIRY_KEY.to_owned(),
        Value::from(unix_ms(record.expiry_date)),
    ));
    Ok(changes)
}

/// The data as the record's request loaded it, when it was loaded by this crate and not cleared.
pub(crate) fn loaded_data(record: &Record) -> Option<&Map> {
    record.data.get(LOADED_KEY).and_then(Value::as_object)
}

/// The time from now until `expiry`, or `None` when it has passed.
pub(crate) fn ttl_until(expiry: OffsetDateTime) -> Option<Duration> {
    let left = expiry - OffsetDateTime::now_utc();
    // Whole milliseconds: what every store keeps, and never zero for a live record.
    let millis = u64::try_from(left.whole_milliseconds()).ok()?;
    (millis > 0).then(|| Duration::from_millis(millis))
}

/// The expiry date as stored.
pub(crate) fn expiry_value(expiry: OffsetDateTime) -> Value {
    Value::from(unix_ms(expiry))
}

fn user_data(record: &Record) -> impl Iterator<Item = (&String, &Value)> {
    record
        .data
        .iter()
        .filter(|(key, _)| key.as_str() != LOADED_KEY)
}

fn unix_ms(date: OffsetDateTime) -> i64 {
    let ms = date.unix_timestamp_nanos() / 1_000_000;
    i64::try_from(ms).unwrap_or(if ms < 0 { i64::MIN } else { i64::MAX })
}

fn from_unix_ms(ms: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map(value: Value) -> Map {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn a_loaded_record_hides_the_reserved_keys_and_keeps_what_it_loaded() {
        let stored =
            map(json!({"a": 1, "__sys:ts.expiry": 1_900_000_000_000_i64, "__sys:meta": "x"}));
        let record = loaded(Id(7), stored);
        assert_eq!(record.data.get("a"), Some(&json!(1)));
        assert!(!record.data.contains_key(EXPIRY_KEY));
        assert!(!record.data.contains_key("__sys:meta"));
        assert_eq!(loaded_data(&record), Some(&map(json!({"a": 1}))));
        assert_eq!(record.expiry_date.unix_timestamp(), 1_900_000_000);
    }

    #[test]
    fn only_changed_and_removed_keys_are_written() {
        let mut record = loaded(Id(7), map(json!({"a": 1, "b": 2, "c": 3})));
        record.data.insert("a".into(), json!(10));
        record.data.remove("c");
        record.data.insert("d".into(), json!(4));
        let mut got: Vec<String> = changes(&record, loaded_data(&record).unwrap())
            .unwrap()
            .iter()
            .map(|c| match c {
                Change::Set(k, v) if k == EXPIRY_KEY => {
                    assert!(v.is_i64());
                    "expiry".to_owned()
                }
                Change::Set(k, v) => format!("set {k}={v}"),
                Change::Del(k) => format!("del {k}"),
            })
            .collect();
        got.sort();
        assert_eq!(got, ["del c", "expiry", "set a=10", "set d=4"]);
    }

    #[test]
    fn a_key_our_stores_refuse_is_an_encoding_error() {
        for key in ["", "__sys:meta", "nul\0"] {
            let mut record = loaded(Id(7), Map::new());
            record.data.insert(key.to_owned(), json!(1));
            assert!(
                matches!(changes(&record, &Map::new()), Err(Error::Encode(_))),
                "{key:?}"
            );
        }
    }

    #[test]
    fn a_past_expiry_has_no_ttl() {
        let now = OffsetDateTime::now_utc();
        assert_eq!(ttl_until(now - time::Duration::seconds(1)), None);
        let ttl = ttl_until(now + time::Duration::minutes(5)).unwrap();
        assert!(ttl > Duration::from_secs(290) && ttl <= Duration::from_secs(300));
    }
}

//! The session document of the SQL stores' one-row layout: a session's keys in one JSON object,
//! each under a member name of hex digits ([`document_member`]: `k` and the key's UTF-8 bytes in
//! hex), each value its exact canonical JSON text inside a JSON string.
//!
//! Hex member names mean no key is ever parsed as JSON-path syntax (`$.k6b6579` is a plain
//! identifier on every database) and no key meets a database's own limits on object keys (a NUL,
//! which PostgreSQL's `jsonb` refuses). Values kept as text round-trip exactly: `u64::MAX`,
//! `i64::MIN`, floats as written, a NUL inside a string.

use std::collections::HashMap;

use serde_json::Value;

use crate::StoreError;
use crate::json::canonical_json_within;
use crate::store::{Change, Map};
use crate::validate::{KeyKind, validate_key};

/// The member name of `key` in a session document: `k` and the key's bytes in lowercase hex.
pub fn document_member(key: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut name = String::with_capacity(1 + key.len() * 2);
    name.push('k');
    for byte in key.bytes() {
        name.push(char::from(HEX[usize::from(byte >> 4)]));
        name.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    name
}

/// The key a member name holds, or `None` when it is not a name [`document_member`] makes.
pub fn document_key(member: &str) -> Option<String> {
    let hex = member.strip_prefix('k')?;
    if hex.len() % 2 != 0 {
        return None;
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    String::from_utf8(bytes).ok()
}

/// A stored session document that is not one this layout writes.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// The text is not a JSON object, or a value's text is not JSON.
    #[error("a session document is not valid JSON")]
    Json(#[from] serde_json::Error),
    /// A member or value of a shape this layout never writes.
    #[error("a session document is corrupt: {0}")]
    Corrupt(String),
}

/// Decodes one value's stored JSON text.
///
/// # Errors
/// [`DocumentError::Json`] when the text is not JSON.
pub fn decode_value(text: &str) -> Result<Value, DocumentError> {
    Ok(serde_json::from_str(text)?)
}

/// Decodes the rows of a listing by subject (`id`, and one key's stored JSON text or NULL), as
/// [`SubjectIndex::subject_sessions_with`](crate::SubjectIndex::subject_sessions_with) answers
/// them; a row whose id is not 32 bytes is no session of ours and is skipped.
///
/// # Errors
/// [`DocumentError::Json`] when a value's text is not JSON.
pub fn decode_listed(
    rows: Vec<(Vec<u8>, Option<String>)>,
) -> Result<Vec<(crate::SessionId, Option<Value>)>, DocumentError> {
    let mut found = Vec::with_capacity(rows.len());
    for (bytes, text) in rows {
        let Ok(bytes) = <[u8; 32]>::try_from(bytes) else {
            continue;
        };
        let value = text.as_deref().map(decode_value).transpose()?;
        found.push((crate::SessionId::from_bytes(bytes), value));
    }
    Ok(found)
}

/// Decodes a whole session document into its keys and values.
///
/// # Errors
/// [`DocumentError`] when the text is not an object of this layout.
pub fn decode_document(text: &str) -> Result<Map, DocumentError> {
    let members: HashMap<String, Value> = serde_json::from_str(text)?;
    members
        .into_iter()
        .map(|(name, value)| {
            let key = document_key(&name)
                .ok_or_else(|| DocumentError::Corrupt(format!("{name:?} is not a member name")))?;
            match value {
                Value::String(text) => Ok((key, decode_value(&text)?)),
                other => Err(DocumentError::Corrupt(format!(
                    "the value of {key:?} is stored as {other}, not as JSON text"
                ))),
            }
        })
        .collect()
}

/// Decodes the values of the members `wanted` names from a document, in that order (a name
/// asked for twice is answered twice).
///
/// # Errors
/// As [`decode_document`].
pub fn decode_members(text: &str, wanted: &[String]) -> Result<Vec<Option<Value>>, DocumentError> {
    let members: HashMap<String, Value> = serde_json::from_str(text)?;
    wanted
        .iter()
        .map(|name| match members.get(name) {
            None => Ok(None),
            Some(Value::String(text)) => decode_value(text).map(Some),
            Some(other) => Err(DocumentError::Corrupt(format!(
                "the member {name:?} is stored as {other}, not as JSON text"
            ))),
        })
        .collect()
}

/// A batch of changes as a document edit: keys validated, values encoded, and the last change to
/// each key winning, so the sets and the removals never name the same member and may be applied
/// in either order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentEdit {
    /// Member name and the value's canonical JSON text, per key set.
    pub sets: Vec<(String, String)>,
    /// Member name, per key removed.
    pub removals: Vec<String>,
}

impl DocumentEdit {
    /// Validates and encodes `changes`; a value whose JSON text is longer than `limit` bytes
    /// refuses the whole batch, before any I/O.
    ///
    /// # Errors
    /// [`StoreError::InvalidInput`] for an invalid key, [`StoreError::TooLarge`] for a value or key
    /// over its limit.
    pub fn new(changes: Vec<Change>, limit: usize) -> Result<Self, StoreError> {
        let mut last: HashMap<String, Option<Value>> = HashMap::with_capacity(changes.len());
        for change in changes {
            validate_key(change.key(), KeyKind::Store)?;
            match change {
                Change::Set(key, value) => last.insert(key, Some(value)),
                Change::Del(key) => last.insert(key, None),
            };
        }
        let mut edit = Self::default();
        for (key, value) in last {
            match value {
                Some(value) => edit
                    .sets
                    .push((document_member(&key), canonical_json_within(&value, limit)?)),
                None => edit.removals.push(document_member(&key)),
            }
        }
        Ok(edit)
    }

    /// The document a new session holds after the edit: the sets alone.
    pub fn new_document(&self) -> String {
        let members: serde_json::Map<String, Value> = self
            .sets
            .iter()
            .map(|(name, text)| (name.clone(), Value::String(text.clone())))
            .collect();
        Value::Object(members).to_string()
    }

    /// The edit as a JSON merge patch (RFC 7396): each set member with its text, each removed
    /// member `null` (a value is always a string, never `null`, so the two never mix up).
    pub fn merge_patch(&self) -> String {
        let mut members: serde_json::Map<String, Value> = self
            .sets
            .iter()
            .map(|(name, text)| (name.clone(), Value::String(text.clone())))
            .collect();
        for name in &self.removals {
            members.insert(name.clone(), Value::Null);
        }
        Value::Object(members).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_names_round_trip_and_are_plain_identifiers() {
        for key in ["a", "--", "$.x[0]", "\"quoted\"", "ключ", "a\u{0}b", "k"] {
            let name = document_member(key);
            assert!(name.bytes().all(|b| b.is_ascii_alphanumeric()), "{name}");
            assert_eq!(document_key(&name).as_deref(), Some(key));
        }
        assert_eq!(document_key("x61"), None);
        assert_eq!(document_key("k6"), None);
        assert_eq!(document_key("kzz"), None);
        assert_eq!(document_key("kff"), None, "not UTF-8");
    }

    #[test]
    fn an_edit_keeps_the_last_change_to_each_key() {
        let edit = DocumentEdit::new(
            vec![
                Change::Set("a".into(), 1.into()),
                Change::Del("a".into()),
                Change::Del("b".into()),
                Change::Set("b".into(), Value::from(u64::MAX)),
            ],
            100,
        )
        .unwrap();
        assert_eq!(
            edit.sets,
            vec![(document_member("b"), u64::MAX.to_string())]
        );
        assert_eq!(edit.removals, vec![document_member("a")]);
        let doc = edit.new_document();
        let map = decode_document(&doc).unwrap();
        assert_eq!(map.get("b"), Some(&Value::from(u64::MAX)));
        assert_eq!(map.len(), 1);
        let patch: Value = serde_json::from_str(&edit.merge_patch()).unwrap();
        assert_eq!(patch[document_member("a")], Value::Null);
    }

    #[test]
    fn an_edit_refuses_bad_keys_and_large_values() {
        let empty_key = DocumentEdit::new(vec![Change::Del(String::new())], 100);
        assert!(matches!(empty_key, Err(StoreError::InvalidInput(_))));
        let large = DocumentEdit::new(vec![Change::Set("a".into(), "x".repeat(100).into())], 10);
        assert!(matches!(large, Err(StoreError::TooLarge { .. })));
    }

    #[test]
    fn corrupt_documents_are_errors() {
        assert!(decode_document("[]").is_err());
        assert!(decode_document(r#"{"zz":"1"}"#).is_err());
        assert!(decode_document(r#"{"k61":1}"#).is_err());
        assert!(decode_document(r#"{"k61":"{"}"#).is_err());
        assert_eq!(
            decode_members(
                r#"{"k61":"[1]"}"#,
                &["k61".into(), "k62".into(), "k61".into()]
            )
            .unwrap(),
            vec![
                Some(serde_json::json!([1])),
                None,
                Some(serde_json::json!([1]))
            ]
        );
    }
}

//! The system metadata of a session, kept under one reserved key.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::{Map, RESERVED_KEY_PREFIX, SessionId, Value};

/// The key the metadata is stored under, in the reserved namespace.
pub(crate) const META_KEY: &str = "__sys:meta";

/// The first field of the stored array: which layout follows.
const FORMAT: u64 = 2;

/// The fields every stored array holds: the format and the four times.
const FIXED_FIELDS: usize = 5;

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

pub(crate) fn to_time(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

/// What the system records about a session (stored as JSON under the reserved meta key).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Meta {
    pub(crate) created_ms: u64,
    pub(crate) previous_visit_ms: u64,
    pub(crate) latest_visit_ms: u64,
    /// When the store's expiry was last pushed: the touch throttle compares against it.
    pub(crate) touched_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) user_data: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) device: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) client_data: Option<Value>,
    /// The session's own idle timeout ("remember me"); the manager's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) idle_timeout_ms: Option<u64>,
    /// When the current token was issued (creation, or the last rotation); creation when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) issued_ms: Option<u64>,
    /// A read-only copy of a rotated-out session, alive only for the rotation grace: readable by
    /// requests in flight, writable by nothing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) rotated: bool,
    /// The subject's auth version when the session was bound to it (see
    /// `sessions::auth_version`); recorded only with the check on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) auth_version: Option<i64>,
}

impl Meta {
    /// The stored form: one flat JSON array, `[FORMAT, created, previous visit, latest visit,
    /// touched, subject, user data, device, client data, idle timeout, issued, rotated, auth
    /// version]`, trailing absent fields left off. The array is read field by field with no
    /// second parse; the earlier form (the struct's JSON text inside a JSON string) needed two
    /// parses per read, and an object would be a map of its own in every store (about 800 bytes
    /// per session in the memory store, against about 200).
    pub(crate) fn to_stored(&self) -> Value {
        let text = |v: &Option<String>| v.clone().map_or(Value::Null, Value::String);
        let value = |v: &Option<Value>| v.clone().unwrap_or(Value::Null);
        let number = |v: Option<u64>| v.map_or(Value::Null, Value::from);
        let mut fields = vec![
            Value::from(FORMAT),
            self.created_ms.into(),
            self.previous_visit_ms.into(),
            self.latest_visit_ms.into(),
            self.touched_ms.into(),
            text(&self.subject),
            value(&self.user_data),
            text(&self.device),
            value(&self.client_data),
            number(self.idle_timeout_ms),
            number(self.issued_ms),
            Value::Bool(self.rotated),
            self.auth_version.map_or(Value::Null, Value::from),
        ];
        while fields.len() > FIXED_FIELDS
            && matches!(fields.last(), Some(Value::Null | Value::Bool(false)))
        {
            fields.pop();
        }
        Value::Array(fields)
    }

    /// The metadata from its stored form (the array, or the earlier JSON text inside a string,
    /// which sessions written before the array still hold); `None` when it is neither.
    pub(crate) fn from_stored(value: &Value) -> Option<Self> {
        match value {
            Value::Array(fields) => Self::from_fields(fields),
            Value::String(text) => serde_json::from_str(text).ok(),
            _ => None,
        }
    }

    fn from_fields(fields: &[Value]) -> Option<Self> {
        if fields.first()?.as_u64()? != FORMAT || fields.len() < FIXED_FIELDS {
            return None;
        }
        let field = |i: usize| fields.get(i).filter(|v| !v.is_null());
        // A present field of the wrong type makes the whole record unreadable, as a field of the
        // wrong type did in the text form.
        fn typed<T>(v: Option<&Value>, get: impl Fn(&Value) -> Option<T>) -> Option<Option<T>> {
            match v {
                None => Some(None),
                Some(v) => get(v).map(Some),
            }
        }
        let text = |i| typed(field(i), |v| v.as_str().map(str::to_owned));
        Some(Self {
            created_ms: fields[1].as_u64()?,
            previous_visit_ms: fields[2].as_u64()?,
            latest_visit_ms: fields[3].as_u64()?,
            touched_ms: fields[4].as_u64()?,
            subject: text(5)?,
            user_data: field(6).cloned(),
            device: text(7)?,
            client_data: field(8).cloned(),
            idle_timeout_ms: typed(field(9), Value::as_u64)?,
            issued_ms: typed(field(10), Value::as_u64)?,
            rotated: typed(field(11), Value::as_bool)?.unwrap_or(false),
            auth_version: typed(field(12), Value::as_i64)?,
        })
    }

    /// The change that stores this metadata.
    pub(crate) fn change(&self) -> crate::Change {
        crate::Change::Set(META_KEY.to_owned(), self.to_stored())
    }

    /// When the current token was issued.
    pub(crate) fn issued(&self) -> u64 {
        self.issued_ms.unwrap_or(self.created_ms)
    }

    pub(crate) fn new(now: u64, device: Option<String>, client_data: Option<Value>) -> Self {
        Self {
            created_ms: now,
            previous_visit_ms: now,
            latest_visit_ms: now,
            touched_ms: now,
            subject: None,
            user_data: None,
            device,
            client_data,
            idle_timeout_ms: None,
            issued_ms: None,
            rotated: false,
            auth_version: None,
        }
    }
}

/// Splits a stored session into its user keys and its metadata (a session written by something
/// else, with no metadata, gets fresh metadata).
pub(crate) fn split(mut map: Map, now: u64) -> (Map, Meta, bool) {
    let meta = map.remove(META_KEY).and_then(|m| Meta::from_stored(&m));
    map.retain(|k, _| !k.starts_with(RESERVED_KEY_PREFIX));
    match meta {
        Some(meta) => (map, meta, false),
        None => (map, Meta::new(now, None, None), true),
    }
}

/// What the system knows about a session: for listing a user's sessions, and for the session
/// itself ([`Session::info`](crate::Session::info)).
#[derive(Debug, Clone, PartialEq)]
pub struct SessionInfo {
    /// The session's id (never its token), e.g. to end it with
    /// [`SessionManager::end_session_of`](crate::SessionManager::end_session_of).
    pub id: SessionId,
    /// When it was created (its first visit).
    pub created_at: SystemTime,
    /// The visit before the latest one.
    ///
    /// When visits are recorded: a load (and a resume of a live session) records a visit on the
    /// handle (the previous visit becomes the stored latest one, the latest becomes now), and the
    /// next save that writes stores it. A request that changes nothing writes at most once per
    /// touch interval, so the stored visit times lag real visits by at most that interval; a
    /// resumed live session writes its visit with the next persist.
    pub previous_visit: SystemTime,
    /// The latest visit (see [`previous_visit`](SessionInfo::previous_visit) for when it is
    /// recorded).
    pub latest_visit: SystemTime,
    /// The subject (user id) it is bound to, if any.
    pub subject: Option<String>,
    /// The data given at login ([`Session::login`](crate::Session::login)).
    pub user_data: Option<Value>,
    /// The device context recorded at creation, if any.
    pub device: Option<String>,
    /// The data the client supplied at creation, if any.
    pub client_data: Option<Value>,
    /// A read-only copy of a session whose token was rotated out, alive only for the rotation
    /// grace ([`Session::is_rotated_out`](crate::Session::is_rotated_out)).
    pub rotated_out: bool,
}

impl SessionInfo {
    pub(crate) fn new(id: SessionId, meta: &Meta) -> Self {
        Self {
            id,
            created_at: to_time(meta.created_ms),
            previous_visit: to_time(meta.previous_visit_ms),
            latest_visit: to_time(meta.latest_visit_ms),
            subject: meta.subject.clone(),
            user_data: meta.user_data.clone(),
            device: meta.device.clone(),
            client_data: meta.client_data.clone(),
            rotated_out: meta.rotated,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RESERVED_KEY_PREFIX;

    #[test]
    fn the_meta_key_is_reserved() {
        assert!(META_KEY.starts_with(RESERVED_KEY_PREFIX));
    }

    #[test]
    fn metadata_round_trips_through_its_stored_form() {
        let plain = Meta::new(42, None, None);
        let stored = plain.to_stored();
        assert_eq!(
            stored,
            serde_json::json!([2, 42, 42, 42, 42]),
            "absent fields left off"
        );
        assert_eq!(Meta::from_stored(&stored), Some(plain));

        let mut full = Meta::new(42, Some("agent".into()), Some(serde_json::json!({"a": 1})));
        full.subject = Some("user".into());
        full.user_data = Some(serde_json::json!(["x", 1]));
        full.idle_timeout_ms = Some(7);
        full.issued_ms = Some(43);
        full.rotated = true;
        full.auth_version = Some(-3);
        assert_eq!(Meta::from_stored(&full.to_stored()), Some(full.clone()));
        full.rotated = false;
        assert_eq!(Meta::from_stored(&full.to_stored()), Some(full));
    }

    #[test]
    fn the_earlier_text_form_still_reads() {
        let mut meta = Meta::new(42, Some("agent".into()), None);
        meta.subject = Some("user".into());
        meta.rotated = true;
        let text = Value::String(serde_json::to_string(&meta).unwrap());
        assert_eq!(Meta::from_stored(&text), Some(meta));
    }

    #[test]
    fn anything_else_is_no_metadata() {
        for stored in [
            serde_json::json!({"created_ms": 1}),
            serde_json::json!([3, 1, 1, 1, 1]),
            serde_json::json!([2, 1, 1, 1]),
            serde_json::json!([2, 1, 1, 1, "1"]),
            serde_json::json!([2, 1, 1, 1, 1, 5]),
            serde_json::json!([2, 1, 1, 1, 1, null, null, null, null, null, null, "yes"]),
            serde_json::json!("not json"),
            serde_json::json!(7),
        ] {
            assert_eq!(Meta::from_stored(&stored), None, "{stored}");
        }
    }
}

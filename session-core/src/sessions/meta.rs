//! The system metadata of a session, kept under one reserved key.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::{Map, RESERVED_KEY_PREFIX, SessionId, Value};

/// The key the metadata is stored under, in the reserved namespace.
pub(crate) const META_KEY: &str = "__sys:meta";

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
    /// The stored form: the metadata's JSON text as a string value. An object would be a map of
    /// its own in every store (about 800 bytes per session in the memory store, against about
    /// 100) and would be parsed into a `Value` tree before becoming a `Meta`.
    pub(crate) fn to_stored(&self) -> Result<Value, serde_json::Error> {
        Ok(Value::String(serde_json::to_string(self)?))
    }

    /// The metadata from its stored form; `None` when it is not one.
    pub(crate) fn from_stored(value: &Value) -> Option<Self> {
        serde_json::from_str(value.as_str()?).ok()
    }

    /// The change that stores this metadata.
    pub(crate) fn change(&self) -> Result<crate::Change, serde_json::Error> {
        Ok(crate::Change::Set(META_KEY.to_owned(), self.to_stored()?))
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
        let mut meta = Meta::new(42, Some("agent".into()), Some(serde_json::json!({"a": 1})));
        meta.subject = Some("user".into());
        meta.rotated = true;
        let stored = meta.to_stored().unwrap();
        assert!(stored.is_string());
        assert_eq!(Meta::from_stored(&stored), Some(meta));
        assert_eq!(
            Meta::from_stored(&serde_json::json!({"created_ms": 1})),
            None
        );
    }
}

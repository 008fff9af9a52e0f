//! The data and the checks of the SQL stores' upgrade tests: what a database written by the
//! previous release holds, and what the store must read (and write) after migrating it.

use std::time::Duration;

use serde_json::{Value, json};
use session_core::{Enumerate, ExpiredCleanup, Map, SessionId, Store, SubjectIndex};

/// Keys and values that stress a document layout: JSON-path syntax, quotes, commas and braces,
/// non-ASCII; a NUL in a value (which PostgreSQL's `jsonb` refuses raw); numbers and strings whose
/// exact text matters.
pub fn awkward_entries() -> Vec<(&'static str, Value)> {
    vec![
        ("user", json!("ada")),
        ("--", json!(u64::MAX)),
        ("$.a[0]", json!(i64::MIN)),
        ("{a,b}", json!(-0.0)),
        ("say \"hi\"", json!(0.1)),
        (
            "ключ🦀",
            json!({"nested": [1, {"deep": null}], "nul": "a\u{0}b"}),
        ),
        ("it's.a key", json!(true)),
    ]
}

/// The sessions an old release wrote before the upgrade.
#[derive(Debug, Clone, Copy)]
pub struct OldSessions {
    /// Live, holding [`awkward_entries`].
    pub live: SessionId,
    /// Live, holding [`awkward_entries`], bound to the subject `ada`.
    pub bound: SessionId,
    /// Expired, holding [`awkward_entries`], bound to `ada`.
    pub expired: SessionId,
    /// Live, with no keys.
    pub empty: SessionId,
}

impl OldSessions {
    /// Four sessions with fresh random ids.
    ///
    /// # Panics
    /// When the system has no randomness to give.
    pub fn generate() -> Self {
        let id = || session_core::Token::generate().expect("randomness").id();
        Self {
            live: id(),
            bound: id(),
            expired: id(),
            empty: id(),
        }
    }
}

/// Checks an upgraded store: every key of the old sessions reads back exactly (one at a time,
/// together, and all), the expired one stays gone, the subject index still answers; then writes
/// change one key at a time and start the expired session empty.
///
/// # Panics
/// On the first difference, naming it.
pub async fn check_upgraded<S>(store: &S, old: OldSessions)
where
    S: Store + SubjectIndex + Enumerate + ExpiredCleanup,
{
    let want: Map = awkward_entries()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    let keys: Vec<&str> = awkward_entries().iter().map(|(k, _)| *k).collect();
    for id in [&old.live, &old.bound] {
        assert_eq!(store.get_all(id, None).await.unwrap(), Some(want.clone()));
        for (key, value) in awkward_entries() {
            assert_eq!(
                store.get(id, key, None).await.unwrap(),
                Some(value),
                "{key}"
            );
        }
        let many = store.get_many(id, &keys, None).await.unwrap().unwrap();
        let values: Vec<_> = awkward_entries()
            .into_iter()
            .map(|(_, v)| Some(v))
            .collect();
        assert_eq!(many, values);
    }
    assert_eq!(
        store.get_all(&old.empty, None).await.unwrap(),
        Some(Map::new())
    );
    assert_eq!(store.get_all(&old.expired, None).await.unwrap(), None);
    assert_eq!(
        store.subject_sessions("ada").await.unwrap(),
        vec![old.bound]
    );
    assert_eq!(store.count().await.unwrap(), 3);

    let ttl = Duration::from_secs(60);
    store.set(&old.live, "--", json!(1), ttl).await.unwrap();
    store.del(&old.live, "user", ttl).await.unwrap();
    assert_eq!(store.incr(&old.live, "n", 2, ttl).await.unwrap(), 2);
    let after = store.get_all(&old.live, None).await.unwrap().unwrap();
    assert_eq!(after.get("--"), Some(&json!(1)));
    assert_eq!(after.get("user"), None);
    assert_eq!(after.get("$.a[0]"), Some(&json!(i64::MIN)));
    assert_eq!(after.len(), awkward_entries().len());
    store
        .set(&old.expired, "fresh", json!(1), ttl)
        .await
        .unwrap();
    assert_eq!(
        store.get_all(&old.expired, None).await.unwrap(),
        Some([("fresh".to_owned(), json!(1))].into_iter().collect())
    );
    assert_eq!(
        store.subject_sessions("ada").await.unwrap(),
        vec![old.bound]
    );
    assert_eq!(store.revoke_subject("ada").await.unwrap(), 1);
    assert_eq!(store.delete_expired(100).await.unwrap(), 0);
    assert_eq!(store.count().await.unwrap(), 3);
}

//! Observability: the metrics hook's counts, the store operation reports, and the spans' fields
//! (never a token or a whole id), over the real memory store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use session_core::{
    Config, ErrorKind, Metrics, ObservedStore, SessionCount, SessionError, SessionManager, Store,
    StoreOp, Token,
};
use session_store_memory::MemoryStore;

#[derive(Default)]
struct Recorded {
    counts: Mutex<HashMap<SessionCount, u64>>,
    operations: Mutex<Vec<(&'static str, StoreOp, Option<ErrorKind>)>>,
}

impl Recorded {
    fn count(&self, what: SessionCount) -> u64 {
        self.counts.lock().unwrap().get(&what).copied().unwrap_or(0)
    }

    fn ops(&self) -> Vec<(&'static str, StoreOp, Option<ErrorKind>)> {
        std::mem::take(&mut *self.operations.lock().unwrap())
    }
}

impl Metrics for Recorded {
    fn sessions(&self, count: SessionCount, n: u64) {
        *self.counts.lock().unwrap().entry(count).or_default() += n;
    }

    fn store_operation(
        &self,
        backend: &'static str,
        op: StoreOp,
        _: Duration,
        error: Option<ErrorKind>,
    ) {
        self.operations.lock().unwrap().push((backend, op, error));
    }
}

fn manager(config: Config) -> (SessionManager, Arc<Recorded>) {
    let recorded = Arc::new(Recorded::default());
    let manager = SessionManager::builder(MemoryStore::new())
        .config(config)
        .subject_index()
        .metrics(recorded.clone())
        .build()
        .unwrap();
    (manager, recorded)
}

#[tokio::test]
async fn the_manager_counts_what_happens_to_sessions() {
    let (manager, recorded) = manager(
        Config::builder()
            .rotation_grace(Duration::ZERO)
            .build()
            .unwrap(),
    );

    let session = manager.create().unwrap();
    assert_eq!(
        recorded.count(SessionCount::Created),
        0,
        "nothing is stored before the save"
    );
    session.set("cart", &["tea"]).unwrap();
    session.save().await.unwrap();
    assert_eq!(recorded.count(SessionCount::Created), 1);
    assert_eq!(recorded.ops(), [("memory", StoreOp::SetMany, None)]);
    session.save().await.unwrap(); // nothing changed: not created again
    assert_eq!(recorded.count(SessionCount::Created), 1);

    let token = session.token();
    assert!(manager.load(token.as_str()).await.unwrap().is_some());
    assert_eq!(recorded.count(SessionCount::Loaded), 1);
    let unknown = Token::generate().unwrap();
    assert!(manager.load(unknown.as_str()).await.unwrap().is_none());
    assert!(manager.load("not a token").await.unwrap().is_none()); // refused before any I/O
    assert_eq!(recorded.count(SessionCount::NotFound), 1);

    let loaded = manager.load(token.as_str()).await.unwrap().unwrap();
    loaded.login("alice", serde_json::json!({})).await.unwrap();
    assert_eq!(recorded.count(SessionCount::Rotated), 1);
    assert_eq!(
        recorded.count(SessionCount::Created),
        1,
        "a login moves a session, it creates none"
    );

    // A new session logging in straight away is created by the login.
    let second = manager.create().unwrap();
    second.login("alice", serde_json::json!({})).await.unwrap();
    assert_eq!(recorded.count(SessionCount::Created), 2);

    assert_eq!(manager.revoke_all("alice").await.unwrap(), 2);
    assert_eq!(recorded.count(SessionCount::Revoked), 2);

    let third = manager.create().unwrap();
    third.set("x", &1).unwrap();
    third.save().await.unwrap();
    let destroyed = recorded.count(SessionCount::Destroyed);
    third.destroy(false).await.unwrap();
    assert_eq!(recorded.count(SessionCount::Destroyed), destroyed + 1);
}

#[tokio::test]
async fn endings_on_load_are_counted() {
    let store = Arc::new(MemoryStore::new());
    let recorded = Arc::new(Recorded::default());
    let (old, strict) = (
        SessionManager::builder_from_arc(store.clone())
            .build()
            .unwrap(),
        // The same store after a deploy that shortened the absolute lifetime and bound devices.
        SessionManager::builder_from_arc(store)
            .config(
                Config::builder()
                    .absolute_lifetime(Duration::from_millis(200))
                    .device_binding(true)
                    .build()
                    .unwrap(),
            )
            .metrics(recorded.clone())
            .build()
            .unwrap(),
    );
    let long_lived = old.create().unwrap();
    long_lived.set("a", &1).unwrap();
    long_lived.save().await.unwrap();
    let phone = strict.create_with(Some("phone".into()), None).unwrap();
    phone.set("a", &1).unwrap();
    phone.save().await.unwrap();

    let mismatch = strict
        .load_with(phone.token().as_str(), Some("laptop"))
        .await;
    assert!(
        matches!(mismatch, Err(SessionError::DeviceMismatch)),
        "{mismatch:?}"
    );
    assert_eq!(recorded.count(SessionCount::DeviceMismatch), 1);

    tokio::time::sleep(Duration::from_millis(300)).await;
    // Still in the store (written under the old policy); past the new lifetime, so ended on load.
    assert!(
        strict
            .load(long_lived.token().as_str())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(recorded.count(SessionCount::ExpiredOnRead), 1);
    assert_eq!(recorded.count(SessionCount::Destroyed), 2);
    // Gone now: a second load finds nothing.
    assert!(
        strict
            .load(long_lived.token().as_str())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(recorded.count(SessionCount::NotFound), 1);
}

#[tokio::test]
async fn store_operations_report_their_error_kind() {
    let recorded = Arc::new(Recorded::default());
    let store = ObservedStore::new(Arc::new(MemoryStore::new())).with_metrics(recorded.clone());
    let id = Token::generate().unwrap().id();
    store
        .set(&id, "k", 1.into(), Duration::from_secs(60))
        .await
        .unwrap();
    assert!(
        store
            .set(&id, "", 1.into(), Duration::from_secs(60))
            .await
            .is_err()
    );
    assert!(store.set(&id, "k", 1.into(), Duration::ZERO).await.is_err());
    assert_eq!(store.get(&id, "k", None).await.unwrap(), Some(1.into()));
    assert_eq!(
        recorded.ops(),
        [
            ("memory", StoreOp::Set, None),
            ("memory", StoreOp::Set, Some(ErrorKind::InvalidInput)),
            ("memory", StoreOp::Set, Some(ErrorKind::InvalidInput)),
            ("memory", StoreOp::Get, None),
        ]
    );
}

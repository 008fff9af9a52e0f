//! The adapter through tower-sessions' own public API (`Session`, `SessionStore`), on every
//! backend; beside it, the same sequences on tower-sessions' own store, to show what the adapter
//! fixes (and that these tests can tell the difference).

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use session_tower_sessions::{TowerSessionsStore, store_id};
use support::Backend;
use tower_sessions::session::{Id, Record};
use tower_sessions::{Expiry, MemoryStore, Session, SessionStore};

fn adapter(backend: &Backend) -> Arc<TowerSessionsStore> {
    Arc::new(TowerSessionsStore::new(backend.store.clone()))
}

/// A saved session holding `pairs`; its id.
async fn saved<S: SessionStore>(store: &Arc<S>, pairs: &[(&str, serde_json::Value)]) -> Id {
    let session = Session::new(None, store.clone(), None);
    for (key, value) in pairs {
        session.insert_value(key, value.clone()).await.unwrap();
    }
    session.save().await.unwrap();
    session.id().expect("a saved session has an id")
}

/// Sixteen requests of one browser each load the session (keys `k0`..`k15`, all `-1`), change a
/// key of their own and save, all at once: every change lands.
async fn concurrent_saves_of_different_keys_keep_them_all<S: SessionStore>(store: Arc<S>) -> usize {
    let keys: Vec<(String, serde_json::Value)> =
        (0..16).map(|i| (format!("k{i}"), json!(-1))).collect();
    let mut pairs: Vec<(&str, serde_json::Value)> =
        keys.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    pairs.push(("seed", json!(0)));
    let id = saved(&store, &pairs).await;
    let mut tasks = tokio::task::JoinSet::new();
    let barrier = Arc::new(tokio::sync::Barrier::new(16));
    for i in 0..16 {
        let (store, barrier) = (store.clone(), barrier.clone());
        tasks.spawn(async move {
            let session = Session::new(Some(id), store, None);
            session.get_value("seed").await.unwrap(); // loaded
            barrier.wait().await; // every request has loaded before any saves
            session.insert(&format!("k{i}"), i).await.unwrap();
            session.save().await.unwrap();
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let after = Session::new(Some(id), store, None);
    let mut kept = 0;
    for i in 0..16 {
        if after.get::<i32>(&format!("k{i}")).await.unwrap() == Some(i) {
            kept += 1;
        }
    }
    assert_eq!(after.get::<i32>("seed").await.unwrap(), Some(0));
    kept
}

async fn different_keys_never_lose_each_other(backend: Backend) {
    let kept = concurrent_saves_of_different_keys_keep_them_all(adapter(&backend)).await;
    assert_eq!(kept, 16, "{}: only {kept} of 16 keys kept", backend.name);
}
on_every_backend!(different_keys_never_lose_each_other);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tower_sessions_own_store_loses_them() {
    let kept =
        concurrent_saves_of_different_keys_keep_them_all(Arc::new(MemoryStore::default())).await;
    assert!(
        kept < 16,
        "tower-sessions' MemoryStore kept all 16: the comparison above means nothing"
    );
}

/// A request that loaded the session before a logout saves after it: is the session back?
async fn save_after_a_logout<S: SessionStore>(store: Arc<S>) -> (bool, Option<Record>, Id) {
    let id = saved(&store, &[("user", json!("alice"))]).await;
    let slow = Session::new(Some(id), store.clone(), None);
    slow.get_value("user").await.unwrap();
    Session::new(Some(id), store.clone(), None)
        .flush()
        .await
        .unwrap();
    slow.insert("late", true).await.unwrap();
    let saved = slow.save().await.is_ok();
    (saved, store.load(&id).await.unwrap(), id)
}

async fn a_session_ended_during_a_request_is_not_brought_back(backend: Backend) {
    let (saved, record, id) = save_after_a_logout(adapter(&backend)).await;
    assert!(!saved, "{}: the late save reported success", backend.name);
    assert_eq!(record, None, "{}: the session came back", backend.name);
    let raw = backend.store.get_all(&store_id(&id), None).await.unwrap();
    assert_eq!(
        raw, None,
        "{}: something is stored under the id",
        backend.name
    );
}
on_every_backend!(a_session_ended_during_a_request_is_not_brought_back);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tower_sessions_own_store_brings_it_back() {
    let (saved, record, _) = save_after_a_logout(Arc::new(MemoryStore::default())).await;
    assert!(
        saved && record.is_some(),
        "tower-sessions' MemoryStore did not revive it"
    );
}

async fn cycle_id_moves_the_data_and_the_old_id_finds_nothing(backend: Backend) {
    let store = adapter(&backend);
    let old = saved(&store, &[("visits", json!(3))]).await;
    let session = Session::new(Some(old), store.clone(), None);
    session.cycle_id().await.unwrap();
    session.insert("user", "alice").await.unwrap();
    session.save().await.unwrap();
    let new = session.id().unwrap();
    assert_ne!(new, old);
    assert_eq!(store.load(&old).await.unwrap(), None, "{}", backend.name);
    let moved = Session::new(Some(new), store.clone(), None);
    assert_eq!(
        moved.get::<u32>("visits").await.unwrap(),
        Some(3),
        "{}",
        backend.name
    );
    assert_eq!(
        moved.get::<String>("user").await.unwrap().as_deref(),
        Some("alice")
    );
}
on_every_backend!(cycle_id_moves_the_data_and_the_old_id_finds_nothing);

async fn remove_and_clear_reach_the_store(backend: Backend) {
    let store = adapter(&backend);
    let id = saved(&store, &[("a", json!(1)), ("b", json!(2)), ("c", json!(3))]).await;
    let keys = |id| {
        let store = store.clone();
        async move {
            let record = store.load(&id).await.unwrap().expect("live");
            let mut keys: Vec<String> = record
                .data
                .keys()
                .filter(|k| !k.starts_with("__sys:"))
                .cloned()
                .collect();
            keys.sort();
            keys
        }
    };
    let session = Session::new(Some(id), store.clone(), None);
    session.remove_value("a").await.unwrap();
    session.save().await.unwrap();
    assert_eq!(keys(id).await, ["b", "c"], "{}: remove", backend.name);

    let session = Session::new(Some(id), store.clone(), None);
    session.get_value("b").await.unwrap();
    session.clear().await;
    session.insert("d", 4).await.unwrap();
    session.save().await.unwrap();
    assert_eq!(
        keys(id).await,
        ["d"],
        "{}: clear of a loaded record",
        backend.name
    );

    // Cleared before anything was loaded: tower-sessions saves an empty record of that id.
    let session = Session::new(Some(id), store.clone(), None);
    session.clear().await;
    session.save().await.unwrap();
    assert!(
        keys(id).await.is_empty(),
        "{}: clear unloaded",
        backend.name
    );
}
on_every_backend!(remove_and_clear_reach_the_store);

async fn the_expiry_date_is_kept_and_enforced_by_the_store(backend: Backend) {
    let store = adapter(&backend);
    let session = Session::new(
        None,
        store.clone(),
        Some(Expiry::OnInactivity(time::Duration::seconds(1))),
    );
    session.insert("a", 1).await.unwrap();
    session.save().await.unwrap();
    let id = session.id().unwrap();
    let record = store.load(&id).await.unwrap().expect("live");
    let left = record.expiry_date - time::OffsetDateTime::now_utc();
    assert!(
        left > time::Duration::ZERO && left <= time::Duration::seconds(1),
        "{}: the loaded expiry date is {left} away",
        backend.name
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    while store.load(&id).await.unwrap().is_some() {
        assert!(Instant::now() < deadline, "{}: never expired", backend.name);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Created already expired: refused, nothing stored.
    let mut record = Record {
        id: Id::default(),
        data: [("a".to_owned(), json!(1))].into(),
        expiry_date: time::OffsetDateTime::now_utc() - time::Duration::seconds(1),
    };
    assert!(store.create(&mut record).await.is_err(), "{}", backend.name);
    assert_eq!(store.load(&record.id).await.unwrap(), None);
}
on_every_backend!(the_expiry_date_is_kept_and_enforced_by_the_store);

async fn keys_our_stores_refuse_are_errors_and_write_nothing(backend: Backend) {
    let store = adapter(&backend);
    let id = saved(&store, &[("a", json!(1))]).await;
    for bad in ["__sys:meta", "", "nul\0key"] {
        let session = Session::new(Some(id), store.clone(), None);
        session.insert("a", 2).await.unwrap();
        session.insert(bad, "forged").await.unwrap();
        let error = session.save().await.unwrap_err();
        assert!(
            matches!(
                &error,
                tower_sessions::session::Error::Store(
                    tower_sessions::session_store::Error::Encode(_)
                )
            ),
            "{}: {bad:?}: {error:?}",
            backend.name
        );
        let after = Session::new(Some(id), store.clone(), None);
        assert_eq!(
            after.get::<i32>("a").await.unwrap(),
            Some(1),
            "{}: {bad:?}",
            backend.name
        );
    }
}
on_every_backend!(keys_our_stores_refuse_are_errors_and_write_nothing);

async fn create_never_overwrites_a_live_session(backend: Backend) {
    let store = adapter(&backend);
    let victim = saved(&store, &[("owner", json!("victim"))]).await;
    let mut record = Record {
        id: victim,
        data: [("owner".to_owned(), json!("attacker"))].into(),
        expiry_date: time::OffsetDateTime::now_utc() + time::Duration::minutes(5),
    };
    store.create(&mut record).await.unwrap();
    assert_ne!(record.id, victim, "{}: the taken id was kept", backend.name);
    let owner = |id| {
        let store = store.clone();
        async move {
            Session::new(Some(id), store, None)
                .get::<String>("owner")
                .await
                .unwrap()
        }
    };
    assert_eq!(
        owner(victim).await.as_deref(),
        Some("victim"),
        "{}",
        backend.name
    );
    assert_eq!(
        owner(record.id).await.as_deref(),
        Some("attacker"),
        "{}",
        backend.name
    );
}
on_every_backend!(create_never_overwrites_a_live_session);

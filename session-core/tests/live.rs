//! Live sessions, connection style, and events: shared handles, local resources, persistence on
//! events and on an interval, the persistence hook, event order, shutdown.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use session_core::{
    BoxError, Config, EventKind, PersistHook, PersistReason, Session, SessionError, async_trait,
};
use support::{Backend, eventually, manager};

/// Records each call, and takes a while, so ordering against events is observable.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<(PersistReason, Instant)>>>);

#[async_trait]
impl PersistHook for Recorder {
    async fn persist(&self, session: &Session, reason: PersistReason) -> Result<(), BoxError> {
        let _: Option<u32> = session.get("score").await?; // the hook may read the session
        tokio::time::sleep(Duration::from_millis(100)).await;
        self.0.lock().unwrap().push((reason, Instant::now()));
        Ok(())
    }
}

async fn with_hook(config: Config, hook: Recorder) -> session_core::SessionManager {
    on_backend_with_hook(Backend::Memory, config, hook).await
}

async fn on_backend_with_hook(
    backend: Backend,
    config: Config,
    hook: Recorder,
) -> session_core::SessionManager {
    match backend {
        Backend::Memory => {
            session_core::SessionManager::builder(session_store_memory::MemoryStore::new())
                .persist_hook(hook)
                .config(config)
                .build()
                .unwrap()
        }
        Backend::Sqlite => session_core::SessionManager::builder(
            session_store_sqlite::SqliteStore::open_in_memory()
                .await
                .unwrap(),
        )
        .persist_hook(hook)
        .config(config)
        .build()
        .unwrap(),
    }
}

async fn live_handles_are_shared(backend: Backend) {
    let (manager, _) = manager(backend, Config::default()).await;
    let session = manager.create_live("player-1").unwrap();
    let other = manager.find_by_key("player-1").expect("registered");
    assert!(session.ptr_eq(&other), "one handle per live session");
    other.set("hp", &90).unwrap();
    assert_eq!(
        session.get::<u32>("hp").await.unwrap(),
        Some(90),
        "connections see each other's changes"
    );
    assert!(matches!(
        manager.create_live("player-1"),
        Err(SessionError::LiveKeyTaken(_))
    ));
    assert!(manager.find_by_key("player-2").is_none());

    struct Socket(u16);
    session.insert_typed_local(Socket(4242));
    assert_eq!(other.typed_local::<Socket>().map(|s| s.0), Some(4242));
    assert!(other.typed_local::<String>().is_none());
    session.save().await.unwrap();
    let reloaded = manager
        .load(session.token().as_str())
        .await
        .unwrap()
        .unwrap();
    assert!(
        reloaded.typed_local::<Socket>().is_none(),
        "local resources are never persisted"
    );
    assert_eq!(reloaded.get_all().await.unwrap().len(), 1);
    assert!(session.remove_typed_local::<Socket>().is_some());
    assert!(other.typed_local::<Socket>().is_none());
}

async fn named_events_persist(backend: Backend) {
    let config = Config::builder()
        .persist_on(["disconnect", "level-up"])
        .persist_interval(None)
        .build()
        .unwrap();
    let (manager, counting) = manager(backend, config).await;
    let session = manager.create_live("p").unwrap();
    assert!(session.will_persist_on("disconnect") && session.will_persist_on("level-up"));
    assert!(!session.will_persist_on("chat"));
    session.set("level", &2).unwrap();
    assert!(!session.notify("chat").await.unwrap());
    assert_eq!(counting.writes(), 0);
    assert!(session.notify("level-up").await.unwrap());
    assert_eq!(counting.writes(), 1);
    let stored = manager
        .load(session.token().as_str())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.get::<u32>("level").await.unwrap(), Some(2));
}

/// A deploy is not a logout: shutdown persists and releases every live session, and each one
/// still loads, with its data, afterwards.
async fn shutdown_is_not_logout(backend: Backend) {
    let (manager, _) = manager(backend, Config::default()).await;
    let mut events = manager.subscribe();
    let tokens: Vec<_> = (0..5)
        .map(|i| {
            let s = manager.create_live(&format!("p{i}")).unwrap();
            s.set("k", &i).unwrap();
            s.token()
        })
        .collect();
    manager.shutdown(true).await.unwrap();
    assert!(manager.live_keys().is_empty());
    for (i, token) in tokens.iter().enumerate() {
        let session = manager
            .load(token.as_str())
            .await
            .unwrap()
            .expect("still stored");
        assert_eq!(
            session.get::<usize>("k").await.unwrap(),
            Some(i),
            "persisted at shutdown"
        );
    }
    let kinds: Vec<EventKind> = std::iter::from_fn(|| events.try_recv().ok())
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == EventKind::Released).count(),
        5
    );
    assert!(!kinds.contains(&EventKind::Destroyed), "{kinds:?}");
}

/// One live session ended elsewhere (a revocation from another instance, here a second manager
/// on the same store, here its `del_all`) made `persist_all` answer `Err(Destroyed)` and lose the count of the others;
/// now the ended one is skipped (and retired), and the others are persisted and counted.
async fn persist_all_skips_a_session_ended_elsewhere(backend: Backend) {
    let (manager, store) = support::manager_and_store(backend, Config::default()).await;
    let ids: Vec<Session> = (0..3)
        .map(|i| {
            let s = manager.create_live(&format!("p{i}")).unwrap();
            s.set("k", &i).unwrap();
            s
        })
        .collect();
    assert_eq!(manager.persist_all().await.unwrap(), 3);
    store.del_all(&ids[1].id()).await.unwrap();
    for (i, s) in ids.iter().enumerate() {
        s.set("k", &(i + 10)).unwrap();
    }
    assert_eq!(
        manager.persist_all().await.unwrap(),
        2,
        "the two sessions still alive are persisted and counted"
    );
    assert!(ids[1].is_destroyed(), "the ended one is retired");
    for i in [0, 2] {
        let loaded = manager
            .load(ids[i].token().as_str())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(loaded.get::<usize>("k").await.unwrap(), Some(i + 10));
    }
}

on_every_backend!(
    persist_all_skips_a_session_ended_elsewhere,
    live_handles_are_shared,
    named_events_persist,
    shutdown_is_not_logout,
    interval_persistence_fires,
    interval_persistence_only_when_dirty_skips_clean_sessions
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destroy_events_come_in_order_after_the_hook() {
    let hook = Recorder::default();
    let manager = with_hook(Config::default(), hook.clone()).await;
    let mut all = manager.subscribe();
    let session = manager.create_live("p").unwrap();
    let mut mine = session.subscribe();
    session.start();
    session.set_user("u1", serde_json::json!({})).await.unwrap();
    session.destroy(true).await.unwrap();
    let destroyed_seen = Instant::now();

    let mut kinds = Vec::new();
    while let Ok(event) = all.try_recv() {
        assert_eq!(event.session, session.id());
        kinds.push(event.kind);
    }
    assert_eq!(
        kinds,
        [
            EventKind::Created,
            EventKind::Started,
            EventKind::Saved,
            EventKind::Identified {
                subject: "u1".into(),
                user_data: serde_json::json!({}),
            },
            EventKind::BeforeDestroy,
            EventKind::Persist,
            EventKind::Destroyed
        ]
    );
    let mut own = Vec::new();
    while let Ok(event) = mine.try_recv() {
        own.push(event.kind);
    }
    assert_eq!(
        own,
        kinds[1..],
        "the session's observers see its events from when they subscribed"
    );
    let calls = hook.0.lock().unwrap().clone();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].0, PersistReason::Destroy);
    assert!(
        calls[0].1 <= destroyed_seen,
        "Destroyed came only after the hook finished"
    );
    assert!(manager.find_by_key("p").is_none());
}

async fn interval_persistence_fires(backend: Backend) {
    let hook = Recorder::default();
    let manager = on_backend_with_hook(
        backend,
        Config::builder().persist_every("150ms").build().unwrap(),
        hook.clone(),
    )
    .await;
    let session = manager.create_live("p").unwrap();
    session.set("score", &7u32).unwrap();
    let token = session.token();
    let saved = eventually(Duration::from_secs(10), || async {
        match manager.load(token.as_str()).await.unwrap() {
            Some(s) => s.get::<u32>("score").await.unwrap() == Some(7),
            None => false,
        }
    })
    .await;
    assert!(saved, "the interval never persisted the change");
    assert!(
        hook.0
            .lock()
            .unwrap()
            .iter()
            .any(|(r, _)| *r == PersistReason::Interval)
    );
    // Nothing changed since, and the hook still runs on every tick: the interval is a maximum
    // time between persists (the application's own state is what the hook writes).
    let calls = hook.0.lock().unwrap().len();
    assert!(
        eventually(Duration::from_secs(10), || async {
            hook.0.lock().unwrap().len() >= calls + 2
        })
        .await,
        "the hook stopped running without changes"
    );
    manager.shutdown(false).await.unwrap();
}

async fn interval_persistence_only_when_dirty_skips_clean_sessions(backend: Backend) {
    let hook = Recorder::default();
    let manager = on_backend_with_hook(
        backend,
        Config::builder()
            .persist_every("150ms")
            .persist_only_dirty(true)
            .build()
            .unwrap(),
        hook.clone(),
    )
    .await;
    let session = manager.create_live("p").unwrap();
    session.set("score", &7u32).unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            !hook.0.lock().unwrap().is_empty()
        })
        .await
    );
    // Clean now: no more calls until something changes.
    let calls = hook.0.lock().unwrap().len();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(hook.0.lock().unwrap().len(), calls);
    session.set("score", &8u32).unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            hook.0.lock().unwrap().len() > calls
        })
        .await
    );
    manager.shutdown(false).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_is_an_event() {
    let manager = session_core::SessionManager::new(session_store_memory::MemoryStore::new());
    let mut events = manager.subscribe();
    let session = manager.create().unwrap();
    session.set("k", &1).unwrap();
    session.save().await.unwrap();
    let old = session.id();
    session.rotate().await.unwrap();
    let last = std::iter::from_fn(|| events.try_recv().ok())
        .last()
        .unwrap();
    assert_eq!(last.kind, EventKind::Rotated { from: old });
    assert_eq!(last.session, session.id());
}

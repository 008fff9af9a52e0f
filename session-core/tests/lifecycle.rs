//! Live sessions and lifecycle as the seed libraries mean them, over real stores (memory and
//! SQLite; Redis where two instances matter): resume by token, events with the handle, a lifetime
//! of the session's own, automatic renewal, visit times, a registry that never lies, locals by
//! name. Shutdown and the persistence interval are in `live.rs`.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use session_core::{Config, EventKind, SessionError, SessionManager};
use support::{Backend, eventually, manager, over, two_managers};

/// Item 1: Every connection presenting one token shares one handle and sees the others' unsaved
/// changes at once; a resume after a restart (a new manager over the same store) loads it whole.
async fn resume_shares_one_handle_across_connections_and_restarts(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = two_managers(backend, Config::default(), dir.path()).await;
    let session = first.create().unwrap();
    session.set("note", &"hello").unwrap();
    session.save().await.unwrap();
    let token = session.token();

    let tab1 = first
        .resume(token.as_str())
        .await
        .unwrap()
        .expect("resumes");
    let tab2 = first
        .resume(token.as_str())
        .await
        .unwrap()
        .expect("resumes");
    assert!(tab1.ptr_eq(&tab2), "one handle for every connection");
    tab1.set("note", &"changed in tab 1").unwrap();
    assert_eq!(
        tab2.get::<String>("note").await.unwrap().as_deref(),
        Some("changed in tab 1"),
        "unsaved changes are seen at once"
    );
    tab2.persist_now().await.unwrap();
    first.shutdown(true).await.unwrap();

    // "Restart": another manager over the same store.
    let after = second
        .resume(token.as_str())
        .await
        .unwrap()
        .expect("resumes");
    assert_eq!(
        after.get::<String>("note").await.unwrap().as_deref(),
        Some("changed in tab 1")
    );
    assert!(second.resume("not-a-token").await.unwrap().is_none());
    second.shutdown(false).await.unwrap();
}

/// Item 4: Observers get the handle with each event (cagey's `on('started', session => ...)`), and a
/// `Saved` follows each save that wrote.
async fn observers_act_on_the_handle(backend: Backend) {
    let (manager, _) = manager(backend, Config::default()).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    manager.on(move |event| {
        if let (EventKind::Started, Some(session)) = (&event.kind, &event.handle) {
            session.set_local("client", format!("wired {}", session.id().short()));
        }
        log.lock().unwrap().push(event.kind.clone());
    });
    let session = manager.create_live("player").unwrap();
    session.start();
    assert!(session.local::<String>("client").is_some());
    session.set("gold", &5).unwrap();
    assert!(session.save().await.unwrap());
    assert!(!session.save().await.unwrap(), "nothing to write");
    let kinds = seen.lock().unwrap().clone();
    assert_eq!(
        kinds,
        [EventKind::Created, EventKind::Started, EventKind::Saved],
        "one Saved, for the save that wrote"
    );
    manager.shutdown(false).await.unwrap();
}

/// Item 5: "Remember me": a session's own idle timeout, kept in its metadata, so a save by another
/// manager over the same store keeps it.
async fn a_session_keeps_its_own_idle_timeout(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::builder()
        .idle_timeout(Duration::from_secs(3600))
        .touch_interval(Duration::from_millis(10))
        .build()
        .unwrap();
    let (first, second) = two_managers(backend, config, dir.path()).await;
    let short = first.create().unwrap();
    short
        .set_idle_timeout(Duration::from_millis(600))
        .await
        .unwrap();
    short.set("k", &1).unwrap();
    short.save().await.unwrap();
    let normal = first.create().unwrap();
    normal.set("k", &1).unwrap();
    normal.save().await.unwrap();

    // The other manager writes it: its timeout stays the session's own.
    let elsewhere = second.load(short.token().as_str()).await.unwrap().unwrap();
    assert_eq!(elsewhere.idle_timeout(), Duration::from_millis(600));
    elsewhere.set("k", &2).unwrap();
    elsewhere.save().await.unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async {
            first.load(short.token().as_str()).await.unwrap().is_none()
        })
        .await,
        "the session outlived its own idle timeout"
    );
    assert!(first.load(normal.token().as_str()).await.unwrap().is_some());
    assert!(matches!(
        normal.set_idle_timeout(Duration::ZERO).await,
        Err(SessionError::Store(_))
    ));
}

/// Item 6: Renewal: a load of a token older than `renew_after` rotates it; for the grace, the old
/// one follows to the renewed session (the same new token), which stays the only live one.
async fn old_tokens_are_renewed_on_load(backend: Backend) {
    let (manager, _) = manager(
        backend,
        Config::builder()
            .renew_after(Duration::from_millis(300))
            .rotation_grace(Duration::from_secs(30))
            .build()
            .unwrap(),
    )
    .await;
    let session = manager.create().unwrap();
    session.login("ann", json!(null)).await.unwrap();
    let old = session.token();
    let fresh = manager.load(old.as_str()).await.unwrap().unwrap();
    assert_eq!(fresh.token(), old, "young tokens are not renewed");

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let renewed = loop {
        let loaded = manager.load(old.as_str()).await.unwrap().unwrap();
        if loaded.token() != old {
            break Some(loaded);
        }
        if tokio::time::Instant::now() > deadline {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let renewed = renewed.expect("never renewed");
    assert!(!renewed.is_rotated_out());
    assert_eq!(renewed.subject().await.unwrap().as_deref(), Some("ann"));
    let stale = manager.load(old.as_str()).await.unwrap().unwrap();
    assert!(!stale.is_rotated_out());
    assert_eq!(
        stale.token(),
        renewed.token(),
        "the old token follows the renewal"
    );
    assert_eq!(stale.id(), renewed.id());
    let live: Vec<_> = manager
        .sessions_of("ann")
        .await
        .unwrap()
        .into_iter()
        .filter(|i| !i.rotated_out)
        .collect();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].id, renewed.id());
}

/// Item 7: Visits: a load records one, written by the first save at least a touch interval after the
/// last; the previous visit then moves off the creation time.
async fn visits_are_recorded(backend: Backend) {
    let (manager, _) = manager(
        backend,
        Config::builder()
            .touch_interval(Duration::from_millis(100))
            .build()
            .unwrap(),
    )
    .await;
    let session = manager.create().unwrap();
    session.set("k", &1).unwrap();
    session.save().await.unwrap();
    let created = session.info().await.unwrap().created_at;
    let token = session.token();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut visits = 0;
    loop {
        let visit = manager.load(token.as_str()).await.unwrap().unwrap();
        visit.save().await.unwrap();
        visits += 1;
        let info = manager
            .load(token.as_str())
            .await
            .unwrap()
            .unwrap()
            .info()
            .await
            .unwrap();
        if info.previous_visit > created {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the previous visit stayed at creation after {visits} visits"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // A resume of a live session records a visit too.
    let live = manager.resume(token.as_str()).await.unwrap().unwrap();
    let before = live.info().await.unwrap().latest_visit;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let again = manager.resume(token.as_str()).await.unwrap().unwrap();
    assert!(again.ptr_eq(&live));
    assert!(again.info().await.unwrap().latest_visit > before);
    assert!(again.is_dirty(), "the visit is written by the next save");
    manager.shutdown(true).await.unwrap();
}

/// Item 8: The registry never returns an ended session: ended by another handle, by
/// `end_session_of`, by `revoke_all`, or found gone by a store operation.
async fn the_registry_never_lies(backend: Backend) {
    let (manager, store) = support::manager_and_store(backend, Config::default()).await;
    let destroyed = Arc::new(Mutex::new(0));
    let count = destroyed.clone();
    manager.on(move |event| {
        if event.kind == EventKind::Destroyed && event.handle.is_some() {
            *count.lock().unwrap() += 1;
        }
    });
    let live = |key: &str| {
        let session = manager.create_live(key).unwrap();
        session.set("k", &1).unwrap();
        session
    };
    // Another handle (a request that loaded it by token) destroys it.
    let a = live("a");
    a.save().await.unwrap();
    let request = manager.load(a.token().as_str()).await.unwrap().unwrap();
    request.destroy(false).await.unwrap();
    assert!(manager.find_by_key("a").is_none());
    assert!(a.is_destroyed());

    // end_session_of
    let b = live("b");
    b.login("bea", json!(null)).await.unwrap();
    assert!(manager.end_session_of("bea", &b.id()).await.unwrap());
    assert!(manager.find_by_key("b").is_none());

    // revoke_all
    let c = live("c");
    c.login("cy", json!(null)).await.unwrap();
    manager.revoke_all("cy").await.unwrap();
    assert!(manager.find_by_key("c").is_none());

    // Gone from the store behind the registry's back (expiry, another instance): the next
    // persist finds out.
    let d = live("d");
    d.save().await.unwrap();
    store.del_all(&d.id()).await.unwrap();
    assert!(
        manager.find_by_key("d").is_some(),
        "nothing told the manager yet"
    );
    let _ = manager.persist_all().await;
    assert!(manager.find_by_key("d").is_none());
    assert!(d.is_destroyed());
    assert!(
        *destroyed.lock().unwrap() >= 4,
        "each retired handle said Destroyed"
    );
}

/// Item 9: Locals by name and the user data.
async fn locals_by_name_and_user_data(backend: Backend) {
    let (manager, _) = manager(backend, Config::default()).await;
    let session = manager.create_live("p").unwrap();
    session.set_local("client", 42u32);
    let other = manager.find_by_key("p").unwrap();
    assert_eq!(other.local::<u32>("client").as_deref(), Some(&42));
    assert!(other.local::<String>("client").is_none(), "wrong type");
    assert!(other.local::<u32>("missing").is_none());
    assert_eq!(session.remove_local::<u32>("client").as_deref(), Some(&42));
    assert!(other.local::<u32>("client").is_none());
    assert_eq!(session.user_data().await.unwrap(), None);
    session.login("lu", json!({"level": 3})).await.unwrap();
    assert_eq!(
        session.user_data().await.unwrap(),
        Some(json!({"level": 3}))
    );
    manager.shutdown(false).await.unwrap();
}

/// A resumed session no connection holds any more is persisted and released after the
/// configured time (a web app resuming every visitor's session does not keep them all), while
/// one a connection holds, and one made by `create_live`, stay; each resume is an event.
async fn resumed_sessions_nobody_holds_are_released(backend: Backend) {
    let config = Config::builder()
        .release_resumed_after(Some(Duration::from_millis(300)))
        .persist_interval(None)
        .build()
        .unwrap();
    let (manager, _) = manager(backend, config).await;
    // Events carry handles: a subscriber keeps up, so its unread events hold none for long.
    let kinds = Arc::new(Mutex::new(Vec::new()));
    let mut events = manager.subscribe();
    let seen = kinds.clone();
    tokio::spawn(async move {
        while let Ok(event) = events.recv().await {
            seen.lock().unwrap().push(event.kind);
        }
    });
    let stored = manager.create().unwrap();
    stored.set("visits", &1).unwrap();
    stored.save().await.unwrap();
    let token = stored.token();
    let named = manager.create_live("player").unwrap();
    drop(named);

    let tab = manager.resume(token.as_str()).await.unwrap().unwrap();
    let again = manager.resume(token.as_str()).await.unwrap().unwrap();
    drop(again);
    tab.set("visits", &2).unwrap();
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(manager.live_keys().len(), 2, "a held session stays");
    drop(tab);
    assert!(
        eventually(Duration::from_secs(5), || async {
            manager.live_keys().len() == 1
        })
        .await,
        "the unheld resumed session is released"
    );
    assert!(
        manager.find_by_key("player").is_some(),
        "a session named by the application is never released this way"
    );
    let kinds = kinds.lock().unwrap().clone();
    let count = |kind: EventKind| kinds.iter().filter(|k| **k == kind).count();
    assert_eq!(count(EventKind::Resumed), 2, "{kinds:?}");
    assert_eq!(count(EventKind::Released), 1, "{kinds:?}");
    assert!(!kinds.contains(&EventKind::Destroyed), "{kinds:?}");

    let back = manager.resume(token.as_str()).await.unwrap().unwrap();
    assert_eq!(
        back.get::<u32>("visits").await.unwrap(),
        Some(2),
        "the change made before the release was persisted"
    );
    assert_eq!(manager.live_keys().len(), 2, "it joins the registry again");
    manager.shutdown(false).await.unwrap();
}

/// `find_by_key` answers from memory; `find_live` asks the store, so a session ended by another
/// manager over the same store is not handed out (and leaves the registry with `Destroyed`).
async fn find_live_asks_the_store(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = two_managers(backend, Config::default(), dir.path()).await;
    let mut events = a.subscribe();
    let unsaved = a.create_live("fresh").unwrap();
    assert!(
        a.find_live("fresh").await.unwrap().is_some(),
        "a session never saved is live without asking"
    );
    drop(unsaved);
    let session = a.create_live("player").unwrap();
    session.set("hp", &10).unwrap();
    session.save().await.unwrap();
    assert!(a.find_live("player").await.unwrap().is_some());

    let elsewhere = b.load(session.token().as_str()).await.unwrap().unwrap();
    elsewhere.destroy(false).await.unwrap();
    assert!(
        a.find_by_key("player").is_some(),
        "from memory, the ended session is not known to be ended"
    );
    assert!(a.find_live("player").await.unwrap().is_none());
    assert!(a.find_by_key("player").is_none(), "it left the registry");
    assert!(session.is_destroyed());
    let destroyed = std::iter::from_fn(|| events.try_recv().ok())
        .any(|e| e.kind == EventKind::Destroyed && e.session == session.id());
    assert!(destroyed);
    assert!(a.find_live("nobody").await.unwrap().is_none());
}

on_every_backend!(
    resumed_sessions_nobody_holds_are_released,
    find_live_asks_the_store,
    resume_shares_one_handle_across_connections_and_restarts,
    observers_act_on_the_handle,
    a_session_keeps_its_own_idle_timeout,
    old_tokens_are_renewed_on_load,
    visits_are_recorded,
    the_registry_never_lies,
    locals_by_name_and_user_data,
);

/// Item 8, across instances: two managers on one Redis. The second ends the session; the first's live
/// handle learns it on its next persist, emits `Destroyed` and leaves the registry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ended_by_another_instance_leaves_the_registry() {
    let prefix = format!("test:{}:lifecycle:", std::process::id());
    let connect = || async {
        session_store_redis::RedisStore::builder(session_test_support::redis_url())
            .prefix(prefix.clone())
            .connect()
            .await
            .unwrap()
    };
    let a: SessionManager = over(Arc::new(connect().await), Config::default());
    let b: SessionManager = over(Arc::new(connect().await), Config::default());
    let mut events = a.subscribe();
    let session = a.create_live("player").unwrap();
    session.login("remote", json!(null)).await.unwrap();
    assert!(a.find_by_key("player").is_some());

    assert_eq!(b.revoke_all("remote").await.unwrap(), 1);
    // Until a's handle touches the store, it cannot know; persisting does.
    let _ = a.persist_all().await;
    assert!(a.find_by_key("player").is_none());
    assert!(session.is_destroyed());
    let destroyed = std::iter::from_fn(|| events.try_recv().ok())
        .any(|e| e.kind == EventKind::Destroyed && e.session == session.id());
    assert!(destroyed);
}

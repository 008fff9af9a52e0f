//! The session manager, request/response style, over real stores (memory and SQLite): lifecycle,
//! typed access, buffered saves, timeouts, rotation, device binding, users, limits.

mod support;

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;
use session_core::{Config, SessionError, StoreError};
use support::{Backend, eventually, manager};

fn config() -> session_core::ConfigBuilder {
    Config::builder()
}

async fn lifecycle_and_typed_access(backend: Backend) {
    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Cart {
        items: Vec<String>,
        total: u64,
    }
    let (manager, _) = manager(backend, Config::default()).await;
    let session = manager.create().unwrap();
    assert!(session.is_new());
    let cart = Cart {
        items: vec!["apple".into()],
        total: 3,
    };
    session.set("cart", &cart).unwrap();
    session.set("visits", &1u32).unwrap();
    session.save().await.unwrap();
    assert!(!session.is_new());

    let loaded = manager
        .load(session.token().as_str())
        .await
        .unwrap()
        .expect("loads");
    assert_eq!(loaded.get::<Cart>("cart").await.unwrap(), Some(cart));
    assert_eq!(loaded.get::<u32>("visits").await.unwrap(), Some(1));
    assert!(
        matches!(loaded.get::<u32>("cart").await, Err(SessionError::Serde(_))),
        "wrong type is an error"
    );
    assert_eq!(
        loaded.get_all().await.unwrap().len(),
        2,
        "metadata never shows among the keys"
    );

    loaded.remove("visits").unwrap();
    loaded.save().await.unwrap();
    let again = manager
        .load(session.token().as_str())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.get::<u32>("visits").await.unwrap(), None);
    again.clear().await.unwrap();
    again.save().await.unwrap();
    let emptied = manager
        .load(session.token().as_str())
        .await
        .unwrap()
        .expect("a cleared session lives on");
    assert!(emptied.get_all().await.unwrap().is_empty());

    emptied.destroy(false).await.unwrap();
    assert!(
        manager
            .load(session.token().as_str())
            .await
            .unwrap()
            .is_none(),
        "destroyed at once"
    );
    assert!(matches!(emptied.set("x", &1), Err(SessionError::Destroyed)));
}

async fn bad_tokens_are_no_session(backend: Backend) {
    let (manager, counting) = manager(backend, Config::default()).await;
    for token in [
        "",
        "short",
        &"A".repeat(43),
        &"é".repeat(40),
        &"x".repeat(100_000),
        "../../etc/passwd",
    ] {
        assert!(manager.load(token).await.unwrap().is_none(), "{token:.20}");
    }
    // Malformed tokens never reach the store; a well-formed unknown one is two reads: its own
    // id, then the read-only copy it would have if it had just been rotated out.
    assert_eq!(
        counting.operations(),
        2,
        "only the well-formed token was looked up"
    );
}

async fn a_session_never_written_is_never_stored(backend: Backend) {
    let (manager, counting) = manager(backend, Config::default()).await;
    let session = manager
        .create_with(Some("laptop".into()), Some(json!({"tz": "UTC"})))
        .unwrap();
    session.save().await.unwrap();
    session.set("k", &1).unwrap();
    session.remove("k").unwrap();
    session.save().await.unwrap();
    assert_eq!(counting.writes(), 0);
    assert!(
        manager
            .load(session.token().as_str())
            .await
            .unwrap()
            .is_none()
    );
}

async fn save_flushes_only_changed_keys_in_one_batch(backend: Backend) {
    let (manager, counting) = manager(backend, Config::default()).await;
    let session = manager.create().unwrap();
    for i in 0..10 {
        session.set(&format!("k{i}"), &i).unwrap();
    }
    session.save().await.unwrap();
    assert_eq!(counting.writes(), 1, "one set_many");
    let loaded = manager
        .load(session.token().as_str())
        .await
        .unwrap()
        .unwrap();
    loaded.set("k3", &33).unwrap();
    loaded.remove("k4").unwrap();
    loaded.save().await.unwrap();
    let mut batch = counting.last_batch();
    batch.sort();
    assert_eq!(
        batch,
        ["__sys:meta", "k3", "k4"],
        "only changed keys, plus the metadata"
    );
    assert_eq!(counting.writes(), 2);
}

async fn read_only_touches_are_throttled(backend: Backend) {
    let (manager, counting) = manager(
        backend,
        config()
            .touch_interval(Duration::from_secs(3600))
            .build()
            .unwrap(),
    )
    .await;
    let session = manager.create().unwrap();
    session.set("k", &1).unwrap();
    session.save().await.unwrap();
    let writes = counting.writes();
    for _ in 0..50 {
        let s = manager
            .load(session.token().as_str())
            .await
            .unwrap()
            .unwrap();
        let _: Option<u32> = s.get("k").await.unwrap();
        s.save().await.unwrap();
    }
    assert_eq!(
        counting.writes(),
        writes,
        "no write within the touch interval"
    );

    let (manager, counting) = manager_with_touch(backend, Duration::from_millis(200)).await;
    let session = manager.create().unwrap();
    session.set("k", &1).unwrap();
    session.save().await.unwrap();
    let start = tokio::time::Instant::now();
    let base = counting.writes();
    while start.elapsed() < Duration::from_millis(1100) {
        let s = manager
            .load(session.token().as_str())
            .await
            .unwrap()
            .unwrap();
        s.save().await.unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let touches = counting.writes() - base;
    assert!(
        (3..=6).contains(&touches),
        "{touches} touches in 1.1 s at one per 200 ms"
    );
}

async fn manager_with_touch(
    backend: Backend,
    every: Duration,
) -> (
    session_core::SessionManager,
    std::sync::Arc<support::Counts>,
) {
    manager(backend, config().touch_interval(every).build().unwrap()).await
}

async fn idle_timeout_slides_and_expires(backend: Backend) {
    let config = config()
        .idle_timeout(Duration::from_millis(1200))
        .touch_interval(Duration::from_millis(100))
        .build()
        .unwrap();
    let (manager, _) = manager(backend, config).await;
    let session = manager.create().unwrap();
    session.set("k", &1).unwrap();
    session.save().await.unwrap();
    let token = session.token();
    // Active for 2.5 s, twice the idle timeout: it stays.
    let start = tokio::time::Instant::now();
    while start.elapsed() < Duration::from_millis(2500) {
        let s = manager
            .load(token.as_str())
            .await
            .unwrap()
            .expect("an active session stays");
        s.save().await.unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    // Then idle: it goes.
    assert!(
        eventually(Duration::from_secs(10), || async {
            manager.load(token.as_str()).await.unwrap().is_none()
        })
        .await
    );
}

async fn absolute_lifetime_ends_an_active_session(backend: Backend) {
    let config = config()
        .absolute_lifetime(Duration::from_millis(1500))
        .touch_interval(Duration::from_millis(50))
        .build()
        .unwrap();
    let (manager, _) = manager(backend, config).await;
    let session = manager.create().unwrap();
    session.set("k", &1).unwrap();
    session.save().await.unwrap();
    let token = session.token();
    let start = tokio::time::Instant::now();
    let ended = loop {
        match manager.load(token.as_str()).await.unwrap() {
            None => break start.elapsed(),
            Some(s) => {
                s.set("k", &2).unwrap(); // activity never extends the lifetime
                let _ = s.save().await;
            }
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the absolute lifetime never ended the session"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        ended >= Duration::from_millis(1300),
        "ended too early: {ended:?}"
    );
}

async fn rotation_keeps_data_and_retires_the_old_token(backend: Backend) {
    let (manager, _) = manager(
        backend,
        config()
            .rotation_grace(Duration::from_millis(800))
            .build()
            .unwrap(),
    )
    .await;
    let session = manager.create().unwrap();
    session.set("k", &"v").unwrap();
    session.save().await.unwrap();
    let old = session.token();
    session.set("pending", &true).unwrap();
    let new = session.rotate().await.unwrap();
    assert_ne!(old, new);
    assert_eq!(session.token(), new);
    let moved = manager
        .load(new.as_str())
        .await
        .unwrap()
        .expect("the new token works");
    assert_eq!(
        moved.get::<String>("k").await.unwrap().as_deref(),
        Some("v")
    );
    assert_eq!(
        moved.get::<bool>("pending").await.unwrap(),
        Some(true),
        "pending changes move too"
    );
    let in_flight = manager
        .load(old.as_str())
        .await
        .unwrap()
        .expect("the old token works inside the grace");
    assert_eq!(
        in_flight.get::<String>("k").await.unwrap().as_deref(),
        Some("v")
    );
    assert!(in_flight.is_rotated_out());
    assert!(
        matches!(in_flight.set("late", &1), Err(SessionError::RotatedOut)),
        "the old token is read-only"
    );
    assert!(matches!(
        in_flight.save().await,
        Err(SessionError::RotatedOut)
    ));
    assert!(
        eventually(Duration::from_secs(10), || async {
            manager.load(old.as_str()).await.unwrap().is_none()
        })
        .await,
        "the old token still works after the grace"
    );
    assert!(manager.load(new.as_str()).await.unwrap().is_some());

    let (manager, _) = support::manager(
        backend,
        config().rotation_grace(Duration::ZERO).build().unwrap(),
    )
    .await;
    let session = manager.create().unwrap();
    session.set("k", &1).unwrap();
    session.save().await.unwrap();
    let old = session.token();
    session.rotate().await.unwrap();
    assert!(
        manager.load(old.as_str()).await.unwrap().is_none(),
        "grace 0: gone at once"
    );
}

async fn device_mismatch_ends_the_session(backend: Backend) {
    let (manager, _) = manager(backend, config().device_binding(true).build().unwrap()).await;
    let session = manager
        .create_with(Some("firefox/linux".into()), None)
        .unwrap();
    session.set("k", &1).unwrap();
    session.save().await.unwrap();
    let token = session.token();
    assert!(
        manager
            .load_with(token.as_str(), Some("firefox/linux"))
            .await
            .unwrap()
            .is_some()
    );
    let err = manager
        .load_with(token.as_str(), Some("curl"))
        .await
        .unwrap_err();
    assert!(matches!(err, SessionError::DeviceMismatch), "{err:?}");
    assert!(
        manager
            .load_with(token.as_str(), Some("firefox/linux"))
            .await
            .unwrap()
            .is_none(),
        "ended"
    );
}

async fn users_revoke_all_across_100_sessions(backend: Backend) {
    let (manager, counts) = manager(backend, Config::default()).await;
    let mut tokens = Vec::new();
    for i in 0..100 {
        let session = manager
            .create_with(Some(format!("device-{i}")), None)
            .unwrap();
        session
            .set_user("alice", json!({"name": "Alice"}))
            .await
            .unwrap();
        tokens.push(session.token());
    }
    let bob = manager.create().unwrap();
    bob.set_user("bob", json!(null)).await.unwrap();
    counts.take_calls();
    let listed = manager.sessions_of("alice").await.unwrap();
    // One batched read of every session's metadata (it was 1 + 100 reads, one by one).
    assert_eq!(counts.take_calls(), ["subject_sessions_with"]);
    assert_eq!(listed.len(), 100);
    assert!(
        listed
            .iter()
            .all(|info| info.subject.as_deref() == Some("alice") && info.device.is_some())
    );
    assert_eq!(manager.revoke_all("alice").await.unwrap(), 100);
    for token in &tokens {
        assert!(manager.load(token.as_str()).await.unwrap().is_none());
    }
    assert!(
        manager.load(bob.token().as_str()).await.unwrap().is_some(),
        "other users are untouched"
    );
    assert!(manager.sessions_of("alice").await.unwrap().is_empty());
}

async fn per_subject_limit_ends_the_oldest(backend: Backend) {
    let (manager, _) = manager(
        backend,
        config().max_sessions_per_subject(3).build().unwrap(),
    )
    .await;
    let mut tokens = Vec::new();
    for _ in 0..5 {
        let session = manager.create().unwrap();
        session.set_user("carol", json!({})).await.unwrap();
        tokens.push(session.token());
        tokio::time::sleep(Duration::from_millis(5)).await; // distinct creation times
    }
    assert_eq!(manager.sessions_of("carol").await.unwrap().len(), 3);
    for (i, token) in tokens.iter().enumerate() {
        let live = manager.load(token.as_str()).await.unwrap().is_some();
        assert_eq!(live, i >= 2, "session {i}");
    }
}

async fn ending_one_of_a_users_sessions(backend: Backend) {
    let (manager, _) = manager(backend, Config::default()).await;
    let (mine, other) = (manager.create().unwrap(), manager.create().unwrap());
    mine.set_user("dave", json!({})).await.unwrap();
    other.set_user("erin", json!({})).await.unwrap();
    assert!(
        !manager.end_session_of("dave", &other.id()).await.unwrap(),
        "not dave's to end"
    );
    assert!(
        manager
            .load(other.token().as_str())
            .await
            .unwrap()
            .is_some()
    );
    assert!(manager.end_session_of("dave", &mine.id()).await.unwrap());
    assert!(manager.load(mine.token().as_str()).await.unwrap().is_none());
}

async fn limits_are_enforced_before_any_io(backend: Backend) {
    let (manager, counting) = manager(
        backend,
        config().max_value_bytes(100).max_keys(3).build().unwrap(),
    )
    .await;
    let session = manager.create().unwrap();
    let err = session.set("big", &"x".repeat(200)).unwrap_err();
    assert!(
        matches!(
            err,
            SessionError::Store(StoreError::TooLarge { what: "value", .. })
        ),
        "{err:?}"
    );
    for k in ["a", "b", "c"] {
        session.set(k, &1).unwrap();
    }
    let err = session.set("d", &1).unwrap_err();
    assert!(
        matches!(
            err,
            SessionError::Store(StoreError::TooLarge {
                what: "session keys",
                ..
            })
        ),
        "{err:?}"
    );
    session.set("a", &2).unwrap(); // overwriting an existing key is fine
    let reserved = session.set("__sys:meta", &1).unwrap_err();
    assert!(
        matches!(reserved, SessionError::Store(StoreError::InvalidInput(_))),
        "{reserved:?}"
    );
    assert!(matches!(
        session.get::<u8>("").await,
        Err(SessionError::Store(StoreError::InvalidInput(_)))
    ));
    assert_eq!(counting.operations(), 0, "refused before any I/O");
}

async fn metadata_tracks_visits(backend: Backend) {
    let (manager, _) = manager(
        backend,
        config()
            .touch_interval(Duration::from_millis(1))
            .build()
            .unwrap(),
    )
    .await;
    let session = manager
        .create_with(Some("phone".into()), Some(json!({"lang": "fr"})))
        .unwrap();
    session.set("k", &1).unwrap();
    session.save().await.unwrap();
    let created = session.info().await.unwrap().created_at;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let second = manager
        .load(session.token().as_str())
        .await
        .unwrap()
        .unwrap();
    second.save().await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let third = manager
        .load(session.token().as_str())
        .await
        .unwrap()
        .unwrap()
        .info()
        .await
        .unwrap();
    assert_eq!(third.created_at, created);
    assert!(
        third.previous_visit > created && third.latest_visit > third.previous_visit,
        "{third:?}"
    );
    assert_eq!(third.device.as_deref(), Some("phone"));
    assert_eq!(third.client_data, Some(json!({"lang": "fr"})));
}

on_every_backend!(
    lifecycle_and_typed_access,
    bad_tokens_are_no_session,
    a_session_never_written_is_never_stored,
    save_flushes_only_changed_keys_in_one_batch,
    read_only_touches_are_throttled,
    idle_timeout_slides_and_expires,
    absolute_lifetime_ends_an_active_session,
    rotation_keeps_data_and_retires_the_old_token,
    device_mismatch_ends_the_session,
    users_revoke_all_across_100_sessions,
    per_subject_limit_ends_the_oldest,
    ending_one_of_a_users_sessions,
    limits_are_enforced_before_any_io,
    metadata_tracks_visits,
);

#[test]
fn config_errors_are_typed() {
    assert!(matches!(
        Config::builder().persist_every("soon").build(),
        Err(SessionError::Config(_))
    ));
    assert!(matches!(
        Config::builder().idle_timeout(Duration::ZERO).build(),
        Err(SessionError::Config(_))
    ));
    assert!(matches!(
        Config::builder()
            .idle_timeout(Duration::from_secs(10))
            .touch_interval(Duration::from_secs(60))
            .build(),
        Err(SessionError::Config(_))
    ));
    assert_eq!(
        Config::builder()
            .persist_every("1m 30s")
            .build()
            .unwrap()
            .persist_interval(),
        Some(Duration::from_secs(90))
    );
    let limit_without_index =
        session_core::SessionManager::builder(session_store_memory::MemoryStore::new())
            .config(
                Config::builder()
                    .max_sessions_per_subject(2)
                    .build()
                    .unwrap(),
            )
            .build();
    assert!(matches!(
        limit_without_index,
        Err(SessionError::Unsupported(_))
    ));
}

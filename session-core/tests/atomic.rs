//! `Session::incr` and `Session::compare_and_set` over real stores: concurrent requests of one
//! browser lose nothing, and an atomic write never revives a session that was ended or rotated
//! out.

mod support;

use serde_json::json;
use session_core::{Config, SessionError, StoreError};
use support::{Backend, manager, manager_and_store};

async fn increments_of_concurrent_requests_are_all_counted(backend: Backend) {
    let (manager, _) = manager(backend, Config::default()).await;
    let session = manager.create().unwrap();
    session.set("seen", &true).unwrap();
    session.save().await.unwrap();
    let token = session.token();
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let manager = manager.clone();
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..25 {
                // Each increment is a request of its own: open, incr, save.
                let request = manager.open([token.as_str()], None).unwrap();
                request.incr("visits", 1).await.unwrap();
                request.save().await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let check = manager.open([token.as_str()], None).unwrap();
    assert_eq!(check.get::<i64>("visits").await.unwrap(), Some(400));
}

async fn incr_reads_back_and_stores_a_new_session(backend: Backend) {
    let (manager, _) = manager(backend, Config::default()).await;
    let session = manager.create().unwrap();
    assert_eq!(session.incr("n", 2).await.unwrap(), 2);
    assert!(
        !session.is_new(),
        "an atomic write stores the session first"
    );
    assert_eq!(session.get::<i64>("n").await.unwrap(), Some(2));
    // A pending change of the key is written first, and the increment applies on top.
    session.set("n", &10).unwrap();
    assert_eq!(session.incr("n", -3).await.unwrap(), 7);
    let check = manager
        .load(session.token().as_str())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(check.get::<i64>("n").await.unwrap(), Some(7));
}

async fn incr_refuses_what_it_cannot_add(backend: Backend) {
    let (manager, _) = manager(backend, Config::default()).await;
    let session = manager.create().unwrap();
    session.set("name", "ada").unwrap();
    session.set("big", &i64::MAX).unwrap();
    session.save().await.unwrap();
    for (key, delta) in [("name", 1), ("big", 1)] {
        let error = session.incr(key, delta).await.unwrap_err();
        assert!(
            matches!(error, SessionError::Store(StoreError::InvalidInput(_))),
            "{key}: {error:?}"
        );
    }
    let check = manager
        .load(session.token().as_str())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        check.get::<String>("name").await.unwrap().as_deref(),
        Some("ada")
    );
    assert_eq!(check.get::<i64>("big").await.unwrap(), Some(i64::MAX));
    assert!(matches!(
        session.incr("__sys:meta", 1).await,
        Err(SessionError::Store(StoreError::InvalidInput(_)))
    ));
}

/// A request that loaded the session before a logout elsewhere counts nothing, and the old
/// token finds nothing afterwards: not even a record holding the counter.
async fn incr_after_a_logout_revives_nothing(backend: Backend) {
    let (manager, store) = manager_and_store(backend, Config::default()).await;
    let session = manager.create().unwrap();
    session.set("visits", &1).unwrap();
    session.save().await.unwrap();
    let token = session.token();
    let request = manager.open([token.as_str()], None).unwrap();
    request.preload(&[]).await.unwrap();
    session.destroy(false).await.unwrap();

    assert!(matches!(
        request.incr("visits", 1).await,
        Err(SessionError::Destroyed)
    ));
    assert!(matches!(
        manager
            .open([token.as_str()], None)
            .unwrap()
            .compare_and_set("fresh", None::<&i64>, &1)
            .await,
        Ok(true) // a new session, under a new token
    ));
    let other = manager.open([token.as_str()], None).unwrap();
    other.preload(&[]).await.unwrap();
    assert!(other.is_new(), "the old token finds nothing");
    let request = manager.load(token.as_str()).await.unwrap();
    assert!(request.is_none());
    assert_eq!(store.get_all(&token.id(), None).await.unwrap(), None);
}

/// A request holding the pre-login token while another logs in: its increment is refused
/// (`RotatedOut`), the old id holds nothing, and the logged-in session keeps its count.
async fn incr_through_a_rotated_out_token_is_refused(backend: Backend) {
    let (manager, store) = manager_and_store(backend, Config::default()).await;
    let session = manager.create().unwrap();
    session.set("visits", &5).unwrap();
    session.save().await.unwrap();
    let before = session.token();
    let racing = manager.open([before.as_str()], None).unwrap();
    racing.preload(&[]).await.unwrap();
    let after = session.login("alice", json!({})).await.unwrap();

    assert!(matches!(
        racing.incr("visits", 1).await,
        Err(SessionError::RotatedOut)
    ));
    assert!(matches!(
        racing.compare_and_set("visits", Some(&5), &6).await,
        Err(SessionError::RotatedOut)
    ));
    assert_eq!(store.get_all(&before.id(), None).await.unwrap(), None);
    let current = manager.open([after.as_str()], None).unwrap();
    assert_eq!(current.get::<i64>("visits").await.unwrap(), Some(5));
    assert_eq!(current.subject().await.unwrap().as_deref(), Some("alice"));
    assert_eq!(current.incr("visits", 1).await.unwrap(), 6);
}

async fn one_of_concurrent_compare_and_sets_wins(backend: Backend) {
    let (manager, _) = manager(backend, Config::default()).await;
    let session = manager.create().unwrap();
    session.set("seen", &true).unwrap();
    session.save().await.unwrap();
    let token = session.token();
    for round in 0..4i64 {
        let expected = (round > 0).then_some(round - 1);
        let mut tasks = Vec::new();
        for contender in 0..8i64 {
            let manager = manager.clone();
            let token = token.clone();
            tasks.push(tokio::spawn(async move {
                let request = manager.open([token.as_str()], None).unwrap();
                let new = if contender == 0 {
                    round
                } else {
                    100 + contender
                };
                let won = request
                    .compare_and_set("slot", expected.as_ref(), &new)
                    .await
                    .unwrap();
                (won, new)
            }));
        }
        let mut winners = Vec::new();
        for task in tasks {
            let (won, new) = task.await.unwrap();
            if won {
                winners.push(new);
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: {winners:?}");
        let check = manager.open([token.as_str()], None).unwrap();
        let now: i64 = check.get("slot").await.unwrap().unwrap();
        assert_eq!(now, winners[0]);
        // The next round expects `round`: make it so, whoever won.
        assert!(
            check
                .compare_and_set("slot", Some(&now), &round)
                .await
                .unwrap()
        );
    }
}

async fn a_lost_compare_and_set_reads_the_winner(backend: Backend) {
    let (manager, _) = manager(backend, Config::default()).await;
    let session = manager.create().unwrap();
    session.set("slot", &1).unwrap();
    session.save().await.unwrap();
    let a = manager.open([session.token().as_str()], None).unwrap();
    let b = manager.open([session.token().as_str()], None).unwrap();
    assert_eq!(a.get::<i64>("slot").await.unwrap(), Some(1));
    assert_eq!(b.get::<i64>("slot").await.unwrap(), Some(1));
    assert!(a.compare_and_set("slot", Some(&1), &2).await.unwrap());
    assert_eq!(a.get::<i64>("slot").await.unwrap(), Some(2));
    assert!(!b.compare_and_set("slot", Some(&1), &3).await.unwrap());
    assert_eq!(b.get::<i64>("slot").await.unwrap(), Some(2));
    let too_big = "x".repeat(session_core::DEFAULT_MAX_VALUE_BYTES + 1);
    assert!(matches!(
        b.compare_and_set("slot", Some(&2), &too_big).await,
        Err(SessionError::Store(StoreError::TooLarge { .. }))
    ));
}

on_every_backend!(
    increments_of_concurrent_requests_are_all_counted,
    incr_reads_back_and_stores_a_new_session,
    incr_refuses_what_it_cannot_add,
    incr_after_a_logout_revives_nothing,
    incr_through_a_rotated_out_token_is_refused,
    one_of_concurrent_compare_and_sets_wins,
    a_lost_compare_and_set_reads_the_winner,
);

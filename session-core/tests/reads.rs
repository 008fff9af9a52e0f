//! Reading per key through the handle's cache, and opening a request's handle from its tokens,
//! over real stores; what reaches the store is checked call by call.

mod support;

use std::time::Duration;

use serde_json::json;
use session_core::{Config, SessionError};
use support::{Backend, manager, manager_and_store};

const META: &str = "__sys:meta";

async fn a_request_reads_only_what_it_asks(backend: Backend) {
    let (manager, counts) = manager(backend, Config::default()).await;
    let session = manager.create().unwrap();
    for (k, v) in [("a", 1), ("b", 2), ("c", 3)] {
        session.set(k, &v).unwrap();
    }
    session.save().await.unwrap();
    counts.take_calls();

    let request = manager.open([session.token().as_str()], None).unwrap();
    assert!(request.is_unread());
    assert!(counts.take_calls().is_empty(), "opening reads nothing");

    assert_eq!(request.get::<u32>("a").await.unwrap(), Some(1));
    assert_eq!(
        counts.take_calls(),
        [format!("get_many[{META},a]")],
        "the first read brings the metadata with the key, in one call"
    );
    assert!(!request.is_unread() && !request.is_new());
    assert_eq!(request.opened_with(), Some(0));

    assert_eq!(request.get::<u32>("a").await.unwrap(), Some(1));
    assert_eq!(request.get::<u32>("nope").await.unwrap(), None);
    assert_eq!(request.get::<u32>("nope").await.unwrap(), None);
    assert_eq!(
        counts.take_calls(),
        ["get_many[nope]"],
        "a key read once (present or absent) is served by the handle"
    );

    request.set("d", &4).unwrap();
    request.remove("b").unwrap();
    assert_eq!(request.get::<u32>("d").await.unwrap(), Some(4));
    assert_eq!(request.get::<u32>("b").await.unwrap(), None);
    assert!(counts.take_calls().is_empty(), "pending writes read back");

    request.preload(&["c", "e", "d"]).await.unwrap();
    assert_eq!(
        counts.take_calls(),
        ["get_many[c,e]"],
        "a batch of what is missing"
    );

    let all = request.get_all().await.unwrap();
    assert_eq!(
        all,
        json!({"a": 1, "c": 3, "d": 4}).as_object().unwrap().clone()
    );
    assert_eq!(counts.take_calls(), ["get_all"]);
    request.get_all().await.unwrap();
    assert_eq!(request.get::<u32>("zzz").await.unwrap(), None);
    assert!(
        counts.take_calls().is_empty(),
        "after get_all, the handle knows every key"
    );

    assert!(request.save().await.unwrap());
    assert_eq!(counts.take_calls(), ["update"]);
    let again = manager.open([session.token().as_str()], None).unwrap();
    assert_eq!(
        again.get_all().await.unwrap(),
        json!({"a": 1, "c": 3, "d": 4}).as_object().unwrap().clone()
    );
}

async fn an_untouched_handle_costs_nothing(backend: Backend) {
    let (manager, counts) = manager(backend, Config::default()).await;
    let session = manager.create().unwrap();
    session.set("a", &1).unwrap();
    session.save().await.unwrap();
    counts.take_calls();
    let request = manager.open([session.token().as_str()], None).unwrap();
    assert!(!request.save().await.unwrap());
    assert!(request.is_unread());
    assert!(counts.take_calls().is_empty());
    // A handle with no well-formed token is simply new: nothing to read, ever.
    let request = manager.open(["garbage", ""], None).unwrap();
    assert!(request.is_new() && !request.is_unread());
    assert_eq!(request.get::<u32>("a").await.unwrap(), None);
    assert!(counts.take_calls().is_empty());
}

async fn a_blind_write_goes_to_the_session_the_request_has(backend: Backend) {
    let (manager, _) = manager(backend, Config::default()).await;
    let session = manager.create().unwrap();
    session.set("a", &1).unwrap();
    session.save().await.unwrap();
    let request = manager.open([session.token().as_str()], None).unwrap();
    request.set("b", &2).unwrap();
    assert!(request.save().await.unwrap());
    assert_eq!(request.token(), session.token(), "same session, same token");
    let check = manager.open([session.token().as_str()], None).unwrap();
    assert_eq!(
        check.get_all().await.unwrap(),
        json!({"a": 1, "b": 2}).as_object().unwrap().clone()
    );
}

async fn open_tries_the_tokens_in_order(backend: Backend) {
    let (manager, _) = manager(
        backend,
        Config::builder()
            .rotation_grace(Duration::from_secs(30))
            .build()
            .unwrap(),
    )
    .await;
    let real = manager.create().unwrap();
    real.set("who", "real").unwrap();
    real.save().await.unwrap();
    let unknown = manager.create().unwrap().token(); // well-formed, never stored
    let old = manager.create().unwrap();
    old.set("who", "old").unwrap();
    old.save().await.unwrap();
    let old_token = old.token();
    old.rotate().await.unwrap(); // `old_token` is now a read-only copy for the grace

    let request = manager
        .open(
            [
                "garbage",
                unknown.as_str(),
                old_token.as_str(),
                real.token().as_str(),
            ],
            None,
        )
        .unwrap();
    assert_eq!(
        request.get::<String>("who").await.unwrap().as_deref(),
        Some("real")
    );
    assert_eq!(
        request.opened_with(),
        Some(3),
        "a rotated-out token in front does not shadow the real one"
    );
    assert!(!request.is_rotated_out());

    let request = manager.open([old_token.as_str()], None).unwrap();
    assert_eq!(
        request.get::<String>("who").await.unwrap().as_deref(),
        Some("old")
    );
    assert!(
        request.is_rotated_out(),
        "alone, the rotated-out token reads, read-only"
    );
    assert!(matches!(
        request.set("x", &1),
        Err(SessionError::RotatedOut)
    ));

    let request = manager.open([unknown.as_str()], None).unwrap();
    assert_eq!(request.get::<String>("who").await.unwrap(), None);
    assert!(request.is_new());
    assert_ne!(
        request.token(),
        unknown,
        "a presented token is never adopted"
    );
    assert_eq!(request.opened_with(), None);
}

async fn changes_made_before_the_first_read_survive_it(backend: Backend) {
    let (manager, _) = manager(backend, Config::default()).await;
    let session = manager.create().unwrap();
    session.set("a", &1).unwrap();
    session.set("b", &2).unwrap();
    session.save().await.unwrap();
    let request = manager.open([session.token().as_str()], None).unwrap();
    request.set("a", &10).unwrap();
    request.remove("b").unwrap();
    assert_eq!(request.get::<u32>("a").await.unwrap(), Some(10));
    assert_eq!(request.get::<u32>("b").await.unwrap(), None);
    request.save().await.unwrap();
    let check = manager
        .load(session.token().as_str())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        check.get_all().await.unwrap(),
        json!({"a": 10}).as_object().unwrap().clone()
    );
}

/// Only sessions the manager wrote (with its metadata) load: a record some other writer left
/// under a token's id, such as a key an `incr` re-created after the session ended, is no session.
async fn a_record_without_metadata_is_no_session(backend: Backend) {
    let (manager, store) = manager_and_store(backend, Config::default()).await;
    let token = manager.create().unwrap().token();
    store
        .set(
            &token.id(),
            "cart",
            json!(["planted"]),
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    assert!(manager.load(token.as_str()).await.unwrap().is_none());
    let request = manager.open([token.as_str()], None).unwrap();
    assert_eq!(request.get::<Vec<String>>("cart").await.unwrap(), None);
    assert!(request.is_new());
    assert_ne!(request.id(), token.id());
}

async fn reads_of_a_session_ended_meanwhile_find_nothing(backend: Backend) {
    let (manager, _) = manager(backend, Config::default()).await;
    let session = manager.create().unwrap();
    session.set("a", &1).unwrap();
    session.set("b", &2).unwrap();
    session.save().await.unwrap();
    let request = manager.open([session.token().as_str()], None).unwrap();
    assert_eq!(request.get::<u32>("a").await.unwrap(), Some(1));
    session.destroy(false).await.unwrap();
    assert_eq!(request.get::<u32>("b").await.unwrap(), None);
    request.set("c", &3).unwrap();
    assert!(matches!(request.save().await, Err(SessionError::Destroyed)));
    assert!(
        manager
            .load(session.token().as_str())
            .await
            .unwrap()
            .is_none()
    );
}

on_every_backend!(
    a_request_reads_only_what_it_asks,
    an_untouched_handle_costs_nothing,
    a_blind_write_goes_to_the_session_the_request_has,
    open_tries_the_tokens_in_order,
    changes_made_before_the_first_read_survive_it,
    a_record_without_metadata_is_no_session,
    reads_of_a_session_ended_meanwhile_find_nothing,
);

//! `Enumerate` on Redis beyond the conformance case: a walk of several `SCAN` steps, and
//! prefixes holding glob characters, or starting another prefix, never see each other's
//! sessions (nor a subject index's key).

mod common;

use std::collections::HashSet;
use std::time::Duration;

use futures::future::try_join_all;
use serde_json::json;
use session_core::{Enumerate, SessionId, Store, SubjectIndex, Token};
use session_store_redis::RedisStore;
use session_test_support::redis_url;

async fn store(prefix: &str) -> RedisStore {
    RedisStore::builder(redis_url())
        .prefix(prefix)
        .connect()
        .await
        .expect("connect")
}

async fn fill(store: &RedisStore, n: usize) -> HashSet<SessionId> {
    let ids: Vec<SessionId> = (0..n).map(|_| Token::generate().unwrap().id()).collect();
    try_join_all(
        ids.iter()
            .map(|id| store.set(id, "k", json!(1), Duration::from_secs(600))),
    )
    .await
    .unwrap();
    ids.into_iter().collect()
}

async fn listed(store: &RedisStore) -> HashSet<SessionId> {
    store.ids().await.unwrap().into_iter().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_walk_of_several_scan_steps_lists_every_session_once() {
    let store = store(&common::unique_prefix("enumerate-many")).await;
    let ids = fill(&store, 2_500).await;
    let listed = store.ids().await.unwrap();
    assert_eq!(listed.len(), ids.len(), "each session listed once");
    assert_eq!(listed.into_iter().collect::<HashSet<_>>(), ids);
    assert_eq!(store.count().await.unwrap(), 2_500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefixes_with_glob_characters_or_a_common_start_stay_apart() {
    let base = common::unique_prefix("enumerate-glob");
    let globby = store(&format!("{base}a*b?[c]\\:")).await;
    // Matched by `a*b?[c]\:` taken as a glob pattern.
    let lookalike = store(&format!("{base}aXXbYc:")).await;
    let longer = store(&format!("{base}a*b?[c]\\:more:")).await;
    let mine = fill(&globby, 3).await;
    let theirs = fill(&lookalike, 2).await;
    let nested = fill(&longer, 2).await;
    globby
        .bind_subject(mine.iter().next().unwrap(), "ada")
        .await
        .unwrap();

    assert_eq!(listed(&globby).await, mine, "only the store's own sessions");
    assert_eq!(globby.count().await.unwrap(), 3);
    assert_eq!(listed(&lookalike).await, theirs);
    assert_eq!(listed(&longer).await, nested);
}

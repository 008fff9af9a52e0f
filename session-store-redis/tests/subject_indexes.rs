//! Subject indexes of users who never return: before, each subject's sorted set stayed in Redis
//! forever once its sessions expired; now a later bind removes it, while an index whose session
//! extended itself past its first expiry stays and a revocation still finds that session. On
//! standalone Redis and on the cluster.

mod common;

use std::time::Duration;

use serde_json::json;
use session_core::{SessionId, Store, SubjectIndex, Token};
use session_store_redis::RedisStore;
use session_store_redis::redis::{self, aio::ConnectionLike};
use session_test_support::{redis_cluster_urls, redis_url};

const SHORT: Duration = Duration::from_millis(800);
const LONG: Duration = Duration::from_secs(3600);

fn fresh() -> SessionId {
    Token::generate().unwrap().id()
}

async fn bound(store: &RedisStore, subject: &str, ttl: Duration) -> SessionId {
    let id = fresh();
    store.set(&id, "k", json!(1), ttl).await.unwrap();
    assert!(store.bind_subject(&id, subject).await.unwrap());
    id
}

async fn sweeps_indexes_of_subjects_who_never_return(
    store: RedisStore,
    mut raw: impl ConnectionLike + Send,
    prefix: &str,
) {
    for _ in 0..3 {
        bound(&store, "ghost", SHORT).await;
    }
    let kept = bound(&store, "stays", SHORT).await;
    assert!(store.extend(&kept, LONG).await.unwrap());
    let index = |subject: &str| format!("{prefix}subject:{{{subject}}}");
    let exists = |key: String| redis::cmd("EXISTS").arg(key).to_owned();
    let before: i64 = exists(index("ghost")).query_async(&mut raw).await.unwrap();
    assert_eq!(before, 1, "the index was never written");

    tokio::time::sleep(SHORT + Duration::from_millis(700)).await;
    bound(&store, "newcomer", LONG).await;

    let ghost: i64 = exists(index("ghost")).query_async(&mut raw).await.unwrap();
    assert_eq!(
        ghost, 0,
        "the index of a subject whose sessions all expired is still there"
    );
    let registered: Option<f64> = redis::cmd("ZSCORE")
        .arg(format!("{prefix}subjects"))
        .arg("ghost")
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(registered, None, "the subject is still in the registry");
    let stays: i64 = exists(index("stays")).query_async(&mut raw).await.unwrap();
    assert_eq!(
        stays, 1,
        "the index of a live (extended) session was removed"
    );
    assert_eq!(store.subject_sessions("stays").await.unwrap(), vec![kept]);
    assert_eq!(store.revoke_subject("stays").await.unwrap(), 1);
    assert_eq!(store.get(&kept, "k", None).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standalone() {
    let prefix = common::unique_prefix("sweep");
    let store = RedisStore::builder(redis_url())
        .prefix(&prefix)
        .connect()
        .await
        .unwrap();
    let raw = redis::Client::open(redis_url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    sweeps_indexes_of_subjects_who_never_return(store, raw, &prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster() {
    let prefix = common::unique_prefix("sweep-cluster");
    let urls = redis_cluster_urls();
    let store = RedisStore::cluster_builder(urls.iter().cloned())
        .prefix(&prefix)
        .connect()
        .await
        .unwrap();
    let raw = redis::cluster::ClusterClient::new(urls.to_vec())
        .unwrap()
        .get_async_connection()
        .await
        .unwrap();
    sweeps_indexes_of_subjects_who_never_return(store, raw, &prefix).await;
}

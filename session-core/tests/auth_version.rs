//! The per-subject auth version: one bump ends every session of the user on every instance
//! (two managers over one store: memory and a SQLite file opened twice; and two Redis instances
//! with their own client-side caches), at each session's next load, and only theirs.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use session_core::{Config, SessionError, SessionManager};
use session_store_redis::RedisStore;
use support::{Backend, over, two_managers};

fn checked() -> Config {
    Config::builder()
        .auth_version(true)
        .rotation_grace(Duration::ZERO)
        .build()
        .unwrap()
}

/// A session of `subject` logged in through `manager`; its token.
async fn logged_in(manager: &SessionManager, subject: &str) -> String {
    let session = manager.create().unwrap();
    session.set("cart", &["tea"]).unwrap();
    session.save().await.unwrap();
    session.login(subject, serde_json::json!({})).await.unwrap();
    session.token().as_str().to_owned()
}

async fn loads(manager: &SessionManager, token: &str) -> bool {
    manager.load(token).await.unwrap().is_some()
}

async fn a_bump_ends_the_users_sessions_on_every_instance(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = two_managers(backend, checked(), dir.path()).await;
    let on_a = logged_in(&a, "alice").await;
    let on_b = logged_in(&b, "alice").await;
    let bob = logged_in(&b, "bob").await;
    // set_user binds too.
    let bound = a.create().unwrap();
    bound
        .set_user("alice", serde_json::json!({}))
        .await
        .unwrap();
    let bound = bound.token().as_str().to_owned();
    for token in [&on_a, &on_b, &bob, &bound] {
        assert!(loads(&b, token).await, "{backend:?}: live before the bump");
    }
    assert_eq!(a.sessions_of("alice").await.unwrap().len(), 3);

    assert_eq!(a.bump_auth_version("alice").await.unwrap(), 1);
    assert_eq!(
        b.sessions_of("alice").await.unwrap().len(),
        0,
        "{backend:?}: listed after the bump"
    );
    for token in [&on_a, &on_b, &bound] {
        assert!(
            !loads(&b, token).await,
            "{backend:?}: alice's session outlived the bump"
        );
        assert!(!loads(&a, token).await, "{backend:?}");
    }
    assert!(
        loads(&a, &bob).await,
        "{backend:?}: bob's session ended too"
    );

    // A login after the bump is bound with the new version and stays.
    let again = logged_in(&b, "alice").await;
    assert!(loads(&a, &again).await, "{backend:?}");
    assert_eq!(a.bump_auth_version("alice").await.unwrap(), 2);
    assert!(!loads(&a, &again).await, "{backend:?}");
}
on_every_backend!(a_bump_ends_the_users_sessions_on_every_instance);

#[tokio::test]
async fn sessions_bound_before_the_check_count_as_version_zero() {
    let store = Arc::new(session_store_memory::MemoryStore::new());
    let before = over(store.clone(), Config::default());
    let token = logged_in(&before, "alice").await;
    let checking = over(store, checked());
    assert!(loads(&checking, &token).await, "valid until the first bump");
    checking.bump_auth_version("alice").await.unwrap();
    assert!(!loads(&checking, &token).await);
    // Without the check, a bump is refused rather than ending nothing in silence.
    assert!(matches!(
        before.bump_auth_version("alice").await,
        Err(SessionError::Unsupported(_))
    ));
    assert!(
        checking.bump_auth_version("").await.is_err(),
        "an invalid subject"
    );
}

/// Two app instances, each with its own client-side cache: the bump through one is seen by the
/// other within the cache's staleness bound (here 100 ms), with the version record cached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_redis_cache_a_bump_is_seen_within_the_bound() {
    let url = session_test_support::redis_url();
    let prefix = format!("test:{}:auth-version:", std::process::id());
    let instance = || async {
        RedisStore::builder(url)
            .prefix(&prefix)
            .client_cache(1_000)
            .connect()
            .await
            .unwrap_or_else(|e| panic!("Redis at {url}: {e}"))
    };
    let (a, b) = (
        over(Arc::new(instance().await), checked()),
        over(Arc::new(instance().await), checked()),
    );
    let token = logged_in(&a, "carol").await;
    for _ in 0..3 {
        assert!(loads(&b, &token).await); // the version record is cached on b now
    }
    a.bump_auth_version("carol").await.unwrap();
    let bumped = Instant::now();
    while loads(&b, &token).await {
        assert!(
            bumped.elapsed() < Duration::from_millis(100),
            "b still loads the session {:?} after the bump",
            bumped.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

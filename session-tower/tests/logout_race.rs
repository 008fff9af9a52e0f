//! Logout racing a long request, 1,000 times: a session destroyed while a request on it is in
//! flight is never written back by that request's flush.

mod support;

use std::sync::Arc;
use std::time::Duration;

use session_core::{SessionManager, Store, Token};
use session_tower::SessionLayer;
use support::{app, bare, first_visit, get_with, post_with, serve, set_cookies};

async fn race<S: Store>(store: Arc<S>, rounds: usize) {
    let manager = SessionManager::builder_from_arc(store.clone())
        .build()
        .unwrap();
    let base = serve(app(SessionLayer::new(manager).cookie(support::dev_cookie()))).await;
    let client = bare();
    let mut interleaved = 0;
    for round in 0..rounds {
        let token = first_visit(&base).await;
        let cookie = format!("session={token}");
        let slow = {
            let (client, url, cookie) = (client.clone(), format!("{base}/slow"), cookie.clone());
            tokio::spawn(async move {
                client
                    .get(url)
                    .header("cookie", cookie)
                    .send()
                    .await
                    .unwrap()
            })
        };
        // Land the logout inside the slow request's wait, most of the time.
        tokio::time::sleep(Duration::from_micros((round % 3) as u64 * 700)).await;
        let logout = post_with(&base, "/logout", &token).await;
        assert_eq!(logout.status(), 200);
        let slow = slow.await.unwrap();
        if set_cookies(&slow).iter().any(|c| c.contains("Max-Age=0")) {
            interleaved += 1; // the slow request found its session gone at flush time
        }
        let id = Token::parse(&token).unwrap().id();
        assert_eq!(
            store.get_all(&id, None).await.unwrap(),
            None,
            "round {round}: the flush brought the session back"
        );
        let after = get_with(&base, "/whoami", &token).await;
        assert_eq!(after.text().await.unwrap(), "nobody", "round {round}");
    }
    println!("{rounds} rounds, {interleaved} with the logout inside the request");
    assert!(
        interleaved > rounds / 4,
        "the race was rarely exercised: {interleaved} of {rounds}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_during_a_request_is_final_memory() {
    race(Arc::new(session_store_memory::MemoryStore::new()), 1000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_during_a_request_is_final_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = session_store_sqlite::SqliteStore::open(dir.path().join("race.db"))
        .await
        .unwrap();
    race(Arc::new(store), 1000).await;
}

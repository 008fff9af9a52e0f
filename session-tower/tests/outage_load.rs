//! An outage under load: 250 requests/s of logged-in traffic through the HTTP layer while the
//! store's server is killed for 5 s and restarted, once for Redis and once for PostgreSQL. Every
//! request gets its normal answer or a 503 within the operation timeout plus 50 ms; none hangs,
//! none is served as anyone but its user; at least 99% succeed from 5 s after the restart.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use session_core::{SessionManager, Store};
use session_tower::SessionLayer;
use support::{app, bare, cookie_value, serve, set_cookies};

const RATE: u64 = 250;
const BEFORE: Duration = Duration::from_secs(2);
const OUTAGE: Duration = Duration::from_secs(5);
const AFTER: Duration = Duration::from_secs(8);
const OPERATION_TIMEOUT: Duration = Duration::from_millis(500);
const SLACK: Duration = Duration::from_millis(50);

#[derive(Debug)]
struct Outcome {
    sent: Duration,
    took: Duration,
    status: u16,
    body: String,
}

/// Drives the load, kills and restarts the server, and checks every outcome.
async fn outage<S: Store>(
    label: &str,
    store: Arc<S>,
    kill: impl FnOnce() + Send + 'static,
    resume: impl FnOnce() + Send + 'static,
) {
    let manager = SessionManager::builder_from_arc(store).build().unwrap();
    let base = serve(app(SessionLayer::new(manager).cookie(support::dev_cookie()))).await;
    let client = bare();
    let login = client.post(format!("{base}/login")).send().await.unwrap();
    let cookie = format!(
        "session={}",
        cookie_value(&set_cookies(&login)[0], "session").unwrap()
    );

    let start = Instant::now();
    let total = BEFORE + OUTAGE + AFTER;
    let mut ticks = tokio::time::interval(Duration::from_micros(1_000_000 / RATE));
    let mut requests = Vec::new();
    let controller = tokio::task::spawn_blocking(move || {
        std::thread::sleep(BEFORE);
        kill();
        let killed = start.elapsed();
        std::thread::sleep(OUTAGE);
        resume();
        (killed, start.elapsed())
    });
    while start.elapsed() < total {
        ticks.tick().await;
        let (client, url, cookie) = (client.clone(), format!("{base}/whoami"), cookie.clone());
        requests.push(tokio::spawn(async move {
            let sent = start.elapsed();
            let begun = Instant::now();
            let response = tokio::time::timeout(
                Duration::from_secs(5),
                client.get(url).header("cookie", cookie).send(),
            )
            .await;
            let (status, body) = match response {
                Err(_) => (0, "hung".to_owned()),
                Ok(Err(e)) => (1, e.to_string()),
                Ok(Ok(r)) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
            };
            Outcome {
                sent,
                took: begun.elapsed(),
                status,
                body,
            }
        }));
    }
    let (killed, resumed) = controller.await.unwrap();
    let mut outcomes = Vec::new();
    for request in requests {
        outcomes.push(request.await.unwrap());
    }

    let ok = |o: &Outcome| o.status == 200 && o.body == "alice";
    let unavailable = |o: &Outcome| o.status == 503;
    let wrong: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| !ok(o) && !unavailable(o))
        .collect();
    let slowest = outcomes.iter().map(|o| o.took).max().unwrap_or_default();
    let late: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.took > OPERATION_TIMEOUT + SLACK)
        .collect();
    let recovered_after = outcomes
        .iter()
        .filter(|o| o.sent > resumed && ok(o))
        .map(|o| o.sent - resumed)
        .min()
        .unwrap_or_default();
    let settled: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.sent >= resumed + Duration::from_secs(5))
        .collect();
    let settled_ok = settled.iter().filter(|o| ok(o)).count();
    println!(
        "{label}: {} requests in {:?} ({:.0}/s); {} ok, {} 503, {} wrong; slowest {:?}, {} over {:?}; \
         killed at {:?}, back at {:?}, first success {:?} after; from 5 s after: {}/{} ok",
        outcomes.len(),
        total,
        outcomes.len() as f64 / total.as_secs_f64(),
        outcomes.iter().filter(|o| ok(o)).count(),
        outcomes.iter().filter(|o| unavailable(o)).count(),
        wrong.len(),
        slowest,
        late.len(),
        OPERATION_TIMEOUT + SLACK,
        killed,
        resumed,
        recovered_after,
        settled_ok,
        settled.len(),
    );
    assert!(
        outcomes.len() as f64 >= 200.0 * total.as_secs_f64() * 0.95,
        "the load fell below 200/s"
    );
    assert!(
        wrong.is_empty(),
        "requests answered neither normally nor 503 (hung, or served without their user): {:?}",
        &wrong[..wrong.len().min(5)]
    );
    assert!(
        late.is_empty(),
        "{} requests took over {:?}, e.g. {:?}",
        late.len(),
        OPERATION_TIMEOUT + SLACK,
        &late[..late.len().min(3)]
    );
    assert!(
        outcomes.iter().any(unavailable),
        "the outage was never seen: the test did not test it"
    );
    assert!(
        settled_ok * 100 >= settled.len() * 99,
        "only {settled_ok} of {} succeeded from 5 s after the restart",
        settled.len()
    );
}

/// One test for both backends, so the two loads never compete for the machine's two cores.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_for_five_seconds_under_load() {
    redis_killed_for_five_seconds_under_load().await;
    postgres_killed_for_five_seconds_under_load().await;
}

async fn redis_killed_for_five_seconds_under_load() {
    // Persistence on, so the sessions are there again after the restart.
    let server = session_test_support::RedisServer::start_with_args(&[
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
    ]);
    let store = session_store_redis::RedisStore::builder(server.url())
        .operation_timeout(OPERATION_TIMEOUT)
        .connect_timeout(OPERATION_TIMEOUT)
        .connect()
        .await
        .unwrap();
    let server = Arc::new(std::sync::Mutex::new(server));
    let (a, b) = (server.clone(), server.clone());
    outage(
        "redis",
        Arc::new(store),
        move || a.lock().unwrap().kill(),
        move || b.lock().unwrap().resume(),
    )
    .await;
}

async fn postgres_killed_for_five_seconds_under_load() {
    let cluster = Arc::new(session_test_support::PgCluster::start());
    let store = session_store_postgres::PostgresStore::builder()
        .acquire_timeout(Duration::from_millis(300))
        .operation_timeout(OPERATION_TIMEOUT)
        .connect(&cluster.url())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let (a, b) = (cluster.clone(), cluster.clone());
    outage(
        "postgres",
        Arc::new(store),
        move || a.kill(),
        move || b.resume(),
    )
    .await;
}

//! Rotation and renewal under the concurrency of one busy browser, on every backend, across two
//! managers on two store instances (for memory, two managers on one store).
//!
//! Each round makes a session due for renewal, then fires a burst of concurrent requests of
//! that one browser (random loads, reads, writes, `incr`, and in some rounds a login or a
//! logout among them), each presenting the cookie the browser held when it started, through
//! either manager. Invariants, checked after every round:
//!
//! - no request fails with a store error (what the HTTP layer answers with a 5xx);
//! - no request of a live session finds no session (a logout), and no read finds the key every
//!   session of the round holds missing;
//! - every token handed out loads, and all of them lead to one writable session (no fork);
//! - every acknowledged write is in that session, and the counter holds every acknowledged
//!   increment (and at most those whose result was reported unknown on top);
//! - after a login, the pre-login token writes nothing; after a logout, no token loads.
//!
//! `scripts/test` runs a short form with a fixed seed; a long run:
//! `ROTATION_RACE_ROUNDS=300 ROTATION_RACE_SEED=<n> cargo test -p session-stores --all-features
//! --test rotation_race --release`. A failure names the backend, the seed and the round.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::json;
use session_stores::{Config, ConnectedStore, SessionError, SessionManager, connect};
use session_test_support::{Rng, env_number};

const BURST: usize = 16;
const RENEW_AFTER: Duration = Duration::from_millis(150);
const GRACE: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Read,
    Write(usize),
    Incr,
    Login,
    Logout,
}

/// What one request of the burst saw.
#[derive(Debug)]
struct Outcome {
    op: Op,
    /// The token the response hands the browser (the layer's new cookie when it changed).
    token: String,
    found: bool,
    read: Option<Option<String>>,
    result: Result<(), String>,
    acked: bool,
    unknown: bool,
    store_error: bool,
}

async fn request(manager: SessionManager, cookie: String, op: Op) -> Outcome {
    let session = manager.open([cookie.as_str()], None).unwrap();
    let mut outcome = Outcome {
        op,
        token: cookie.clone(),
        found: true,
        read: None,
        result: Ok(()),
        acked: false,
        unknown: false,
        store_error: false,
    };
    let result: Result<(), SessionError> = async {
        match op {
            Op::Read => {
                outcome.read = Some(session.get::<String>("k").await?);
            }
            Op::Write(i) => {
                outcome.read = Some(session.get::<String>("k").await?);
                session.set(&format!("w{i}"), &i)?;
                session.save().await?;
                outcome.acked = true;
            }
            Op::Incr => {
                outcome.read = Some(session.get::<String>("k").await?);
                match session.incr("n", 1).await {
                    Ok(_) => outcome.acked = true,
                    Err(SessionError::RotatedOut) => outcome.unknown = true,
                    Err(error) => return Err(error),
                }
            }
            Op::Login => {
                session.preload(&[]).await?;
                session.login("racer", json!({"name": "Racer"})).await?;
            }
            Op::Logout => session.destroy(false).await?,
        }
        Ok(())
    }
    .await;
    // Found a session (rather than starting a new one, as a request after a logout does).
    outcome.found = session.opened_with().is_some();
    if let Err(error) = result {
        outcome.store_error = matches!(error, SessionError::Store(_));
        outcome.result = Err(format!("{error:?}"));
    }
    if !session.is_destroyed() && !session.is_new() {
        outcome.token = session.token().as_str().to_owned();
    }
    outcome
}

/// One round; returns what went wrong, if anything.
/// One round over `managers`; the checks after it read through `observer`, a manager on the same
/// backend that never renews (the round's managers would renew the session again while the
/// checks load it, and the ids seen would change under them).
async fn round(
    managers: &[SessionManager; 2],
    observer: &SessionManager,
    rng: &mut Rng,
) -> Result<(), String> {
    let start = managers[0].create().unwrap();
    start.set("k", "v").unwrap();
    start.save().await.unwrap();
    let original = start.token().as_str().to_owned();
    tokio::time::sleep(RENEW_AFTER + Duration::from_millis(20)).await;

    let special = rng.below(4); // 0: a login, 1: a logout, else neither
    let mut ops: Vec<Op> = (0..BURST)
        .map(|i| match rng.below(3) {
            0 => Op::Read,
            1 => Op::Write(i),
            _ => Op::Incr,
        })
        .collect();
    let at = rng.below(BURST);
    match special {
        0 => ops[at] = Op::Login,
        1 => ops[at] = Op::Logout,
        _ => {}
    }
    let tasks: Vec<_> = ops
        .iter()
        .map(|op| {
            let manager = managers[rng.below(2)].clone();
            tokio::spawn(request(manager, original.clone(), *op))
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.map_err(|e| format!("a request panicked: {e}"))?);
    }
    let logout = special == 1;
    let login = special == 0;
    let report = |what: &str| {
        format!("{what}; original token {original}; ops {ops:?}; outcomes {outcomes:#?}")
    };

    if outcomes.iter().any(|o| o.store_error) {
        return Err(report("a store error (a 5xx)"));
    }
    if logout {
        // Every request before the logout was served; after it, nothing loads.
        for o in &outcomes {
            if o.op != Op::Logout
                && o.result.is_err()
                && !o.result.as_ref().unwrap_err().contains("Destroyed")
                && !o.unknown
            {
                return Err(report(
                    "a request racing a logout failed otherwise than as logged out",
                ));
            }
        }
        let served = outcomes.iter().filter(|o| o.found).map(|o| &o.token);
        for token in served.chain([&original]) {
            if let Some(loaded) = observer.load(token).await.map_err(|e| e.to_string())? {
                return Err(report(&format!(
                    "a token loads after the logout (original: {}, rotated out: {}, data: {:?})",
                    token == &original,
                    loaded.is_rotated_out(),
                    loaded.get_all().await
                )));
            }
        }
        return Ok(());
    }
    for o in &outcomes {
        if !o.found {
            return Err(report(
                "a request of a live session found none (logged out)",
            ));
        }
        if o.read == Some(None) {
            return Err(report("a read saw an existing key as missing"));
        }
        if let Err(error) = &o.result {
            // Only a write through the pre-login token may be refused.
            if !(login && error.contains("RotatedOut")) {
                return Err(report("a request failed"));
            }
        }
    }
    // Every token handed out loads; all lead to one writable session.
    let mut writable = HashSet::new();
    let mut final_token = None;
    for token in outcomes
        .iter()
        .map(|o| o.token.clone())
        .chain([original.clone()])
    {
        let loaded = observer
            .load(&token)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| report("a token handed out loads nothing"))?;
        if !loaded.is_rotated_out() {
            writable.insert(loaded.id());
            final_token = Some(loaded.token());
        }
    }
    if writable.len() != 1 {
        return Err(report(&format!(
            "{} writable sessions (a fork)",
            writable.len()
        )));
    }
    let final_token = final_token.unwrap();
    let session = observer.load(final_token.as_str()).await.unwrap().unwrap();
    if session.get::<String>("k").await.unwrap().as_deref() != Some("v") {
        return Err(report("the key every request read is gone"));
    }
    for o in &outcomes {
        if let (Op::Write(i), true) = (o.op, o.acked)
            && session.get::<usize>(&format!("w{i}")).await.unwrap() != Some(i)
        {
            return Err(report(&format!("the acknowledged write w{i} is lost")));
        }
    }
    let acked = outcomes
        .iter()
        .filter(|o| o.op == Op::Incr && o.acked)
        .count() as i64;
    let unknown = outcomes.iter().filter(|o| o.unknown).count() as i64;
    let n = session.get::<i64>("n").await.unwrap().unwrap_or(0);
    if n < acked || n > acked + unknown {
        return Err(report(&format!(
            "the counter is {n}, with {acked} increments acknowledged and {unknown} unknown"
        )));
    }
    if login {
        if session.subject().await.unwrap().as_deref() != Some("racer") {
            return Err(report("the one writable session is not the logged-in one"));
        }
        // The pre-login token writes nothing.
        if let Some(old) = observer.load(&original).await.unwrap() {
            let written = match old.set("intruder", &1) {
                Ok(()) => old.save().await.map(|_| ()),
                Err(error) => Err(error),
            };
            if written.is_ok() {
                return Err(report("the pre-login token wrote"));
            }
        }
    } else if session.subject().await.unwrap().is_some() {
        return Err(report("a subject appeared without a login"));
    }
    Ok(())
}

fn config() -> Config {
    Config::builder()
        .renew_after(RENEW_AFTER)
        .rotation_grace(GRACE)
        .build()
        .unwrap()
}

/// Two managers, one on each store (the same store twice where there is one process's memory).
async fn run(stores: [&ConnectedStore; 2], backend: &str) {
    let managers = [
        stores[0].manager(config()).unwrap(),
        stores[1].manager(config()).unwrap(),
    ];
    let observer = stores[1]
        .manager(Config::builder().rotation_grace(GRACE).build().unwrap())
        .unwrap();
    let rounds = env_number("ROTATION_RACE_ROUNDS", 12);
    let seed = env_number("ROTATION_RACE_SEED", 29);
    for r in 0..rounds {
        let mut rng = Rng(seed.wrapping_mul(1_000_003).wrapping_add(r));
        if let Err(failure) = round(&managers, &observer, &mut rng).await {
            panic!("{backend}, seed {seed}, round {r}: {failure}");
        }
    }
}

/// Two instances of the store at `url`.
async fn twice(url: &str) -> [ConnectedStore; 2] {
    let connect_one = || async {
        connect(url)
            .await
            .unwrap_or_else(|e| panic!("connecting to {url}: {e}"))
    };
    [connect_one().await, connect_one().await]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory() {
    let store = connect("memory://").await.unwrap();
    run([&store, &store], "memory").await;
}

#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("race.db").display());
    let [a, b] = twice(&url).await;
    run([&a, &b], "sqlite").await;
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres() {
    let url = session_test_support::scratch_postgres_url("rotation_race").await;
    let [a, b] = twice(&url).await;
    run([&a, &b], "postgres").await;
}

#[cfg(feature = "mysql")]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mysql() {
    let url = session_test_support::scratch_mysql_url("rotation_race").await;
    let [a, b] = twice(&url).await;
    run([&a, &b], "mysql").await;
}

#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis() {
    let base = session_test_support::redis_url();
    let prefix = format!("test:{}:rotation-race:", std::process::id());
    let [a, b] = twice(&format!("{base}?prefix={prefix}")).await;
    run([&a, &b], "redis").await;
}

#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_cluster() {
    let nodes: Vec<String> = session_test_support::redis_cluster_urls()
        .iter()
        .map(|u| u.trim_start_matches("redis://").to_owned())
        .collect();
    let prefix = format!("test:{}:rotation-race-cluster:", std::process::id());
    let [a, b] = twice(&format!(
        "redis+cluster://{}?prefix={prefix}",
        nodes.join(",")
    ))
    .await;
    run([&a, &b], "redis cluster").await;
}

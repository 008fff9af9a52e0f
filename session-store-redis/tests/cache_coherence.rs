//! The client-side cache over two store instances on one Redis, as two app servers would be:
//! once a change through instance A is answered, instance B never serves the value before it
//! past the staleness bound ([`STALENESS`]); a logout, a rotation's `take` or a revocation is
//! never read back as live on B past it; counters lose nothing; and a tracking connection that
//! is cut (the data kept, or the server restarted empty) never lets B serve what it may have
//! missed invalidations for.
//!
//! Each instance has connections of its own (a main one and its tracking connection), so from
//! Redis' side they are two clients exactly as two processes would be.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use session_core::{SessionId, Store, StoreError, SubjectIndex};
use session_store_redis::{DEFAULT_CACHE_STALENESS, RedisStore, RedisStoreBuilder};
use session_test_support::{
    RedisCluster, RedisServer, redis_cli_output, redis_cluster_urls, redis_url, until_recovered,
};

const TTL: Duration = Duration::from_secs(600);
/// The bound the stores are built with (the default).
const STALENESS: Duration = DEFAULT_CACHE_STALENESS;

/// A store from `builder` with the settings every instance here runs with: the cache on, short
/// timeouts.
async fn cached_with(builder: RedisStoreBuilder, prefix: &str, place: &str) -> RedisStore {
    builder
        .prefix(prefix)
        .client_cache(1_000)
        .operation_timeout(Duration::from_millis(500))
        .connect_timeout(Duration::from_millis(500))
        .connect()
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {place}: {e}"))
}

async fn cached(url: &str, prefix: &str) -> RedisStore {
    let place = format!("Redis at {url}");
    cached_with(RedisStore::builder(url), prefix, &place).await
}

/// Where a two-instance test runs.
#[derive(Debug, Clone, Copy)]
enum On {
    Standalone,
    /// The 3-master cluster: each instance has a tracking connection to every master.
    Cluster,
}

async fn cached_on(on: On, prefix: &str) -> RedisStore {
    match on {
        On::Standalone => cached(redis_url(), prefix).await,
        On::Cluster => cached_cluster(redis_cluster_urls(), prefix).await,
    }
}

async fn cached_cluster(urls: &[String], prefix: &str) -> RedisStore {
    let place = format!("Redis Cluster at {urls:?}");
    let builder = RedisStore::cluster_builder(urls.iter().cloned());
    cached_with(builder, prefix, &place).await
}

/// A throwaway server or cluster of one test's own, so it can cut connections without
/// disturbing the other tests.
enum Own {
    Server(RedisServer),
    Cluster(RedisCluster),
}

impl Own {
    fn start(on: On) -> Self {
        match on {
            On::Standalone => Self::Server(RedisServer::start()),
            On::Cluster => Self::Cluster(RedisCluster::start()),
        }
    }

    /// Its nodes (the masters of a cluster).
    fn nodes(&self) -> Vec<String> {
        match self {
            Self::Server(server) => vec![server.url()],
            Self::Cluster(cluster) => cluster.urls(),
        }
    }

    async fn cached(&self, prefix: &str) -> RedisStore {
        match self {
            Self::Server(server) => cached(&server.url(), prefix).await,
            Self::Cluster(cluster) => cached_cluster(&cluster.urls(), prefix).await,
        }
    }
}

async fn pair_on(on: On, tag: &str) -> (RedisStore, RedisStore) {
    let prefix = common::unique_prefix(tag);
    (cached_on(on, &prefix).await, cached_on(on, &prefix).await)
}

async fn pair(tag: &str) -> (RedisStore, RedisStore) {
    pair_on(On::Standalone, tag).await
}

/// One `#[tokio::test]` per place for an `async fn(On)`.
macro_rules! standalone_and_cluster {
    ($($name:ident),* $(,)?) => {
        mod standalone {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name(super::On::Standalone).await } )*
        }
        mod cluster {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name(super::On::Cluster).await } )*
        }
    };
}

standalone_and_cluster!(
    b_never_serves_a_replaced_value_past_the_bound,
    an_ended_session_is_never_read_back_as_live_on_b,
    counters_lose_nothing_with_the_cache_on,
    a_cut_tracking_connection_stops_the_cache_within_the_bound,
);

/// A session id not used before in this process (the key prefix is this run's own).
fn fresh_id() -> SessionId {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    let mut bytes = [9u8; 32];
    bytes[..4].copy_from_slice(&NEXT.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    SessionId::from_bytes(bytes)
}

fn hits(store: &RedisStore) -> u64 {
    store.cache_stats().expect("the cache is on").hits
}

/// Reads `id`'s key `v` on `store` until it answers `expected` from its cache (a hit).
async fn warm(store: &RedisStore, id: &SessionId, expected: &Value) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let before = hits(store);
        let value = store.get(id, "v", None).await.expect("get");
        if value.as_ref() == Some(expected) && hits(store) > before {
            return;
        }
        assert!(Instant::now() < deadline, "never cached: {value:?}");
    }
}

/// One read on B: when it started, and the counter it saw.
struct Read {
    started: Instant,
    seen: i64,
}

/// A writer on A puts 1, 2, 3, ... into one key while readers on B read it as fast as they can
/// (nearly every read a cache hit). A read that started after the reply to write `n` and still
/// saw less than `n` is stale; none may start later than the bound after that reply.
async fn b_never_serves_a_replaced_value_past_the_bound(on: On) {
    let (a, b) = pair_on(on, "race").await;
    let b = Arc::new(b);
    let id = fresh_id();
    a.set(&id, "v", json!(0), TTL).await.unwrap();
    warm(&b, &id, &json!(0)).await;

    let done = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let (b, done) = (b.clone(), done.clone());
            tokio::spawn(async move {
                let mut reads = Vec::new();
                while !done.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    let value = b.get(&id, "v", None).await.expect("read on B");
                    let seen = value.and_then(|v| v.as_i64()).expect("the counter");
                    reads.push(Read { started, seen });
                    // A hit never waits: give the writer its turn.
                    tokio::task::yield_now().await;
                }
                reads
            })
        })
        .collect();
    let hits_before = hits(&b);
    // (value, when its write was answered)
    let mut answered = Vec::new();
    for n in 1..=300_i64 {
        a.set(&id, "v", json!(n), TTL).await.unwrap();
        answered.push((n, Instant::now()));
        // Long enough for B to cache each value: most writes meet a warm cache on B.
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    tokio::time::sleep(STALENESS).await;
    done.store(true, Ordering::Relaxed);
    let mut reads = Vec::new();
    for reader in readers {
        reads.extend(reader.await.unwrap());
    }

    let (mut stale, mut worst) = (0, Duration::ZERO);
    for read in &reads {
        // The newest write answered before this read started.
        let newest = answered
            .iter()
            .take_while(|(_, at)| *at <= read.started)
            .last();
        if let Some((n, at)) = newest
            && read.seen < *n
        {
            stale += 1;
            worst = worst.max(read.started - *at);
        }
    }
    let served = hits(&b) - hits_before;
    println!(
        "{on:?}: {} reads on B ({served} from its cache), {stale} stale after A's reply, worst \
         {worst:?} after it (bound {STALENESS:?})",
        reads.len()
    );
    assert!(
        served > reads.len() as u64 / 2,
        "B's cache served {served} of {} reads: the test would not show anything",
        reads.len()
    );
    assert!(
        worst <= STALENESS,
        "B served a replaced value {worst:?} after A's write was answered ({stale} stale reads)"
    );
    // Once the bound has passed, B reads the last write.
    assert_eq!(b.get(&id, "v", None).await.unwrap(), Some(json!(300)));
}

/// How a session ends on A.
#[derive(Debug, Clone, Copy)]
enum End {
    DelAll,
    Take,
    Revoke,
    Expiry,
}

/// After `end` completes on A (or the session's lifetime ran out), B reads the session as gone
/// once the bound has passed, whichever read it had cached it with.
async fn an_ended_session_is_never_read_back_as_live_on_b(on: On) {
    let (a, b) = pair_on(on, "ends").await;
    for end in [End::DelAll, End::Take, End::Revoke, End::Expiry] {
        for round in 0..20 {
            let id = fresh_id();
            let ttl = match end {
                End::Expiry => Duration::from_millis(150),
                _ => TTL,
            };
            a.set(&id, "v", json!("signed in"), ttl).await.unwrap();
            let subject = format!("user-{round}");
            assert!(a.bind_subject(&id, &subject).await.unwrap());
            warm(&b, &id, &json!("signed in")).await;
            assert!(b.get_all(&id, None).await.unwrap().is_some());
            assert!(b.get_many(&id, &["v"], None).await.unwrap().is_some());
            assert!(b.get_all(&id, None).await.unwrap().is_some());

            let ended_at = match end {
                End::DelAll => {
                    a.del_all(&id).await.unwrap();
                    Instant::now()
                }
                End::Take => {
                    assert!(a.take(&id).await.unwrap().is_some());
                    Instant::now()
                }
                End::Revoke => {
                    assert_eq!(a.revoke_subject(&subject).await.unwrap(), 1);
                    Instant::now()
                }
                End::Expiry => {
                    // No write on A: the server expires it, and B's entry must not outlive it.
                    tokio::time::sleep(ttl).await;
                    Instant::now()
                }
            };
            let deadline = ended_at + Duration::from_secs(5);
            loop {
                let started = Instant::now();
                let live = b.get(&id, "v", None).await.unwrap().is_some()
                    || b.get_all(&id, None).await.unwrap().is_some()
                    || b.get_many(&id, &["v"], None).await.unwrap().is_some();
                if !live {
                    break;
                }
                let late = started - ended_at;
                assert!(
                    late <= STALENESS && started < deadline,
                    "{end:?} (round {round}): B read the session as live {late:?} after it ended"
                );
            }
            // And it stays gone.
            tokio::time::sleep(STALENESS).await;
            assert_eq!(b.get(&id, "v", None).await.unwrap(), None, "{end:?}");
            assert_eq!(b.get_all(&id, None).await.unwrap(), None, "{end:?}");
            assert_eq!(
                b.get_many(&id, &["v"], None).await.unwrap(),
                None,
                "{end:?}"
            );
        }
    }
}

/// Increments from both instances at once lose nothing, and B's cached read of the counter
/// catches up with the last of them within the bound.
async fn counters_lose_nothing_with_the_cache_on(on: On) {
    let (a, b) = pair_on(on, "counter").await;
    let (a, b) = (Arc::new(a), Arc::new(b));
    let id = fresh_id();
    a.set(&id, "n", json!(0), TTL).await.unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|task| {
            let store = if task % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move {
                for _ in 0..250 {
                    store.incr(&id, "n", 1, TTL).await.unwrap();
                    // A read between increments keeps the cache busy with this key.
                    store.get(&id, "n", None).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    tokio::time::sleep(STALENESS).await;
    assert_eq!(a.get(&id, "n", None).await.unwrap(), Some(json!(2000)));
    assert_eq!(b.get(&id, "n", None).await.unwrap(), Some(json!(2000)));
}

/// The ids of the server's clients with tracking on (B's tracking connection).
fn tracking_clients(url: &str) -> Vec<String> {
    redis_cli_output(url, &["CLIENT", "LIST"])
        .lines()
        .filter(|line| {
            line.split(' ').any(|field| {
                field
                    .strip_prefix("flags=")
                    .is_some_and(|f| f.contains('t'))
            })
        })
        .filter_map(|line| line.split(' ').find_map(|f| f.strip_prefix("id=")))
        .map(str::to_owned)
        .collect()
}

/// The tracking connections are cut while the data stays (a network cut, a proxy restart;
/// on a cluster, on every master): the server no longer tells B of changes, so B must stop
/// serving its cache within the bound, and serve from it again once new ones are up.
async fn a_cut_tracking_connection_stops_the_cache_within_the_bound(on: On) {
    let own = Own::start(on);
    let prefix = common::unique_prefix("cut");
    let a = own.cached(&prefix).await;
    let b = own.cached(&prefix).await;
    let tracking = || {
        own.nodes()
            .iter()
            .map(|n| tracking_clients(n))
            .collect::<Vec<_>>()
    };
    for round in 0..5 {
        let id = fresh_id();
        a.set(&id, "v", json!("old"), TTL).await.unwrap();
        warm(&b, &id, &json!("old")).await;
        for (node, cut) in own.nodes().iter().zip(tracking()) {
            assert_eq!(
                cut.len(),
                2,
                "round {round}: one tracking connection per instance"
            );
            for client in &cut {
                redis_cli_output(node, &["CLIENT", "KILL", "ID", client]);
            }
        }
        a.set(&id, "v", json!("new"), TTL).await.unwrap();
        let written = Instant::now();
        loop {
            let started = Instant::now();
            let value = b.get(&id, "v", None).await.unwrap();
            if value == Some(json!("new")) {
                break;
            }
            assert!(
                started - written <= STALENESS,
                "round {round}: B served {value:?} {:?} after the write, its tracking cut",
                started - written
            );
        }
        // New tracking connections come up (and the heartbeat confirms them): what B cached
        // before the cut is not served, and the cache serves again.
        let deadline = Instant::now() + Duration::from_secs(10);
        while tracking().iter().any(|clients| clients.len() < 2) {
            assert!(Instant::now() < deadline, "no new tracking connections");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(STALENESS).await;
        assert_eq!(
            b.get(&id, "v", None).await.unwrap(),
            Some(json!("new")),
            "round {round}: B served what it cached before the cut"
        );
        warm(&b, &id, &json!("new")).await;
    }
}

/// The server is killed and restarted empty while A writes one session and B reads another:
/// B never serves a value from before the restart once the bound has passed after the kill
/// (the session it read is gone), and every write answered after the restart is read back on
/// B.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_server_never_lets_b_serve_what_it_had() {
    let mut server = RedisServer::start();
    let prefix = common::unique_prefix("restart");
    let a = Arc::new(cached(&server.url(), &prefix).await);
    let b = Arc::new(cached(&server.url(), &prefix).await);
    let id = fresh_id();
    a.set(&id, "v", json!("before"), TTL).await.unwrap();
    warm(&b, &id, &json!("before")).await;

    let written = fresh_id();
    let done = Arc::new(AtomicBool::new(false));
    // (key, when its write was answered)
    let writer = {
        let (a, done) = (a.clone(), done.clone());
        let id = written;
        tokio::spawn(async move {
            let mut answered = Vec::new();
            let mut n = 0_u64;
            while !done.load(Ordering::Relaxed) {
                n += 1;
                let key = format!("w{n}");
                if a.set(&id, &key, json!(n), TTL).await.is_ok() {
                    answered.push((key, Instant::now()));
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            answered
        })
    };
    // (when the read started, what it saw)
    let reader = {
        let (b, done) = (b.clone(), done.clone());
        tokio::spawn(async move {
            let mut reads = Vec::new();
            while !done.load(Ordering::Relaxed) {
                let started = Instant::now();
                match b.get(&id, "v", None).await {
                    Ok(value) => {
                        reads.push((started, value));
                        tokio::task::yield_now().await;
                    }
                    Err(StoreError::Unavailable { .. }) => {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    Err(other) => panic!("read on B: {other}"),
                }
            }
            reads
        })
    };

    tokio::time::sleep(Duration::from_millis(200)).await;
    server.kill();
    let killed = Instant::now();
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.resume();
    let resumed = Instant::now();
    until_recovered(Duration::from_secs(30), || {
        a.set(&written, "after", json!(1), TTL)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    done.store(true, Ordering::Relaxed);
    let answered = writer.await.unwrap();
    let reads = reader.await.unwrap();

    let after_bound = reads
        .iter()
        .filter(|(started, _)| *started > killed + STALENESS)
        .collect::<Vec<_>>();
    assert!(
        !after_bound.is_empty(),
        "B read nothing after the restart: the test would not show anything"
    );
    for (started, value) in after_bound {
        assert_eq!(
            *value,
            None,
            "B served a value from before the restart {:?} after the kill",
            *started - killed
        );
    }
    tokio::time::sleep(STALENESS).await;
    let session = b
        .get_all(&written, None)
        .await
        .unwrap()
        .expect("the session after");
    let lost: Vec<_> = answered
        .iter()
        .filter(|(key, at)| *at > resumed && !session.contains_key(key.as_str()))
        .collect();
    assert!(
        lost.is_empty(),
        "writes answered after the restart, missing on B: {lost:?}"
    );
    assert!(
        answered.iter().any(|(_, at)| *at > resumed),
        "no write was answered after the restart"
    );
    // And the cache serves again.
    b.set(&id, "v", json!("again"), TTL).await.unwrap();
    warm(&b, &id, &json!("again")).await;
}

/// A session over the cache's size cap is read from the server each time (never a hit), and
/// reads of it stay exact; one under the cap is cached whole, so reading another key of it is a
/// hit too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_big_session_is_read_from_the_server_and_a_small_one_cached_whole() {
    let (a, b) = pair("big").await;
    let big = fresh_id();
    let blob = "x".repeat(session_store_redis::MAX_CACHED_HASH_BYTES);
    a.set(&big, "blob", json!(blob), TTL).await.unwrap();
    a.set(&big, "v", json!(1), TTL).await.unwrap();
    b.get(&big, "v", None).await.unwrap();
    let before = hits(&b);
    for n in 2..20 {
        a.set(&big, "v", json!(n), TTL).await.unwrap();
        assert_eq!(b.get(&big, "v", None).await.unwrap(), Some(json!(n)));
    }
    assert_eq!(
        hits(&b),
        before,
        "a hash over the cap was served from the cache"
    );

    let small = fresh_id();
    a.set(&small, "v", json!("one"), TTL).await.unwrap();
    a.set(&small, "w", json!("two"), TTL).await.unwrap();
    warm(&b, &small, &json!("one")).await;
    let before = hits(&b);
    assert_eq!(b.get(&small, "w", None).await.unwrap(), Some(json!("two")));
    assert!(
        b.get_many(&small, &["w", "v"], None)
            .await
            .unwrap()
            .is_some()
    );
    assert!(b.get_all(&small, None).await.unwrap().is_some());
    assert_eq!(
        hits(&b),
        before + 3,
        "the other reads of a cached session were not hits"
    );
}

/// A session holding a value that is not JSON (written by something else) answers exactly as
/// without the cache: an error for that key, the other keys as stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_that_is_not_json_answers_as_without_the_cache() {
    let prefix = common::unique_prefix("garbled");
    let cached = cached(redis_url(), &prefix).await;
    let plain = RedisStore::builder(redis_url())
        .prefix(&prefix)
        .connect()
        .await
        .unwrap();
    let id = fresh_id();
    plain.set(&id, "good", json!("fine"), TTL).await.unwrap();
    let key = format!("{prefix}{{{}}}", id.to_hex());
    redis_cli_output(redis_url(), &["HSET", &key, "bad", "{not json"]);
    for store in [&plain, &cached] {
        for _ in 0..3 {
            assert!(store.get(&id, "bad", None).await.is_err());
            assert_eq!(
                store.get(&id, "good", None).await.unwrap(),
                Some(json!("fine"))
            );
            let many = store.get_many(&id, &["good"], None).await.unwrap();
            assert_eq!(many, Some(vec![Some(json!("fine"))]));
            assert!(store.get_many(&id, &["good", "bad"], None).await.is_err());
            assert!(store.get_all(&id, None).await.is_err());
        }
    }
    assert_eq!(
        hits(&cached),
        0,
        "a hash with a value that is not JSON was cached"
    );
}

/// A connection to one node of a cluster, not following redirections (a `MOVED` is an error).
async fn node(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .expect("node URL")
        .get_multiplexed_async_connection()
        .await
        .expect("connect to a cluster node")
}

/// Moves the cluster slot that holds `id`'s session from the master serving it to another, as a
/// resharding does: `SETSLOT IMPORTING` on the target, `MIGRATING` on the source, `MIGRATE` of
/// the slot's keys, then `SETSLOT NODE` on every master.
async fn move_slot_of(nodes: &[String], id: &SessionId) {
    let tag = format!("{{{}}}", id.to_hex());
    let mut conns = Vec::new();
    let mut ids = Vec::new();
    for url in nodes {
        let mut conn = node(url).await;
        let id: String = redis::cmd("CLUSTER")
            .arg("MYID")
            .query_async(&mut conn)
            .await
            .unwrap();
        conns.push(conn);
        ids.push(id);
    }
    let slot: u16 = redis::cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg(&tag)
        .query_async(&mut conns[0])
        .await
        .unwrap();
    // The master of the slot answers a key of it; the others redirect.
    let mut source = None;
    for (i, conn) in conns.iter_mut().enumerate() {
        let answer: redis::RedisResult<i64> =
            redis::cmd("EXISTS").arg(&tag).query_async(conn).await;
        if answer.is_ok() {
            source = Some(i);
        }
    }
    let source = source.expect("a master serves the slot");
    let target = (source + 1) % nodes.len();
    let target_port: u16 = nodes[target]
        .rsplit(':')
        .next()
        .and_then(|port| port.parse().ok())
        .expect("a port in the node URL");
    let setslot = |state: &str, node_id: &str| {
        let mut cmd = redis::cmd("CLUSTER");
        cmd.arg("SETSLOT").arg(slot).arg(state).arg(node_id);
        cmd
    };
    let () = setslot("IMPORTING", &ids[source])
        .query_async(&mut conns[target])
        .await
        .unwrap();
    let () = setslot("MIGRATING", &ids[target])
        .query_async(&mut conns[source])
        .await
        .unwrap();
    let keys: Vec<String> = redis::cmd("CLUSTER")
        .arg("GETKEYSINSLOT")
        .arg(slot)
        .arg(1_000)
        .query_async(&mut conns[source])
        .await
        .unwrap();
    assert!(!keys.is_empty(), "the session's hash is in its slot");
    let () = redis::cmd("MIGRATE")
        .arg("127.0.0.1")
        .arg(target_port)
        .arg("")
        .arg(0)
        .arg(5_000)
        .arg("KEYS")
        .arg(&keys)
        .query_async(&mut conns[source])
        .await
        .unwrap();
    for i in std::iter::once(target).chain((0..nodes.len()).filter(|&i| i != target)) {
        let () = setslot("NODE", &ids[target])
            .query_async(&mut conns[i])
            .await
            .unwrap();
    }
}

/// Reads `id`'s key `v` on `store` until it answers `expected`, failing when an older answer
/// comes from a read that started past the bound after `changed`.
async fn converges(store: &RedisStore, id: &SessionId, expected: Option<Value>, changed: Instant) {
    loop {
        let started = Instant::now();
        let value = store.get(id, "v", None).await.expect("get");
        if value == expected {
            return;
        }
        let late = started - changed;
        assert!(
            late <= STALENESS,
            "B answered {value:?} (not {expected:?}) {late:?} after the change"
        );
    }
}

/// A resharding under the cache: the slot holding a session B has cached moves to another
/// master. B never serves what moved past the bound: a change A makes through the new master
/// reaches B, B caches the session again (tracked there now, so the next change reaches it too),
/// and a logout after the move is final on B.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resharded_slot_never_lets_b_serve_what_moved() {
    let own = Own::start(On::Cluster);
    let prefix = common::unique_prefix("reshard");
    let (a, b) = (own.cached(&prefix).await, own.cached(&prefix).await);
    let id = fresh_id();
    a.set(&id, "v", json!(1), TTL).await.unwrap();
    warm(&b, &id, &json!(1)).await;

    move_slot_of(&own.nodes(), &id).await;
    // The session moved whole: A (through its cluster client) still reads it.
    assert_eq!(a.get(&id, "v", None).await.unwrap(), Some(json!(1)));
    a.set(&id, "v", json!(2), TTL).await.unwrap();
    converges(&b, &id, Some(json!(2)), Instant::now()).await;

    // Cached again on B, now under the new master's tracking.
    warm(&b, &id, &json!(2)).await;
    a.set(&id, "v", json!(3), TTL).await.unwrap();
    converges(&b, &id, Some(json!(3)), Instant::now()).await;

    warm(&b, &id, &json!(3)).await;
    a.del_all(&id).await.unwrap();
    converges(&b, &id, None, Instant::now()).await;
    tokio::time::sleep(STALENESS).await;
    assert_eq!(b.get(&id, "v", None).await.unwrap(), None);
    assert_eq!(b.get_all(&id, None).await.unwrap(), None);
}

//! Two OS processes write one session at once, each its own keys and one shared counter: nothing
//! is lost and neither sees an error.
//!
//! The child processes are this test binary again, running the ignored `child_writer` entry point
//! with the table name in the environment.

mod common;

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use session_core::{Change, SessionId, Store};
use session_store_mysql::MySqlStore;
use session_test_support::mysql_url;

const TABLE_VAR: &str = "SESSION_MYSQL_CHILD_TABLE";
const WRITER_VAR: &str = "SESSION_MYSQL_CHILD_WRITER";
const KEYS: usize = 200;
const TTL: Duration = Duration::from_secs(3600);

fn session() -> SessionId {
    SessionId::from_bytes([42; 32])
}

fn key(writer: usize, k: usize) -> String {
    format!("w{writer}:k{k}")
}

/// What each child does, from 8 concurrent tasks: set its own keys (one by one, in batches, and
/// by `update`), and add 1 to the shared counter for each key. Any error fails the child.
async fn write_all(table: &str, writer: usize) {
    let store = Arc::new(
        MySqlStore::builder()
            .table(table)
            .connect(mysql_url())
            .await
            .expect("child connects"),
    );
    let tasks: Vec<_> = (0..8)
        .map(|task| {
            let store = store.clone();
            tokio::spawn(async move {
                let id = session();
                for k in (task..KEYS).step_by(8) {
                    match k % 3 {
                        0 => store.set(&id, &key(writer, k), json!(k), TTL).await?,
                        1 => {
                            let batch = vec![Change::Set(key(writer, k), json!(k))];
                            store.set_many(&id, batch, TTL).await?;
                        }
                        _ => {
                            let batch = vec![Change::Set(key(writer, k), json!(k))];
                            assert!(
                                store.update(&id, batch, TTL).await?,
                                "update found no session"
                            );
                        }
                    }
                    store.incr(&id, "count", 1, TTL).await?;
                }
                Ok::<_, session_core::StoreError>(())
            })
        })
        .collect();
    for task in tasks {
        task.await
            .expect("writer task")
            .unwrap_or_else(|e| panic!("writer {writer} failed: {e:?}"));
    }
}

#[test]
#[ignore = "entry point of the child processes of two_processes_write_one_session"]
fn child_writer() {
    let table = std::env::var(TABLE_VAR)
        .expect("child_writer runs only as a child of two_processes_write_one_session");
    let writer: usize = std::env::var(WRITER_VAR)
        .expect("writer index")
        .parse()
        .expect("writer index");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(write_all(&table, writer));
}

#[test]
fn two_processes_write_one_session() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    // Made (and migrated) before the children start, so they race on data, not on the schema;
    // the session exists, so `update` has something to write to.
    let store = rt.block_on(common::fresh_store("processes", "shared", |b| b));
    rt.block_on(store.set(&session(), "seed", json!(0), TTL))
        .expect("seed");

    let exe = std::env::current_exe().expect("test binary");
    let children: Vec<_> = (0..2)
        .map(|writer| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "child_writer",
                    "--ignored",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(TABLE_VAR, store.table())
                .env(WRITER_VAR, writer.to_string())
                .spawn()
                .expect("spawn child")
        })
        .collect();
    for (writer, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().expect("child ran");
        assert!(
            out.status.success(),
            "writer {writer} failed: {:?}",
            out.status
        );
    }

    let all = rt
        .block_on(store.get_all(&session(), None))
        .expect("read")
        .expect("session exists");
    for writer in 0..2 {
        for k in 0..KEYS {
            assert_eq!(
                all.get(&key(writer, k)),
                Some(&json!(k)),
                "{} lost",
                key(writer, k)
            );
        }
    }
    assert_eq!(all.get("count"), Some(&json!(2 * KEYS)), "increments lost");
    assert_eq!(all.len(), 2 * KEYS + 2, "stray keys");
}

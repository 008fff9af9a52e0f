//! Two OS processes write distinct keys of the same sessions into one database file at once:
//! nothing is lost and neither sees a busy error.
//!
//! The child processes are this test binary again, running the ignored `child_writer` entry point
//! with the database path in the environment.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::json;
use session_core::{Change, SessionId, Store};
use session_store_sqlite::SqliteStore;

const DB_VAR: &str = "SESSION_SQLITE_CHILD_DB";
const WRITER_VAR: &str = "SESSION_SQLITE_CHILD_WRITER";
const SESSIONS: u8 = 8;
const KEYS_PER_SESSION: usize = 150;
const TTL: Duration = Duration::from_secs(3600);

fn session(n: u8) -> SessionId {
    SessionId::from_bytes([n; 32])
}

fn key(writer: usize, k: usize) -> String {
    format!("w{writer}:k{k}")
}

/// What each child does: for every session, set its own keys, half one by one and half in small
/// batches, from 8 concurrent tasks. Any error (a busy one included) fails the child.
async fn write_all(path: &Path, writer: usize) {
    let store = std::sync::Arc::new(
        SqliteStore::open(path)
            .await
            .expect("child opens the database"),
    );
    let tasks: Vec<_> = (0..8)
        .map(|task| {
            let store = store.clone();
            tokio::spawn(async move {
                for n in 0..SESSIONS {
                    let id = session(n);
                    for k in (task..KEYS_PER_SESSION).step_by(8) {
                        if k % 2 == 0 {
                            store.set(&id, &key(writer, k), json!(k), TTL).await?;
                        } else {
                            let batch = vec![Change::Set(key(writer, k), json!(k))];
                            store.set_many(&id, batch, TTL).await?;
                        }
                    }
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
#[ignore = "entry point of the child processes of two_processes_lose_nothing"]
fn child_writer() {
    let path = std::env::var(DB_VAR)
        .expect("child_writer runs only as a child of two_processes_lose_nothing");
    let writer: usize = std::env::var(WRITER_VAR)
        .expect("writer index")
        .parse()
        .expect("writer index");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(write_all(Path::new(&path), writer));
}

#[test]
fn two_processes_lose_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path: PathBuf = dir.path().join("shared.db");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    // Created (and migrated) before the children start, so they race on data, not on the schema.
    rt.block_on(SqliteStore::open(&path)).expect("open");

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
                .env(DB_VAR, &path)
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

    let store = rt.block_on(SqliteStore::open(&path)).expect("reopen");
    for n in 0..SESSIONS {
        let all = rt
            .block_on(store.get_all(&session(n), None))
            .expect("read")
            .expect("session exists");
        for writer in 0..2 {
            for k in 0..KEYS_PER_SESSION {
                assert_eq!(
                    all.get(&key(writer, k)),
                    Some(&json!(k)),
                    "session {n}: {} lost",
                    key(writer, k)
                );
            }
        }
        assert_eq!(
            all.len(),
            2 * KEYS_PER_SESSION,
            "session {n} has stray keys"
        );
    }
}

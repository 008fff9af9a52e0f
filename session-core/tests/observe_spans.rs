//! The `session_store` spans' fields, and never a token or a whole id in them. Alone in its
//! file: `tracing` caches whether a call site is enabled, and a test on another thread without
//! this subscriber could make that cache say "off" before the subscriber is set.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use session_core::{ObservedStore, SessionManager, Store};
use session_store_memory::MemoryStore;

/// Collects what the fmt subscriber writes.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn spans_name_the_operation_and_never_a_token_or_whole_id() {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let manager = SessionManager::builder(MemoryStore::new())
        .metrics(Arc::new(NoMetrics))
        .build()
        .unwrap();
    let session = manager.create().unwrap();
    session.set("cart", &["tea"]).unwrap();
    session.save().await.unwrap();
    let token = session.token();
    let loaded = manager.load(token.as_str()).await.unwrap().unwrap();
    loaded.set("", &1).unwrap_err(); // refused by the handle, before the store
    let store = ObservedStore::new(Arc::new(MemoryStore::new()));
    store
        .set(&token.id(), "", 1.into(), Duration::from_secs(1))
        .await
        .unwrap_err();

    let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    for expected in [
        "session_store{backend=\"memory\" op=\"set_many\"",
        "op=\"get_many\"",
        "elapsed_us=",
        "error=\"invalid_input\"",
        &format!("session={}", token.id().short()),
    ] {
        assert!(text.contains(expected), "no {expected:?} in:\n{text}");
    }
    assert!(
        !text.contains(token.as_str()),
        "a token in the log:\n{text}"
    );
    assert!(
        !text.contains(&token.id().to_hex()),
        "a whole id in the log:\n{text}"
    );
}

struct NoMetrics;

impl session_core::Metrics for NoMetrics {}

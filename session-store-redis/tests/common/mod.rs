//! What the Redis test files share: a key prefix of this run's own.

/// A key prefix unique to this test process, so runs never see each other's keys.
#[allow(dead_code)]
pub fn unique_prefix(tag: &str) -> String {
    static STARTED: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    let nanos = STARTED.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    });
    format!("test:{}:{nanos}:{tag}:", std::process::id())
}

/// The key prefix of one conformance case: this run's, then the case's namespace.
#[allow(dead_code)] // each test file uses what it needs
pub fn case_prefix(tag: &str, namespace: &conformance_tests::Namespace) -> String {
    format!("{}{namespace}:", unique_prefix(tag))
}

/// The store of one conformance case: `builder` under the case's own key `prefix`, with the
/// capabilities the Redis store has.
#[allow(dead_code)] // each test file uses what it needs
pub async fn suite_store(
    builder: session_store_redis::RedisStoreBuilder,
    prefix: String,
    place: &str,
) -> conformance_tests::TestStore {
    let store = builder
        .prefix(prefix)
        .connect()
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {place}: {e}"));
    conformance_tests::TestStore::builder(store)
        .subject_index()
        .enumerate()
        .build()
}

/// A key prefix of its own for each call (for factories that are not handed a namespace).
#[allow(dead_code)] // each test file uses what it needs
pub fn next_prefix(tag: &str) -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}{n}:", unique_prefix(tag))
}

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

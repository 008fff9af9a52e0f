//! What the Redis test files share: a key prefix of this run's own.

/// A key prefix unique to this test process, so runs never see each other's keys.
pub fn unique_prefix(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("test:{}:{nanos}:{tag}:", std::process::id())
}

//! What a `set` leaves in Redis, seen with `redis-cli`: one hash per session under the prefix,
//! with a TTL, and no raw token anywhere (only its SHA-256).

mod common;

use std::time::Duration;

use serde_json::json;
use session_core::{Store, Token};
use session_store_redis::RedisStore;
use session_test_support::{redis_cli_output, redis_url};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_hash_per_session_with_a_ttl_and_no_token() {
    let prefix = common::unique_prefix("inspect");
    let store = RedisStore::builder(redis_url())
        .prefix(&prefix)
        .connect()
        .await
        .expect("connect");
    let tokens: Vec<Token> = (0..3).map(|_| Token::generate().unwrap()).collect();
    for token in &tokens {
        store
            .set(&token.id(), "user", json!("ada"), Duration::from_secs(600))
            .await
            .unwrap();
        store
            .set(&token.id(), "cart", json!([1, 2]), Duration::from_secs(600))
            .await
            .unwrap();
    }

    let url = redis_url();
    let pattern = format!("{prefix}*");
    let listed = redis_cli_output(url, &["--raw", "--scan", "--pattern", &pattern]);
    let mut keys: Vec<&str> = listed.lines().filter(|l| !l.is_empty()).collect();
    keys.sort();
    let mut expected: Vec<String> = tokens
        .iter()
        .map(|t| format!("{prefix}{{{}}}", t.id().to_hex()))
        .collect();
    expected.sort();
    assert_eq!(
        keys, expected,
        "exactly one key per session, named by the token's hash"
    );

    for key in &keys {
        assert_eq!(
            redis_cli_output(url, &["--raw", "type", key]).trim(),
            "hash",
            "{key}"
        );
        let ttl: i64 = redis_cli_output(url, &["--raw", "pttl", key])
            .trim()
            .parse()
            .unwrap();
        assert!(ttl > 0 && ttl <= 600_000, "{key} has TTL {ttl}");
        let fields = redis_cli_output(url, &["hgetall", key]);
        assert!(
            fields.contains("\"user\"") && fields.contains("\"cart\""),
            "{key}: {fields}"
        );
        for token in &tokens {
            assert!(
                !fields.contains(token.as_str()) && !key.contains(token.as_str()),
                "a raw token in {key}"
            );
        }
    }
}

//! Signed-cookie verification of arbitrary values and headers: never panics, and accepts nothing
//! it did not sign (a forged value passing verification is a finding).
#![no_main]

use libfuzzer_sys::fuzz_target;
use session_tower::SigningKeys;
use session_tower::fuzzing::{sign, token_from_cookie_header, verify_signed};

fuzz_target!(|data: &[u8]| {
    let (newest, older) = (vec![0x5a; 32], vec![0xa5; 32]);
    let keys = SigningKeys::new(vec![newest, older.clone()]).expect("valid keys");
    let older_only = SigningKeys::new(vec![older]).expect("a valid key");
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some(token) = verify_signed(&keys, "session", text) {
            // Only a value signed with one of the keys can verify.
            let signed = [
                sign(&keys, "session", &token),
                sign(&older_only, "session", &token),
            ];
            assert!(
                signed.iter().any(|s| s == text),
                "accepted a value no key signed: {text:?}"
            );
        }
    }
    assert!(
        token_from_cookie_header(data, "session", Some(&keys))
            .is_none_or(|t| { data.windows(t.len()).any(|w| w == t.as_bytes()) })
    );
});

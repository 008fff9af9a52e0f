//! Cookie-header parsing of arbitrary bytes, unsigned: never panics, finds at most
//! `MAX_CANDIDATES` tokens, each short, made of token bytes, and in the header.
#![no_main]

use libfuzzer_sys::fuzz_target;
use session_tower::MAX_CANDIDATES;
use session_tower::fuzzing::tokens_from_cookie_header;

fuzz_target!(|data: &[u8]| {
    let tokens = tokens_from_cookie_header(data, "session", None);
    assert!(tokens.len() <= MAX_CANDIDATES);
    let haystack = String::from_utf8_lossy(data);
    for token in tokens {
        assert!(!token.is_empty() && token.len() <= 256);
        assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)));
        assert!(haystack.contains(token.as_str()));
    }
});

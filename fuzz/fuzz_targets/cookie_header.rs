//! Cookie-header parsing of arbitrary bytes, unsigned: never panics, and what it finds is short
//! and was in the header.
#![no_main]

use libfuzzer_sys::fuzz_target;
use session_tower::fuzzing::token_from_cookie_header;

fuzz_target!(|data: &[u8]| {
    if let Some(token) = token_from_cookie_header(data, "session", None) {
        assert!(token.len() <= 256);
        let haystack = String::from_utf8_lossy(data);
        assert!(haystack.contains(token.as_str()));
    }
});

//! Token parsing of arbitrary bytes: never panics; whatever it accepts is a canonical token that
//! round-trips.
#![no_main]

use libfuzzer_sys::fuzz_target;
use session_core::{TOKEN_LEN, Token};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(token) = Token::parse(text) {
        assert_eq!(token.as_str(), text);
        assert_eq!(text.len(), TOKEN_LEN);
        assert_eq!(Token::parse(token.as_str()).map(|t| t.id()), Ok(token.id()));
    }
});

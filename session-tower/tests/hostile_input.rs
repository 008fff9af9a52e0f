//! Hostile input at the HTTP layer: every single-bit flip of a signed cookie is refused, and
//! 100,000 requests that carry no cookie and never touch the session write nothing.

mod support;

use session_core::Token;
use session_tower::fuzzing::{sign, token_from_cookie_header};
use session_tower::{SessionLayer, SigningKeys};
use tower::ServiceExt;

#[test]
fn every_bit_flip_of_a_signed_cookie_is_refused() {
    let keys = SigningKeys::new(vec![vec![42; 32]]).unwrap();
    let token = Token::generate().unwrap();
    let signed = sign(&keys, "session", token.as_str());
    let header = format!("session={signed}");
    assert_eq!(
        token_from_cookie_header(header.as_bytes(), "session", Some(&keys)).as_deref(),
        Some(token.as_str())
    );

    let value_start = header.len() - signed.len();
    let mut checked = 0;
    for byte in value_start..header.len() {
        for bit in 0..8 {
            let mut flipped = header.clone().into_bytes();
            flipped[byte] ^= 1 << bit;
            let got = token_from_cookie_header(&flipped, "session", Some(&keys));
            assert_eq!(got, None, "flipping bit {bit} of byte {byte} was accepted");
            checked += 1;
        }
    }
    assert_eq!(checked, signed.len() * 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_untouched_requests_write_nothing() {
    let (manager, store) = support::counted_manager(session_core::Config::default());
    let app = support::app(SessionLayer::new(manager).cookie(support::dev_cookie()));
    for i in 0..100_000 {
        let request = http::Request::get("/health")
            .body(axum::body::Body::empty())
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), 200, "request {i}");
        assert!(
            response.headers().get("set-cookie").is_none(),
            "request {i} set a cookie"
        );
    }
    assert_eq!(
        store.operations(),
        0,
        "untouched requests reached the store"
    );
}

//! Reading our cookie out of a request's `Cookie` headers, from the raw bytes: other cookies'
//! contents never matter (a `lang=José` set by another app is bytes we skip, not a reason to drop
//! the header), and every cookie of our name is a candidate, so one planted in front of the real
//! one (a cookie with a longer path is sent first) cannot push it out.

use crate::RequestHead;

/// The most cookies of our name a request may carry; all are tried, in order. A request with
/// more (the mark of cookie tossing: cookies planted in front of the real one to push it out) is
/// refused with `400 Bad Request` before any session I/O, so it neither logs the user out nor
/// overwrites the real cookie.
pub const MAX_CANDIDATES: usize = 4;

/// A request carried more than [`MAX_CANDIDATES`] cookies of our name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooManyCookies;

/// The longest cookie value that can hold a token (a signed one is 87 bytes); longer values are
/// never copied.
pub(crate) const MAX_TOKEN_VALUE_LEN: usize = 256;

/// Whether `byte` can be in a token or a signed token (base64url and the signature's `.`).
fn token_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.')
}

fn trim(mut bytes: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = bytes {
        bytes = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = bytes {
        bytes = rest;
    }
    bytes
}

/// The values of the cookies named `name` in the request's `Cookie` headers, in the order the
/// browser sent them; a value that cannot be a token (too long, or with a byte no token has) is
/// skipped. Values are ASCII, so they are returned as strings.
///
/// # Errors
/// [`TooManyCookies`] when more than [`MAX_CANDIDATES`] cookies are named `name`, whether or
/// not their values could be tokens (junk counts: it is what pushes a real cookie out).
pub(crate) fn values<H: RequestHead + ?Sized>(
    head: &H,
    name: &str,
) -> Result<Vec<String>, TooManyCookies> {
    let mut found = Vec::new();
    let mut named = 0;
    let mut result = Ok(());
    head.each_header("cookie", &mut |header| {
        if result.is_ok() {
            result = scan(header, name.as_bytes(), &mut named, &mut found);
        }
    });
    result.map(|()| found)
}

/// Adds the token-shaped values of the cookies named `name` in one `Cookie` header to `found`,
/// counting every cookie of the name in `named`.
fn scan(
    header: &[u8],
    name: &[u8],
    named: &mut usize,
    found: &mut Vec<String>,
) -> Result<(), TooManyCookies> {
    for pair in header.split(|b| *b == b';') {
        let pair = trim(pair);
        let Some(eq) = pair.iter().position(|b| *b == b'=') else {
            continue;
        };
        if trim(&pair[..eq]) != name {
            continue;
        }
        *named += 1;
        if *named > MAX_CANDIDATES {
            return Err(TooManyCookies);
        }
        let mut value = trim(&pair[eq + 1..]);
        if let [b'"', inner @ .., b'"'] = value {
            value = inner;
        }
        if value.is_empty()
            || value.len() > MAX_TOKEN_VALUE_LEN
            || !value.iter().copied().all(token_byte)
        {
            continue;
        }
        // Only token bytes, all ASCII.
        found.push(String::from_utf8_lossy(value).into_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;
    use http::request::Parts;

    use super::*;

    fn headers(values: &[&[u8]]) -> Parts {
        let mut parts = http::Request::new(()).into_parts().0;
        for value in values {
            parts.headers.append(
                http::header::COOKIE,
                HeaderValue::from_bytes(value).unwrap(),
            );
        }
        parts
    }

    #[test]
    fn other_cookies_contents_never_matter() {
        let h = headers(&["lang=Jos\u{e9}; session=abc_-.9; x=\u{1F600}".as_bytes()]);
        assert_eq!(values(&h, "session").unwrap(), ["abc_-.9"]);
        let h = headers(&[b"a=\xff\xfe; session=tok"]);
        assert_eq!(values(&h, "session").unwrap(), ["tok"]);
    }

    #[test]
    fn every_cookie_of_the_name_is_a_candidate_in_order() {
        let h = headers(&[b"session=planted; other=1; session=real", b"session=third"]);
        assert_eq!(values(&h, "session").unwrap(), ["planted", "real", "third"]);
        let most = "session=a; ".repeat(MAX_CANDIDATES);
        assert_eq!(
            values(&headers(&[most.as_bytes()]), "session")
                .unwrap()
                .len(),
            MAX_CANDIDATES
        );
    }

    #[test]
    fn more_cookies_of_the_name_than_candidates_are_refused() {
        let tossed = format!("{}session=real", "session=planted; ".repeat(MAX_CANDIDATES));
        assert_eq!(
            values(&headers(&[tossed.as_bytes()]), "session"),
            Err(TooManyCookies)
        );
        // Junk values count too, across headers, and other names do not.
        let junk = "session=a b; ".repeat(MAX_CANDIDATES);
        let h = headers(&[junk.as_bytes(), b"session=real"]);
        assert_eq!(values(&h, "session"), Err(TooManyCookies));
        let others = format!("{}session=real", "other=1; ".repeat(100));
        assert_eq!(
            values(&headers(&[others.as_bytes()]), "session").unwrap(),
            ["real"]
        );
    }

    #[test]
    fn values_that_cannot_be_tokens_are_skipped() {
        let long = format!(
            "session={}; session=ok",
            "a".repeat(MAX_TOKEN_VALUE_LEN + 1)
        );
        assert_eq!(
            values(&headers(&[long.as_bytes()]), "session").unwrap(),
            ["ok"]
        );
        let h = headers(&[b"session=has space; session=\"quoted\"; session=; session=a/b"]);
        assert_eq!(values(&h, "session").unwrap(), ["quoted"]);
        let h = headers(&[b"sessionx=a; xsession=b"]);
        assert!(values(&h, "session").unwrap().is_empty());
    }
}

//! Reading our cookie out of a request's `Cookie` headers, from the raw bytes: other cookies'
//! contents never matter (a `lang=José` set by another app is bytes we skip, not a reason to drop
//! the header), and every cookie of our name is a candidate, so one planted in front of the real
//! one (a cookie with a longer path is sent first) cannot push it out.

use http::HeaderMap;
use http::header::COOKIE;

/// The most cookies of our name that are tried, in order; more are ignored.
pub const MAX_CANDIDATES: usize = 4;

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

/// The values of the cookies named `name` in `headers`, in the order the browser sent them, at
/// most [`MAX_CANDIDATES`]; a value that cannot be a token (too long, or with a byte no token
/// has) is skipped. Values are ASCII, so they are returned as strings.
pub(crate) fn values(headers: &HeaderMap, name: &str) -> Vec<String> {
    let name = name.as_bytes();
    let mut found = Vec::new();
    for header in headers.get_all(COOKIE) {
        for pair in header.as_bytes().split(|b| *b == b';') {
            let pair = trim(pair);
            let Some(eq) = pair.iter().position(|b| *b == b'=') else {
                continue;
            };
            if trim(&pair[..eq]) != name {
                continue;
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
            if found.len() == MAX_CANDIDATES {
                return found;
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn headers(values: &[&[u8]]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(COOKIE, HeaderValue::from_bytes(value).unwrap());
        }
        headers
    }

    #[test]
    fn other_cookies_contents_never_matter() {
        let h = headers(&["lang=Jos\u{e9}; session=abc_-.9; x=\u{1F600}".as_bytes()]);
        assert_eq!(values(&h, "session"), ["abc_-.9"]);
        let h = headers(&[b"a=\xff\xfe; session=tok"]);
        assert_eq!(values(&h, "session"), ["tok"]);
    }

    #[test]
    fn every_cookie_of_the_name_is_a_candidate_in_order() {
        let h = headers(&[b"session=planted; other=1; session=real", b"session=third"]);
        assert_eq!(values(&h, "session"), ["planted", "real", "third"]);
        let many = "session=a; ".repeat(10);
        assert_eq!(
            values(&headers(&[many.as_bytes()]), "session").len(),
            MAX_CANDIDATES
        );
    }

    #[test]
    fn values_that_cannot_be_tokens_are_skipped() {
        let long = format!(
            "session={}; session=ok",
            "a".repeat(MAX_TOKEN_VALUE_LEN + 1)
        );
        assert_eq!(values(&headers(&[long.as_bytes()]), "session"), ["ok"]);
        let h = headers(&[b"session=has space; session=\"quoted\"; session=; session=a/b"]);
        assert_eq!(values(&h, "session"), ["quoted"]);
        assert!(values(&headers(&[b"sessionx=a; xsession=b"]), "session").is_empty());
    }
}

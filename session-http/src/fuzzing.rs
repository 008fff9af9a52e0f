//! Entry points for the fuzz targets in `fuzz/` and for hostile-input tests: the request parsing
//! a bridge does, without a server. Not part of the stable API.

use http::{HeaderValue, header::COOKIE};

use crate::SigningKeys;
use crate::signing::Verified;

/// The session tokens a `Cookie` header carries under `name` (at most
/// [`MAX_CANDIDATES`](crate::MAX_CANDIDATES), in order), after signature checking when
/// `keys` are given; empty when the header has none that could be one, or more cookies of the
/// name than that (such a request is refused with 400).
pub fn tokens_from_cookie_header(
    header: &[u8],
    name: &str,
    keys: Option<&SigningKeys>,
) -> Vec<String> {
    let Ok(value) = HeaderValue::from_bytes(header) else {
        return Vec::new();
    };
    let mut parts = http::Request::new(()).into_parts().0;
    parts.headers.insert(COOKIE, value);
    crate::cookies::values(&parts, name)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|value| match keys {
            None => Some(value),
            Some(keys) => match keys.verify(name, &value)? {
                Verified::Current(token) | Verified::Old(token) => Some(token),
            },
        })
        .collect()
}

/// The first of [`tokens_from_cookie_header`].
pub fn token_from_cookie_header(
    header: &[u8],
    name: &str,
    keys: Option<&SigningKeys>,
) -> Option<String> {
    tokens_from_cookie_header(header, name, keys)
        .into_iter()
        .next()
}

/// `value` verified as a signed cookie value named `name`.
pub fn verify_signed(keys: &SigningKeys, name: &str, value: &str) -> Option<String> {
    match keys.verify(name, value)? {
        Verified::Current(token) | Verified::Old(token) => Some(token),
    }
}

/// `token` signed as a response would carry it.
pub fn sign(keys: &SigningKeys, name: &str, token: &str) -> String {
    keys.sign(name, token)
}

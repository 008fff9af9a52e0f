//! Entry points for the fuzz targets in `fuzz/` and for hostile-input tests: the request parsing
//! the layer does, without a server. Not part of the stable API.

use http::{HeaderMap, HeaderValue, header::COOKIE};

use crate::SigningKeys;
use crate::signing::Verified;

/// The session token a `Cookie` header carries under `name`, after signature checking when
/// `keys` are given; `None` when the header or the cookie is absent, malformed, or badly signed.
pub fn token_from_cookie_header(
    header: &[u8],
    name: &str,
    keys: Option<&SigningKeys>,
) -> Option<String> {
    let mut headers = HeaderMap::new();
    headers.insert(COOKIE, HeaderValue::from_bytes(header).ok()?);
    let value = crate::service::cookie_value(&headers, name)?;
    match keys {
        None => Some(value),
        Some(keys) => match keys.verify(name, &value)? {
            Verified::Current(token) | Verified::Old(token) => Some(token),
        },
    }
}

/// `value` verified as a signed cookie value named `name`.
pub fn verify_signed(keys: &SigningKeys, name: &str, value: &str) -> Option<String> {
    match keys.verify(name, value)? {
        Verified::Current(token) | Verified::Old(token) => Some(token),
    }
}

/// `token` signed as the layer would sign it.
pub fn sign(keys: &SigningKeys, name: &str, token: &str) -> String {
    keys.sign(name, token)
}

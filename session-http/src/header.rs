//! Tokens in a header, for API and mobile clients: a header of the application's naming, or
//! `Authorization: Bearer`.

use http::HeaderName;
use http::header::AUTHORIZATION;

use crate::RequestHead;
use crate::cookies::MAX_TOKEN_VALUE_LEN;

/// How a client sends its token in a header, and where a new or rotated one is answered.
///
/// A header cannot be added to a request by another site's form or link: only the page's own
/// script, or an application that is not a browser, sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenHeader {
    /// A header of this name carries the token both ways (`x-session: <token>`).
    Named(HeaderName),
    /// `Authorization: Bearer <token>` carries it in (the scheme in any case); new and rotated
    /// tokens are answered in the `response` header, since `Authorization` is a request header.
    Bearer {
        /// The response header a new or rotated token is answered in.
        response: HeaderName,
    },
}

impl TokenHeader {
    /// The token a request carries this way, if any (at most [`MAX_TOKEN_VALUE_LEN`] bytes).
    pub(crate) fn token<H: RequestHead + ?Sized>(&self, head: &H) -> Option<String> {
        let token = match self {
            Self::Named(name) => head.header_str(name.as_str())?.trim(),
            Self::Bearer { .. } => {
                let value = head.header_str(AUTHORIZATION.as_str())?.trim();
                let (scheme, token) = value.split_once(' ')?;
                if !scheme.eq_ignore_ascii_case("bearer") {
                    return None;
                }
                token.trim()
            }
        };
        (!token.is_empty() && token.len() <= MAX_TOKEN_VALUE_LEN).then(|| token.to_owned())
    }

    /// The request header the token comes in (what a response's `Vary` names).
    pub fn request_name(&self) -> &HeaderName {
        match self {
            Self::Named(name) => name,
            Self::Bearer { .. } => &AUTHORIZATION,
        }
    }

    /// The response header a new or rotated token goes in.
    pub fn response_name(&self) -> &HeaderName {
        match self {
            Self::Named(name) => name,
            Self::Bearer { response } => response,
        }
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn bearer(value: &str) -> Option<String> {
        let mut parts = http::Request::new(()).into_parts().0;
        parts
            .headers
            .insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        TokenHeader::Bearer {
            response: HeaderName::from_static("x-session-token"),
        }
        .token(&parts)
    }

    #[test]
    fn bearer_tokens_are_read_and_nothing_else() {
        assert_eq!(bearer("Bearer abc").as_deref(), Some("abc"));
        assert_eq!(bearer("bearer   abc  ").as_deref(), Some("abc"));
        assert_eq!(bearer("BEARER abc").as_deref(), Some("abc"));
        assert_eq!(bearer("Basic YWxhZGRpbjpvcGVu"), None);
        assert_eq!(bearer("Bearer"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("Bearerabc"), None);
        assert_eq!(
            bearer(&format!("Bearer {}", "a".repeat(MAX_TOKEN_VALUE_LEN + 1))),
            None
        );
    }
}

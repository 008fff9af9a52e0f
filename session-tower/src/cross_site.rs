//! Refusing cross-site requests that could change state (CSRF), on by default.
//!
//! An unsafe request (any method but `GET`, `HEAD`, `OPTIONS` and `TRACE`, and any WebSocket
//! handshake, which opens a connection that can read and write the session) is refused with `403`,
//! before the handler runs and with no session change, when the browser says it came from
//! another site or another origin of this site: `Sec-Fetch-Site` is `cross-site` or `same-site`
//! (a page on another port or subdomain), or, from a browser that does not send that header,
//! `Origin` is not the request's own origin. An origin the application trusts
//! ([`SessionLayer::trust_origin`](crate::SessionLayer::trust_origin)) is let through.
//!
//! What it does not cover: a request with neither header (not a browser's cross-site request:
//! every current browser sends one of them on a cross-origin unsafe request), state changed by
//! `GET` (don't), and script running on the site itself (XSS).

use http::header::{HOST, ORIGIN, UPGRADE};
use http::request::Parts;
use http::{HeaderName, Method};

/// The `Sec-Fetch-Site` request header.
static SEC_FETCH_SITE: HeaderName = HeaderName::from_static("sec-fetch-site");

/// The cross-site policy of a layer.
#[derive(Debug, Clone)]
pub(crate) struct CrossSite {
    pub(crate) on: bool,
    /// Origins let through, as `scheme://host[:port]`, lower case.
    pub(crate) trusted: Vec<String>,
}

impl Default for CrossSite {
    fn default() -> Self {
        Self {
            on: true,
            trusted: Vec::new(),
        }
    }
}

fn is_safe(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// `scheme://host[:port]` in lower case, without a trailing slash.
pub(crate) fn normalize(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

/// Whether `origin` names the host the request was sent to.
fn is_own_origin(origin: &str, parts: &Parts) -> bool {
    let host = parts
        .headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()));
    let Some(host) = host else {
        return false;
    };
    let origin = normalize(origin);
    let authority = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    authority.is_some_and(|a| a == host.to_ascii_lowercase())
}

/// A WebSocket handshake: a `GET`, but it opens a connection that reads and writes the session
/// (cross-site WebSocket hijacking), so it is held to the same rule as an unsafe request.
fn is_websocket_upgrade(parts: &Parts) -> bool {
    parts
        .headers
        .get(UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Whether the request must be refused.
pub(crate) fn refused(parts: &Parts, policy: &CrossSite) -> bool {
    if !policy.on || (is_safe(&parts.method) && !is_websocket_upgrade(parts)) {
        return false;
    }
    let origin = parts.headers.get(ORIGIN).and_then(|v| v.to_str().ok());
    if origin.is_some_and(|o| policy.trusted.contains(&normalize(o))) {
        return false;
    }
    match parts
        .headers
        .get(&SEC_FETCH_SITE)
        .and_then(|v| v.to_str().ok())
    {
        Some(site) => !matches!(site, "same-origin" | "none"),
        None => origin.is_some_and(|o| !is_own_origin(o, parts)),
    }
}

#[cfg(test)]
mod tests {
    use http::Request;

    use super::*;

    fn parts(method: &str, headers: &[(&str, &str)]) -> Parts {
        let mut request = Request::builder()
            .method(method)
            .uri("/x")
            .header("host", "app.example:8443");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(()).unwrap().into_parts().0
    }

    #[test]
    fn the_rules() {
        let on = CrossSite::default();
        let trusting = CrossSite {
            on: true,
            trusted: vec![normalize("https://partner.example/")],
        };
        type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], bool);
        let cases: &[Case] = &[
            ("GET", &[("sec-fetch-site", "cross-site")], false),
            ("POST", &[("sec-fetch-site", "cross-site")], true),
            ("POST", &[("sec-fetch-site", "same-site")], true),
            ("DELETE", &[("sec-fetch-site", "same-site")], true),
            ("POST", &[("sec-fetch-site", "same-origin")], false),
            ("POST", &[("sec-fetch-site", "none")], false),
            ("POST", &[("origin", "https://app.example:8443")], false),
            ("POST", &[("origin", "https://APP.example:8443/")], false),
            ("POST", &[("origin", "https://evil.example")], true),
            ("POST", &[("origin", "https://app.example:9999")], true),
            ("POST", &[("origin", "null")], true),
            ("PUT", &[], false),
            (
                "GET",
                &[("upgrade", "websocket"), ("origin", "http://evil.example")],
                true,
            ),
            (
                "GET",
                &[
                    ("upgrade", "websocket"),
                    ("origin", "https://app.example:8443"),
                ],
                false,
            ),
        ];
        for (method, headers, refuse) in cases {
            assert_eq!(
                refused(&parts(method, headers), &on),
                *refuse,
                "{method} {headers:?}"
            );
        }
        let partner = parts(
            "POST",
            &[
                ("sec-fetch-site", "cross-site"),
                ("origin", "https://partner.example"),
            ],
        );
        assert!(!refused(&partner, &trusting));
        assert!(refused(&partner, &on));
        let off = CrossSite {
            on: false,
            trusted: Vec::new(),
        };
        assert!(!refused(
            &parts("POST", &[("sec-fetch-site", "cross-site")]),
            &off
        ));
    }
}

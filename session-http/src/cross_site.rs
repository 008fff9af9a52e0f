//! Refusing cross-site requests that could change state (CSRF), on by default.
//!
//! An unsafe request (any method but `GET`, `HEAD`, `OPTIONS` and `TRACE`, and any WebSocket
//! handshake, which opens a connection that can read and write the session) is refused with `403`,
//! before the handler runs and with no session change, when the browser says it came from
//! another site or another origin of this site: `Sec-Fetch-Site` is `cross-site` or `same-site`
//! (a page on another port or subdomain), or, from a browser that does not send that header,
//! `Origin` is not the request's own origin. An origin the application trusts
//! ([`HttpSessions::trust_origin`](crate::HttpSessions::trust_origin)) is let through.
//!
//! What it does not cover: a request with neither header (not a browser's cross-site request:
//! every current browser sends one of them on a cross-origin unsafe request), state changed by
//! `GET` (don't), and script running on the site itself (XSS).

use crate::RequestHead;

/// The cross-site policy of a set of sessions.
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

fn is_safe(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "OPTIONS" | "TRACE")
}

/// `scheme://host[:port]` in lower case, without a trailing slash.
pub(crate) fn normalize(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

/// Whether `origin` names the host the request was sent to.
fn is_own_origin<H: RequestHead + ?Sized>(origin: &str, head: &H) -> bool {
    let host = head.header_str("host").or_else(|| head.uri_authority());
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
fn is_websocket_upgrade<H: RequestHead + ?Sized>(head: &H) -> bool {
    head.header_str("upgrade")
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Whether the request must be refused.
pub(crate) fn refused<H: RequestHead + ?Sized>(head: &H, policy: &CrossSite) -> bool {
    if !policy.on || (is_safe(head.method()) && !is_websocket_upgrade(head)) {
        return false;
    }
    let origin = head.header_str("origin");
    if origin.is_some_and(|o| policy.trusted.contains(&normalize(o))) {
        return false;
    }
    match head.header_str("sec-fetch-site") {
        Some(site) => !matches!(site, "same-origin" | "none"),
        None => origin.is_some_and(|o| !is_own_origin(o, head)),
    }
}

#[cfg(test)]
mod tests {
    use http::Request;
    use http::request::Parts;

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

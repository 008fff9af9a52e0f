//! `RequestHead`: what the session logic reads of a request, whatever the framework's types.

/// The parts of a request the session logic reads: its method, its headers as bytes, and the
/// authority of its URI. Implemented here for [`http::request::Parts`] (tower, axum, hyper);
/// another framework's bridge implements it over its own request type.
pub trait RequestHead {
    /// The request method, in upper case as sent (`GET`, `POST`, ...).
    fn method(&self) -> &str;

    /// The first value of header `name` (lower case), as bytes.
    fn header(&self, name: &str) -> Option<&[u8]>;

    /// Calls `each` with every value of header `name` (lower case), in the order received.
    fn each_header(&self, name: &str, each: &mut dyn FnMut(&[u8]));

    /// The authority of the request's URI, when it has one (HTTP/2 requests, absolute-form
    /// URIs): the host the request was sent to when there is no `Host` header.
    fn uri_authority(&self) -> Option<&str>;

    /// The first value of header `name` as text, when it is visible ASCII.
    fn header_str(&self, name: &str) -> Option<&str> {
        let bytes = self.header(name)?;
        if bytes
            .iter()
            .all(|b| (0x20..0x7f).contains(b) || *b == b'\t')
        {
            std::str::from_utf8(bytes).ok()
        } else {
            None
        }
    }
}

impl RequestHead for http::request::Parts {
    fn method(&self) -> &str {
        self.method.as_str()
    }

    fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers.get(name).map(http::HeaderValue::as_bytes)
    }

    fn each_header(&self, name: &str, each: &mut dyn FnMut(&[u8])) {
        for value in self.headers.get_all(name) {
            each(value.as_bytes());
        }
    }

    fn uri_authority(&self) -> Option<&str> {
        self.uri.authority().map(http::uri::Authority::as_str)
    }
}

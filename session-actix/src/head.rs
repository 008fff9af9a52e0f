//! An actix-web request as the session rules read it.

use actix_web::HttpRequest;
use session_http::RequestHead;

/// An actix-web request seen through [`RequestHead`] (actix-web has its own `http` types).
pub(crate) struct Head<'a>(pub(crate) &'a HttpRequest);

impl RequestHead for Head<'_> {
    fn method(&self) -> &str {
        self.0.method().as_str()
    }

    fn header(&self, name: &str) -> Option<&[u8]> {
        self.0.headers().get(name).map(|v| v.as_bytes())
    }

    fn each_header(&self, name: &str, each: &mut dyn FnMut(&[u8])) {
        for value in self.0.headers().get_all(name) {
            each(value.as_bytes());
        }
    }

    fn uri_authority(&self) -> Option<&str> {
        self.0.uri().authority().map(|a| a.as_str())
    }
}

/// The default device context: the `User-Agent`, shortened, and an empty context when the
/// request has none (so leaving the header out cannot dodge device binding).
pub fn user_agent_device(request: &HttpRequest) -> Option<String> {
    session_http::user_agent_device(&Head(request))
}

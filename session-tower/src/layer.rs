//! `SessionLayer`: the tower layer and its settings.

use std::sync::Arc;

use http::request::Parts;
use http::{HeaderName, HeaderValue, Response, StatusCode};
use session_core::{SessionError, SessionManager};
use session_http::HttpSessions;
use tower::Layer;

use crate::{CookieConfig, SessionService, SigningKeys, TokenHeader};

/// Makes the response for a request whose session store failed.
pub type UnavailableHandler = Arc<dyn Fn(&SessionError) -> Response<String> + Send + Sync>;

/// Gives a request's device context: recorded on the sessions it creates (and shown in session
/// lists), and compared on load when the manager binds devices. `None` means "no context": such a
/// request never has a session ended by device binding, so only return it where that is right.
pub type DeviceContext = Arc<dyn Fn(&Parts) -> Option<String> + Send + Sync>;

/// The default device context: the `User-Agent`, shortened, and an empty context when the
/// request has none (so leaving the header out cannot dodge device binding).
pub fn user_agent_device(parts: &Parts) -> Option<String> {
    session_http::user_agent_device(parts)
}

/// The settings a [`SessionService`] runs with.
#[derive(Clone)]
pub(crate) struct Settings {
    pub(crate) sessions: HttpSessions,
    pub(crate) device: DeviceContext,
    pub(crate) on_unavailable: UnavailableHandler,
}

/// The default answer to a store failure: `503 Service Unavailable`, `Retry-After: 1`.
fn default_unavailable(_: &SessionError) -> Response<String> {
    let mut response = Response::new("session store unavailable".to_owned());
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    response.headers_mut().insert(
        http::header::RETRY_AFTER,
        http::HeaderValue::from_static("1"),
    );
    response
}

/// A tower [`Layer`] that gives each request a [`LazySession`](crate::LazySession) and saves it
/// once per response. The rules it keeps (cookies, signing, header tokens, the cross-site guard)
/// are [`HttpSessions`]', shared with the other framework bridges.
///
/// # Examples
/// ```
/// use session_core::SessionManager;
/// use session_store_memory::MemoryStore;
/// use session_tower::{CookieConfig, SessionLayer, SigningKeys};
///
/// let manager = SessionManager::new(MemoryStore::new());
/// let layer = SessionLayer::new(manager)
///     .cookie(CookieConfig::default().name("app"))
///     .signing_keys(SigningKeys::new(vec![vec![7; 32]]).expect("a 32-byte key"));
/// ```
#[derive(Clone)]
pub struct SessionLayer {
    settings: Arc<Settings>,
}

impl SessionLayer {
    /// A layer over `manager`, with the default cookie, unsigned cookies, no header, the
    /// `User-Agent` as device context ([`user_agent_device`]), and `503` on store failure.
    pub fn new(manager: SessionManager) -> Self {
        Self::from_sessions(HttpSessions::new(manager))
    }

    /// A layer keeping `sessions`' rules (the same value can configure another framework's
    /// bridge), with the `User-Agent` as device context and `503` on store failure.
    pub fn from_sessions(sessions: HttpSessions) -> Self {
        Self {
            settings: Arc::new(Settings {
                sessions,
                device: Arc::new(user_agent_device),
                on_unavailable: Arc::new(default_unavailable),
            }),
        }
    }

    fn with(mut self, change: impl FnOnce(&mut Settings)) -> Self {
        change(Arc::make_mut(&mut self.settings));
        self
    }

    fn sessions(self, change: impl FnOnce(HttpSessions) -> HttpSessions) -> Self {
        self.with(|s| s.sessions = change(s.sessions.clone()))
    }

    /// The cookie's name and attributes. The default is [`CookieConfig::default`].
    pub fn cookie(self, cookie: CookieConfig) -> Self {
        self.sessions(|s| s.cookie(cookie))
    }

    /// Signs cookies with HMAC-SHA256 ([`HttpSessions::signing_keys`]).
    pub fn signing_keys(self, keys: SigningKeys) -> Self {
        self.sessions(|s| s.signing_keys(keys))
    }

    /// Also accepts the token from this request header ([`HttpSessions::header`]).
    pub fn header(self, name: HeaderName) -> Self {
        self.sessions(|s| s.header(name))
    }

    /// Also accepts the token from a header, beside the cookie
    /// ([`HttpSessions::token_header`]).
    pub fn token_header(self, header: TokenHeader) -> Self {
        self.sessions(|s| s.token_header(header))
    }

    /// Tokens in this header only, for API and mobile clients ([`HttpSessions::header_only`]).
    pub fn header_only(self, header: TokenHeader) -> Self {
        self.sessions(|s| s.header_only(header))
    }

    /// Whether the `User-Agent` is the session's device context (shown in session lists, and
    /// checked when the manager binds devices); `false` records none. The default is `true`.
    pub fn device_from_user_agent(self, on: bool) -> Self {
        if on {
            self.device_context(user_agent_device)
        } else {
            self.device_context(|_| None)
        }
    }

    /// How the device context is read from a request. The default is [`user_agent_device`].
    ///
    /// # Examples
    /// Behind a proxy, bind sessions to the browser and the client's address:
    /// ```
    /// use session_core::SessionManager;
    /// use session_store_memory::MemoryStore;
    /// use session_tower::{SessionLayer, user_agent_device};
    ///
    /// let layer = SessionLayer::new(SessionManager::new(MemoryStore::new())).device_context(|parts| {
    ///     let ip = parts.headers.get("x-real-ip").and_then(|v| v.to_str().ok()).unwrap_or("");
    ///     Some(format!("{} @ {ip}", user_agent_device(parts)?))
    /// });
    /// ```
    pub fn device_context(
        self,
        device: impl Fn(&Parts) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.with(|s| s.device = Arc::new(device))
    }

    /// Whether cross-site requests that could change state are refused with `403`
    /// ([`HttpSessions::cross_site_protection`]). The default is `true`.
    pub fn cross_site_protection(self, on: bool) -> Self {
        self.sessions(|s| s.cross_site_protection(on))
    }

    /// Lets unsafe requests from `origin` through the cross-site protection
    /// ([`HttpSessions::trust_origin`]).
    pub fn trust_origin(self, origin: &str) -> Self {
        self.sessions(|s| s.trust_origin(origin))
    }

    /// The `Cache-Control` of every response whose handler consulted the session, unless the
    /// handler set its own ([`HttpSessions::cache_control`]). The default is
    /// [`SESSION_CACHE_CONTROL`](crate::SESSION_CACHE_CONTROL); `None` leaves it to the handler.
    /// A value that is not visible ASCII is refused as no value.
    pub fn cache_control(self, value: Option<HeaderValue>) -> Self {
        let value = value.and_then(|v| v.to_str().ok().map(str::to_owned));
        self.sessions(|s| s.cache_control(value))
    }

    /// The response to send when the store fails during load or save. The default is `503`.
    pub fn on_unavailable(
        self,
        handler: impl Fn(&SessionError) -> Response<String> + Send + Sync + 'static,
    ) -> Self {
        self.with(|s| s.on_unavailable = Arc::new(handler))
    }
}

impl<S> Layer<S> for SessionLayer {
    type Service = SessionService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionService::new(inner, self.settings.clone())
    }
}

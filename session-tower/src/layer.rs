//! `SessionLayer`: the tower layer and its settings.

use std::sync::Arc;

use http::request::Parts;
use http::{HeaderName, HeaderValue, Response, StatusCode};
use session_core::{SessionError, SessionManager};
use tower::Layer;

use crate::cross_site::CrossSite;
use crate::header::TokenHeader;
use crate::{CookieConfig, SessionService, SigningKeys};

/// Makes the response for a request whose session store failed.
pub type UnavailableHandler = Arc<dyn Fn(&SessionError) -> Response<String> + Send + Sync>;

/// Gives a request's device context: recorded on the sessions it creates (and shown in session
/// lists), and compared on load when the manager binds devices. `None` means "no context": such a
/// request never has a session ended by device binding, so only return it where that is right.
pub type DeviceContext = Arc<dyn Fn(&Parts) -> Option<String> + Send + Sync>;

/// The longest `User-Agent` kept as a device context.
const MAX_DEVICE_LEN: usize = 256;

/// The default device context: the `User-Agent`, shortened, and an empty context when the
/// request has none (so leaving the header out cannot dodge device binding).
pub fn user_agent_device(parts: &Parts) -> Option<String> {
    let agent = parts
        .headers
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    Some(agent.chars().take(MAX_DEVICE_LEN).collect())
}

/// The settings a [`SessionService`] runs with.
#[derive(Clone)]
pub(crate) struct Settings {
    pub(crate) manager: SessionManager,
    pub(crate) cookie: CookieConfig,
    pub(crate) signing: Option<SigningKeys>,
    pub(crate) header: Option<TokenHeader>,
    /// Whether tokens travel in cookies at all (`false`: in the header only).
    pub(crate) cookies: bool,
    pub(crate) device: DeviceContext,
    pub(crate) cross_site: CrossSite,
    pub(crate) on_unavailable: UnavailableHandler,
    /// The `Cache-Control` of a response whose handler consulted the session.
    pub(crate) cache_control: Option<HeaderValue>,
}

/// The default `Cache-Control` of a response that consulted the session: a page rendered from
/// a user's session is theirs alone, never kept by a shared cache or the browser's history.
pub const SESSION_CACHE_CONTROL: &str = "private, no-store";

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
/// once per response.
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
        Self {
            settings: Arc::new(Settings {
                manager,
                cookie: CookieConfig::default(),
                signing: None,
                header: None,
                cookies: true,
                device: Arc::new(user_agent_device),
                cross_site: CrossSite::default(),
                on_unavailable: Arc::new(default_unavailable),
                cache_control: Some(HeaderValue::from_static(SESSION_CACHE_CONTROL)),
            }),
        }
    }

    fn with(mut self, change: impl FnOnce(&mut Settings)) -> Self {
        change(Arc::make_mut(&mut self.settings));
        self
    }

    /// The cookie's name and attributes. The default is [`CookieConfig::default`].
    pub fn cookie(self, cookie: CookieConfig) -> Self {
        self.with(|s| s.cookie = cookie)
    }

    /// Signs cookies with HMAC-SHA256: the first key signs, every key verifies. An unsigned or
    /// tampered cookie is no session. The default is unsigned (the token is already 256 random
    /// bits; signing adds key rotation and a cheap reject before any lookup).
    pub fn signing_keys(self, keys: SigningKeys) -> Self {
        self.with(|s| s.signing = Some(keys))
    }

    /// Also accepts the token from this request header (for API clients), and returns a new
    /// token in it. The default is none: the cookie only. Tokens are never read from the URL.
    /// The same as `token_header(TokenHeader::Named(name))`.
    pub fn header(self, name: HeaderName) -> Self {
        self.token_header(TokenHeader::Named(name))
    }

    /// Also accepts the token from a header, beside the cookie: a session found by the header
    /// is answered in the header (its new or rotated token in
    /// [`TokenHeader::response_name`](TokenHeader)), one found by a cookie in the cookie. A
    /// request that carries the header and no cookie of ours is not checked by the cross-site
    /// guard: another site's form or link cannot add a header, and nothing it could ride on is
    /// in the request.
    pub fn token_header(self, header: TokenHeader) -> Self {
        self.with(|s| s.header = Some(header))
    }

    /// Tokens in this header only, for API and mobile clients: no cookie is read or set, so a
    /// cookie planted in the client's jar changes nothing; a new session's token and a rotated
    /// one are answered in the header; a logout answers no token (the client drops its own).
    /// The cross-site guard is off (it guards what a browser sends by itself, which is cookies).
    pub fn header_only(self, header: TokenHeader) -> Self {
        self.with(|s| {
            s.header = Some(header);
            s.cookies = false;
        })
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

    /// Whether cross-site requests that could change state are refused with `403` (see the
    /// crate docs' "Cross-site requests"). The default is `true`; turn it off only behind a
    /// protection of your own.
    pub fn cross_site_protection(self, on: bool) -> Self {
        self.with(|s| s.cross_site.on = on)
    }

    /// Lets unsafe requests from `origin` (`https://partner.example`, scheme, host and port)
    /// through the cross-site protection. The default is no trusted origin.
    pub fn trust_origin(self, origin: &str) -> Self {
        let origin = crate::cross_site::normalize(origin);
        self.with(|s| s.cross_site.trusted.push(origin))
    }

    /// The `Cache-Control` of every response whose handler consulted the session (read it, wrote
    /// it, or found there was none), unless the handler set its own; such responses also get
    /// `Vary: Cookie` (and the token header's name, with [`SessionLayer::header`]). The default is
    /// [`SESSION_CACHE_CONTROL`] (`private, no-store`); `None` leaves `Cache-Control` to the
    /// handler. A response that sets or clears the token is always `no-store`, whatever this is.
    pub fn cache_control(self, value: Option<HeaderValue>) -> Self {
        self.with(|s| s.cache_control = value)
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

//! `HttpSessions`: a manager and the settings of how its sessions travel over HTTP.

use std::sync::Arc;

use http::HeaderName;
use session_core::SessionManager;

use crate::cross_site::{self, CrossSite};
use crate::{CookieConfig, SigningKeys, TokenHeader};

/// The default `Cache-Control` of a response that consulted the session: a page rendered from
/// a user's session is theirs alone, never kept by a shared cache or the browser's history.
pub const SESSION_CACHE_CONTROL: &str = "private, no-store";

/// A [`SessionManager`] and how its tokens travel: the cookie, signing, a token header, the
/// cross-site guard and the `Cache-Control` of session responses. Every framework bridge
/// (`session-tower`, `session-actix`) runs its requests through one of these, so they keep the
/// same rules.
///
/// # Examples
/// ```
/// use session_core::SessionManager;
/// use session_http::{CookieConfig, HttpSessions, SigningKeys};
/// use session_store_memory::MemoryStore;
///
/// let sessions = HttpSessions::new(SessionManager::new(MemoryStore::new()))
///     .cookie(CookieConfig::default().name("app"))
///     .signing_keys(SigningKeys::new(vec![vec![7; 32]]).expect("a 32-byte key"))
///     .trust_origin("https://partner.example");
/// assert_eq!(sessions.cookie_config().cookie_name(), "__Host-app");
/// ```
#[derive(Clone)]
pub struct HttpSessions {
    pub(crate) inner: Arc<Policy>,
}

#[derive(Clone)]
pub(crate) struct Policy {
    pub(crate) manager: SessionManager,
    pub(crate) cookie: CookieConfig,
    pub(crate) signing: Option<SigningKeys>,
    pub(crate) header: Option<TokenHeader>,
    /// Whether tokens travel in cookies at all (`false`: in the header only).
    pub(crate) cookies: bool,
    pub(crate) cross_site: CrossSite,
    /// The `Cache-Control` of a response whose handler consulted the session.
    pub(crate) cache_control: Option<String>,
}

impl std::fmt::Debug for HttpSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSessions")
            .field("cookie", &self.inner.cookie)
            .field("signed", &self.inner.signing.is_some())
            .field("header", &self.inner.header)
            .field("cookies", &self.inner.cookies)
            .finish_non_exhaustive()
    }
}

impl HttpSessions {
    /// Sessions of `manager` with the default cookie ([`CookieConfig::default`]), unsigned
    /// cookies, no token header, the cross-site guard on, and [`SESSION_CACHE_CONTROL`].
    pub fn new(manager: SessionManager) -> Self {
        Self {
            inner: Arc::new(Policy {
                manager,
                cookie: CookieConfig::default(),
                signing: None,
                header: None,
                cookies: true,
                cross_site: CrossSite::default(),
                cache_control: Some(SESSION_CACHE_CONTROL.to_owned()),
            }),
        }
    }

    fn with(mut self, change: impl FnOnce(&mut Policy)) -> Self {
        change(Arc::make_mut(&mut self.inner));
        self
    }

    /// The manager behind these sessions.
    pub fn manager(&self) -> &SessionManager {
        &self.inner.manager
    }

    /// The cookie's name and attributes.
    pub fn cookie_config(&self) -> &CookieConfig {
        &self.inner.cookie
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
    /// [`TokenHeader::response_name`]), one found by a cookie in the cookie. A request that
    /// carries the header and no cookie of ours is not checked by the cross-site guard: another
    /// site's form or link cannot add a header, and nothing it could ride on is in the request.
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

    /// Whether cross-site requests that could change state are refused with `403` (see the
    /// crate docs' "Cross-site requests"). The default is `true`; turn it off only behind a
    /// protection of your own.
    pub fn cross_site_protection(self, on: bool) -> Self {
        self.with(|s| s.cross_site.on = on)
    }

    /// Lets unsafe requests from `origin` (`https://partner.example`, scheme, host and port)
    /// through the cross-site protection. The default is no trusted origin.
    pub fn trust_origin(self, origin: &str) -> Self {
        let origin = cross_site::normalize(origin);
        self.with(|s| s.cross_site.trusted.push(origin))
    }

    /// The `Cache-Control` of every response whose handler consulted the session (read it, wrote
    /// it, or found there was none), unless the handler set its own; such responses also get
    /// `Vary: Cookie` (and the token header's name). The default is [`SESSION_CACHE_CONTROL`]
    /// (`private, no-store`); `None` leaves `Cache-Control` to the handler. A response that
    /// sets or clears the token is always `no-store`, whatever this is.
    pub fn cache_control(self, value: Option<String>) -> Self {
        self.with(|s| s.cache_control = value)
    }
}

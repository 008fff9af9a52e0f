//! `CookieConfig`: the session cookie's name and attributes, with safe defaults.

use std::time::Duration;

use cookie::{Cookie, SameSite};

/// The default cookie name (with the `__Host-` prefix added when the cookie is `Secure` and has
/// no `Domain`).
pub const DEFAULT_COOKIE_NAME: &str = "session";

/// The session cookie's name and attributes.
///
/// The defaults are the safe ones: `HttpOnly`, `Secure`, `SameSite=Lax`, `Path=/`, no `Domain`,
/// the `__Host-` name prefix, and a `Max-Age` that follows the session's expiry.
///
/// # Examples
/// ```
/// use session_http::CookieConfig;
/// use cookie::SameSite;
///
/// let cookie = CookieConfig::default().name("sid").same_site(SameSite::Strict);
/// // For plain-HTTP development only:
/// let dev = CookieConfig::default().secure(false);
/// assert_eq!(dev.cookie_name(), "session");
/// assert_eq!(CookieConfig::default().cookie_name(), "__Host-session");
/// ```
#[derive(Debug, Clone)]
pub struct CookieConfig {
    name: String,
    secure: bool,
    http_only: bool,
    same_site: SameSite,
    path: String,
    domain: Option<String>,
    browser_session: bool,
}

impl Default for CookieConfig {
    fn default() -> Self {
        Self {
            name: DEFAULT_COOKIE_NAME.into(),
            secure: true,
            http_only: true,
            same_site: SameSite::Lax,
            path: "/".into(),
            domain: None,
            browser_session: false,
        }
    }
}

impl CookieConfig {
    /// The cookie's base name. The default is [`DEFAULT_COOKIE_NAME`].
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Whether the cookie is `Secure` (sent over HTTPS only). The default is `true`; turn it off
    /// only for plain-HTTP development.
    pub fn secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// Whether the cookie is `HttpOnly` (hidden from scripts). The default is `true`.
    pub fn http_only(mut self, http_only: bool) -> Self {
        self.http_only = http_only;
        self
    }

    /// The `SameSite` attribute. The default is `Lax`.
    pub fn same_site(mut self, same_site: SameSite) -> Self {
        self.same_site = same_site;
        self
    }

    /// The `Path` attribute. The default is `/`. Any other path drops the `__Host-` prefix.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// The `Domain` attribute. The default is none (the cookie goes to this host only). A domain
    /// drops the `__Host-` prefix.
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// Whether the cookie lasts only as long as the browser session (no `Max-Age`). The default
    /// is `false`: `Max-Age` follows the session's expiry.
    pub fn browser_session(mut self, on: bool) -> Self {
        self.browser_session = on;
        self
    }

    /// The name the cookie is sent under: `__Host-<name>` when it is `Secure`, has `Path=/` and
    /// no `Domain` (browsers then refuse it from anywhere else), else `<name>`.
    pub fn cookie_name(&self) -> String {
        if self.secure && self.domain.is_none() && self.path == "/" {
            format!("__Host-{}", self.name)
        } else {
            self.name.clone()
        }
    }

    /// A `Set-Cookie` value carrying `value`, living `max_age` (ignored for a browser-session
    /// cookie).
    pub(crate) fn build(&self, value: String, max_age: Duration) -> Cookie<'static> {
        let mut cookie = self.base(value);
        if !self.browser_session {
            let secs = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
            cookie.set_max_age(cookie::time::Duration::seconds(secs));
        }
        cookie
    }

    /// A `Set-Cookie` value that removes the cookie (`Max-Age=0`).
    pub(crate) fn removal(&self) -> Cookie<'static> {
        let mut cookie = self.base(String::new());
        cookie.set_max_age(cookie::time::Duration::ZERO);
        cookie
    }

    fn base(&self, value: String) -> Cookie<'static> {
        let mut cookie = Cookie::new(self.cookie_name(), value);
        cookie.set_secure(self.secure);
        cookie.set_http_only(self.http_only);
        cookie.set_same_site(self.same_site);
        cookie.set_path(self.path.clone());
        if let Some(domain) = &self.domain {
            cookie.set_domain(domain.clone());
        }
        cookie
    }
}

//! `SessionService`: reads the token from the request, hands the handler a lazy session, and
//! after the response saves it once and sets or clears the cookie.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use cookie::Cookie;
use http::header::{CACHE_CONTROL, SET_COOKIE, VARY};
use http::{HeaderMap, HeaderValue, Request, Response};
use session_core::{Session, SessionError, StoreError};
use tower::Service;

use crate::layer::Settings;
use crate::lazy::{LazySession, Slot};
use crate::signing::Verified;
use crate::{cookies, cross_site};

/// Where the request's token came from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    Cookie,
    Header,
}

/// The token a request presented.
#[derive(Debug, Clone)]
struct Presented {
    token: String,
    source: Source,
    /// Signed with an older key: the response re-signs it with the newest.
    resign: bool,
}

/// The service [`SessionLayer`](crate::SessionLayer) wraps around an inner service.
#[derive(Clone)]
pub struct SessionService<S> {
    inner: S,
    settings: Arc<Settings>,
}

impl<S> SessionService<S> {
    pub(crate) fn new(inner: S, settings: Arc<Settings>) -> Self {
        Self { inner, settings }
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for SessionService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: From<String> + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        // Call the service that was polled ready, and leave a fresh clone for the next call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let settings = self.settings.clone();
        let Ok(presented) = presented_tokens(request.headers(), &settings) else {
            // Cookie tossing: refused before any session I/O, and no cookie is set or cleared.
            return Box::pin(async { Ok(too_many_cookies()) });
        };
        let (parts, body) = request.into_parts();
        if guarded(&settings, &presented) && cross_site::refused(&parts, &settings.cross_site) {
            // Before the handler and before any session I/O: nothing changes.
            return Box::pin(async { Ok(forbidden()) });
        }
        let device = (settings.device)(&parts);
        let mut request = Request::from_parts(parts, body);
        let tokens = presented.iter().map(|p| p.token.clone()).collect();
        let lazy = LazySession::new(settings.manager.clone(), tokens, device);
        request.extensions_mut().insert(lazy.clone());
        Box::pin(async move {
            let response = inner.call(request).await?;
            Ok(finish(&settings, &lazy, presented, response).await)
        })
    }
}

/// Whether the cross-site guard looks at this request: not when tokens travel in a header only,
/// nor when the request carries a header token and no cookie of ours (another site's form or
/// link can add neither a header nor a cookie it does not have). A request with no token at all
/// is guarded while cookies are on: a cross-site login would plant the attacker's session.
fn guarded(settings: &Settings, presented: &[Presented]) -> bool {
    let by_cookie = presented.iter().any(|p| p.source == Source::Cookie);
    let by_header = presented.iter().any(|p| p.source == Source::Header);
    settings.cookies && (by_cookie || !by_header)
}

/// The tokens a request presents, in the order to try them: every cookie of our name (read from
/// the raw header bytes, see `cookies`), each checked against the signing keys when cookies are
/// signed, then the configured header. Never from the URL. With the `__Host-` prefix (the
/// default), a cookie without it is not ours at all, so a subdomain or a plain-HTTP page cannot
/// plant one.
fn presented_tokens(
    headers: &HeaderMap,
    settings: &Settings,
) -> Result<Vec<Presented>, cookies::TooManyCookies> {
    let name = settings.cookie.cookie_name();
    let mut raw: Vec<(String, Source)> = Vec::new();
    if settings.cookies {
        raw.extend(
            cookies::values(headers, &name)?
                .into_iter()
                .map(|value| (value, Source::Cookie)),
        );
    }
    if let Some(value) = settings.header.as_ref().and_then(|h| h.token(headers)) {
        raw.push((value, Source::Header));
    }
    Ok(raw
        .into_iter()
        .filter_map(|(value, source)| match &settings.signing {
            None => Some(Presented {
                token: value,
                source,
                resign: false,
            }),
            Some(keys) => match keys.verify(&name, &value)? {
                Verified::Current(token) => Some(Presented {
                    token,
                    source,
                    resign: false,
                }),
                Verified::Old(token) => Some(Presented {
                    token,
                    source,
                    resign: true,
                }),
            },
        })
        .collect())
}

/// The token as it goes to the client: signed when signing is on.
fn outgoing(settings: &Settings, token: &str) -> String {
    match &settings.signing {
        Some(keys) => keys.sign(&settings.cookie.cookie_name(), token),
        None => token.to_owned(),
    }
}

/// How long the cookie should live: as long as the session would without another visit (its
/// idle timeout, cut short by the absolute lifetime); with no session, the manager's idle timeout.
fn max_age(settings: &Settings, session: Option<&Session>) -> Duration {
    session.map_or(
        settings.manager.config().idle_timeout(),
        Session::expires_in,
    )
}

/// Saves the session once and sets, refreshes or clears the token.
async fn finish<B: From<String>>(
    settings: &Settings,
    lazy: &LazySession,
    presented: Vec<Presented>,
    mut response: Response<B>,
) -> Response<B> {
    // Changed before any read: read now (the save would), so which token found the session,
    // and whether it came by cookie or header, is known before answering.
    let slot = lazy.slot().await;
    if let Slot::Present(session) = &slot
        && session.is_unread()
        && session.is_dirty()
        && let Err(error) = session.preload(&[]).await
    {
        return unavailable(settings, &error);
    }
    // The token the session came from, else the first one presented.
    let presented = lazy
        .used()
        .await
        .and_then(|i| presented.get(i))
        .or(presented.first())
        .cloned();
    // A read that failed in the store, even one the handler went on without: which session
    // the request has is not known, so its answer must not stand.
    let read_failed = matches!(&slot, Slot::Present(session) if session.read_failed());
    if lazy.failed() || read_failed {
        let error = SessionError::Store(StoreError::timeout("loading the session"));
        return unavailable(settings, &error);
    }
    let header_mode = !settings.cookies
        || presented
            .as_ref()
            .is_some_and(|p| p.source == Source::Header);
    let slot = match slot {
        // Handed out but never read or changed: as if never asked for.
        Slot::Present(session) if session.is_unread() && !session.is_dirty() => Slot::Untouched,
        slot => slot,
    };
    if !matches!(slot, Slot::Untouched) {
        private(settings, &mut response);
    }
    match slot {
        Slot::Untouched => {
            if let Some(p) = presented.filter(|p| p.resign) {
                send_token(settings, &mut response, &p.token, None, header_mode);
            }
        }
        Slot::Missing => {
            if presented.is_some() && !header_mode {
                clear_cookie(settings, &mut response);
            }
        }
        Slot::Present(session) => {
            if session.is_destroyed() {
                if !header_mode {
                    clear_cookie(settings, &mut response);
                }
                return response;
            }
            if session.is_rotated_out() {
                // A request still holding a rotated-out token: it could only read, there is
                // nothing to save, and its cookie is left alone (the response that rotated it
                // carries the new one).
                return response;
            }
            let wrote = match session.save().await {
                Ok(wrote) => wrote,
                Err(SessionError::Destroyed) => {
                    if !header_mode {
                        clear_cookie(settings, &mut response);
                    }
                    return response;
                }
                Err(SessionError::RotatedOut) => {
                    // Another request rotated the session while this one changed it: the change
                    // was refused, so the handler's answer must not stand.
                    return rotated_out();
                }
                Err(error) => {
                    tracing::warn!(session = %session.id().short(), %error, "saving the session failed");
                    return unavailable(settings, &error);
                }
            };
            if session.is_new() {
                return response; // never written: no cookie, nothing stored
            }
            let token = session.token();
            let changed = presented.as_ref().is_none_or(|p| p.token != token.as_str());
            let resign = presented.as_ref().is_some_and(|p| p.resign);
            if changed || wrote || resign {
                send_token(
                    settings,
                    &mut response,
                    token.as_str(),
                    Some(&session),
                    header_mode,
                );
            }
        }
    }
    response
}

fn send_token<B>(
    settings: &Settings,
    response: &mut Response<B>,
    token: &str,
    session: Option<&Session>,
    header_mode: bool,
) {
    let value = outgoing(settings, token);
    if header_mode {
        if let (Some(header), Ok(value)) = (&settings.header, HeaderValue::from_str(&value)) {
            let name = header.response_name().clone();
            response.headers_mut().insert(name, value);
            no_store(response);
        }
        return;
    }
    let cookie = settings.cookie.build(value, max_age(settings, session));
    set_cookie(response, &cookie);
}

fn clear_cookie<B>(settings: &Settings, response: &mut Response<B>) {
    set_cookie(response, &settings.cookie.removal());
}

fn set_cookie<B>(response: &mut Response<B>, cookie: &Cookie<'_>) {
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        response.headers_mut().append(SET_COOKIE, value);
        no_store(response);
    }
}

/// A response rendered from the session is the user's alone: the configured `Cache-Control`
/// unless the handler chose one, and `Vary` on what carries the token.
fn private<B>(settings: &Settings, response: &mut Response<B>) {
    let headers = response.headers_mut();
    if let Some(value) = &settings.cache_control
        && !headers.contains_key(CACHE_CONTROL)
    {
        headers.insert(CACHE_CONTROL, value.clone());
    }
    if settings.cookies {
        headers.append(VARY, HeaderValue::from_static("cookie"));
    }
    if let Some(header) = &settings.header
        && let Ok(value) = HeaderValue::from_str(header.request_name().as_str())
    {
        headers.append(VARY, value);
    }
}

/// A response that sets a session token must never be cached.
fn no_store<B>(response: &mut Response<B>) {
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// The answer to a cross-site request that could change state: `403 Forbidden`.
fn forbidden<B: From<String>>() -> Response<B> {
    let mut response = Response::new(B::from("cross-site request refused".to_owned()));
    *response.status_mut() = http::StatusCode::FORBIDDEN;
    response
}

/// The answer to a request carrying more cookies of our name than
/// [`MAX_CANDIDATES`](crate::MAX_CANDIDATES): `400 Bad Request`.
fn too_many_cookies<B: From<String>>() -> Response<B> {
    let text = "too many session cookies: clear this site's cookies and sign in again";
    let mut response = Response::new(B::from(text.to_owned()));
    *response.status_mut() = http::StatusCode::BAD_REQUEST;
    response
}

/// The answer to a request whose changes were refused because its token was rotated out by
/// another request meanwhile: `409 Conflict`, to be retried with the new cookie.
fn rotated_out<B: From<String>>() -> Response<B> {
    let mut response = Response::new(B::from(SessionError::RotatedOut.to_string()));
    *response.status_mut() = http::StatusCode::CONFLICT;
    response
}

fn unavailable<B: From<String>>(settings: &Settings, error: &SessionError) -> Response<B> {
    (settings.on_unavailable)(error).map(B::from)
}

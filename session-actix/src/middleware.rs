//! `SessionMiddleware`: runs each request through [`HttpSessions`]: the token in, a lazy
//! session for the handler, and after the response one save and the token headers out.

use std::future::{Ready, ready};
use std::rc::Rc;
use std::sync::Arc;

use actix_web::body::EitherBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::{Error, HttpMessage, HttpRequest, HttpResponse};
use futures::future::LocalBoxFuture;
use session_core::{SessionError, SessionManager};
use session_http::{HttpSessions, Outcome, ROTATED_OUT_BODY};

use crate::LazySession;
use crate::head::{Head, user_agent_device};
use crate::response::{Headers, text};

/// Gives a request's device context (see `session_tower::DeviceContext`): recorded on the
/// sessions it creates, compared on load when the manager binds devices.
pub type DeviceContext = Arc<dyn Fn(&HttpRequest) -> Option<String> + Send + Sync>;

/// Makes the response for a request whose session store failed.
pub type UnavailableHandler = Arc<dyn Fn(&SessionError) -> HttpResponse + Send + Sync>;

#[derive(Clone)]
struct Settings {
    sessions: HttpSessions,
    device: DeviceContext,
    on_unavailable: UnavailableHandler,
}

/// The default answer to a store failure: `503 Service Unavailable`, `Retry-After: 1`.
fn default_unavailable(_: &SessionError) -> HttpResponse {
    text(503, "session store unavailable")
}

/// actix-web middleware that gives each request a [`LazySession`] and saves it once per
/// response, keeping [`HttpSessions`]' rules (the same as `session-tower`'s layer).
///
/// # Examples
/// ```
/// use actix_web::App;
/// use session_actix::{CookieConfig, HttpSessions, SessionMiddleware};
/// use session_core::SessionManager;
/// use session_store_memory::MemoryStore;
///
/// let sessions = HttpSessions::new(SessionManager::new(MemoryStore::new()))
///     .cookie(CookieConfig::default().name("app"));
/// let app = App::new().wrap(SessionMiddleware::from_sessions(sessions));
/// ```
#[derive(Clone)]
pub struct SessionMiddleware {
    settings: Arc<Settings>,
}

impl SessionMiddleware {
    /// Middleware over `manager`, with [`HttpSessions::new`]'s defaults (the `__Host-session`
    /// cookie, unsigned, no header, the cross-site guard on), the `User-Agent` as device context
    /// and `503` on store failure.
    pub fn new(manager: SessionManager) -> Self {
        Self::from_sessions(HttpSessions::new(manager))
    }

    /// Middleware keeping `sessions`' rules.
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

    /// How the device context is read from a request. The default is
    /// [`user_agent_device`](crate::user_agent_device); `|_| None` records none.
    pub fn device_context(
        self,
        device: impl Fn(&HttpRequest) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.with(|s| s.device = Arc::new(device))
    }

    /// The response to send when the store fails during load or save. The default is `503`
    /// with `Retry-After: 1`.
    pub fn on_unavailable(
        self,
        handler: impl Fn(&SessionError) -> HttpResponse + Send + Sync + 'static,
    ) -> Self {
        self.with(|s| s.on_unavailable = Arc::new(handler))
    }
}

impl<S, B> Transform<S, ServiceRequest> for SessionMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = SessionService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(SessionService {
            service: Rc::new(service),
            settings: self.settings.clone(),
        }))
    }
}

/// The service [`SessionMiddleware`] wraps around an inner service.
pub struct SessionService<S> {
    service: Rc<S>,
    settings: Arc<Settings>,
}

impl<S, B> Service<ServiceRequest> for SessionService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, request: ServiceRequest) -> Self::Future {
        let settings = self.settings.clone();
        let begun = {
            let http = request.request();
            settings
                .sessions
                .begin(&Head(http), || (settings.device)(http))
        };
        let exchange = match begun {
            Ok(exchange) => exchange,
            // Before the handler and before any session I/O: nothing changes.
            Err(refusal) => {
                let response = text(refusal.status(), refusal.body());
                return Box::pin(ready(Ok(request
                    .into_response(response)
                    .map_into_right_body())));
            }
        };
        request
            .extensions_mut()
            .insert(LazySession(exchange.session().clone()));
        let service = self.service.clone();
        Box::pin(async move {
            let mut response = service.call(request).await?;
            Ok(match settings.sessions.finish(exchange).await {
                Outcome::Keep(edits) => {
                    edits.apply(&mut Headers(response.headers_mut()));
                    response.map_into_left_body()
                }
                Outcome::Unavailable(error) => response
                    .into_response((settings.on_unavailable)(&error))
                    .map_into_right_body(),
                Outcome::RotatedOut => response
                    .into_response(text(409, ROTATED_OUT_BODY))
                    .map_into_right_body(),
            })
        })
    }
}

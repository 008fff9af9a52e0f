//! `SessionService`: runs each request through [`HttpSessions`](session_http::HttpSessions):
//! the token in, a lazy session for the handler, and after the response one save and the token
//! headers out.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response, StatusCode};
use session_http::{Outcome, ROTATED_OUT_BODY, Refusal};
use tower::Service;

use crate::LazySession;
use crate::layer::Settings;

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
        let (parts, body) = request.into_parts();
        let exchange = match settings
            .sessions
            .begin(&parts, || (settings.device)(&parts))
        {
            Ok(exchange) => exchange,
            // Before the handler and before any session I/O: nothing changes.
            Err(refusal) => return Box::pin(async move { Ok(refused(refusal)) }),
        };
        let mut request = Request::from_parts(parts, body);
        request
            .extensions_mut()
            .insert(LazySession(exchange.session().clone()));
        Box::pin(async move {
            let mut response = inner.call(request).await?;
            Ok(match settings.sessions.finish(exchange).await {
                Outcome::Keep(edits) => {
                    edits.apply(response.headers_mut());
                    response
                }
                Outcome::Unavailable(error) => (settings.on_unavailable)(&error).map(ResBody::from),
                Outcome::RotatedOut => text(StatusCode::CONFLICT, ROTATED_OUT_BODY),
            })
        })
    }
}

/// The answer to a request refused before the handler.
fn refused<B: From<String>>(refusal: Refusal) -> Response<B> {
    let status = StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::BAD_REQUEST);
    text(status, refusal.body())
}

fn text<B: From<String>>(status: StatusCode, body: &str) -> Response<B> {
    let mut response = Response::new(B::from(body.to_owned()));
    *response.status_mut() = status;
    response
}

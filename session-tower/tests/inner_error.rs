//! An inner service that fails (`Err`, not an error response): the layer passes the error on and
//! does not save the request's pending changes. No response leaves, so no cookie could carry a
//! session it stored; the keys the handler set are dropped, for a new session and for a stored
//! one alike. (tower-sessions does the same; in axum a handler's error is a response, so this is
//! the plain-tower case.)

mod support;

use http::{Request, Response, header};
use session_core::Config;
use session_tower::{LazySession, SessionLayer};
use support::{counted_manager, dev_cookie};
use tower::{Layer, ServiceExt, service_fn};

type Failed = Box<dyn std::error::Error + Send + Sync>;

/// Sets `key`, then answers `Ok` only when `fail` is false.
async fn handler(
    request: Request<String>,
    key: &str,
    fail: bool,
) -> Result<Response<String>, Failed> {
    let lazy = request
        .extensions()
        .get::<LazySession>()
        .cloned()
        .expect("the layer put the session in");
    lazy.get().await?.set(key, "v")?;
    match fail {
        true => Err("the inner service failed".into()),
        false => Ok(Response::new(String::new())),
    }
}

#[tokio::test]
async fn an_inner_error_is_passed_on_and_nothing_is_saved() {
    let (manager, counts) = counted_manager(Config::default());
    let layer = SessionLayer::new(manager.clone()).cookie(dev_cookie());

    // A new session: the error comes back, nothing reached the store.
    let service = layer.layer(service_fn(|r| handler(r, "a", true)));
    let error = service
        .oneshot(Request::new(String::new()))
        .await
        .unwrap_err();
    assert_eq!(error.to_string(), "the inner service failed");
    assert_eq!(counts.writes(), 0, "a failed request stored a session");

    // A stored session: its cookie in, a key set, then the failure: the key is not there.
    let service = layer.layer(service_fn(|r| handler(r, "a", false)));
    let response = service.oneshot(Request::new(String::new())).await.unwrap();
    let cookie = response.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let writes = counts.writes();
    let with_cookie = || {
        Request::builder()
            .header(header::COOKIE, &cookie)
            .body(String::new())
            .unwrap()
    };
    let service = layer.layer(service_fn(|r| handler(r, "b", true)));
    assert!(service.oneshot(with_cookie()).await.is_err());
    assert_eq!(counts.writes(), writes, "a failed request wrote");
    let token = cookie.split_once('=').unwrap().1;
    let session = manager.open([token], None).unwrap();
    assert_eq!(
        session.get::<String>("a").await.unwrap().as_deref(),
        Some("v")
    );
    assert_eq!(
        session.get::<String>("b").await.unwrap(),
        None,
        "the failed change was saved"
    );
}

//! Every backend of the family by its `session-stores` URL, on the real servers the workspace's
//! test support finds or starts.

#![allow(dead_code)] // each test file uses part of it

use std::sync::Arc;

use session_core::Store;
use session_test_support::BackendUrl;

/// A store on one backend, with what keeps it alive (a SQLite file's directory).
pub struct Backend {
    pub name: &'static str,
    pub store: Arc<dyn Store>,
    _url: BackendUrl,
}

/// The store on backend `name`, at `url`.
pub async fn backend(name: &'static str, url: BackendUrl) -> Backend {
    let connected = session_stores::connect(&url.url)
        .await
        .unwrap_or_else(|e| panic!("{name} at {}: {e}", url.url));
    Backend {
        name,
        store: connected.store(),
        _url: url,
    }
}

/// One `#[tokio::test]` per backend, each running `$scenario(backend)`.
#[macro_export]
macro_rules! on_every_backend {
    ($scenario:ident) => {
        mod $scenario {
            async fn run(name: &'static str, url: session_test_support::BackendUrl) {
                super::$scenario($crate::support::backend(name, url).await).await;
            }
            session_test_support::on_every_backend!(run, concat!("ts_", stringify!($scenario)));
        }
    };
}

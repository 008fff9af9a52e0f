//! Serving the app: HTTP/1 and HTTP/2 with WebSocket upgrades, a deadline for a request's
//! headers counted from the moment the connection is accepted (so neither half-sent requests nor
//! connections that never send a byte can hold a file descriptor), and a graceful shutdown: on the
//! signal, no new connection is taken, the ones in flight finish, then live sessions are persisted
//! and released (never logged out).

use std::future::Future;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use session_core::SessionManager;
use tokio::net::TcpListener;

/// How long a client has to send a request's headers: from the accept for the first request (a
/// connection that sends nothing is closed after it), from the first byte for the next ones.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long connections in flight get to finish after the shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` until `shutdown` resolves, then shuts down gracefully; a client
/// gets `header_read_timeout` ([`HEADER_READ_TIMEOUT`] in the binary) to send a request's headers.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    manager: SessionManager,
    header_read_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(accepted) => accepted,
                    // Out of file descriptors and the like: try again shortly.
                    Err(error) => {
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let service = TowerToHyperService::new(app.clone());
                let (builder, watcher) = (builder.clone(), graceful.watcher());
                tokio::spawn(async move {
                    // The auto builder reads the first bytes to tell HTTP/1 from HTTP/2 before
                    // hyper's header deadline starts: without this wait, a client that never
                    // sends a byte would hold the connection forever.
                    let mut first = [0u8; 1];
                    match tokio::time::timeout(header_read_timeout, stream.peek(&mut first)).await {
                        Ok(Ok(1..)) => {}
                        Ok(Ok(0) | Err(_)) | Err(_) => return,
                    }
                    let connection = builder
                        .serve_connection_with_upgrades(TokioIo::new(stream), service)
                        .into_owned();
                    let _ = watcher.watch(connection).await;
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the shutdown grace");
    }
    if let Err(error) = manager.shutdown(true).await {
        tracing::warn!(%error, "persisting live sessions at shutdown failed");
    }
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

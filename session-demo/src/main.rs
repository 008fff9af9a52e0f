//! `cargo run -p session-demo -- [--store URL] [--addr ADDR] [--secure-cookies]`

use session_core::Config;
use session_demo::{DEFAULT_STORE, router};
use session_tower::CookieConfig;

const USAGE: &str = "usage: session-demo [--store sqlite://<path>|sqlite::memory:|memory://|redis://..|redis+cluster://h:p,h:p|postgres://..] [--addr 127.0.0.1:3000] [--secure-cookies]";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut store = DEFAULT_STORE.to_owned();
    let mut addr = "127.0.0.1:3000".to_owned();
    // The demo serves plain HTTP on loopback, where a Secure cookie may not be stored; a real
    // deployment behind HTTPS keeps the default (Secure, with the __Host- prefix).
    let mut secure = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--store" => store = args.next().ok_or(USAGE)?,
            "--addr" => addr = args.next().ok_or(USAGE)?,
            "--secure-cookies" => secure = true,
            _ => return Err(USAGE.into()),
        }
    }
    let manager = session_stores::connect(&store)
        .await?
        .manager(Config::default())?;
    let app = router(manager, CookieConfig::default().secure(secure));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!(
        "session demo on http://{} (store: {})",
        listener.local_addr()?,
        store.split("://").next().unwrap_or("?")
    );
    axum::serve(listener, app).await?;
    Ok(())
}

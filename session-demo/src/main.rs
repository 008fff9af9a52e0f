//! `cargo run -p session-demo -- [--store URL] [--addr ADDR] [--secure-cookies]`

use std::process::ExitCode;

use session_core::{Config, error_chain};
use std::sync::Arc;

use session_demo::metrics::DemoMetrics;
use session_demo::{DEFAULT_STORE, router_with_metrics, serve};
use session_tower::CookieConfig;

const USAGE: &str = "\
usage: session-demo [--store URL] [--addr ADDR] [--secure-cookies]

  --store URL         where sessions live (default: sqlite://session-demo.db):
                      sqlite://<path>, sqlite::memory:, memory://, redis://host:6379,
                      redis+cluster://host:port,host:port, postgres://user@host:5432/db,
                      mysql://user:pass@host:3306/db (MySQL or MariaDB)
  --addr ADDR         the address to serve on (default: 127.0.0.1:3000)
  --secure-cookies    send the cookie only over HTTPS (behind TLS; the default cookie of the
                      library, off here because the demo serves plain HTTP)
  -h, --help          this help";

/// What the command line asks for.
struct Options {
    store: String,
    addr: String,
    secure: bool,
}

/// `Ok(None)` for `--help`.
fn options() -> Result<Option<Options>, String> {
    let mut options = Options {
        store: DEFAULT_STORE.to_owned(),
        addr: "127.0.0.1:3000".to_owned(),
        // The demo serves plain HTTP on loopback, where a Secure cookie may not be stored; a
        // real deployment behind HTTPS keeps the default (Secure, with the __Host- prefix).
        secure: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--store" => options.store = value("--store")?,
            "--addr" => options.addr = value("--addr")?,
            "--secure-cookies" => options.secure = true,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some(options))
}

async fn run(options: Options) -> Result<(), String> {
    let metrics = Arc::new(DemoMetrics::new());
    let manager = session_stores::connect(&options.store)
        .await
        .map_err(|e| format!("cannot open the session store: {}", error_chain(&e)))?
        .manager_with_metrics(Config::default(), metrics.clone())
        .map_err(|e| format!("invalid session settings: {}", error_chain(&e)))?;
    let app = router_with_metrics(
        manager.clone(),
        CookieConfig::default().secure(options.secure),
        metrics,
    );
    let listener = tokio::net::TcpListener::bind(&options.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {}", options.addr, error_chain(&e)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {}", error_chain(&e)))?;
    let scheme = options.store.split("://").next().unwrap_or("?");
    println!(
        "session demo on http://{addr} (store: {scheme}; metrics at /metrics); Ctrl-C stops it gracefully"
    );
    serve::serve(
        listener,
        app,
        manager,
        serve::HEADER_READ_TIMEOUT,
        serve::signal(),
    )
    .await
    .map_err(|e| format!("serving failed: {}", error_chain(&e)))
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match options() {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("session-demo: {error}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("session-demo: {error}");
            ExitCode::FAILURE
        }
    }
}

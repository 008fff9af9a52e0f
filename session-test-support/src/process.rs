//! Starting throwaway servers: free ports, waiting for a port, finding binaries, and a watchdog
//! that tears a server down once the test process has exited.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("cannot find a free local port: {e}"))
}

/// Whether something accepts TCP connections on 127.0.0.1:`port`.
pub fn port_answers(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_ok()
}

/// Waits until 127.0.0.1:`port` accepts connections, or panics naming `what` after `timeout`.
pub fn wait_for_port(port: u16, timeout: Duration, what: &str) {
    let deadline = Instant::now() + timeout;
    while !port_answers(port) {
        assert!(
            Instant::now() < deadline,
            "{what} did not start listening on port {port} within {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Finds `name` on `PATH` or in `extra` directories (glob-free prefixes such as
/// `/usr/lib/postgresql/*/bin` are expanded by the caller), or panics naming the package to
/// install.
pub fn find_binary(name: &str, extra: &[PathBuf], package: &str) -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    on_path
        .iter()
        .chain(extra)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`{name}` is not installed and no server was given: install the `{package}` package \
                 (Debian: apt-get install -y {package}), or point the tests at a server"
            )
        })
}

/// Subdirectories `*/<tail>` of `root`, e.g. every `/usr/lib/postgresql/<version>/bin`.
pub fn versioned_dirs(root: &Path, tail: &str) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.path().join(tail))
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs.reverse(); // newest version first
    dirs
}

/// Runs `teardown` (a shell command) once this process has exited, from a detached watcher, so a
/// throwaway server never outlives the tests that started it.
pub fn teardown_after_exit(teardown: &str) {
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {teardown}",
        pid = std::process::id()
    );
    let spawned = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    if let Err(e) = spawned {
        eprintln!("warning: cannot start the teardown watcher ({e}); run by hand: {teardown}");
    }
}

/// Runs a command to completion, panicking with its output if it fails.
pub fn run(command: &mut Command, what: &str) -> String {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run {command:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{text}",
        out.status
    );
    text
}

/// A single-quoted shell word.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// A server's URL for this test process: the environment variable `var` when set, else `local`
/// when something answers on 127.0.0.1:`port`, else what `start` returns (a throwaway server of
/// this process's own, torn down after it exits).
pub fn find_or_start(var: &str, port: u16, local: &str, start: impl FnOnce() -> String) -> String {
    if let Ok(url) = std::env::var(var) {
        return url;
    }
    if port_answers(port) {
        return local.to_owned();
    }
    start()
}

//! Rows measured in a process of their own: tower-sessions' sqlx stores (`peers-sqlx/`). They
//! need sqlx 0.8, which cannot be built into this binary beside sqlx 0.9 and rusqlite (one
//! `sqlite3` link per build). The first use builds that crate from its own lock file, in this
//! binary's profile; each round runs it once per row, so its rounds interleave with ours and its
//! measurements (latencies included) join the same tables.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::adapter::{Error, Kind};
use crate::rounds::{Results, Settings, from_wire};
use crate::workload::Workload;

/// One row of the other process.
pub struct Elsewhere {
    pub library: &'static str,
    pub backend: &'static str,
    /// The backend's URL (a directory for SQLite files).
    pub url: String,
}

impl Elsewhere {
    pub fn kind(&self) -> Kind {
        Kind::Peer
    }

    /// Measures one round of this row in the other process, appending its measurements.
    pub async fn measure_row(
        &self,
        workloads: &[Workload],
        settings: &Settings,
        round: usize,
        out: &mut Results,
    ) -> Result<(), Error> {
        let binary = tokio::task::spawn_blocking(binary).await??;
        let list = |items: Vec<String>| items.join(",");
        let args = [
            ("--backend", self.backend.to_owned()),
            ("--url", self.url.clone()),
            (
                "--workloads",
                list(workloads.iter().map(|w| w.as_str().to_owned()).collect()),
            ),
            (
                "--concurrency",
                list(settings.concurrency.iter().map(usize::to_string).collect()),
            ),
            ("--duration", settings.duration.as_secs_f64().to_string()),
            ("--warmup", settings.warmup.as_secs_f64().to_string()),
            ("--sessions", settings.sessions.to_string()),
            ("--round", round.to_string()),
        ];
        let mut command = Command::new(binary);
        for (flag, value) in args {
            command.arg(flag).arg(value);
        }
        // Its progress lines go to our stderr; its measurements come back on its stdout.
        let output = tokio::task::spawn_blocking(move || command.output()).await??;
        if !output.status.success() {
            return Err(format!(
                "{} {}: the peers' process failed ({}): {}",
                self.library,
                self.backend,
                output.status,
                String::from_utf8_lossy(&output.stderr)
            )
            .into());
        }
        eprint!("{}", String::from_utf8_lossy(&output.stderr));
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            let (key, measured) = from_wire(line)?;
            out.entry(key).or_default().push(measured);
        }
        Ok(())
    }
}

/// The other process's binary, built once per run.
fn binary() -> Result<PathBuf, Error> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| build().map_err(|e| e.to_string()))
        .clone()
        .map_err(Error::from)
}

fn build() -> Result<PathBuf, Error> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("peers-sqlx/Cargo.toml");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
        .join("peers-sqlx");
    let release = !cfg!(debug_assertions);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!(
        "building tower-sessions' sqlx stores ({})",
        manifest.display()
    );
    let mut command = Command::new(cargo);
    command
        .args(["build", "--locked", "--quiet", "--manifest-path"])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(&target);
    if release {
        command.arg("--release");
    }
    let status = command.status()?;
    if !status.success() {
        return Err(format!("building {} failed ({status})", manifest.display()).into());
    }
    Ok(target
        .join(if release { "release" } else { "debug" })
        .join("session-bench-peers-sqlx"))
}

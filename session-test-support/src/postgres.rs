//! PostgreSQL for tests: `DATABASE_URL`, else a server on 127.0.0.1:5432, else a throwaway cluster
//! (`initdb` + `pg_ctl`) on a free port in a temp dir. Each test binary works in its own schema.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use crate::process::{
    find_binary, find_or_start, free_port, run, shell_quote, teardown_after_exit, versioned_dirs,
    wait_for_port,
};

/// The prefix of every schema a test run creates; stale ones from dead runs are dropped.
pub const SCHEMA_PREFIX: &str = "session_test_";

/// The URL of a PostgreSQL server for this test process, found or started once.
pub fn postgres_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let local = "postgres://postgres@127.0.0.1:5432/postgres";
        find_or_start("DATABASE_URL", 5432, local, || {
            let cluster = PgCluster::start();
            let url = cluster.url();
            cluster.stop_after_exit();
            std::mem::forget(cluster); // its directory is removed by the watcher
            url
        })
    })
}

/// A schema name unique to this test process (and `tag`), e.g. for one test file.
pub fn unique_schema(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{SCHEMA_PREFIX}{}_{nanos}_{tag}", std::process::id())
}

/// A `session-stores` URL for the test PostgreSQL with a schema of its own (named after `tag`),
/// dropped when this process exits.
pub async fn scratch_postgres_url(tag: &str) -> String {
    let schema = unique_schema(tag);
    let base = postgres_url();
    let pool = sqlx::PgPool::connect(base)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {base}: {e}"));
    drop_schema_after_run(&pool, base, &schema).await;
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}schema={schema}")
}

/// Drops schemas left by test processes that are no longer running (their pid is in the name),
/// and arranges for `schema` to be dropped when this process exits.
pub async fn drop_schema_after_run(pool: &sqlx::PgPool, url: &str, schema: &str) {
    let names: Vec<(String,)> =
        sqlx::query_as("SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)")
            .bind(SCHEMA_PREFIX)
            .fetch_all(pool)
            .await
            .unwrap_or_default();
    for (name,) in names {
        let pid = name[SCHEMA_PREFIX.len()..]
            .split('_')
            .next()
            .and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
        if !alive {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP SCHEMA IF EXISTS \"{name}\" CASCADE"
            )))
            .execute(pool)
            .await;
        }
    }
    // psql is part of every PostgreSQL install; if it is missing, the next run drops the schema.
    let drop = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
    teardown_after_exit(&format!(
        "psql {} -qc {} >/dev/null 2>&1",
        shell_quote(url),
        shell_quote(&drop)
    ));
}

/// A throwaway PostgreSQL cluster this process owns: it can be stopped and started again (to test
/// an outage), and is removed with its directory.
pub struct PgCluster {
    dir: tempfile::TempDir,
    port: u16,
    pg_ctl: PathBuf,
}

fn pg_bin(name: &str) -> PathBuf {
    find_binary(
        name,
        &versioned_dirs(Path::new("/usr/lib/postgresql"), "bin"),
        "postgresql",
    )
}

/// PostgreSQL's tools refuse to run as root; as root, they run as the `postgres` system user that
/// the PostgreSQL packages create.
fn running_as_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let uid = status.lines().find(|l| l.starts_with("Uid:"));
    uid.and_then(|l| l.split_whitespace().nth(1)) == Some("0")
}

/// `program` as a command, run as the `postgres` user when this process is root.
fn pg_command(program: &Path) -> Command {
    if running_as_root() {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

/// The same, as a shell command line for the teardown watcher.
fn pg_shell(program: &Path) -> String {
    let program = shell_quote(&program.display().to_string());
    if running_as_root() {
        format!("runuser -u postgres -- {program}")
    } else {
        program
    }
}

impl PgCluster {
    /// Creates a cluster with `initdb` (trust auth, user `postgres`) and starts it on a free port.
    pub fn start() -> Self {
        let (initdb, pg_ctl) = (pg_bin("initdb"), pg_bin("pg_ctl"));
        let dir = tempfile::Builder::new()
            .prefix("pg-test-")
            .tempdir()
            .expect("temp dir");
        if running_as_root() {
            let mut chown = Command::new("chown");
            chown.arg("postgres:").arg(dir.path());
            run(
                &mut chown,
                "chown the cluster directory to the postgres user",
            );
        }
        let data = dir.path().join("data");
        let mut init = pg_command(&initdb);
        init.args([
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
            "-D",
        ])
        .arg(&data);
        run(&mut init, "initdb");
        let cluster = Self {
            dir,
            port: free_port(),
            pg_ctl,
        };
        cluster.resume();
        cluster
    }

    /// The URL of its `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the (stopped) server again on the same port and waits until it listens.
    pub fn resume(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let mut start = pg_command(&self.pg_ctl);
        start
            .args(["start", "-w", "-t", "60", "-D"])
            .arg(self.dir.path().join("data"));
        start
            .args(["-l"])
            .arg(self.dir.path().join("log"))
            .args(["-o", &options]);
        run(&mut start, "pg_ctl start");
        wait_for_port(self.port, Duration::from_secs(30), "PostgreSQL");
    }

    /// Stops the server at once (`-m immediate`: connections drop as in a crash).
    pub fn kill(&self) {
        let mut stop = pg_command(&self.pg_ctl);
        stop.args(["stop", "-m", "immediate", "-w", "-D"])
            .arg(self.dir.path().join("data"));
        run(&mut stop, "pg_ctl stop");
    }

    fn stop_after_exit(&self) {
        let data = self.dir.path().join("data");
        teardown_after_exit(&format!(
            "{} stop -m immediate -D {} >/dev/null 2>&1; rm -rf {}",
            pg_shell(&self.pg_ctl),
            shell_quote(&data.display().to_string()),
            shell_quote(&self.dir.path().display().to_string()),
        ));
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let mut stop = pg_command(&self.pg_ctl);
        stop.args(["stop", "-m", "immediate", "-D"])
            .arg(self.dir.path().join("data"));
        let _ = stop.output();
    }
}

//! MySQL or MariaDB for tests: `MYSQL_URL`, else a server on 127.0.0.1:3306, else a throwaway
//! MariaDB (`mariadb-install-db` + `mariadbd`) on a free port in a temp dir. Each test binary
//! works in tables of its own, named after its process.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use crate::process::{
    find_binary, find_or_start, free_port, run, shell_quote, teardown_after_exit, wait_for_port,
};

/// The prefix of every table a test run creates; stale ones from dead runs are dropped.
pub const TABLE_PREFIX: &str = "st_";

/// The URL of a MySQL or MariaDB server for this test process, found or started once.
pub fn mysql_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        find_or_start(
            "MYSQL_URL",
            3306,
            "mysql://root@127.0.0.1:3306/test",
            || {
                let server = MariaDbServer::start();
                let url = server.url();
                server.stop_after_exit();
                std::mem::forget(server); // its directory is removed by the watcher
                url
            },
        )
    })
}

/// A table-name prefix unique to this test process (and `tag`): `st_<pid>_<tag>_`.
pub fn unique_table_prefix(tag: &str) -> String {
    format!("{TABLE_PREFIX}{}_{tag}_", std::process::id())
}

/// A `session-stores` URL for the test MySQL with a table of its own (named after `tag`), dropped
/// when this process exits.
pub async fn scratch_mysql_url(tag: &str) -> String {
    let prefix = unique_table_prefix(tag);
    let base = mysql_url();
    let pool = sqlx::MySqlPool::connect(base)
        .await
        .unwrap_or_else(|e| panic!("MySQL at {base}: {e}"));
    drop_tables_after_run(&pool, base, &prefix).await;
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}table={prefix}sessions")
}

/// Drops the tables of test processes that are no longer running (their pid is in the name), and
/// arranges for this process's tables (those starting with `prefix`) to be dropped when it exits.
pub async fn drop_tables_after_run(pool: &sqlx::MySqlPool, url: &str, prefix: &str) {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT CAST(table_name AS CHAR) FROM information_schema.tables \
         WHERE table_schema = DATABASE() AND table_name LIKE 'st\\_%'",
    )
    .fetch_all(pool)
    .await
    .unwrap_or_default();
    for name in names {
        let pid = name[TABLE_PREFIX.len()..]
            .split('_')
            .next()
            .and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
        if !alive {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP TABLE IF EXISTS `{name}`"
            )))
            .execute(pool)
            .await;
        }
    }
    // The next run drops them if this watcher cannot (no mariadb client installed, say).
    let Some((host, port, user, database)) = parts(url) else {
        return;
    };
    let drop = format!(
        "SET @t = (SELECT GROUP_CONCAT(CONCAT('`', table_name, '`')) FROM information_schema.tables \
         WHERE table_schema = DATABASE() AND table_name LIKE '{}%'); \
         SET @s = IF(@t IS NULL, 'DO 0', CONCAT('DROP TABLE ', @t)); \
         PREPARE d FROM @s; EXECUTE d;",
        prefix
    );
    teardown_after_exit(&format!(
        "mariadb -h {host} -P {port} -u {user} {database} -e {} >/dev/null 2>&1",
        shell_quote(&drop)
    ));
}

/// Host, port, user and database of a `mysql://user@host:port/db` URL (no password support:
/// the test servers here have none).
fn parts(url: &str) -> Option<(String, u16, String, String)> {
    let rest = url.strip_prefix("mysql://")?;
    let (user, rest) = rest.split_once('@')?;
    let (address, database) = rest.split_once('/')?;
    let (host, port) = address.split_once(':').unwrap_or((address, "3306"));
    let database = database.split('?').next()?;
    Some((
        host.to_owned(),
        port.parse().ok()?,
        user.split(':').next()?.to_owned(),
        database.to_owned(),
    ))
}

/// A MariaDB server of the test's own, in a temp dir, that can be killed and started again on the
/// same port (for outage tests).
pub struct MariaDbServer {
    dir: tempfile::TempDir,
    port: u16,
    child: Mutex<Option<Child>>,
}

fn mariadb_bin(name: &str) -> PathBuf {
    find_binary(name, &[PathBuf::from("/usr/sbin")], "mariadb-server")
}

impl MariaDbServer {
    /// Creates a data directory with `mariadb-install-db` and starts `mariadbd` on a free port,
    /// with a database `test` that `root` (no password) may use.
    pub fn start() -> Self {
        let install = mariadb_bin("mariadb-install-db");
        let dir = tempfile::Builder::new()
            .prefix("mariadb-test-")
            .tempdir()
            .expect("temp dir");
        let mut init = Command::new(install);
        // `--no-defaults` first: the machine's my.cnf (a running server's paths) must not apply.
        init.arg("--no-defaults")
            .arg(format!("--datadir={}", dir.path().join("data").display()))
            .args(["--auth-root-authentication-method=normal", "--skip-test-db"])
            .arg(format!("--user={}", current_user()));
        run(&mut init, "mariadb-install-db");
        let server = Self {
            dir,
            port: free_port(),
            child: Mutex::new(None),
        };
        server.resume();
        let mut create = Command::new(find_binary("mariadb", &[], "mariadb-client"));
        create
            .args([
                "-h",
                "127.0.0.1",
                "-P",
                &server.port.to_string(),
                "-u",
                "root",
            ])
            .args(["-e", "CREATE DATABASE IF NOT EXISTS test"]);
        run(&mut create, "create the test database");
        server
    }

    /// The URL of its `test` database.
    pub fn url(&self) -> String {
        format!("mysql://root@127.0.0.1:{}/test", self.port)
    }

    /// Starts the (stopped) server again on the same port and waits until it listens.
    pub fn resume(&self) {
        let data = self.dir.path().join("data");
        let mut server = Command::new(mariadb_bin("mariadbd"));
        server
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!(
                "--socket={}",
                self.dir.path().join("sock").display()
            ))
            .arg(format!(
                "--pid-file={}",
                self.dir.path().join("pid").display()
            ))
            .arg(format!("--port={}", self.port))
            .arg("--bind-address=127.0.0.1")
            // 2: the log reaches the OS at each commit, so a killed server (not machine) keeps
            // every acknowledged write, as the outage tests require; no fsync, for speed.
            .args(["--innodb-flush-log-at-trx-commit=2", "--skip-log-bin"])
            .arg(format!("--user={}", current_user()))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = server
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start mariadbd: {e}"));
        *self.child.lock().unwrap_or_else(|p| p.into_inner()) = Some(child);
        wait_for_port(self.port, Duration::from_secs(60), "MariaDB");
    }

    /// Kills the server at once (SIGKILL: connections drop as in a crash) and waits for it.
    pub fn kill(&self) {
        if let Some(mut child) = self.child.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn stop_after_exit(&self) {
        let pid = self
            .child
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(Child::id);
        let kill = pid
            .map(|pid| format!("kill -9 {pid} 2>/dev/null; "))
            .unwrap_or_default();
        teardown_after_exit(&format!(
            "{kill}rm -rf {}",
            shell_quote(&self.dir.path().display().to_string()),
        ));
    }
}

impl Drop for MariaDbServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The user this process runs as: `mariadbd` refuses to run as root unless told to.
fn current_user() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let uid = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned));
    match uid.as_deref() {
        Some("0") => "root".to_owned(),
        _ => std::env::var("USER").unwrap_or_else(|_| "nobody".to_owned()),
    }
}

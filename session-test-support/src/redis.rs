//! Redis for tests: `REDIS_URL`, else a server on 127.0.0.1:6379, else a throwaway `redis-server`
//! on a free port; and a throwaway 3-master Redis Cluster (`REDIS_CLUSTER_URLS` to use your own).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::process::{
    find_binary, find_or_start, free_port, port_answers, run, shell_quote, teardown_after_exit,
    wait_for_port,
};

fn redis_server() -> PathBuf {
    find_binary("redis-server", &[], "redis-server")
}

fn redis_cli() -> PathBuf {
    find_binary("redis-cli", &[], "redis-tools")
}

/// The URL of a Redis server for this test process, found or started once.
pub fn redis_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        find_or_start("REDIS_URL", 6379, "redis://127.0.0.1:6379", || {
            let server = RedisServer::start();
            let url = server.url();
            server.stop_after_exit();
            std::mem::forget(server);
            url
        })
    })
}

/// The nodes of a Redis Cluster for this test process: `REDIS_CLUSTER_URLS` (comma-separated),
/// else a throwaway 3-master cluster started once and torn down after the process exits.
pub fn redis_cluster_urls() -> &'static [String] {
    static URLS: OnceLock<Vec<String>> = OnceLock::new();
    URLS.get_or_init(|| {
        if let Ok(urls) = std::env::var("REDIS_CLUSTER_URLS") {
            return urls.split(',').map(str::to_owned).collect();
        }
        let cluster = RedisCluster::start();
        let urls = cluster.urls();
        for node in &cluster.nodes {
            node.stop_after_exit();
        }
        std::mem::forget(cluster);
        urls
    })
}

/// Runs `redis-cli` against `url` with `args` and returns its output.
pub fn redis_cli_output(url: &str, args: &[&str]) -> String {
    let mut cli = Command::new(redis_cli());
    cli.args(["-u", url, "--no-raw"]).args(args);
    run(&mut cli, "redis-cli")
}

/// A throwaway `redis-server` this process owns: it can be killed and started again on the same
/// port, and is stopped when dropped.
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
    extra: Vec<String>,
}

impl RedisServer {
    /// Starts a server on a free port, keeping nothing on disk.
    pub fn start() -> Self {
        Self::start_with(free_port(), &[])
    }

    /// Starts a server on a free port with extra `redis-server` arguments (e.g.
    /// `["--maxmemory", "1mb"]`).
    pub fn start_with_args(extra: &[&str]) -> Self {
        Self::start_with(free_port(), extra)
    }

    fn start_with(port: u16, extra: &[&str]) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("redis-test-")
            .tempdir()
            .expect("temp dir");
        let mut server = Self {
            child: None,
            port,
            dir,
            extra: extra.iter().map(|s| s.to_string()).collect(),
        };
        server.resume();
        server
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Starts the (killed) server again on the same port and waits until it listens.
    pub fn resume(&mut self) {
        let child = Command::new(redis_server())
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(self.dir.path())
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server");
        self.child = Some(child);
        wait_for_port(self.port, Duration::from_secs(20), "redis-server");
    }

    /// Kills the server (SIGKILL: connections drop as in a crash) and waits until it is gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while port_answers(self.port) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stop_after_exit(&self) {
        let pid = self.child.as_ref().map(|c| c.id()).unwrap_or(0);
        teardown_after_exit(&format!(
            "kill {pid} 2>/dev/null; rm -rf {}",
            shell_quote(&self.dir.path().display().to_string())
        ));
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A port whose cluster bus port (port + 10000) is free as well.
fn free_cluster_port() -> u16 {
    for _ in 0..100 {
        let port = free_port();
        if port < 55_000 && TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
    panic!("cannot find a free port pair for a Redis Cluster node");
}

/// A throwaway Redis Cluster of three masters (no replicas), stopped when dropped.
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
}

impl RedisCluster {
    /// Starts three `redis-server --cluster-enabled yes` nodes on free ports, joins them with
    /// `redis-cli --cluster create`, and waits until the cluster reports `cluster_state:ok`.
    pub fn start() -> Self {
        let nodes: Vec<RedisServer> = (0..3)
            .map(|_| {
                let port = free_cluster_port();
                let conf = format!("nodes-{port}.conf");
                RedisServer::start_with(
                    port,
                    &[
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                        &conf,
                        "--cluster-node-timeout",
                        "5000",
                    ],
                )
            })
            .collect();
        let addresses: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        let mut create = Command::new(redis_cli());
        create.args(["--cluster", "create"]).args(&addresses).args([
            "--cluster-replicas",
            "0",
            "--cluster-yes",
        ]);
        run(&mut create, "redis-cli --cluster create");
        let cluster = Self { nodes };
        let deadline = Instant::now() + Duration::from_secs(30);
        for url in cluster.urls() {
            while !redis_cli_output(&url, &["cluster", "info"]).contains("cluster_state:ok") {
                assert!(
                    Instant::now() < deadline,
                    "the Redis Cluster never reached cluster_state:ok"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        cluster
    }

    /// The nodes' URLs.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }
}

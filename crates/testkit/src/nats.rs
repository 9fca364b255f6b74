//! Real `nats-server` processes for tests: one JetStream node, or a cluster of them on
//! loopback, each killable with SIGKILL.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `nats-server` binary, when installed. With `JINGUAN_REQUIRE_NATS` set its absence
/// is a failure, not a skip.
pub fn binary() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")])
            .map(|dir| dir.join("nats-server"))
            .find(|path| path.is_file())
    });
    assert!(
        found.is_some() || std::env::var_os("JINGUAN_REQUIRE_NATS").is_none(),
        "JINGUAN_REQUIRE_NATS set but nats-server is not installed"
    );
    found
}

/// A port free on loopback now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

/// One running server.
#[derive(Debug)]
pub struct Node {
    child: Option<Child>,
    /// Its client port.
    pub port: u16,
    /// Its JetStream store.
    pub dir: PathBuf,
}

impl Node {
    /// Starts a node named `name` storing under `dir`; in a cluster when `cluster` gives
    /// (cluster port, every node's cluster port).
    pub fn start(
        binary: &Path,
        name: &str,
        dir: &Path,
        port: u16,
        cluster: Option<(u16, &[u16])>,
    ) -> Self {
        let _ = std::fs::create_dir_all(dir);
        let mut command = Command::new(binary);
        command
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-js",
                "-n",
                name,
            ])
            .arg("-sd")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(
                std::fs::File::create(dir.join("server.log"))
                    .map_or_else(|_| Stdio::null(), Stdio::from),
            );
        if let Some((own, all)) = cluster {
            let routes: Vec<String> = all
                .iter()
                .filter(|p| **p != own)
                .map(|p| format!("nats://127.0.0.1:{p}"))
                .collect();
            command
                .args(["--cluster_name", "jinguan-test"])
                .args(["--cluster", &format!("nats://127.0.0.1:{own}")])
                .args(["--routes", &routes.join(",")]);
        }
        let child = command.spawn().expect("nats-server starts");
        let node = Self {
            child: Some(child),
            port,
            dir: dir.to_path_buf(),
        };
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "nats-server {name} did not listen"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        node
    }

    /// Its client URL.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// SIGKILL: gone at once, nothing flushed.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Three nodes clustered on loopback under `dir`; the exchange URL naming them all.
pub fn cluster(binary: &Path, dir: &Path) -> (Vec<Node>, String) {
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let routes: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let nodes: Vec<Node> = (0..3)
        .map(|i| {
            Node::start(
                binary,
                &format!("n{i}"),
                &dir.join(format!("n{i}")),
                ports[i],
                Some((routes[i], &routes)),
            )
        })
        .collect();
    let url = format!(
        "nats://{}",
        ports
            .iter()
            .map(|p| format!("127.0.0.1:{p}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    (nodes, url)
}

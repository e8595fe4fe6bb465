//! A real three-node nats-server JetStream cluster for one test, on free
//! loopback ports, each node with its own store: nodes can be killed
//! (SIGKILL), stopped and started again on the same ports and store, as a
//! district's servers are.
//!
//! A node is up when it logs "Server is ready"; the cluster is up when a
//! node logs that a JetStream metadata leader was elected. Signals, not
//! sleeps.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::Notify;

use crate::free_port;

/// The log lines of every node, and a signal for each new one.
type Log = Arc<(Mutex<Vec<(usize, String)>>, Notify)>;

struct Node {
    name: String,
    port: u16,
    config: PathBuf,
    child: Option<Child>,
}

/// A running cluster; every node is killed when dropped.
pub struct NatsCluster {
    nodes: Vec<Node>,
    log: Log,
    dir: tempfile::TempDir,
    /// The clients' TLS: (CA, certificate chain, key).
    tls: Option<(PathBuf, PathBuf, PathBuf)>,
}

fn nats_bin() -> PathBuf {
    let bin = Path::new("/usr/bin/nats-server");
    if bin.exists() {
        bin.to_owned()
    } else {
        PathBuf::from("nats-server")
    }
}

impl NatsCluster {
    /// A cluster of `n` nodes on free ports, not started: its URLs are
    /// known before its configuration is written (the centres' files name
    /// them, and the configuration names the centres' keys).
    pub fn plan(n: usize) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let nodes = (0..n)
            .map(|i| {
                let name = format!("n{}", i + 1);
                Node {
                    config: dir.path().join(format!("{name}.conf")),
                    name,
                    port: free_port(),
                    child: None,
                }
            })
            .collect();
        Self {
            nodes,
            log: Arc::new((Mutex::new(Vec::new()), Notify::new())),
            dir,
            tls: None,
        }
    }

    /// Clients must speak TLS, with this CA's certificate chain and key
    /// (the routes between the nodes stay on loopback).
    pub fn with_tls(mut self, ca: PathBuf, chain: PathBuf, key: PathBuf) -> Self {
        self.tls = Some((ca, chain, key));
        self
    }

    /// Writes each node's configuration, `extra` (an `authorization`
    /// block) in each, starts them clustered together and waits for the
    /// JetStream metadata leader.
    pub async fn start(&mut self, extra: &str) {
        let cluster_ports: Vec<u16> = self.nodes.iter().map(|_| free_port()).collect();
        let routes: Vec<String> = cluster_ports
            .iter()
            .map(|p| format!("nats-route://127.0.0.1:{p}"))
            .collect();
        let tls = self
            .tls
            .as_ref()
            .map(|(ca, chain, key)| {
                format!(
                    "tls {{ cert_file: \"{}\", key_file: \"{}\", ca_file: \"{}\", timeout: 5 }}\n",
                    chain.display(),
                    key.display(),
                    ca.display()
                )
            })
            .unwrap_or_default();
        for (node, cluster_port) in self.nodes.iter().zip(&cluster_ports) {
            let store = self.dir.path().join(&node.name);
            std::fs::write(
                &node.config,
                format!(
                    "server_name: {}\nlisten: 127.0.0.1:{}\n\
                     jetstream {{ store_dir: \"{}\", max_memory_store: 64MB, max_file_store: 1GB }}\n\
                     cluster {{ name: keting-test, listen: 127.0.0.1:{cluster_port}, routes: [{}] }}\n\
                     {tls}{extra}\n",
                    node.name,
                    node.port,
                    store.display(),
                    routes.join(", ")
                ),
            )
            .unwrap();
        }
        let before = self.leaders_elected();
        for i in 0..self.nodes.len() {
            self.start_node(i).await;
        }
        self.wait_for_any("JetStream cluster new metadata leader", before)
            .await;
    }

    /// How many times a metadata leader was elected so far.
    fn leaders_elected(&self) -> usize {
        (0..self.nodes.len())
            .map(|i| self.count(i, "JetStream cluster new metadata leader"))
            .sum()
    }

    /// Stops every node (SIGTERM) and starts them all again on their ports
    /// and stores; returns once a metadata leader is elected.
    pub async fn restart_all(&mut self) {
        for i in 0..self.nodes.len() {
            self.stop(i).await;
        }
        let before = self.leaders_elected();
        for i in 0..self.nodes.len() {
            self.start_node(i).await;
        }
        self.wait_for_any("JetStream cluster new metadata leader", before)
            .await;
    }

    fn spawn(&mut self, i: usize) {
        let node = &mut self.nodes[i];
        let mut child = Command::new(nats_bin())
            .arg("-c")
            .arg(&node.config)
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("nats-server is installed (./run-tests installs it)");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let log = self.log.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                log.0.lock().unwrap().push((i, line));
                log.1.notify_waiters();
            }
        });
        node.child = Some(child);
    }

    /// How many lines node `i` logged containing `text` so far.
    pub fn count(&self, i: usize, text: &str) -> usize {
        let log = self.log.0.lock().unwrap();
        log.iter()
            .filter(|(n, l)| *n == i && l.contains(text))
            .count()
    }

    async fn wait_for(&self, i: usize, text: &str, before: usize) {
        tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                let notified = self.log.1.notified();
                if self.count(i, text) > before {
                    return;
                }
                notified.await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("node {} logs {text:?} within 30 s:\n{}", i + 1, self.log()));
    }

    /// How many lines all nodes logged containing `text` so far.
    pub fn count_all(&self, text: &str) -> usize {
        (0..self.nodes.len()).map(|i| self.count(i, text)).sum()
    }

    /// Waits (up to 30 s) until all nodes together logged `text` on more
    /// than `before` lines.
    pub async fn wait_for_any(&self, text: &str, before: usize) {
        let total = |c: &Self| (0..c.nodes.len()).map(|i| c.count(i, text)).sum::<usize>();
        tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                let notified = self.log.1.notified();
                if total(self) > before {
                    return;
                }
                notified.await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("a node logs {text:?} within 30 s:\n{}", self.log()));
    }

    /// Every node's client URL.
    pub fn urls(&self) -> Vec<String> {
        self.nodes
            .iter()
            .map(|n| {
                let scheme = if self.tls.is_some() { "tls" } else { "nats" };
                format!("{scheme}://127.0.0.1:{}", n.port)
            })
            .collect()
    }

    /// The index of the node named `name` (`n1`...).
    pub fn index_of(&self, name: &str) -> usize {
        self.nodes
            .iter()
            .position(|n| n.name == name)
            .unwrap_or_else(|| panic!("no node {name}"))
    }

    /// Kills node `i` with SIGKILL (a power cut: no goodbye).
    pub async fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].child.take() {
            child.start_kill().unwrap();
            child.wait().await.unwrap();
        }
    }

    /// Stops node `i` with SIGTERM and waits for it.
    pub async fn stop(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].child.take() {
            let pid = child.id().expect("running") as i32;
            nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGTERM,
            )
            .unwrap();
            tokio::time::timeout(Duration::from_secs(20), child.wait())
                .await
                .expect("nats-server stops within 20 s")
                .unwrap();
        }
    }

    /// Starts node `i` again, on its ports and store, and waits until it is
    /// ready.
    pub async fn start_node(&mut self, i: usize) {
        let before = self.count(i, "Server is ready");
        self.spawn(i);
        self.wait_for(i, "Server is ready", before).await;
    }

    /// Every node's log so far, each line with its node.
    pub fn log(&self) -> String {
        let log = self.log.0.lock().unwrap();
        log.iter()
            .map(|(i, l)| format!("n{}: {l}", i + 1))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

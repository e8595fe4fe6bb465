//! A packet capture on loopback with tcpdump, to look at what crosses the
//! wire: started on a set of TCP ports, ready when tcpdump says it is
//! listening, stopped with SIGINT (tcpdump then writes what it holds and
//! says how many packets it captured).
//!
//! Capturing needs root (or CAP_NET_RAW); without it the capture fails
//! loudly rather than passing with an empty file.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A running capture.
pub struct Capture {
    child: Child,
    path: PathBuf,
}

impl Capture {
    /// Starts capturing TCP on `ports` of the loopback interface into `path`.
    pub async fn start(ports: &[u16], path: &Path) -> Capture {
        let filter = ports
            .iter()
            .map(|p| format!("tcp port {p}"))
            .collect::<Vec<_>>()
            .join(" or ");
        let mut child = Command::new("tcpdump")
            .args(["-i", "lo", "-U", "-n", "-s", "0", "-Z", "root", "-w"])
            .arg(path)
            .arg(&filter)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("tcpdump (the test command installs it)");
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let ready = tokio::time::timeout(Duration::from_secs(10), async {
            let mut said = String::new();
            while let Ok(Some(line)) = lines.next_line().await {
                if line.contains("listening on lo") {
                    return Ok(lines);
                }
                said += &line;
                said.push('\n');
            }
            Err(said)
        })
        .await;
        match ready {
            Ok(Ok(rest)) => {
                // Keep reading its stderr, so tcpdump never blocks on it.
                tokio::spawn(async move {
                    let mut rest = rest;
                    while let Ok(Some(_)) = rest.next_line().await {}
                });
            }
            Ok(Err(said)) => panic!("tcpdump did not start (root is needed to capture): {said}"),
            Err(_) => panic!("tcpdump did not say it was listening within 10 s"),
        }
        Capture {
            child,
            path: path.to_owned(),
        }
    }

    /// Stops the capture and returns the pcap file's bytes.
    pub async fn stop(mut self) -> Vec<u8> {
        if let Some(pid) = self.child.id() {
            let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap());
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
        std::fs::read(&self.path).unwrap()
    }
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

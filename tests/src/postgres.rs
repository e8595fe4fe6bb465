//! A real PostgreSQL (Debian's 15) for one test: its own cluster in a
//! temporary directory, on a free loopback port, trusting local logins.
//! PostgreSQL refuses to run as root, so a test running as root starts it
//! as the `postgres` user (`setpriv`, which execs: the process killed on
//! drop is the server itself).
//!
//! Ready when it logs that it accepts connections: a signal, not a sleep.
//! A test may stop it the way a crash would ([`Postgres::stop_immediately`]:
//! no checkpoint, crash recovery at the next start) and start it again on
//! the same port and data ([`Postgres::restart`]).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::free_port;

/// A running PostgreSQL; killed when dropped.
pub struct Postgres {
    child: Child,
    /// Its port (127.0.0.1).
    pub port: u16,
    durable: bool,
    dir: tempfile::TempDir,
}

fn bin_dir() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed (./run-tests installs postgresql)")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("postgres").exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .expect("a PostgreSQL server under /usr/lib/postgresql")
}

/// The `postgres` user's uid and gid, when this test runs as root.
fn as_postgres() -> Option<(u32, u32)> {
    use std::os::unix::fs::MetadataExt;
    // /proc/self belongs to the process's effective user.
    if std::fs::metadata("/proc/self").map_or(true, |m| m.uid() != 0) {
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.first() == Some(&"postgres")).then(|| (f[2].parse().unwrap(), f[3].parse().unwrap()))
    })
}

fn command(program: &Path, user: Option<(u32, u32)>) -> Command {
    match user {
        Some((uid, gid)) => {
            let mut c = Command::new("setpriv");
            c.arg(format!("--reuid={uid}"))
                .arg(format!("--regid={gid}"))
                .arg("--clear-groups")
                .arg("--")
                .arg(program);
            c
        }
        None => Command::new(program),
    }
}

impl Postgres {
    /// Initialises a cluster and starts it. `durable`: fsync on, as in
    /// production (the benchmarks); off for the tests, which do not cut
    /// the power under PostgreSQL.
    pub async fn start(durable: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let user = as_postgres();
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).unwrap();
        }
        let bin = bin_dir();
        let data = dir.path().join("data");
        let status = command(&bin.join("initdb"), user)
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "keting",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--locale=C",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .await
            .unwrap();
        assert!(
            status.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&status.stderr)
        );
        let port = free_port();
        let child = spawn(dir.path(), port, durable).await;
        Self {
            child,
            port,
            durable,
            dir,
        }
    }

    /// Stops it at once, as a crash would (SIGQUIT: every backend ends, no
    /// checkpoint is written), and waits until it is gone.
    pub async fn stop_immediately(&mut self) {
        if let Some(pid) = self.child.id() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGQUIT,
            );
        }
        let _ = tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await;
    }

    /// Starts it again on the same data and port (after crash recovery).
    pub async fn restart(&mut self) {
        self.child = spawn(self.dir.path(), self.port, self.durable).await;
    }

    /// A libpq connection string to database `db`.
    pub fn url(&self, db: &str) -> String {
        format!("host=127.0.0.1 port={} user=keting dbname={db}", self.port)
    }

    /// Dumps database `db` to `file` (`pg_dump`'s custom format), as a
    /// night's backup would.
    pub async fn dump(&self, db: &str, file: &Path) {
        let out = Command::new(bin_dir().join("pg_dump"))
            .args(["-Fc", "-f"])
            .arg(file)
            .arg(self.url(db))
            .output()
            .await
            .unwrap();
        assert!(
            out.status.success(),
            "pg_dump: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Restores database `db` from `file` over what it holds (its tables
    /// dropped and made again), as an administrator restoring a backup
    /// would. Nobody may be using them.
    pub async fn restore(&self, db: &str, file: &Path) {
        let out = Command::new(bin_dir().join("pg_restore"))
            .args(["--clean", "--if-exists", "--single-transaction", "-d"])
            .arg(self.url(db))
            .arg(file)
            .output()
            .await
            .unwrap();
        assert!(
            out.status.success(),
            "pg_restore: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The server's process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }
}

/// Starts the server on the cluster under `dir` and waits until it is ready.
async fn spawn(dir: &Path, port: u16, durable: bool) -> Child {
    let mut child = command(&bin_dir().join("postgres"), as_postgres())
        .arg("-D")
        .arg(dir.join("data"))
        .arg("-p")
        .arg(port.to_string())
        .arg("-k")
        .arg(dir)
        .args(["-c", "listen_addresses=127.0.0.1"])
        .args([
            "-c",
            &format!("fsync={}", if durable { "on" } else { "off" }),
        ])
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    tokio::time::timeout(Duration::from_secs(60), async {
        let mut seen = Vec::new();
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.contains("database system is ready to accept connections") {
                return;
            }
            seen.push(line);
        }
        panic!("postgres exited before it was ready:\n{}", seen.join("\n"));
    })
    .await
    .expect("PostgreSQL ready within 60 s");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    child
}

//! The workspace's programs (`kiosk`, `device-agent`) as real processes.
//!
//! They are found next to the test binary's directory (`target/<profile>/`);
//! `./run-tests` builds them first (`cargo build --workspace --bins`).
//! A process is ready when it prints its ready line; it is killed on drop.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::broadcast;

/// Marks the end of a program's stderr in its log (it exited).
const STDERR_CLOSED: &str = "\u{0}<stderr closed: the program exited>";

/// The path of a workspace binary.
pub fn path(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // A test: target/<profile>/deps/<test>; a program of this crate (the
    // chaos program): target/<profile>/<program>. Both -> target/<profile>/<name>.
    let mut dir = exe.parent().unwrap();
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir = dir.parent().unwrap();
    }
    let bin = dir.join(name);
    assert!(
        bin.exists(),
        "{} is not built: run `cargo build --workspace --bins` first (./run-tests does)",
        bin.display()
    );
    bin
}

/// What a program run to completion said: success, stdout, stderr.
pub type RunOutput = (bool, String, String);

/// Runs `name` with `args` to completion, whatever its exit.
pub fn run_status<S: AsRef<std::ffi::OsStr>>(name: &str, args: &[S]) -> RunOutput {
    let out = std::process::Command::new(path(name))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `name` with `args` to completion and returns its stdout; panics
/// with its stderr if it fails.
pub fn run(name: &str, args: &[&std::ffi::OsStr]) -> String {
    let (ok, stdout, stderr) = run_status(name, args);
    assert!(ok, "{name} {args:?}: {stderr}");
    stdout
}

/// `kiosk --data DIR ARGS...`, run to completion; its stdout.
pub fn kiosk(data: &std::path::Path, args: &[&str]) -> String {
    let mut all: Vec<&std::ffi::OsStr> = vec!["--data".as_ref(), data.as_os_str()];
    all.extend(args.iter().map(|a| std::ffi::OsStr::new(*a)));
    run("kiosk", &all)
}

/// Sets staff member `id`'s `role` and six-digit `pin` in the kiosk data
/// directory `data` (`kiosk staff role`, then `kiosk staff pin --stdin`).
pub fn staff_with_pin(data: &std::path::Path, id: u32, role: &str, pin: &str) {
    kiosk(data, &["staff", "role", &id.to_string(), "--role", role]);
    let mut set = std::process::Command::new(path("kiosk"))
        .args([
            "--data",
            data.to_str().unwrap(),
            "staff",
            "pin",
            &id.to_string(),
            "--stdin",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        writeln!(set.stdin.take().unwrap(), "{pin}").unwrap();
    }
    assert!(set.wait().unwrap().success(), "kiosk staff pin {id}");
}

/// `keting-provision --site DIR ARGS...`, run to completion; its stdout.
pub fn provision(site: &std::path::Path, args: &[&str]) -> String {
    let mut all: Vec<&std::ffi::OsStr> = vec!["--site".as_ref(), site.as_os_str()];
    all.extend(args.iter().map(|a| std::ffi::OsStr::new(*a)));
    run("keting-provision", &all)
}

/// Starts `kiosk --data DIR --headless ARGS...` (ARGS: the broker flags),
/// logging at info, ready at a line containing `ready`.
pub async fn start_kiosk(data: &std::path::Path, args: &[&str], ready: &str) -> Process {
    let data = data.to_str().unwrap();
    let mut all = vec!["--data", data, "--headless"];
    all.extend_from_slice(args);
    Process::start("kiosk", &all, &[("KETING_LOG", "info,rumqttd=warn")], ready).await
}

/// Starts `keting-centre --data DIR` with no demo devices, its embedded
/// broker and its staff dashboard each on a free loopback port; returns it
/// and the dashboard's address.
pub async fn centre_with_dashboard(data: &std::path::Path) -> (Process, std::net::SocketAddr) {
    let p = Process::start(
        "keting-centre",
        &[
            "--data",
            data.to_str().unwrap(),
            "--no-demo-devices",
            "--mqtt-listen",
            "127.0.0.1:0",
            "--http",
            "127.0.0.1:0",
        ],
        &[],
        "centre ready",
    )
    .await;
    let line = p
        .wait_for_line("staff dashboard at http://", Duration::from_secs(20))
        .await;
    let addr = line
        .rsplit("http://")
        .next()
        .unwrap()
        .trim_end_matches('/')
        .trim()
        .parse()
        .unwrap();
    (p, addr)
}

/// `keting-centre` on `data` with the residents' pages and the staff
/// dashboard each on a free port (`--resident-http`, `--http`), no demo
/// devices; the running centre and where the two listen.
pub async fn centre_with_residents(
    data: &std::path::Path,
) -> (Process, std::net::SocketAddr, std::net::SocketAddr) {
    let p = Process::start(
        "keting-centre",
        &[
            "--data",
            data.to_str().unwrap(),
            "--no-demo-devices",
            "--mqtt-listen",
            "127.0.0.1:0",
            "--resident-http",
            "127.0.0.1:0",
            "--http",
            "127.0.0.1:0",
        ],
        &[],
        "centre ready",
    )
    .await;
    let mut found = Vec::new();
    for what in ["residents' pages at http://", "staff dashboard at http://"] {
        let line = p.wait_for_line(what, Duration::from_secs(20)).await;
        found.push(
            line.rsplit("http://")
                .next()
                .unwrap()
                .trim_end_matches('/')
                .trim()
                .parse()
                .unwrap(),
        );
    }
    (p, found[0], found[1])
}

/// libfaketime, which `./run-tests` installs (Debian's `faketime`).
pub fn libfaketime() -> std::path::PathBuf {
    std::fs::read_dir("/usr/lib")
        .unwrap()
        .flatten()
        .map(|d| d.path().join("faketime/libfaketime.so.1"))
        .chain([std::path::PathBuf::from(
            "/usr/lib/faketime/libfaketime.so.1",
        )])
        .find(|p| p.exists())
        .expect("libfaketime: apt-get install faketime")
}

/// A running program; its stderr lines are kept and broadcast.
pub struct Process {
    child: Child,
    name: String,
    lines: broadcast::Sender<String>,
    log: Arc<Mutex<Vec<String>>>,
}

impl Process {
    /// Starts `name` with `args` and waits (up to 60 s) for a stderr line
    /// containing `ready`.
    pub async fn start(name: &str, args: &[&str], envs: &[(&str, &str)], ready: &str) -> Self {
        Self::start_program(&path(name), name, args, envs, ready).await
    }

    /// [`Process::start`] of the program at `program` (a link to one of
    /// the workspace's, under another name), called `name` in messages.
    pub async fn start_program(
        program: &std::path::Path,
        name: &str,
        args: &[&str],
        envs: &[(&str, &str)],
        ready: &str,
    ) -> Self {
        let mut child = Command::new(program)
            .args(args)
            .env("RUST_LOG", "info")
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let (lines, mut rx) = broadcast::channel(1024);
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut reader = BufReader::new(child.stderr.take().unwrap()).lines();
        let (tx, keep) = (lines.clone(), log.clone());
        tokio::spawn(async move {
            while let Ok(Some(line)) = reader.next_line().await {
                keep.lock().unwrap().push(line.clone());
                let _ = tx.send(line);
            }
            // The program is gone: waiters stop waiting.
            keep.lock().unwrap().push(STDERR_CLOSED.to_owned());
            let _ = tx.send(STDERR_CLOSED.to_owned());
        });
        let p = Self {
            child,
            name: name.to_owned(),
            lines,
            log,
        };
        let found = tokio::time::timeout(Duration::from_secs(60), async {
            if p.log.lock().unwrap().iter().any(|l| l.contains(ready)) {
                return;
            }
            while let Ok(line) = rx.recv().await {
                if line.contains(ready) || line == STDERR_CLOSED {
                    return;
                }
            }
        })
        .await;
        let exited = p.log.lock().unwrap().iter().any(|l| l == STDERR_CLOSED);
        assert!(
            found.is_ok() && !exited,
            "{name} not ready{}; it said:\n{}",
            if exited { " (it exited)" } else { "" },
            p.log()
        );
        p
    }

    /// Waits (up to `within`) for a stderr line containing `text`, seen
    /// before or after this call.
    pub async fn wait_for_line(&self, text: &str, within: Duration) -> String {
        let mut rx = self.lines.subscribe();
        if let Some(l) = self.log.lock().unwrap().iter().find(|l| l.contains(text)) {
            return l.clone();
        }
        let found = tokio::time::timeout(within, async {
            if self.log.lock().unwrap().iter().any(|l| l == STDERR_CLOSED) {
                return String::new();
            }
            while let Ok(line) = rx.recv().await {
                if line == STDERR_CLOSED {
                    return String::new();
                }
                if line.contains(text) {
                    return line;
                }
            }
            String::new()
        })
        .await;
        match found {
            Ok(l) if !l.is_empty() => l,
            _ => panic!(
                "{} never said {text:?}; it said:\n{}",
                self.name,
                self.log()
            ),
        }
    }

    /// Waits (up to `within`) until `text` has appeared on `n` lines in all.
    pub async fn wait_for_count(&self, text: &str, n: usize, within: Duration) {
        let mut rx = self.lines.subscribe();
        let count = || {
            self.log
                .lock()
                .unwrap()
                .iter()
                .filter(|l| l.contains(text))
                .count()
        };
        let done = tokio::time::timeout(within, async {
            while count() < n {
                if self.log.lock().unwrap().iter().any(|l| l == STDERR_CLOSED) {
                    return;
                }
                if rx.recv().await.is_err() {
                    return;
                }
            }
        })
        .await;
        assert!(
            done.is_ok() && count() >= n,
            "{} said {text:?} {} times, not {n}; it said:\n{}",
            self.name,
            count(),
            self.log()
        );
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    /// Everything it printed on stderr so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Kills it with SIGKILL (a power cut, for the program) and reaps it.
    pub async fn kill9(mut self) {
        let _ = self.child.kill().await;
    }

    /// Waits (up to `within`) for it to exit by itself; its exit status and
    /// everything it printed on stderr.
    pub async fn exit(mut self, within: Duration) -> (std::process::ExitStatus, String) {
        let mut rx = self.lines.subscribe();
        let status = tokio::time::timeout(within, self.child.wait())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "{} did not exit within {within:?}:\n{}",
                    self.name,
                    self.log()
                )
            })
            .unwrap();
        // Its last lines may still be on their way to the log.
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            while !self.log.lock().unwrap().iter().any(|l| l == STDERR_CLOSED) {
                if rx.recv().await.is_err() {
                    return;
                }
            }
        })
        .await;
        (status, self.log())
    }

    /// Stops it with SIGTERM and waits (up to 10 s) for it to exit.
    pub async fn stop(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().unwrap() as i32;
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGTERM,
        )
        .unwrap();
        tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .expect("exits within 10 s of SIGTERM")
            .unwrap()
    }
}

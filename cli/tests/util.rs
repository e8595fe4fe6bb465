//! Helpers: a temporary data directory and the `kiosk` binary run against it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The `kiosk` binary Cargo built for these tests.
pub fn kiosk_bin() -> &'static str {
    env!("CARGO_BIN_EXE_kiosk")
}

/// A kiosk with its own temporary data directory.
pub struct TestKiosk {
    pub dir: tempfile::TempDir,
}

impl TestKiosk {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// `kiosk --data DIR args...`, with the output captured.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(kiosk_bin());
        c.arg("--data").arg(self.data()).args(args);
        c.env_remove("KETING_DATA").env_remove("KETING_LOG");
        c.stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run kiosk")
    }

    /// Runs and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "kiosk {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// `kiosk checkin -`, reading scans from a pipe and answering on one.
    pub fn spawn_checkin_from_stdin(&self) -> std::process::Child {
        self.command(&["checkin", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn kiosk")
    }

    /// Adds a member; returns (id, pass).
    pub fn add_member(&self, name: &str) -> (u32, String) {
        let out = self.ok(&["member", "add", "--name", name, "--json"]);
        let v: serde_json::Value = serde_json::from_str(out.trim()).expect("json");
        (
            v["id"].as_u64().expect("id") as u32,
            v["pass"].as_str().expect("pass").to_owned(),
        )
    }

    /// `kiosk checkin PASS`, parsed.
    pub fn checkin(&self, pass: &str) -> serde_json::Value {
        let out = self.ok(&["checkin", pass]);
        serde_json::from_str(out.trim()).expect("one JSON line")
    }
}

/// Decodes a PNG; returns (width, height, RGB or grey bytes, channels).
pub fn read_png(path: &Path) -> (u32, u32, Vec<u8>, usize) {
    let file = std::io::BufReader::new(std::fs::File::open(path).expect("png exists"));
    let mut reader = png::Decoder::new(file).read_info().expect("png header");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("png frame");
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf, info.color_type.samples())
}

//! `keting-centre`, the centre as a service with no window: it takes the
//! same flags as `kiosk --headless`, serves its broker, runs the demo
//! devices, and stops cleanly on SIGTERM (what systemd sends).

use std::time::Duration;

use keting_system_tests::binaries::{self, Process};
use keting_system_tests::free_port;

#[test]
fn its_help_names_the_service_flags() {
    let help = binaries::run("keting-centre", &["--help".as_ref()]);
    for flag in [
        "--data",
        "--mqtt-listen",
        "--mqtt-url",
        "--mqtt-passwords",
        "--no-demo-devices",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}:\n{help}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_serves_its_broker_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let centre = Process::start(
        "keting-centre",
        &["--data", data.to_str().unwrap(), "--mqtt-listen", &listen],
        &[("KETING_LOG", "info,rumqttd=warn")],
        "centre ready",
    )
    .await;
    // The demo site was created, and its simulated door came up on the broker.
    centre
        .wait_for_line(
            &format!("MQTT broker at 127.0.0.1:{port}"),
            Duration::from_secs(5),
        )
        .await;
    tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("the broker listens");
    // The staff's command line works beside the running service.
    let doors = binaries::kiosk(&data, &["door", "list"]);
    assert!(doors.contains("健身房"), "{doors}");
    let status = centre.stop().await;
    assert!(status.success(), "exit status {status}");
}

/// A notification socket as systemd's: the datagrams a service sends it.
struct NotifySocket {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    socket: std::os::unix::net::UnixDatagram,
}

impl NotifySocket {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.sock");
        let socket = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        Self {
            _dir: dir,
            path,
            socket,
        }
    }

    /// The next message, waiting up to 20 s.
    async fn next(&self) -> String {
        let socket = self.socket.try_clone().unwrap();
        tokio::task::spawn_blocking(move || {
            let mut buf = [0u8; 256];
            let n = socket.recv(&mut buf).expect("a notification within 20 s");
            String::from_utf8_lossy(&buf[..n]).into_owned()
        })
        .await
        .unwrap()
    }

    /// Waits for `READY=1`, then for two watchdog pings.
    async fn ready_then_fed(&self) {
        assert_eq!(self.next().await, "READY=1");
        for _ in 0..2 {
            assert_eq!(self.next().await, "WATCHDOG=1");
        }
    }

    fn env(&self) -> [(&'static str, String); 2] {
        // A 0.4 s watchdog: a ping every 0.2 s.
        [
            ("NOTIFY_SOCKET", self.path.display().to_string()),
            ("WATCHDOG_USEC", "400000".to_owned()),
        ]
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_systemd_the_centre_says_ready_feeds_the_watchdog_and_says_stopping() {
    let dir = tempfile::tempdir().unwrap();
    under_systemd(&binaries::path("keting-centre"), &dir, "centre ready").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_kiosk_program_called_keting_centre_is_the_centre_under_systemd() {
    // What the packages install: /usr/bin/keting-centre, a link to kiosk,
    // so the centre's unit and the screen share one program's pages.
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("keting-centre");
    std::os::unix::fs::symlink(binaries::path("kiosk"), &link).unwrap();
    under_systemd(&link, &dir, "ready (headless)").await;
    let data = dir.path().join("data");
    assert!(data.join("keting.db").exists(), "its site made in --data");
}

/// The centre at `program` under a stand-in for systemd: READY, the
/// watchdog fed, STOPPING on SIGTERM.
async fn under_systemd(program: &std::path::Path, dir: &tempfile::TempDir, ready: &str) {
    let systemd = NotifySocket::new();
    let data = dir.path().join("data");
    let listen = format!("127.0.0.1:{}", free_port());
    let env = systemd.env();
    let centre = Process::start_program(
        program,
        "keting-centre",
        &[
            "--data",
            data.to_str().unwrap(),
            "--mqtt-listen",
            &listen,
            "--no-demo-devices",
        ],
        &[
            ("KETING_LOG", "info,rumqttd=warn"),
            (env[0].0, &env[0].1),
            (env[1].0, &env[1].1),
        ],
        ready,
    )
    .await;
    systemd.ready_then_fed().await;
    assert!(centre.stop().await.success());
    // Pings may still be on their way; STOPPING comes before the exit.
    let mut last = systemd.next().await;
    while last == "WATCHDOG=1" {
        last = systemd.next().await;
    }
    assert_eq!(last, "STOPPING=1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_systemd_an_agent_says_ready_once_started_and_feeds_the_watchdog_from_its_loop() {
    let broker = keting_system_tests::mosquitto::Mosquitto::start().await;
    let bed = crate::site_bed::SiteBed::new().await;
    let config = bed.session_agent_config(
        "pianos",
        broker.port,
        &format!(
            "[piano_bank]\nbus = \"tcp:127.0.0.1:{}\"\ngpio = \"sim\"\npianos = [{{ channel = 1, name = \"1号钢琴\" }}]\n",
            bed.board_port
        ),
    );
    let systemd = NotifySocket::new();
    let env = systemd.env();
    let agent = Process::start(
        "device-agent",
        &["--config", config.to_str().unwrap()],
        &[(env[0].0, &env[0].1), (env[1].0, &env[1].1)],
        "piano bank agent running",
    )
    .await;
    systemd.ready_then_fed().await;
    assert!(agent.stop().await.success());
}

#[test]
fn the_systemd_units_verify() {
    // `systemd-analyze verify` on each unit, its programs pointed at the ones
    // just built (verify checks they exist); an unknown key is only a warning
    // there, so any output fails too.
    let units = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../packaging/systemd");
    let bin_dir = binaries::path("keting-centre").parent().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let mut checked = Vec::new();
    for entry in std::fs::read_dir(&units).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_owned();
        let local = text
            .replace("/usr/bin/", &format!("{}/", bin_dir.display()))
            .replace(
                "/usr/lib/keting/first-boot-apply",
                &units
                    .join("../debian/keting-first-boot-apply")
                    .display()
                    .to_string(),
            );
        let copy = dir.path().join(&name);
        std::fs::write(&copy, local).unwrap();
        checked.push(copy);
    }
    assert_eq!(
        checked.len(),
        10,
        "keting-centre, keting-kiosk, keting-agent, keting-backup, its timer and its push, keting-district, \
         keting-first-boot, its helper's path and service"
    );
    let out = std::process::Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .args(&checked)
        .output()
        .expect("systemd-analyze (./run-tests installs systemd)");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success() && said.trim().is_empty(), "{said}");
}

#[test]
fn an_open_broker_on_the_network_is_refused_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (ok, _, stderr) = binaries::run_status(
        "keting-centre",
        &[
            "--data",
            data.to_str().unwrap(),
            "--mqtt-listen",
            "0.0.0.0:0",
        ],
    );
    assert!(!ok, "it must not start");
    assert!(
        stderr.contains("refusing to run the embedded MQTT broker") && stderr.contains("mqtts://"),
        "{stderr}"
    );
}

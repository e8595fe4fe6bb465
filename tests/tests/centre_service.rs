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

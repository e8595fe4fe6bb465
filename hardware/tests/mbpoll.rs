//! mbpoll (libmodbus, from Debian) reads and writes the simulated relay
//! board: our simulator speaks Modbus as others do. `./run-tests` installs it.

use tokio::process::Command;

use crate::util::start_board;

async fn mbpoll(port: u16, args: &[&str]) -> String {
    let out = Command::new("mbpoll")
        .args([
            "-m",
            "tcp",
            "-a",
            "1",
            "-t",
            "0",
            "-1",
            "-o",
            "2",
            "-p",
            &port.to_string(),
        ])
        .args(args)
        .output()
        .await
        .expect("mbpoll is installed (./run-tests installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "mbpoll {args:?}: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mbpoll_writes_and_reads_the_relays() {
    let sim = start_board().await;
    let port = sim.addr.port();
    // Reference 3 (1-based) is channel 3.
    mbpoll(port, &["-r", "3", "127.0.0.1", "1"]).await;
    assert_eq!(
        sim.board.relays(),
        [false, false, true, false, false, false, false, false]
    );

    let read = mbpoll(port, &["-r", "1", "-c", "8", "127.0.0.1"]).await;
    let values: Vec<&str> = read
        .lines()
        .filter(|l| l.trim_start().starts_with('['))
        .map(|l| l.split(':').nth(1).unwrap_or("").trim())
        .collect();
    assert_eq!(values, ["0", "0", "1", "0", "0", "0", "0", "0"], "{read}");
}

//! mbpoll (libmodbus, from Debian) reads and writes the simulated relay
//! board over TCP and over RTU on a pty: our simulators speak Modbus as
//! others do. `./run-tests` installs it.

use keting_hardware::relay_board::sim::SimRelayBoard;
use keting_hardware::sim::rtu_pty::RtuPty;
use tokio::process::Command;

use crate::util::start_board;

/// Runs mbpoll once on unit 1's coils: `mode` picks the bus, `args` the rest.
async fn mbpoll(mode: &[&str], args: &[&str]) -> String {
    let out = Command::new("mbpoll")
        .args(mode)
        .args(["-a", "1", "-t", "0", "-1", "-o", "2"])
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

/// The values of the `[n]: v` lines mbpoll prints.
fn coil_values(out: &str) -> Vec<&str> {
    out.lines()
        .filter(|l| l.trim_start().starts_with('['))
        .map(|l| l.split(':').nth(1).unwrap_or("").trim())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mbpoll_writes_and_reads_the_relays_over_tcp() {
    let sim = start_board().await;
    let port = sim.addr.port().to_string();
    let tcp = ["-m", "tcp", "-p", port.as_str()];
    // Reference 3 (1-based) is channel 3.
    mbpoll(&tcp, &["-r", "3", "127.0.0.1", "1"]).await;
    assert_eq!(
        sim.board.relays(),
        [false, false, true, false, false, false, false, false]
    );
    let read = mbpoll(&tcp, &["-r", "1", "-c", "8", "127.0.0.1"]).await;
    assert_eq!(
        coil_values(&read),
        ["0", "0", "1", "0", "0", "0", "0", "0"],
        "{read}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mbpoll_drives_the_board_over_rtu_on_a_pty() {
    let sim = SimRelayBoard::new();
    let pty = RtuPty::serve(sim.clone(), 1).unwrap();
    let path = pty.path().to_str().unwrap().to_owned();
    let rtu = ["-m", "rtu", "-b", "9600", "-P", "none"];
    mbpoll(&rtu, &["-r", "6", &path, "1"]).await;
    assert_eq!(
        sim.relays(),
        [false, false, false, false, false, true, false, false]
    );
    let read = mbpoll(&rtu, &["-r", "1", "-c", "8", &path]).await;
    assert_eq!(
        coil_values(&read),
        ["0", "0", "0", "0", "0", "1", "0", "0"],
        "{read}"
    );
}

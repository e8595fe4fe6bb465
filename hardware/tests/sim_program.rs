//! `keting-sim` as a program: a relay board on Modbus TCP and a drinks
//! machine on Modbus RTU over a pty, each driven by mbpoll (another
//! program), the device outliving its client; a call without a bus is
//! one clear error.

use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

struct Sim {
    _child: Child,
    out: Lines<BufReader<ChildStdout>>,
}

impl Sim {
    async fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_keting-sim"))
            .args(args)
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let out = BufReader::new(child.stdout.take().unwrap()).lines();
        Self { _child: child, out }
    }

    async fn line(&mut self) -> String {
        tokio::time::timeout(std::time::Duration::from_secs(10), self.out.next_line())
            .await
            .expect("keting-sim said nothing for 10 s")
            .unwrap()
            .expect("keting-sim ended")
    }
}

async fn mbpoll(args: &[&str]) -> String {
    let out = Command::new("mbpoll")
        .args(args)
        .output()
        .await
        .expect("mbpoll is installed (./run-tests installs it)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "mbpoll {args:?}: {text}");
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_board_on_tcp_switches_for_mbpoll_and_says_so() {
    let mut sim = Sim::start(&["relay-board", "--listen", "127.0.0.1:0"]).await;
    let first = sim.line().await;
    let port = first
        .split("127.0.0.1:")
        .nth(1)
        .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
        .unwrap_or_else(|| panic!("no port in {first:?}"))
        .to_owned();
    assert!(first.contains("agent: bus = \"tcp:127.0.0.1:"), "{first}");
    let tcp = [
        "-m",
        "tcp",
        "-p",
        port.as_str(),
        "-a",
        "1",
        "-t",
        "0",
        "-1",
        "-o",
        "2",
    ];
    // Coil 2 on, from a client that then exits: the board keeps it.
    mbpoll(&[&tcp[..], &["-r", "2", "127.0.0.1", "1"]].concat()).await;
    assert_eq!(sim.line().await, "relay 2 on");
    let read = mbpoll(&[&tcp[..], &["-r", "2", "127.0.0.1"]].concat()).await;
    assert!(
        read.contains("[2]: \t1") || read.contains("[2]: 1"),
        "{read}"
    );
    mbpoll(&[&tcp[..], &["-r", "2", "127.0.0.1", "0"]].concat()).await;
    assert_eq!(sim.line().await, "relay 2 off");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drinks_machine_on_an_rtu_pty_answers_mbpoll() {
    let mut sim = Sim::start(&["vending", "--rtu-pty", "--slots", "4", "--stock", "7"]).await;
    let first = sim.line().await;
    let path = first
        .split(" at ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .unwrap_or_else(|| panic!("no pty in {first:?}"))
        .to_owned();
    assert!(path.starts_with("/dev/pts/"), "{first}");
    // Holding register 4 (1-based) is the slot count; 102 is slot 1's stock (address 101).
    let rtu = [
        "-m", "rtu", "-b", "9600", "-P", "none", "-a", "1", "-t", "4", "-1", "-o", "2",
    ];
    let slots = mbpoll(&[&rtu[..], &["-r", "4", &path]].concat()).await;
    assert!(
        slots.contains("]: \t4") || slots.contains("]: 4"),
        "{slots}"
    );
    let stock = mbpoll(&[&rtu[..], &["-r", "102", &path]].concat()).await;
    assert!(
        stock.contains("]: \t7") || stock.contains("]: 7"),
        "{stock}"
    );
}

#[tokio::test]
async fn without_a_bus_it_says_what_to_give() {
    let out = Command::new(env!("CARGO_BIN_EXE_keting-sim"))
        .args(["robot"])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--listen") && err.contains("--rtu-pty"),
        "{err}"
    );
}

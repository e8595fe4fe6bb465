//! The piano-bank agent against a real Mosquitto and the simulated relay
//! board on Modbus TCP: a session powers its piano on and the agent powers
//! it off at the end by itself; a repeated start changes nothing; a stop
//! ends it; a session that ended while the agent was down is powered off
//! and reported when it comes back; a board that does not answer refuses
//! the session (nothing starts) and shows the bank as unavailable.

use std::time::Duration;

use keting_core::messages::{Action, Outcome, SessionDeviceStatus, SessionEnd};
use keting_device_agents::config::AgentConfig;
use keting_device_agents::piano::sessions_file::{ActiveSession, Sessions, SessionsFile};
use keting_device_agents::run::{SimHardware, run_agent};
use keting_hardware::relay_board::sim::{RelayFault, SimRelayBoard, serve_tcp};
use keting_link::clock::now;
use tokio::sync::oneshot;

use crate::session_watch::KioskSide;
use crate::util::Mosquitto;

struct Bank {
    broker: Mosquitto,
    board: SimRelayBoard,
    board_port: u16,
    side: KioskSide,
    stop: Option<oneshot::Sender<()>>,
    agent: Option<tokio::task::JoinHandle<()>>,
    dir: tempfile::TempDir,
}

impl Bank {
    async fn start() -> Self {
        let broker = Mosquitto::start().await;
        let board = SimRelayBoard::new();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let board_port = listener.local_addr().unwrap().port();
        tokio::spawn(serve_tcp(listener, board.clone(), std::future::pending()));
        let dir = tempfile::tempdir().unwrap();
        let side = KioskSide::connect(dir.path(), broker.port, "pianos").await;
        let mut bank = Self {
            broker,
            board,
            board_port,
            side,
            stop: None,
            agent: None,
            dir,
        };
        bank.run_agent();
        // The agent is up (subscribed) once its first status arrives.
        bank.status(|s| s.outputs.len() == 3).await;
        bank
    }

    fn state_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("agent")
    }

    fn run_agent(&mut self) {
        let public = keting_core::pass::encode_public_key(
            &ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key(),
        );
        let pianos: Vec<String> = (1..=3)
            .map(|c| format!("{{ channel = {c}, name = \"{c}号钢琴\" }}"))
            .collect();
        let toml = format!(
            "site = \"demo\"\ndevice = \"pianos\"\nsite_public_key = \"{public}\"\nstate_dir = \"{}\"\n\
             [broker]\nhost = \"127.0.0.1\"\nport = {}\n\
             [piano_bank]\nbus = \"tcp:127.0.0.1:{}\"\ngpio = \"sim\"\npianos = [{}]\n",
            self.state_dir().display(),
            self.broker.port,
            self.board_port,
            pianos.join(", ")
        );
        let agent_config = AgentConfig::parse(&toml).unwrap();
        let (stop, stopped) = oneshot::channel();
        self.stop = Some(stop);
        self.agent = Some(tokio::spawn(async move {
            run_agent(agent_config, None, SimHardware::default(), async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        }));
    }

    async fn stop_agent(&mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.agent.take().unwrap().await.unwrap();
    }

    async fn send(&mut self, id: &str, action: Action) -> Outcome {
        self.side.send(id, action).await
    }

    async fn start_session(&mut self, session: i64, channel: u8, ms: i64) -> Outcome {
        self.side.start_session(session, channel, ms).await
    }

    async fn ended(&mut self, session: i64) -> (u8, SessionEnd) {
        let (channel, reason, _) = self.side.ended(session).await;
        (channel, reason)
    }

    async fn status(&mut self, want: impl Fn(&SessionDeviceStatus) -> bool) -> SessionDeviceStatus {
        self.side.status(want).await
    }
}

async fn relay(board: &SimRelayBoard, channel: u8, on: bool) {
    let mut changes = board.changes();
    let i = usize::from(channel - 1);
    tokio::time::timeout(Duration::from_secs(10), changes.wait_for(|c| c[i] == on))
        .await
        .unwrap_or_else(|_| {
            panic!(
                "relay {channel} {} within 10 s",
                if on { "on" } else { "off" }
            )
        })
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_piano_powers_off_at_the_end_by_itself() {
    let mut bank = Bank::start().await;
    bank.status(|s| s.state == "ready" && s.outputs.len() == 3)
        .await;
    assert_eq!(bank.start_session(41, 2, 1_500).await, Outcome::Done);
    assert!(
        bank.board.relays()[1],
        "piano 2 is on once the start is acked"
    );
    assert!(!bank.board.relays()[0] && !bank.board.relays()[2]);
    // Nobody tells it to stop: the agent's own timer does.
    assert_eq!(bank.ended(41).await, (2, SessionEnd::TimeUp));
    relay(&bank.board, 2, false).await;
    // A start delivered again after the end changes nothing.
    let writes = bank.board.writes();
    assert_eq!(bank.start_session(41, 2, 60_000).await, Outcome::Done);
    assert!(!bank.board.relays()[1]);
    assert_eq!(bank.board.writes(), writes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_ends_the_session_and_a_bad_channel_is_refused() {
    let mut bank = Bank::start().await;
    assert_eq!(bank.start_session(7, 1, 600_000).await, Outcome::Done);
    assert_eq!(bank.start_session(7, 1, 600_000).await, Outcome::Done);
    assert!(bank.board.relays()[0]);
    assert_eq!(
        bank.send("s-7-off", Action::SessionStop { session: 7 })
            .await,
        Outcome::Done
    );
    assert_eq!(bank.ended(7).await, (1, SessionEnd::Stopped));
    assert!(!bank.board.relays()[0]);
    let Outcome::Refused { reason } = bank.start_session(8, 6, 600_000).await else {
        panic!("channel 6 has no piano")
    };
    assert_eq!(reason, "this piano bank has no piano on channel 6");
    assert!(!bank.board.relays()[5]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_survive_a_restart_and_one_that_ended_meanwhile_is_powered_off() {
    let mut bank = Bank::start().await;
    assert_eq!(bank.start_session(1, 1, 600_000).await, Outcome::Done);
    assert_eq!(bank.start_session(2, 3, 600_000).await, Outcome::Done);
    bank.stop_agent().await;
    // While the agent is down, session 2's time runs out (the file is
    // rewritten as if it had ended a minute ago).
    let file = SessionsFile::in_dir(&bank.state_dir());
    let mut s: Sessions = file.load().unwrap();
    for a in &mut s.active {
        if a.session == 2 {
            *a = ActiveSession {
                until_ms: now().as_unix_millis() - 60_000,
                ..a.clone()
            };
        }
    }
    file.store(&s).unwrap();
    assert!(bank.board.relays()[2], "still on while the agent is down");
    bank.run_agent();
    assert_eq!(bank.ended(2).await, (3, SessionEnd::TimeUp));
    relay(&bank.board, 3, false).await;
    assert!(
        bank.board.relays()[0],
        "session 1 goes on after the restart"
    );
    let st = bank
        .status(|s| s.outputs.iter().any(|o| o.channel == 1 && o.on))
        .await;
    assert_eq!(st.outputs[0].session, Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_board_that_does_not_answer_refuses_the_session() {
    let mut bank = Bank::start().await;
    bank.board.set_fault(Some(RelayFault::NoReply));
    let Outcome::Refused { reason } = bank.start_session(5, 1, 600_000).await else {
        panic!("no board, no session")
    };
    assert!(
        reason.starts_with("the piano's power did not switch on"),
        "{reason}"
    );
    let st = bank.status(|s| s.state != "ready").await;
    assert!(st.fault.is_some());
    assert!(st.outputs.iter().all(|o| !o.on && o.session.is_none()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_self_test_reads_every_relay_back_against_its_session_and_switches_nothing() {
    let mut bank = Bank::start().await;
    assert_eq!(bank.start_session(41, 2, 60_000).await, Outcome::Done);
    relay(&bank.board, 2, true).await;
    let writes = bank.board.writes();
    let Outcome::SelfTested { checks } = bank
        .send("check-1", Action::SelfTest { test_vend: None })
        .await
    else {
        panic!("no report")
    };
    assert!(checks.iter().all(|c| c.passed), "{checks:?}");
    let details: Vec<(&str, &str)> = checks[1..]
        .iter()
        .map(|c| (c.check.as_str(), c.detail.as_str()))
        .collect();
    assert_eq!(
        details,
        [
            ("1号钢琴 (channel 1)", "off, no session"),
            ("2号钢琴 (channel 2)", "on, for booking 41"),
            ("3号钢琴 (channel 3)", "off, no session"),
        ]
    );
    assert_eq!(bank.board.writes(), writes, "the test switched nothing");
    assert!(bank.board.relays()[1], "the session goes on");

    // A relay that does not follow its coil (channel 3 welded on) fails.
    bank.board.weld_channel(3);
    let Outcome::SelfTested { checks } = bank
        .send("check-2", Action::SelfTest { test_vend: None })
        .await
    else {
        panic!("no report")
    };
    let bad: Vec<_> = checks.iter().filter(|c| !c.passed).collect();
    assert_eq!(bad.len(), 1, "{checks:?}");
    assert_eq!(bad[0].detail, "reads on but should be off");
}

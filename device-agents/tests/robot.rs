//! The robot agent against a real Mosquitto and the simulated robot on
//! Modbus TCP: a session's program runs and its end is reported; the agent
//! stops the program at the end of the slot; a fault during the program is
//! reported as the session's end with the fault; a robot that does not
//! answer, or stands in a fault, refuses the session.

use std::time::Duration;

use keting_core::messages::{Action, Outcome, SessionEnd};
use keting_device_agents::config::AgentConfig;
use keting_device_agents::run::{SimHardware, run_agent};
use keting_hardware::robot::sim::{RobotLinkFault, SimRobot};
use keting_hardware::robot::{RobotFault, RobotState};
use keting_hardware::sim::modbus_tcp;
use tokio::sync::oneshot;

use crate::session_watch::KioskSide;
use crate::util::Mosquitto;

struct Robot {
    _broker: Mosquitto,
    sim: SimRobot,
    side: KioskSide,
    _stop: oneshot::Sender<()>,
    _dir: tempfile::TempDir,
}

impl Robot {
    async fn start() -> Self {
        let broker = Mosquitto::start().await;
        let sim = SimRobot::new();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(modbus_tcp::serve(
            listener,
            sim.clone(),
            std::future::pending(),
        ));
        let dir = tempfile::tempdir().unwrap();
        let mut side = KioskSide::connect(dir.path(), broker.port, "robot").await;
        let public = keting_core::pass::encode_public_key(
            &ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key(),
        );
        let toml = format!(
            "site = \"demo\"\ndevice = \"robot\"\nsite_public_key = \"{public}\"\nstate_dir = \"{}\"\n\
             [broker]\nhost = \"127.0.0.1\"\nport = {}\n[robot]\nbus = \"tcp:127.0.0.1:{port}\"\n",
            dir.path().join("agent").display(),
            broker.port
        );
        let agent_config = AgentConfig::parse(&toml).unwrap();
        let (stop, stopped) = oneshot::channel();
        tokio::spawn(async move {
            run_agent(agent_config, None, SimHardware::default(), async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        side.status(|s| s.state == "ready").await;
        Self {
            _broker: broker,
            sim,
            side,
            _stop: stop,
            _dir: dir,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_runs_and_the_agent_stops_it_at_the_end_of_the_slot() {
    let mut r = Robot::start().await;
    // The robot's program would run 60 s; the slot ends in 2 s.
    r.sim.set_speed(1);
    assert_eq!(r.side.start_session(11, 1, 2_000).await, Outcome::Done);
    assert_eq!(r.sim.state(), (RobotState::Running, 11));
    let st = r.side.status(|s| s.outputs[0].on).await;
    assert_eq!(st.outputs[0].session, Some(11));
    assert_eq!(r.side.ended(11).await, (1, SessionEnd::TimeUp, None));
    assert!(
        matches!(r.sim.state().0, RobotState::Stopped | RobotState::Finished),
        "{:?}",
        r.sim.state()
    );
    // The same start again changes nothing.
    assert_eq!(r.side.start_session(11, 1, 60_000).await, Outcome::Done);
    assert_eq!(r.sim.programs_run(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_during_the_program_ends_the_session_with_the_fault() {
    let mut r = Robot::start().await;
    r.sim
        .fail_after(Duration::from_millis(800), RobotFault::ArmBlocked);
    assert_eq!(r.side.start_session(12, 1, 600_000).await, Outcome::Done);
    let (_, reason, fault) = r.side.ended(12).await;
    assert_eq!(
        (reason, fault.as_deref()),
        (SessionEnd::Fault, Some("the arm is blocked"))
    );
    // Standing in the fault, the robot refuses the next session.
    let Outcome::Refused { reason } = r.side.start_session(13, 1, 600_000).await else {
        panic!("a robot in a fault starts nothing")
    };
    assert_eq!(
        reason,
        "the robot reports the arm is blocked: staff must clear it"
    );
    assert_eq!(r.sim.programs_run(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_robot_that_does_not_answer_refuses_the_session() {
    let mut r = Robot::start().await;
    r.sim.set_link_fault(Some(RobotLinkFault::NoReply));
    let Outcome::Refused { reason } = r.side.start_session(14, 1, 600_000).await else {
        panic!("no answer, no session")
    };
    assert!(reason.starts_with("the robot does not answer"), "{reason}");
    let st = r.side.status(|s| s.state == "unavailable").await;
    assert!(st.fault.is_some() && !st.outputs[0].on);
    assert_eq!(r.sim.programs_run(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_self_test_reads_the_robot_and_a_command_that_moves_nothing_is_taken() {
    let mut r = Robot::start().await;
    let Outcome::SelfTested { checks } = r
        .side
        .send("check-1", Action::SelfTest { test_vend: None })
        .await
    else {
        panic!("no report")
    };
    assert!(checks.iter().all(|c| c.passed), "{checks:?}");
    assert_eq!(checks.len(), 4, "{checks:?}");
    assert_eq!(checks[3].detail, "taken; nothing moved");
    assert_eq!(r.sim.programs_run(), 0);
    // During a session the check leaves it running.
    r.sim.set_speed(1);
    assert_eq!(r.side.start_session(12, 1, 60_000).await, Outcome::Done);
    let Outcome::SelfTested { checks } = r
        .side
        .send("check-2", Action::SelfTest { test_vend: None })
        .await
    else {
        panic!("no report")
    };
    assert!(checks.iter().all(|c| c.passed), "{checks:?}");
    assert_eq!(r.sim.state(), (RobotState::Running, 12));
}

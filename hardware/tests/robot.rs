//! The robot's driver against the simulated robot, over Modbus TCP and RTU
//! on a pty: a program runs to its end once however often it is started, a
//! second session is refused while one runs, a fault stops the program and
//! blocks the next start until cleared, a stop ends it.

use std::time::Duration;

use keting_hardware::bus::BusAddress;
use keting_hardware::modbus_client::ModbusError;
use keting_hardware::robot::sim::{RobotLinkFault, SimRobot};
use keting_hardware::robot::{DEFAULT_TIMEOUT, ModbusRobot, RobotError, RobotFault, RobotState};
use keting_hardware::sim::modbus_tcp;
use keting_hardware::sim::rtu_pty::RtuPty;
use tokio::net::TcpListener;
use tokio_modbus::ExceptionCode;

async fn tcp_robot(sim: &SimRobot) -> ModbusRobot {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(modbus_tcp::serve(
        listener,
        sim.clone(),
        std::future::pending(),
    ));
    let bus = BusAddress::Tcp {
        host: "127.0.0.1".into(),
        port,
    };
    ModbusRobot::connect(&bus, 1, DEFAULT_TIMEOUT)
        .await
        .unwrap()
}

/// Reads the status until `want` holds (bounded).
async fn until(
    r: &mut ModbusRobot,
    want: impl Fn(RobotState) -> bool,
) -> keting_hardware::robot::RobotStatus {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let s = r.status().await.unwrap();
            if want(s.state) {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("state within 10 s")
}

fn exception(e: &RobotError) -> Option<ExceptionCode> {
    match e {
        RobotError::Modbus(ModbusError::Refused(code)) => Some(*code),
        _ => None,
    }
}

#[tokio::test]
async fn a_program_runs_to_its_end_once_however_often_it_is_started() {
    let sim = SimRobot::new();
    sim.set_speed(60);
    let mut r = tcp_robot(&sim).await;
    let s = r.status().await.unwrap();
    assert_eq!((s.state, s.programs), (RobotState::Idle, 3));
    r.start(7, 1, 60).await.unwrap();
    r.start(7, 1, 60).await.unwrap();
    let running = r.status().await.unwrap();
    assert_eq!((running.state, running.session), (RobotState::Running, 7));
    // Another session while it runs: busy.
    let busy = r.start(8, 1, 60).await.unwrap_err();
    assert_eq!(
        exception(&busy),
        Some(ExceptionCode::ServerDeviceBusy),
        "{busy}"
    );
    let done = until(&mut r, |s| s == RobotState::Finished).await;
    assert_eq!((done.progress, done.remaining_s, done.session), (100, 0, 7));
    // A start repeated after the end does not run it again.
    r.start(7, 1, 60).await.unwrap();
    assert_eq!(sim.programs_run(), 1);
    assert_eq!(r.status().await.unwrap().state, RobotState::Finished);
}

#[tokio::test]
async fn a_fault_stops_the_program_and_blocks_the_next_until_cleared() {
    let sim = SimRobot::new();
    sim.set_speed(60);
    sim.fail_after(Duration::from_secs(20), RobotFault::ArmBlocked);
    let mut r = tcp_robot(&sim).await;
    r.start(3, 2, 600).await.unwrap();
    let s = until(&mut r, |s| s == RobotState::Fault).await;
    assert_eq!(s.fault, Some(RobotFault::ArmBlocked));
    assert!(s.progress < 100);
    let refused = r.start(4, 1, 60).await.unwrap_err();
    assert_eq!(
        exception(&refused),
        Some(ExceptionCode::ServerDeviceFailure),
        "{refused}"
    );
    r.clear_fault(3).await.unwrap();
    r.start(4, 1, 600).await.unwrap();
    r.stop(4).await.unwrap();
    let s = r.status().await.unwrap();
    assert_eq!((s.state, s.session), (RobotState::Stopped, 4));
    // A robot that does not answer is unreachable, not idle.
    sim.set_link_fault(Some(RobotLinkFault::NoReply));
    assert!(r.status().await.unwrap_err().is_unreachable());
}

#[tokio::test]
async fn over_rtu_on_a_pty_the_robot_starts_and_reports() {
    let sim = SimRobot::new();
    let pty = RtuPty::serve(sim.clone(), 1).unwrap();
    let bus = BusAddress::Rtu {
        path: pty.path().display().to_string(),
        baud: 9600,
    };
    let mut r = ModbusRobot::connect(&bus, 1, Duration::from_millis(300))
        .await
        .unwrap();
    r.start(0x0001_0002, 3, 900).await.unwrap();
    let s = r.status().await.unwrap();
    assert_eq!((s.state, s.session), (RobotState::Running, 0x0001_0002));
    assert!(s.remaining_s > 890, "{s:?}");
    sim.set_link_fault(Some(RobotLinkFault::BadCrc));
    assert!(r.status().await.unwrap_err().is_unreachable());
}

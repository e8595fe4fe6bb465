//! The relay board over Modbus RTU, on a pseudo-terminal pair: the driver
//! opens the pty's path as it opens an RS-485 adapter on a Pi.

use std::time::Duration;

use keting_hardware::relay_board::sim::{RelayFault, SimRelayBoard};
use keting_hardware::relay_board::{DEFAULT_TIMEOUT, ModbusRelayBoard, RelayError};
use keting_hardware::sim::rtu_pty::RtuPty;
use tokio_modbus::ExceptionCode;

const UNIT: u8 = 1;

#[tokio::test]
async fn switches_reads_back_and_turns_all_off_over_rtu() {
    let sim = SimRelayBoard::new();
    let pty = RtuPty::serve(sim.clone(), UNIT).unwrap();
    let mut board = ModbusRelayBoard::open_rtu(pty.path(), 9600, UNIT, DEFAULT_TIMEOUT).unwrap();
    board.set_confirmed(1, true).await.unwrap();
    board.set_confirmed(8, true).await.unwrap();
    assert_eq!(
        sim.relays(),
        [true, false, false, false, false, false, false, true]
    );
    assert_eq!(board.read_all().await.unwrap(), sim.relays().to_vec());
    board.all_off().await.unwrap();
    assert_eq!(sim.relays(), [false; 8]);
}

#[tokio::test]
async fn another_units_board_does_not_answer() {
    let sim = SimRelayBoard::new();
    let pty = RtuPty::serve(sim.clone(), 2).unwrap();
    let timeout = Duration::from_millis(200);
    let mut board = ModbusRelayBoard::open_rtu(pty.path(), 9600, UNIT, timeout).unwrap();
    let err = board.set(1, true).await.unwrap_err();
    assert!(err.is_unreachable(), "{err}");
    assert_eq!(sim.relays(), [false; 8]);
}

#[tokio::test]
async fn a_corrupted_answer_is_unreachable_and_an_exception_is_a_refusal() {
    let sim = SimRelayBoard::new();
    let pty = RtuPty::serve(sim.clone(), UNIT).unwrap();
    let mut board =
        ModbusRelayBoard::open_rtu(pty.path(), 9600, UNIT, Duration::from_millis(300)).unwrap();
    sim.set_fault(Some(RelayFault::BadCrc));
    let err = board.read_all().await.unwrap_err();
    assert!(err.is_unreachable(), "{err}");

    // A fresh connection after the line noise: exceptions come through as refusals.
    drop(board);
    sim.set_fault(Some(RelayFault::Exception(ExceptionCode::ServerDeviceBusy)));
    let mut board = ModbusRelayBoard::open_rtu(pty.path(), 9600, UNIT, DEFAULT_TIMEOUT).unwrap();
    let err = board.set(3, true).await.unwrap_err();
    assert!(
        matches!(err, RelayError::Refused(ExceptionCode::ServerDeviceBusy)),
        "{err}"
    );
}

#[tokio::test]
async fn a_missing_serial_port_is_one_clear_error() {
    let err = ModbusRelayBoard::open_rtu(
        std::path::Path::new("/dev/ttyKETING404"),
        9600,
        UNIT,
        DEFAULT_TIMEOUT,
    )
    .unwrap_err();
    assert!(err.is_unreachable());
    assert!(err.to_string().contains("/dev/ttyKETING404"), "{err}");
}

#[tokio::test]
async fn a_pulse_on_the_boards_own_timer_ends_by_itself_over_rtu() {
    let sim = SimRelayBoard::new();
    let pty = RtuPty::serve(sim.clone(), UNIT).unwrap();
    let bus = keting_hardware::bus::BusAddress::Rtu {
        path: pty.path().to_str().unwrap().to_owned(),
        baud: 9600,
    };
    let mut board = ModbusRelayBoard::connect(&bus, UNIT, DEFAULT_TIMEOUT)
        .await
        .unwrap();
    board
        .pulse_confirmed(4, true, std::time::Duration::from_millis(200))
        .await
        .unwrap();
    assert!(sim.relays()[3]);
    drop(board);
    let mut changes = sim.changes();
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        changes.wait_for(|c| !c[3]),
    )
    .await
    .expect("the board ended the pulse")
    .unwrap();
}

//! The relay board driver against the simulated board, over Modbus TCP.

use std::time::Duration;

use keting_hardware::relay_board::sim::RelayFault;
use keting_hardware::relay_board::{DEFAULT_TIMEOUT, ModbusRelayBoard, RelayError};
use tokio_modbus::ExceptionCode;

use crate::util::start_board;

#[tokio::test]
async fn switches_and_confirms_each_channel() {
    let sim = start_board().await;
    let mut board = ModbusRelayBoard::connect_tcp(sim.addr, 1, DEFAULT_TIMEOUT)
        .await
        .unwrap();
    for ch in 1..=8u8 {
        board.set_confirmed(ch, true).await.unwrap();
        let mut want = [false; 8];
        want[usize::from(ch - 1)] = true;
        assert_eq!(sim.board.relays(), want, "channel {ch} on");
        assert_eq!(board.read_all().await.unwrap(), want.to_vec());
        board.set_confirmed(ch, false).await.unwrap();
    }
    board.set(2, true).await.unwrap();
    board.set(7, true).await.unwrap();
    board.all_off().await.unwrap();
    assert_eq!(sim.board.relays(), [false; 8]);
    assert!(matches!(
        board.set(9, true).await,
        Err(RelayError::NoSuchChannel(9))
    ));
}

#[tokio::test]
async fn a_dead_channel_fails_confirmation() {
    let sim = start_board().await;
    sim.board.kill_channel(4);
    let mut board = ModbusRelayBoard::connect_tcp(sim.addr, 1, DEFAULT_TIMEOUT)
        .await
        .unwrap();
    let err = board.set_confirmed(4, true).await.unwrap_err();
    assert!(
        matches!(
            err,
            RelayError::NotConfirmed {
                channel: 4,
                wanted: true
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "relay channel 4 was switched on but reads back off"
    );
    board.set_confirmed(5, true).await.unwrap();
}

#[tokio::test]
async fn an_exception_is_a_refusal_not_unreachable() {
    let sim = start_board().await;
    sim.board.set_fault(Some(RelayFault::Exception(
        ExceptionCode::ServerDeviceFailure,
    )));
    let mut board = ModbusRelayBoard::connect_tcp(sim.addr, 1, DEFAULT_TIMEOUT)
        .await
        .unwrap();
    let err = board.set(1, true).await.unwrap_err();
    assert!(
        matches!(err, RelayError::Refused(ExceptionCode::ServerDeviceFailure)),
        "{err}"
    );
    assert!(!err.is_unreachable());
    assert_eq!(sim.board.relays(), [false; 8]);
}

#[tokio::test]
async fn no_reply_times_out_as_unreachable() {
    let sim = start_board().await;
    sim.board.set_fault(Some(RelayFault::NoReply));
    let timeout = Duration::from_millis(200);
    let mut board = ModbusRelayBoard::connect_tcp(sim.addr, 1, timeout)
        .await
        .unwrap();
    let err = board.read_all().await.unwrap_err();
    assert!(
        matches!(err, RelayError::Timeout(t) if t == timeout),
        "{err}"
    );
    assert!(err.is_unreachable());
}

#[tokio::test]
async fn nothing_listening_is_unreachable() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let err = ModbusRelayBoard::connect_tcp(addr, 1, DEFAULT_TIMEOUT)
        .await
        .unwrap_err();
    assert!(err.is_unreachable(), "{err}");
}

/// Waits until channel `channel` (1-based) of `board` reads `on`.
async fn relay_becomes(
    board: &keting_hardware::relay_board::sim::SimRelayBoard,
    channel: u8,
    on: bool,
) {
    let mut changes = board.changes();
    tokio::time::timeout(
        Duration::from_secs(5),
        changes.wait_for(|c| c[usize::from(channel - 1)] == on),
    )
    .await
    .expect("the relay switched in time")
    .unwrap();
}

#[tokio::test]
async fn a_pulse_on_the_boards_own_timer_ends_with_nobody_connected() {
    let sim = start_board().await;
    let mut board = ModbusRelayBoard::connect_tcp(sim.addr, 1, DEFAULT_TIMEOUT)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    board
        .pulse_confirmed(3, true, Duration::from_millis(300))
        .await
        .unwrap();
    assert!(sim.board.relays()[2], "on for the pulse");
    // The driver is gone, as an agent killed mid-pulse: the board ends it.
    drop(board);
    relay_becomes(&sim.board, 3, false).await;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(2),
        "{took:?}"
    );
    // The link still works after a pulse (the driver opened it again).
    let mut board = ModbusRelayBoard::connect_tcp(sim.addr, 1, DEFAULT_TIMEOUT)
        .await
        .unwrap();
    board
        .pulse_confirmed(1, true, Duration::from_millis(100))
        .await
        .unwrap();
    board.set_confirmed(2, true).await.unwrap();
    assert!(board.read_all().await.unwrap()[1]);
    // A plain write ends a running pulse: the later timer changes nothing.
    board
        .pulse_confirmed(5, true, Duration::from_millis(200))
        .await
        .unwrap();
    board.set_confirmed(5, false).await.unwrap();
    board.set_confirmed(5, true).await.unwrap();
    relay_becomes(&sim.board, 1, false).await;
    assert!(
        board.read_all().await.unwrap()[4],
        "the cancelled pulse left it alone"
    );
    // "Pulse off": off for the time, then on again (a fail-safe lock).
    board
        .pulse_confirmed(6, true, Duration::from_millis(100))
        .await
        .unwrap();
    board.set_confirmed(6, true).await.unwrap();
    board
        .pulse_confirmed(6, false, Duration::from_millis(100))
        .await
        .unwrap();
    relay_becomes(&sim.board, 6, true).await;
}

#[tokio::test]
async fn a_board_without_a_pulse_timer_refuses_the_pulse_and_a_dead_channel_fails_it() {
    let sim = start_board().await;
    sim.board.set_pulse_timer(false);
    let mut board = ModbusRelayBoard::connect_tcp(sim.addr, 1, DEFAULT_TIMEOUT)
        .await
        .unwrap();
    let e = board
        .pulse_confirmed(1, true, Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(
        matches!(e, RelayError::Refused(ExceptionCode::IllegalDataAddress)),
        "{e}"
    );
    assert_eq!(sim.board.relays(), [false; 8], "nothing switched");
    sim.board.set_pulse_timer(true);
    sim.board.kill_channel(2);
    let e = board
        .pulse_confirmed(2, true, Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(
        matches!(e, RelayError::NotConfirmed { channel: 2, .. }),
        "{e}"
    );
}

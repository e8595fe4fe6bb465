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

//! The vending controller driver against the simulated machine, over
//! Modbus TCP and RTU on a pty, with its faults; mbpoll reads the same
//! registers.

use std::time::Duration;

use keting_hardware::bus::BusAddress;
use keting_hardware::sim::modbus_tcp;
use keting_hardware::sim::rtu_pty::RtuPty;
use keting_hardware::vending::sim::{SimVending, VendingFault};
use keting_hardware::vending::{
    DEFAULT_TIMEOUT, ModbusVending, VendResult, VendingController, VendingError, await_result, vend,
};
use tokio::net::TcpListener;
use tokio_modbus::ExceptionCode;

const LIMIT: Duration = Duration::from_secs(5);

async fn tcp_machine(sim: &SimVending) -> (ModbusVending, u16) {
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
    (
        ModbusVending::connect(&bus, 1, DEFAULT_TIMEOUT)
            .await
            .unwrap(),
        port,
    )
}

#[tokio::test]
async fn a_drink_drops_once_however_often_the_command_is_repeated() {
    let sim = SimVending::new(6, 3);
    let (mut m, _) = tcp_machine(&sim).await;
    assert_eq!(
        vend(&mut m, 41, 2, LIMIT).await.unwrap(),
        VendResult::Dispensed
    );
    assert_eq!((sim.dispensed(), sim.stock(2)), (1, 2));
    assert_eq!(m.stock(2).await.unwrap(), Some(2));
    // The same request again (an answer lost, a command delivered twice).
    assert_eq!(
        vend(&mut m, 41, 2, LIMIT).await.unwrap(),
        VendResult::Dispensed
    );
    m.start_vend(41, 2).await.unwrap();
    assert_eq!(
        await_result(&mut m, 41, LIMIT).await.unwrap(),
        VendResult::Dispensed
    );
    assert_eq!(
        (sim.dispensed(), sim.commands()),
        (1, 1),
        "one drink for one request id"
    );
    // Another request vends again.
    assert_eq!(
        vend(&mut m, 42, 2, LIMIT).await.unwrap(),
        VendResult::Dispensed
    );
    assert_eq!(sim.dispensed(), 2);
    sim.set_stock_sensed(false);
    assert_eq!(m.stock(2).await.unwrap(), None);
}

#[tokio::test]
async fn jams_empty_slots_an_open_door_and_a_fault_drop_nothing_and_say_which() {
    let sim = SimVending::new(4, 2);
    let (mut m, _) = tcp_machine(&sim).await;
    sim.set_jammed(1, true);
    assert_eq!(vend(&mut m, 1, 1, LIMIT).await.unwrap(), VendResult::Jammed);
    sim.set_stock(2, 0);
    assert_eq!(vend(&mut m, 2, 2, LIMIT).await.unwrap(), VendResult::Empty);
    assert_eq!(
        vend(&mut m, 3, 9, LIMIT).await.unwrap(),
        VendResult::NoSuchSlot
    );
    sim.set_door_open(true);
    assert_eq!(
        vend(&mut m, 4, 3, LIMIT).await.unwrap(),
        VendResult::DoorOpen
    );
    sim.set_door_open(false);
    sim.set_out_of_order(true);
    assert_eq!(vend(&mut m, 5, 3, LIMIT).await.unwrap(), VendResult::Fault);
    assert_eq!(sim.dispensed(), 0);
}

#[tokio::test]
async fn a_slow_vend_outlasts_the_wait_and_its_result_is_read_later() {
    let sim = SimVending::new(2, 5);
    sim.set_vend_time(Duration::from_millis(800));
    let (mut m, _) = tcp_machine(&sim).await;
    let e = vend(&mut m, 7, 1, Duration::from_millis(200))
        .await
        .unwrap_err();
    assert!(matches!(e, VendingError::StillVending(_)), "{e}");
    // Busy: another request is refused by the machine, not queued.
    let busy = m.start_vend(8, 2).await.unwrap_err();
    assert_eq!(
        busy,
        VendingError::Modbus(keting_hardware::modbus_client::ModbusError::Refused(
            ExceptionCode::ServerDeviceBusy
        ))
    );
    assert_eq!(
        await_result(&mut m, 7, LIMIT).await.unwrap(),
        VendResult::Dispensed
    );
    assert_eq!(sim.dispensed(), 1);
}

#[tokio::test]
async fn no_reply_is_unreachable_and_an_exception_is_a_refusal() {
    let sim = SimVending::new(2, 5);
    let (mut m, _) = tcp_machine(&sim).await;
    sim.set_fault(Some(VendingFault::Exception(
        ExceptionCode::ServerDeviceFailure,
    )));
    let e = m.last().await.unwrap_err();
    assert!(!e.is_unreachable(), "{e}");
    sim.set_fault(Some(VendingFault::NoReply));
    let e = vend(&mut m, 1, 1, LIMIT).await.unwrap_err();
    assert!(e.is_unreachable(), "{e}");
    assert_eq!(sim.dispensed(), 0);
}

#[tokio::test]
async fn over_rtu_on_a_pty_it_vends_and_a_corrupted_answer_is_unreachable() {
    let sim = SimVending::new(3, 1);
    let pty = RtuPty::serve(sim.clone(), 1).unwrap();
    let bus = BusAddress::Rtu {
        path: pty.path().display().to_string(),
        baud: 9600,
    };
    let mut m = ModbusVending::connect(&bus, 1, Duration::from_millis(300))
        .await
        .unwrap();
    assert_eq!(
        vend(&mut m, 9, 3, LIMIT).await.unwrap(),
        VendResult::Dispensed
    );
    assert_eq!(vend(&mut m, 10, 3, LIMIT).await.unwrap(), VendResult::Empty);
    sim.set_fault(Some(VendingFault::BadCrc));
    let e = m.last().await.unwrap_err();
    assert!(e.is_unreachable(), "{e}");
    assert_eq!(sim.dispensed(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mbpoll_reads_the_result_registers() {
    let sim = SimVending::new(4, 2);
    let (mut m, port) = tcp_machine(&sim).await;
    vend(&mut m, 0x0001_0002, 4, LIMIT).await.unwrap();
    // Holding registers 20..22 are references 21..23 (1-based).
    let out = tokio::process::Command::new("mbpoll")
        .args([
            "-m",
            "tcp",
            "-p",
            &port.to_string(),
            "-a",
            "1",
            "-t",
            "4",
            "-r",
            "21",
            "-c",
            "3",
            "-1",
            "-o",
            "2",
            "127.0.0.1",
        ])
        .output()
        .await
        .expect("mbpoll is installed (./run-tests installs it)");
    let text = String::from_utf8_lossy(&out.stdout);
    let values: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start().starts_with('['))
        .map(|l| l.split(':').nth(1).unwrap_or("").trim())
        .collect();
    assert_eq!(
        values,
        ["1", "2", "2"],
        "request 0x00010002, dispensed: {text}"
    );
}

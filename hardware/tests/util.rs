//! A simulated relay board served on a free loopback port for one test.

use std::net::SocketAddr;

use keting_hardware::relay_board::sim::{SimRelayBoard, serve_tcp};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// A running simulated board; stops when dropped.
pub struct RunningBoard {
    pub board: SimRelayBoard,
    pub addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

pub async fn start_board() -> RunningBoard {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let board = SimRelayBoard::new();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(serve_tcp(listener, board.clone(), async move {
        let _ = stopped.await;
    }));
    RunningBoard {
        board,
        addr,
        _stop: stop,
    }
}

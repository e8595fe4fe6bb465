//! Any simulated Modbus device ([`ModbusSim`]) served over Modbus TCP, one
//! connection per client, until a shutdown signal.

use std::future::{Future, Ready, ready};
use std::io;
use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio_modbus::server::Service;
use tokio_modbus::server::tcp::{Server, accept_tcp_connection};
use tokio_modbus::{ExceptionCode, Request, Response};

use super::rtu_pty::ModbusSim;

/// A simulated device as a tokio-modbus service.
struct SimService<S>(S);

impl<S: ModbusSim> Service for SimService<S> {
    type Request = Request<'static>;
    type Response = Option<Response>;
    type Exception = ExceptionCode;
    type Future = Ready<Result<Self::Response, Self::Exception>>;

    fn call(&self, req: Self::Request) -> Self::Future {
        ready(self.0.handle(req))
    }
}

/// Serves `device` over Modbus TCP on `listener` until `shutdown` completes.
pub async fn serve<S: ModbusSim + Clone + Sync>(
    listener: TcpListener,
    device: S,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) -> io::Result<()> {
    let server = Server::new(listener);
    let on_connected = move |stream, addr: SocketAddr| {
        let device = device.clone();
        async move { accept_tcp_connection(stream, addr, move |_| Ok(Some(SimService(device.clone())))) }
    };
    server
        .serve_until(&on_connected, |_err| {}, shutdown)
        .await
        .map(|_| ())
}

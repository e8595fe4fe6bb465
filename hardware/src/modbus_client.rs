//! Connecting to a Modbus device at a [`BusAddress`] (TCP with TCP_NODELAY,
//! or RTU on a serial line, 8N1), and every call bounded by a timeout with
//! its outcome sorted into "refused" (a Modbus exception: the device
//! answered no), "unreachable" (I/O) and "timeout". The relay board and the
//! vending controller both use it.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use thiserror::Error;
use tokio_modbus::client::Context;
use tokio_modbus::{ExceptionCode, Slave};

use crate::bus::BusAddress;

/// How a Modbus call failed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ModbusError {
    /// The device answered with a Modbus exception.
    #[error("the device refused: {0:?}")]
    Refused(ExceptionCode),
    /// The device could not be reached (connection, framing, I/O).
    #[error("the device cannot be reached: {0}")]
    Unreachable(String),
    /// The device did not answer in time.
    #[error("the device did not answer within {0:?}")]
    Timeout(Duration),
}

impl ModbusError {
    /// Whether the device is unreachable (as opposed to answering no): the
    /// connection should be made anew, and the device shows as unavailable.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Self::Unreachable(_) | Self::Timeout(_))
    }
}

/// Opens a client for unit `unit` at `bus` (TCP: resolving the host name).
pub async fn connect(
    bus: &BusAddress,
    unit: u8,
    timeout: Duration,
) -> Result<Context, ModbusError> {
    match bus {
        BusAddress::Tcp { host, port } => {
            let addr = tokio::net::lookup_host((host.as_str(), *port))
                .await
                .map_err(|e| ModbusError::Unreachable(format!("{host}: {e}")))?
                .next()
                .ok_or_else(|| ModbusError::Unreachable(format!("{host}: no address")))?;
            connect_tcp(addr, unit, timeout).await
        }
        BusAddress::Rtu { path, baud } => open_rtu(Path::new(path), *baud, unit),
    }
}

/// Connects to unit `unit` over Modbus TCP at `addr`.
pub async fn connect_tcp(
    addr: SocketAddr,
    unit: u8,
    timeout: Duration,
) -> Result<Context, ModbusError> {
    let stream = tokio::time::timeout(timeout, tokio::net::TcpStream::connect(addr))
        .await
        .map_err(|_| ModbusError::Timeout(timeout))?
        .map_err(|e| ModbusError::Unreachable(e.to_string()))?;
    // Requests are a few bytes: send each at once (no Nagle delay).
    stream
        .set_nodelay(true)
        .map_err(|e| ModbusError::Unreachable(e.to_string()))?;
    Ok(tokio_modbus::client::tcp::attach_slave(stream, Slave(unit)))
}

/// Opens unit `unit` on a serial line (an RS-485 adapter, or a simulator's
/// pty) at `baud`, 8N1, as Modbus RTU.
pub fn open_rtu(path: &Path, baud: u32, unit: u8) -> Result<Context, ModbusError> {
    use tokio_serial::SerialPortBuilderExt;
    let name = path.to_string_lossy();
    let port = tokio_serial::new(name.as_ref(), baud)
        .open_native_async()
        .map_err(|e| ModbusError::Unreachable(format!("{name}: {e}")))?;
    Ok(tokio_modbus::client::rtu::attach_slave(port, Slave(unit)))
}

/// Runs one call with `timeout` and sorts its outcome.
pub async fn call<T>(
    timeout: Duration,
    f: impl std::future::Future<Output = tokio_modbus::Result<T>>,
) -> Result<T, ModbusError> {
    match tokio::time::timeout(timeout, f).await {
        Err(_) => Err(ModbusError::Timeout(timeout)),
        Ok(Err(e)) => Err(ModbusError::Unreachable(e.to_string())),
        Ok(Ok(Err(code))) => Err(ModbusError::Refused(code)),
        Ok(Ok(Ok(v))) => Ok(v),
    }
}

//! An 8-channel Modbus relay board: door strikes and piano power.
//!
//! The reference is the common Waveshare-style RS-485 relay board; the same
//! map is served over Modbus TCP by Ethernet variants and by our simulator.
//!
//! | what | function | address | value |
//! |---|---|---|---|
//! | read the relays | 0x01 read coils | 0x0000, count 8 | bit n = channel n+1 energised |
//! | switch one relay | 0x05 write single coil | 0x0000 + channel - 1 | 0xFF00 on, 0x0000 off |
//! | switch all relays | 0x0F write multiple coils | 0x0000, count 8 | |
//!
//! Channels are numbered 1 to 8 as printed on the board. Every call is
//! bounded by a timeout, and the error separates "the board refused" (a
//! Modbus exception) from "the board could not be reached" (I/O error or
//! timeout), as tokio-modbus's nested `Result` does. A switch can be confirmed
//! by reading the coil back, which catches a dead channel.
//!
//! [`sim`] (feature `sim`): the simulated board on Modbus TCP or RTU, with faults.

#[cfg(feature = "sim")]
pub mod sim;

use std::time::Duration;

use thiserror::Error;
use tokio_modbus::ExceptionCode;
use tokio_modbus::client::{Context, Reader, Writer};

use crate::modbus_client::{self, ModbusError};

/// Channels on the reference board.
pub const CHANNELS: u8 = 8;

/// How long a call waits for the board by default. RS-485 at 9600 baud
/// answers a coil write in about 20 ms.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(500);

/// What went wrong with the relay board.
#[derive(Debug, Error)]
pub enum RelayError {
    /// The channel is not on the board.
    #[error("relay channel {0} does not exist (the board has 1 to {CHANNELS})")]
    NoSuchChannel(u8),
    /// The board answered with a Modbus exception.
    #[error("the relay board refused: {0:?}")]
    Refused(ExceptionCode),
    /// The board could not be reached (connection, framing, I/O).
    #[error("the relay board cannot be reached: {0}")]
    Unreachable(String),
    /// The board did not answer in time.
    #[error("the relay board did not answer within {0:?}")]
    Timeout(Duration),
    /// The relay was switched but reads back the other way: a dead channel.
    #[error("relay channel {channel} was switched {} but reads back {}", on_off(*wanted), on_off(!*wanted))]
    NotConfirmed {
        /// The channel.
        channel: u8,
        /// What it was switched to.
        wanted: bool,
    },
}

fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

impl From<ModbusError> for RelayError {
    fn from(e: ModbusError) -> Self {
        match e {
            ModbusError::Refused(code) => Self::Refused(code),
            ModbusError::Unreachable(why) => Self::Unreachable(why),
            ModbusError::Timeout(t) => Self::Timeout(t),
        }
    }
}

impl RelayError {
    /// Whether the board is unreachable (as opposed to answering badly): the
    /// device then shows as unavailable, never as its last known state.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, RelayError::Unreachable(_) | RelayError::Timeout(_))
    }
}

/// A relay board reached over Modbus (RTU or TCP).
pub struct ModbusRelayBoard {
    ctx: Context,
    timeout: Duration,
}

impl std::fmt::Debug for ModbusRelayBoard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModbusRelayBoard")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl ModbusRelayBoard {
    /// A board on a Modbus client context (TCP or RTU) already set to its unit id.
    pub fn new(ctx: Context, timeout: Duration) -> Self {
        Self { ctx, timeout }
    }

    /// Connects to the board at `bus` (TCP: resolving the host name).
    pub async fn connect(
        bus: &crate::bus::BusAddress,
        unit: u8,
        timeout: Duration,
    ) -> Result<Self, RelayError> {
        Ok(Self::new(
            modbus_client::connect(bus, unit, timeout).await?,
            timeout,
        ))
    }

    /// Connects to a board over Modbus TCP.
    pub async fn connect_tcp(
        addr: std::net::SocketAddr,
        unit: u8,
        timeout: Duration,
    ) -> Result<Self, RelayError> {
        Ok(Self::new(
            modbus_client::connect_tcp(addr, unit, timeout).await?,
            timeout,
        ))
    }

    /// Opens a board on a serial line at `baud`, 8N1, as Modbus RTU unit `unit`.
    pub fn open_rtu(
        path: &std::path::Path,
        baud: u32,
        unit: u8,
        timeout: Duration,
    ) -> Result<Self, RelayError> {
        Ok(Self::new(
            modbus_client::open_rtu(path, baud, unit)?,
            timeout,
        ))
    }

    /// Switches one channel (1 to 8).
    pub async fn set(&mut self, channel: u8, on: bool) -> Result<(), RelayError> {
        let addr = coil_address(channel)?;
        Ok(modbus_client::call(self.timeout, self.ctx.write_single_coil(addr, on)).await?)
    }

    /// Reads every channel; index 0 is channel 1.
    pub async fn read_all(&mut self) -> Result<Vec<bool>, RelayError> {
        let mut coils =
            modbus_client::call(self.timeout, self.ctx.read_coils(0, u16::from(CHANNELS))).await?;
        coils.truncate(usize::from(CHANNELS));
        Ok(coils)
    }

    /// Switches one channel and reads it back.
    pub async fn set_confirmed(&mut self, channel: u8, on: bool) -> Result<(), RelayError> {
        self.set(channel, on).await?;
        let coils = self.read_all().await?;
        if coils.get(usize::from(channel - 1)) == Some(&on) {
            Ok(())
        } else {
            Err(RelayError::NotConfirmed {
                channel,
                wanted: on,
            })
        }
    }

    /// Switches every channel off (power-on, shutdown).
    pub async fn all_off(&mut self) -> Result<(), RelayError> {
        let off = [false; CHANNELS as usize];
        Ok(modbus_client::call(self.timeout, self.ctx.write_multiple_coils(0, &off)).await?)
    }
}

fn coil_address(channel: u8) -> Result<u16, RelayError> {
    if (1..=CHANNELS).contains(&channel) {
        Ok(u16::from(channel - 1))
    } else {
        Err(RelayError::NoSuchChannel(channel))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_map_to_coils() {
        assert_eq!(coil_address(1).unwrap(), 0);
        assert_eq!(coil_address(8).unwrap(), 7);
        assert!(matches!(coil_address(0), Err(RelayError::NoSuchChannel(0))));
        assert!(matches!(coil_address(9), Err(RelayError::NoSuchChannel(9))));
    }
}

//! The strike: a GPIO line or a coil of a Modbus relay board.
//!
//! A relay-board strike is written and read back (a dead relay is a fault,
//! not a silent success), and the connection is re-made after the board or
//! the bus went away.

use std::time::Duration;

use keting_hardware::bus::BusAddress;
use keting_hardware::gpio::OutputLine;
use keting_hardware::relay_board::{ModbusRelayBoard, RelayError};
use thiserror::Error;

/// How long one Modbus exchange may take.
pub const MODBUS_TIMEOUT: Duration = Duration::from_millis(500);

/// Why the strike could not be driven.
#[derive(Debug, Error)]
pub enum StrikeError {
    /// The relay board failed or could not be reached.
    #[error("relay board {bus} channel {channel}: {source}")]
    Relay {
        /// Which board.
        bus: String,
        /// Which channel.
        channel: u8,
        /// What went wrong.
        source: RelayError,
    },
    /// The GPIO line failed.
    #[error(transparent)]
    Gpio(#[from] keting_hardware::gpio::GpioError),
}

/// The strike's driver.
pub enum Strike {
    /// A GPIO line.
    Gpio(Box<dyn OutputLine>),
    /// A coil of a relay board.
    Relay {
        /// Where the board is.
        bus: BusAddress,
        /// Its unit id.
        unit: u8,
        /// The channel (1 to 8).
        channel: u8,
        /// The connection, if one is up.
        board: Option<ModbusRelayBoard>,
    },
}

impl std::fmt::Debug for Strike {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Gpio(_) => f.write_str("Strike::Gpio"),
            Self::Relay { bus, channel, .. } => write!(f, "Strike::Relay({bus} ch {channel})"),
        }
    }
}

impl Strike {
    /// A strike on a relay board; connects on first use.
    pub fn relay(bus: BusAddress, unit: u8, channel: u8) -> Self {
        Self::Relay {
            bus,
            unit,
            channel,
            board: None,
        }
    }

    /// Energises (or releases) the relay and confirms it.
    pub async fn set(&mut self, energized: bool) -> Result<(), StrikeError> {
        match self {
            Self::Gpio(line) => Ok(line.set(energized)?),
            Self::Relay {
                bus,
                unit,
                channel,
                board,
            } => {
                let err = |source| StrikeError::Relay {
                    bus: bus.to_string(),
                    channel: *channel,
                    source,
                };
                if board.is_none() {
                    *board = Some(
                        ModbusRelayBoard::connect(bus, *unit, MODBUS_TIMEOUT)
                            .await
                            .map_err(err)?,
                    );
                }
                let Some(b) = board.as_mut() else {
                    return Ok(());
                };
                let result = b.set_confirmed(*channel, energized).await;
                if result.as_ref().is_err_and(RelayError::is_unreachable) {
                    // The connection may be dead: make a new one next time.
                    *board = None;
                }
                result.map_err(err)
            }
        }
    }
}

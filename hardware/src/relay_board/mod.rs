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
//! | pulse on (the board's own timer) | 0x05 | 0x0200 + channel - 1 | time in 100 ms units, 1 to 0x7FFF |
//! | pulse off (the board's own timer) | 0x05 | 0x0400 + channel - 1 | time in 100 ms units, 1 to 0x7FFF |
//!
//! The pulses are the Waveshare boards' "flash on" and "flash off": the
//! board itself switches the relay back when the time is up, so a door
//! relocks even if the software that opened it dies mid-pulse
//! ([`ModbusRelayBoard::pulse_confirmed`]). A board without them refuses the
//! address (Modbus exception); its strike is then configured without the
//! board's timer and relocks on the agent's timer only.
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
use tokio_modbus::client::{Client, Context, Reader, Writer};

use crate::modbus_client::{self, ModbusError};

/// Channels on the reference board.
pub const CHANNELS: u8 = 8;

/// How long a call waits for the board by default. RS-485 at 9600 baud
/// answers a coil write in about 20 ms.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(500);

/// The coil-command address of "pulse on" for channel 1.
pub const PULSE_ON_BASE: u16 = 0x0200;
/// The coil-command address of "pulse off" for channel 1.
pub const PULSE_OFF_BASE: u16 = 0x0400;
/// The unit of a pulse's time.
pub const PULSE_UNIT: Duration = Duration::from_millis(100);
/// The longest pulse a board times (0x7FFF units: about 55 minutes).
pub const PULSE_MAX_UNITS: u16 = 0x7FFF;

/// A pulse's time in the board's units: rounded up, at least one unit.
pub fn pulse_units(time: Duration) -> Result<u16, RelayError> {
    let units = time.as_millis().div_ceil(PULSE_UNIT.as_millis()).max(1);
    u16::try_from(units)
        .ok()
        .filter(|u| *u <= PULSE_MAX_UNITS)
        .ok_or(RelayError::PulseTooLong(time))
}

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
    /// A pulse longer than the board can time.
    #[error("a pulse of {0:?} is longer than the board can time (about 55 minutes)")]
    PulseTooLong(Duration),
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
    /// The link; `None` only while it is being opened again.
    ctx: Option<Context>,
    timeout: Duration,
    /// Where it is, to open the link again (see [`Self::pulse_confirmed`]).
    address: Option<(crate::bus::BusAddress, u8)>,
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
        Self {
            ctx: Some(ctx),
            timeout,
            address: None,
        }
    }

    fn ctx(&mut self) -> Result<&mut Context, RelayError> {
        self.ctx
            .as_mut()
            .ok_or_else(|| RelayError::Unreachable("the link could not be opened again".into()))
    }

    /// Connects to the board at `bus` (TCP: resolving the host name).
    pub async fn connect(
        bus: &crate::bus::BusAddress,
        unit: u8,
        timeout: Duration,
    ) -> Result<Self, RelayError> {
        Ok(Self {
            address: Some((bus.clone(), unit)),
            ..Self::new(modbus_client::connect(bus, unit, timeout).await?, timeout)
        })
    }

    /// Connects to a board over Modbus TCP.
    pub async fn connect_tcp(
        addr: std::net::SocketAddr,
        unit: u8,
        timeout: Duration,
    ) -> Result<Self, RelayError> {
        let bus = crate::bus::BusAddress::Tcp {
            host: addr.ip().to_string(),
            port: addr.port(),
        };
        Ok(Self {
            address: Some((bus, unit)),
            ..Self::new(
                modbus_client::connect_tcp(addr, unit, timeout).await?,
                timeout,
            )
        })
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
        Ok(modbus_client::call(self.timeout, self.ctx()?.write_single_coil(addr, on)).await?)
    }

    /// Reads every channel; index 0 is channel 1.
    pub async fn read_all(&mut self) -> Result<Vec<bool>, RelayError> {
        let timeout = self.timeout;
        let mut coils =
            modbus_client::call(timeout, self.ctx()?.read_coils(0, u16::from(CHANNELS))).await?;
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

    /// Switches one channel to `on` for `time` with the board's own timer,
    /// after which the board switches it back by itself, and reads it back.
    ///
    /// tokio-modbus 0.17 cannot decode the board's echo of this command (a
    /// write-coil answer whose value is neither 0xFF00 nor 0x0000) and
    /// closes its link when it gets one; so an echo that does not decode
    /// counts as delivered, the link is opened again, and the coil read
    /// back is the confirmation. A Modbus exception (a board without the
    /// command) is [`RelayError::Refused`].
    pub async fn pulse_confirmed(
        &mut self,
        channel: u8,
        on: bool,
        time: Duration,
    ) -> Result<(), RelayError> {
        let base = if on { PULSE_ON_BASE } else { PULSE_OFF_BASE };
        let addr = base + coil_address(channel)?;
        let units = pulse_units(time)?;
        let mut pdu = addr.to_be_bytes().to_vec();
        pdu.extend_from_slice(&units.to_be_bytes());
        let request = tokio_modbus::Request::Custom(0x05, std::borrow::Cow::Owned(pdu));
        let timeout = self.timeout;
        match tokio::time::timeout(timeout, self.ctx()?.call(request)).await {
            Err(_) => return Err(RelayError::Timeout(self.timeout)),
            Ok(Ok(Err(code))) => return Err(RelayError::Refused(code)),
            // The board's exception, answered to a "custom" request.
            Ok(Err(tokio_modbus::Error::Protocol(
                tokio_modbus::ProtocolError::FunctionCodeMismatch {
                    result: Err(refused),
                    ..
                },
            ))) => return Err(RelayError::Refused(refused.exception)),
            Ok(Ok(Ok(_))) => {}
            Ok(Err(tokio_modbus::Error::Transport(e)))
                if e.kind() == std::io::ErrorKind::InvalidData =>
            {
                // The echo arrived but does not decode: open the link again.
                let Some((bus, unit)) = self.address.clone() else {
                    return Err(RelayError::Unreachable(
                        "a pulse needs a board opened by its address".into(),
                    ));
                };
                // The old link first: a serial port is held exclusively.
                self.ctx = None;
                self.ctx = Some(modbus_client::connect(&bus, unit, self.timeout).await?);
            }
            Ok(Err(e)) => return Err(RelayError::Unreachable(e.to_string())),
        }
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
        let timeout = self.timeout;
        Ok(modbus_client::call(timeout, self.ctx()?.write_multiple_coils(0, &off)).await?)
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

    #[test]
    fn a_pulse_is_timed_in_whole_tenths_of_a_second_rounded_up() {
        assert_eq!(pulse_units(Duration::from_millis(3000)).unwrap(), 30);
        assert_eq!(pulse_units(Duration::from_millis(3001)).unwrap(), 31);
        assert_eq!(pulse_units(Duration::from_millis(1)).unwrap(), 1);
        assert_eq!(pulse_units(Duration::ZERO).unwrap(), 1);
        assert!(matches!(
            pulse_units(Duration::from_secs(3600)),
            Err(RelayError::PulseTooLong(_))
        ));
    }
}

//! The strike: a GPIO line or a coil of a Modbus relay board.
//!
//! A relay-board strike is written and read back (a dead relay is a fault,
//! not a silent success), and the connection is re-made after the board or
//! the bus went away.
//!
//! With the board's timer ([`BoardTimer`], the default), a release is a
//! pulse the board itself ends: the relay goes back to rest after the
//! pulse's time even if this process dies, hangs or loses the bus. The
//! agent still relocks on its own timer too (and a door closing ends the
//! pulse early), so the board's timer is the net below, not the rule.
//!
//! A fail-safe lock (energised to lock) turns this round: the board times
//! the *locked* state instead. Locking is a "pulse on" of [`FAIL_SAFE_HOLD`]
//! that the agent renews every [`FAIL_SAFE_RENEW`] ([`Strike::renew_every`]);
//! a release is a plain write that lasts. If the agent dies, hangs or loses
//! the bus, the board lets the relay drop within the hold and the door is
//! released, as it would be on a power cut.

use std::time::Duration;

use keting_core::self_test::SelfCheck;
use keting_hardware::bus::BusAddress;
use keting_hardware::gpio::OutputLine;
use keting_hardware::relay_board::{ModbusRelayBoard, RelayError};
use thiserror::Error;

/// How long one Modbus exchange may take.
pub const MODBUS_TIMEOUT: Duration = Duration::from_millis(500);

/// How long the self-test holds the strike released.
pub const SELF_TEST_PULSE: Duration = Duration::from_millis(300);

/// What a technician does about a board that does not answer.
const FIX_UNREACHABLE: &str = "check the board's power and wiring (RTU: A/B and ground; TCP: cable and address), its unit id and baud rate, then run the check again";

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

/// How much longer than the pulse the board's timer runs: the agent's own
/// relock comes first in normal running, and the board's only when the
/// agent is gone (at most this much later than the pulse's end).
pub const BOARD_TIMER_MARGIN: Duration = Duration::from_millis(500);

/// How long a fail-safe lock's board holds it locked with no renewal: the
/// agent's death releases the door within this long.
pub const FAIL_SAFE_HOLD: Duration = Duration::from_secs(5);

/// How often the agent renews a fail-safe lock's hold (three tries within
/// one hold).
pub const FAIL_SAFE_RENEW: Duration = Duration::from_millis(1_500);

/// A relay-board strike's release timed by the board.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BoardTimer {
    /// How long a release lasts (the lock's pulse).
    pub pulse: Duration,
    /// Whether the relay is energised at rest (a fail-safe lock).
    pub at_rest: bool,
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
        /// Releases timed by the board, if it has the commands.
        timer: Option<BoardTimer>,
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
    /// A strike on a relay board; connects on first use. With `timer`,
    /// each release is a pulse the board ends by itself.
    pub fn relay(bus: BusAddress, unit: u8, channel: u8, timer: Option<BoardTimer>) -> Self {
        Self::Relay {
            bus,
            unit,
            channel,
            board: None,
            timer,
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
                timer,
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
                let result = match timer {
                    // Fail-safe, locked: a hold the board ends by itself
                    // unless the agent renews it.
                    Some(t) if t.at_rest && energized => {
                        b.pulse_confirmed(*channel, true, FAIL_SAFE_HOLD).await
                    }
                    // Fail-safe, released: it lasts.
                    Some(t) if t.at_rest => b.set_confirmed(*channel, false).await,
                    // Fail-secure, a release: a pulse the board ends by itself.
                    Some(t) if energized != t.at_rest => {
                        b.pulse_confirmed(*channel, energized, t.pulse + BOARD_TIMER_MARGIN)
                            .await
                    }
                    _ => b.set_confirmed(*channel, energized).await,
                };
                if result.as_ref().is_err_and(RelayError::is_unreachable) {
                    // The connection may be dead: make a new one next time.
                    *board = None;
                }
                result.map_err(err)
            }
        }
    }

    /// How often the value set must be set again: a fail-safe lock held
    /// by the board's timer, while it is energised (locked).
    pub fn renew_every(&self, energized: bool) -> Option<Duration> {
        match self {
            Self::Relay { timer: Some(t), .. } if t.at_rest && energized => Some(FAIL_SAFE_RENEW),
            _ => None,
        }
    }

    /// The commissioning self-test: the Modbus unit answers (relay boards),
    /// then the strike is released (`open`) for [`SELF_TEST_PULSE`] and put
    /// back at `rest`, each switch read back where the hardware allows.
    pub async fn self_test(&mut self, rest: bool, open: bool) -> Vec<SelfCheck> {
        let mut checks = Vec::new();
        if let Self::Relay {
            bus,
            unit,
            channel,
            board,
            timer,
        } = self
        {
            let name = format!("Modbus unit {unit} on {bus}");
            if board.is_none() {
                match ModbusRelayBoard::connect(bus, *unit, MODBUS_TIMEOUT).await {
                    Ok(b) => *board = Some(b),
                    Err(e) => {
                        checks.push(SelfCheck::fail(name, e.to_string(), FIX_UNREACHABLE));
                        return checks;
                    }
                }
            }
            let Some(b) = board.as_mut() else {
                return checks;
            };
            match b.read_all().await {
                Ok(coils) => checks.push(SelfCheck::pass(
                    name,
                    format!("answers: {} coils read", coils.len()),
                )),
                Err(e) => {
                    let fix = match e {
                        RelayError::Refused(_) => {
                            "the unit answered with an exception: is the unit id another device's? check --unit and the board's DIP switches"
                        }
                        _ => FIX_UNREACHABLE,
                    };
                    if e.is_unreachable() {
                        *board = None;
                    }
                    checks.push(SelfCheck::fail(name, e.to_string(), fix));
                    return checks;
                }
            }
            let name = format!("relay channel {channel} (the strike)");
            let pulse = async {
                b.set_confirmed(*channel, open).await?;
                tokio::time::sleep(SELF_TEST_PULSE).await;
                b.set_confirmed(*channel, rest).await
            };
            checks.push(match pulse.await {
                Ok(()) => SelfCheck::pass(
                    name,
                    format!("pulsed {} ms: read back {}, then {}", SELF_TEST_PULSE.as_millis(), on_off(open), on_off(rest)),
                ),
                Err(e @ RelayError::NotConfirmed { .. }) => SelfCheck::fail(
                    name,
                    e.to_string(),
                    "the relay channel is dead: replace the board, or move the strike's wire to a free channel and set that channel in agent.toml",
                ),
                Err(e) => SelfCheck::fail(name, e.to_string(), FIX_UNREACHABLE),
            });
            if timer.is_some() {
                checks.push(board_timer_check(b, *channel, rest, open).await);
            }
            // Whatever happened, try to leave the strike at rest.
            let _ = b.set(*channel, rest).await;
            return checks;
        }
        let pulse = async {
            self.set(open).await?;
            tokio::time::sleep(SELF_TEST_PULSE).await;
            self.set(rest).await
        };
        checks.push(match pulse.await {
            Ok(()) => SelfCheck::pass(
                "strike (GPIO)",
                format!(
                    "released {} ms and back (a GPIO output cannot be read back: listen for the click)",
                    SELF_TEST_PULSE.as_millis()
                ),
            ),
            Err(e) => SelfCheck::fail(
                "strike (GPIO)",
                e.to_string(),
                "check the line name in agent.toml against `gpioinfo`, and that no other program holds the line",
            ),
        });
        checks
    }
}

/// The board's own timer: a release it is asked to time, then nothing
/// written; the relay must be back at rest when the time is up.
async fn board_timer_check(
    b: &mut ModbusRelayBoard,
    channel: u8,
    rest: bool,
    open: bool,
) -> SelfCheck {
    let name = "the board's pulse timer (relocks with no software)";
    if let Err(e) = b.pulse_confirmed(channel, open, SELF_TEST_PULSE).await {
        let fix = match e {
            RelayError::Refused(_) => {
                "this board has no pulse timer: set board_timer = false on the strike in agent.toml (the door then relocks on the agent's timer only), or fit a board that has one"
            }
            _ => FIX_UNREACHABLE,
        };
        return SelfCheck::fail(name, e.to_string(), fix);
    }
    // A margin for the board's clock and the bus.
    tokio::time::sleep(SELF_TEST_PULSE + Duration::from_millis(300)).await;
    match b.read_all().await {
        Ok(coils) if coils.get(usize::from(channel - 1)) == Some(&rest) => SelfCheck::pass(
            name,
            format!(
                "released for {} ms by the board, back {} with nothing written",
                SELF_TEST_PULSE.as_millis(),
                on_off(rest)
            ),
        ),
        Ok(_) => SelfCheck::fail(
            name,
            "the board did not switch the relay back by itself".to_owned(),
            "the board ignores its pulse timer: set board_timer = false in agent.toml and rely on the agent's timer, or replace the board",
        ),
        Err(e) => SelfCheck::fail(name, e.to_string(), FIX_UNREACHABLE),
    }
}

fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

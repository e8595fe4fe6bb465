//! A simulated 8-channel relay board, served over Modbus TCP ([`serve_tcp`])
//! or Modbus RTU on a pseudo-terminal ([`crate::sim::rtu_pty`]), with the map of
//! [`crate::relay_board`].
//!
//! The board's own pulse timer ("flash on", "flash off"): the relay is
//! switched, and the board switches it back when the time is up, whoever is
//! still talking to it; a plain write to the channel cancels a running
//! pulse. [`SimRelayBoard::set_pulse_timer`] makes a board without it (the
//! commands are refused with IllegalDataAddress).
//!
//! Faults: a dead channel (switches, but reads back off, as a burnt relay
//! coil does), a welded one (reads on whatever is written), a Modbus exception on every request, or no reply at all (the
//! client times out). Any Modbus client can drive it: our driver, `mbpoll`,
//! pymodbus.

use std::future::Future;
use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::net::TcpListener;
use tokio_modbus::{ExceptionCode, Request, Response};

use crate::relay_board::{CHANNELS, PULSE_MAX_UNITS, PULSE_OFF_BASE, PULSE_ON_BASE, PULSE_UNIT};

/// A fault the simulated board shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelayFault {
    /// Every request is answered with this exception.
    Exception(ExceptionCode),
    /// No request is answered.
    NoReply,
    /// Answers carry a wrong CRC (RTU only; TCP has no CRC).
    BadCrc,
}

#[derive(Debug, Default)]
struct State {
    coils: [bool; CHANNELS as usize],
    changes: Option<tokio::sync::watch::Sender<[bool; CHANNELS as usize]>>,
    /// A channel stuck at a level whatever is written: `Some(false)` a
    /// burnt relay, `Some(true)` a welded contact.
    stuck: [Option<bool>; CHANNELS as usize],
    fault: Option<RelayFault>,
    writes: u64,
    /// Each channel's pulse number: a timer ends only the pulse it started.
    pulse: [u64; CHANNELS as usize],
    no_pulse_timer: bool,
}

impl State {
    /// What channel `i` reads after being driven to `on`.
    fn level(&self, i: usize, on: bool) -> bool {
        self.stuck[i].unwrap_or(on)
    }

    fn notify(&self) {
        if let Some(tx) = &self.changes {
            tx.send_replace(self.coils);
        }
    }
}

/// The simulated board. Clones share the same relays.
#[derive(Clone, Debug, Default)]
pub struct SimRelayBoard {
    state: Arc<Mutex<State>>,
}

impl SimRelayBoard {
    /// A board with every relay off and no fault.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        // A panic elsewhere while holding the lock leaves plain data: keep going.
        f(&mut self.state.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Which relays are energised; index 0 is channel 1.
    pub fn relays(&self) -> [bool; CHANNELS as usize] {
        self.with(|s| s.coils)
    }

    /// Every later change of the relays (for tests and benchmarks to wait on
    /// a relay instead of polling it).
    pub fn changes(&self) -> tokio::sync::watch::Receiver<[bool; CHANNELS as usize]> {
        self.with(|s| {
            let coils = s.coils;
            s.changes
                .get_or_insert_with(|| tokio::sync::watch::channel(coils).0)
                .subscribe()
        })
    }

    /// How many coil writes the board has carried out.
    pub fn writes(&self) -> u64 {
        self.with(|s| s.writes)
    }

    /// Makes a channel (1 to 8) dead: it never energises.
    pub fn kill_channel(&self, channel: u8) {
        self.stick(channel, false);
    }

    /// Welds a channel's contact (1 to 8): it reads on whatever is written.
    pub fn weld_channel(&self, channel: u8) {
        self.stick(channel, true);
    }

    fn stick(&self, channel: u8, level: bool) {
        self.with(|s| {
            let i = usize::from(channel.wrapping_sub(1));
            if let Some(d) = s.stuck.get_mut(i) {
                *d = Some(level);
                s.coils[i] = level;
                s.notify();
            }
        });
    }

    /// Whether the board has its own pulse timer (on by default).
    pub fn set_pulse_timer(&self, has: bool) {
        self.with(|s| s.no_pulse_timer = !has);
    }

    /// Starts a pulse: `channel` (0-based) to `on` for `units` of
    /// [`PULSE_UNIT`], then back, on the board's own timer.
    fn start_pulse(&self, channel: usize, on: bool, units: u16) {
        let number = self.with(|s| {
            s.coils[channel] = s.level(channel, on);
            s.writes += 1;
            s.pulse[channel] += 1;
            s.notify();
            s.pulse[channel]
        });
        let board = self.clone();
        let time = PULSE_UNIT * u32::from(units);
        // The board's timer: a thread of its own, as the board's own clock.
        std::thread::spawn(move || {
            std::thread::sleep(time);
            board.with(|s| {
                if s.pulse[channel] == number {
                    s.coils[channel] = s.level(channel, !on);
                    s.notify();
                }
            });
        });
    }

    /// Sets or clears a fault.
    pub fn set_fault(&self, fault: Option<RelayFault>) {
        self.with(|s| s.fault = fault);
    }

    /// The current fault, if any.
    pub(crate) fn fault(&self) -> Option<RelayFault> {
        self.with(|s| s.fault)
    }

    /// Carries out one request, as the board would.
    pub(crate) fn handle(&self, req: Request<'static>) -> Result<Option<Response>, ExceptionCode> {
        if let Request::Custom(0x05, data) = &req {
            return self.pulse_command(data);
        }
        self.with(|s| {
            match s.fault {
                Some(RelayFault::NoReply) => return Ok(None),
                Some(RelayFault::Exception(code)) => return Err(code),
                Some(RelayFault::BadCrc) | None => {}
            }
            let n = usize::from(CHANNELS);
            let range = |addr: u16, count: usize| {
                let start = usize::from(addr);
                if count == 0 || start + count > n {
                    Err(ExceptionCode::IllegalDataAddress)
                } else {
                    Ok(start..start + count)
                }
            };
            match req {
                Request::ReadCoils(addr, count) => {
                    let r = range(addr, usize::from(count))?;
                    Ok(Some(Response::ReadCoils(s.coils[r].to_vec())))
                }
                Request::WriteSingleCoil(addr, on) => {
                    let r = range(addr, 1)?;
                    s.coils[r.start] = s.level(r.start, on);
                    s.pulse[r.start] += 1; // a running pulse is over
                    s.writes += 1;
                    s.notify();
                    Ok(Some(Response::WriteSingleCoil(addr, on)))
                }
                Request::WriteMultipleCoils(addr, values) => {
                    let r = range(addr, values.len())?;
                    for (i, on) in r.clone().zip(values.iter()) {
                        s.coils[i] = s.level(i, *on);
                    }
                    s.writes += 1;
                    s.notify();
                    let count =
                        u16::try_from(values.len()).map_err(|_| ExceptionCode::IllegalDataValue)?;
                    Ok(Some(Response::WriteMultipleCoils(addr, count)))
                }
                _ => Err(ExceptionCode::IllegalFunction),
            }
        })
    }
}

impl SimRelayBoard {
    /// A "pulse on" or "pulse off" command: function 0x05, address
    /// 0x02nn or 0x04nn for channel nn+1, value the time in 100 ms units.
    fn pulse_command(&self, data: &[u8]) -> Result<Option<Response>, ExceptionCode> {
        match self.with(|s| s.fault) {
            Some(RelayFault::NoReply) => return Ok(None),
            Some(RelayFault::Exception(code)) => return Err(code),
            _ => {}
        }
        let [a, b, c, d] = data else {
            return Err(ExceptionCode::IllegalDataValue);
        };
        let addr = u16::from_be_bytes([*a, *b]);
        let units = u16::from_be_bytes([*c, *d]);
        let on = match addr & 0xFF00 {
            PULSE_ON_BASE => true,
            PULSE_OFF_BASE => false,
            _ => return Err(ExceptionCode::IllegalDataValue),
        };
        let channel = usize::from(addr & 0x00FF);
        if self.with(|s| s.no_pulse_timer) || channel >= usize::from(CHANNELS) {
            return Err(ExceptionCode::IllegalDataAddress);
        }
        if units == 0 || units > PULSE_MAX_UNITS {
            return Err(ExceptionCode::IllegalDataValue);
        }
        self.start_pulse(channel, on, units);
        Ok(Some(Response::Custom(0x05, data.to_vec().into())))
    }
}

/// Serves `board` over Modbus TCP on `listener` until `shutdown` completes.
pub async fn serve_tcp(
    listener: TcpListener,
    board: SimRelayBoard,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) -> io::Result<()> {
    crate::sim::modbus_tcp::serve(listener, board, shutdown).await
}

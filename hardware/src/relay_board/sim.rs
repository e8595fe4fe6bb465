//! A simulated 8-channel relay board, served over Modbus TCP ([`serve_tcp`])
//! or Modbus RTU on a pseudo-terminal ([`crate::sim::rtu_pty`]), with the map of
//! [`crate::relay_board`].
//!
//! Faults: a dead channel (switches, but reads back off, as a burnt relay
//! coil does), a Modbus exception on every request, or no reply at all (the
//! client times out). Any Modbus client can drive it: our driver, `mbpoll`,
//! pymodbus.

use std::future::Future;
use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::net::TcpListener;
use tokio_modbus::{ExceptionCode, Request, Response};

use crate::relay_board::CHANNELS;

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
    dead: [bool; CHANNELS as usize],
    fault: Option<RelayFault>,
    writes: u64,
}

impl State {
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
        self.with(|s| {
            if let Some(d) = s.dead.get_mut(usize::from(channel.wrapping_sub(1))) {
                *d = true;
            }
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
                    s.coils[r.start] = on && !s.dead[r.start];
                    s.writes += 1;
                    s.notify();
                    Ok(Some(Response::WriteSingleCoil(addr, on)))
                }
                Request::WriteMultipleCoils(addr, values) => {
                    let r = range(addr, values.len())?;
                    for (i, on) in r.clone().zip(values.iter()) {
                        s.coils[i] = *on && !s.dead[i];
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

/// Serves `board` over Modbus TCP on `listener` until `shutdown` completes.
pub async fn serve_tcp(
    listener: TcpListener,
    board: SimRelayBoard,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) -> io::Result<()> {
    crate::sim::modbus_tcp::serve(listener, board, shutdown).await
}

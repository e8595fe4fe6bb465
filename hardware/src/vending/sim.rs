//! A simulated vending controller with the map of [`crate::vending`],
//! served over Modbus TCP ([`crate::sim::modbus_tcp`]) or RTU on a pty
//! ([`crate::sim::rtu_pty`]).
//!
//! A vend takes [`SimVending::set_vend_time`] (200 ms by default) and then
//! drops a drink, unless a fault says otherwise: a jammed slot, an empty
//! slot, the service door open, a machine fault, a slow vend, no reply at
//! all, a Modbus exception on every request, or answers with a bad CRC
//! (RTU). The simulator counts the drinks that really dropped
//! ([`SimVending::dispensed`]): the chaos test compares it with the ledger.
//!
//! Time is read when a request comes in, so the simulator needs no task of
//! its own: a vend's outcome is settled at the first request after it is due.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio_modbus::{ExceptionCode, Request, Response};

use crate::sim::holding_registers::{self, HoldingRegisters};
use crate::sim::rtu_pty::ModbusSim;
use crate::vending::{VendResult, reg};

/// A fault of the whole controller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VendingFault {
    /// Every request is answered with this exception.
    Exception(ExceptionCode),
    /// No request is answered.
    NoReply,
    /// Answers carry a wrong CRC (RTU only).
    BadCrc,
}

#[derive(Debug)]
struct State {
    stock: Vec<u16>,
    sensed: bool,
    last_request: u32,
    last_result: u16,
    last_command: [u16; 4],
    vending: Option<(u8, Instant)>,
    vend_time: Duration,
    jammed: BTreeSet<u8>,
    door_open: bool,
    out_of_order: bool,
    fault: Option<VendingFault>,
    dispensed: u64,
    commands: u64,
}

impl State {
    /// Settles a vend that is due.
    fn settle(&mut self, now: Instant) {
        let Some((slot, due)) = self.vending else {
            return;
        };
        if now < due {
            return;
        }
        self.vending = None;
        let i = usize::from(slot - 1);
        let result = if self.jammed.contains(&slot) {
            VendResult::Jammed
        } else if self.stock[i] == 0 {
            VendResult::Empty
        } else {
            self.stock[i] -= 1;
            self.dispensed += 1;
            VendResult::Dispensed
        };
        self.last_result = result.to_register();
    }
}

impl HoldingRegisters for State {
    const COMMAND_AT: u16 = reg::CMD;

    fn register(&self, addr: u16, _now: Instant) -> Result<u16, ExceptionCode> {
        let slots = u16::try_from(self.stock.len()).unwrap_or(u16::MAX);
        Ok(match addr {
            reg::MAP_VERSION => 1,
            reg::STATE => match (self.out_of_order, self.vending.is_some()) {
                (true, _) => 2,
                (false, true) => 1,
                (false, false) => 0,
            },
            reg::DOOR => u16::from(self.door_open),
            reg::SLOTS => slots,
            a if (reg::CMD..reg::CMD + 4).contains(&a) => {
                self.last_command[usize::from(a - reg::CMD)]
            }
            a if a == reg::LAST => (self.last_request >> 16) as u16,
            a if a == reg::LAST + 1 => (self.last_request & 0xFFFF) as u16,
            a if a == reg::LAST + 2 => self.last_result,
            a if a > reg::STOCK && a <= reg::STOCK + slots => {
                if self.sensed {
                    self.stock[usize::from(a - reg::STOCK - 1)]
                } else {
                    reg::STOCK_UNKNOWN
                }
            }
            _ => return Err(ExceptionCode::IllegalDataAddress),
        })
    }

    fn command(&mut self, words: &[u16], now: Instant) -> Result<(), ExceptionCode> {
        let [hi, lo, slot, action] = words else {
            return Err(ExceptionCode::IllegalDataValue);
        };
        if *action != reg::ACTION_VEND {
            return Err(ExceptionCode::IllegalDataValue);
        }
        let request = (u32::from(*hi) << 16) | u32::from(*lo);
        if request == self.last_request {
            // A repeated command: already taken, nothing vends again.
            return Ok(());
        }
        if self.vending.is_some() {
            return Err(ExceptionCode::ServerDeviceBusy);
        }
        self.commands += 1;
        self.last_request = request;
        self.last_command = [*hi, *lo, *slot, *action];
        let slot = u8::try_from(*slot).unwrap_or(0);
        let result = if slot == 0 || usize::from(slot) > self.stock.len() {
            Some(VendResult::NoSuchSlot)
        } else if self.door_open {
            Some(VendResult::DoorOpen)
        } else if self.out_of_order {
            Some(VendResult::Fault)
        } else if self.stock[usize::from(slot - 1)] == 0 && !self.jammed.contains(&slot) {
            Some(VendResult::Empty)
        } else {
            None
        };
        match result {
            Some(r) => self.last_result = r.to_register(),
            None => {
                self.last_result = VendResult::Vending.to_register();
                self.vending = Some((slot, now + self.vend_time));
            }
        }
        Ok(())
    }
}

/// The simulated machine. Clones share the same machine.
#[derive(Clone, Debug)]
pub struct SimVending {
    state: Arc<Mutex<State>>,
}

impl SimVending {
    /// A machine with `slots` slots, each holding `stock` drinks, stock sensed.
    pub fn new(slots: u8, stock: u16) -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                stock: vec![stock; usize::from(slots)],
                sensed: true,
                last_request: 0,
                last_result: 0,
                last_command: [0; 4],
                vending: None,
                vend_time: Duration::from_millis(200),
                jammed: BTreeSet::new(),
                door_open: false,
                out_of_order: false,
                fault: None,
                dispensed: 0,
                commands: 0,
            })),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        s.settle(Instant::now());
        f(&mut s)
    }

    /// Drinks that really dropped into the tray.
    pub fn dispensed(&self) -> u64 {
        self.with(|s| s.dispensed)
    }

    /// Vend commands taken (repeats of a request id not counted).
    pub fn commands(&self) -> u64 {
        self.with(|s| s.commands)
    }

    /// A slot's stock.
    pub fn stock(&self, slot: u8) -> u16 {
        self.with(|s| {
            s.stock
                .get(usize::from(slot.max(1) - 1))
                .copied()
                .unwrap_or(0)
        })
    }

    /// Sets a slot's stock.
    pub fn set_stock(&self, slot: u8, n: u16) {
        self.with(|s| {
            if let Some(v) = s.stock.get_mut(usize::from(slot.max(1) - 1)) {
                *v = n;
            }
        });
    }

    /// Whether the machine senses its stock (`STOCK` reads 0xFFFF if not).
    pub fn set_stock_sensed(&self, sensed: bool) {
        self.with(|s| s.sensed = sensed);
    }

    /// Jams a slot (or clears it).
    pub fn set_jammed(&self, slot: u8, jammed: bool) {
        self.with(|s| {
            if jammed {
                s.jammed.insert(slot);
            } else {
                s.jammed.remove(&slot);
            }
        });
    }

    /// Opens or closes the service door.
    pub fn set_door_open(&self, open: bool) {
        self.with(|s| s.door_open = open);
    }

    /// Puts the machine out of order (every vend is a fault).
    pub fn set_out_of_order(&self, out: bool) {
        self.with(|s| s.out_of_order = out);
    }

    /// How long a vend takes (a slow vend: several seconds).
    pub fn set_vend_time(&self, t: Duration) {
        self.with(|s| s.vend_time = t);
    }

    /// Sets or clears a fault of the whole controller.
    pub fn set_fault(&self, fault: Option<VendingFault>) {
        self.with(|s| s.fault = fault);
    }
}

impl ModbusSim for SimVending {
    fn handle(&self, req: Request<'static>) -> Result<Option<Response>, ExceptionCode> {
        let now = Instant::now();
        self.with(|s| {
            match s.fault {
                Some(VendingFault::NoReply) => return Ok(None),
                Some(VendingFault::Exception(code)) => return Err(code),
                Some(VendingFault::BadCrc) | None => {}
            }
            holding_registers::answer(s, req, now)
        })
    }

    fn corrupt_crc(&self) -> bool {
        self.with(|s| s.fault == Some(VendingFault::BadCrc))
    }
}

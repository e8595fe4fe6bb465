//! The drinks vending controller: its Modbus register map, the
//! [`VendingController`] trait the agent drives (so an MDB cashless bridge
//! can be added beside Modbus), and the Modbus driver.
//!
//! # Register map (holding registers; read with 0x03, written with 0x10)
//!
//! | address | name | access | meaning |
//! |---|---|---|---|
//! | 0 | `MAP_VERSION` | read | 1 |
//! | 1 | `STATE` | read | 0 idle, 1 vending, 2 out of order |
//! | 2 | `DOOR` | read | 0 service door closed, 1 open |
//! | 3 | `SLOTS` | read | number of slots |
//! | 10-11 | `CMD_REQUEST` | write | the request id, a u32, high word first |
//! | 12 | `CMD_SLOT` | write | the slot, 1 to `SLOTS` |
//! | 13 | `CMD_ACTION` | write | 1 = vend |
//! | 20-21 | `LAST_REQUEST` | read | the request id of the last vend command taken |
//! | 22 | `LAST_RESULT` | read | see [`VendResult`]: 0 none, 1 vending, 2 dispensed, 3 jammed, 4 empty, 5 door open, 6 fault, 7 no such slot |
//! | 100 + slot | `STOCK` | read | drinks sensed in the slot; 0xFFFF when the machine does not sense it |
//!
//! A command is registers 10 to 13 written in one request (0x10, 4
//! registers), so it is taken whole or not at all. `LAST_REQUEST` and
//! `LAST_RESULT` must survive a power cycle (non-volatile), or a vend in
//! doubt across a power cut cannot be settled. The controller vends
//! only for a request id other than `LAST_REQUEST`: a command repeated after
//! a lost answer is a no-op whose result stays readable. The agent keeps its
//! own durable record of every request id as well; this is the second guard.
//!
//! [`sim`] (feature `sim`): the simulated controller, with faults.

#[cfg(feature = "sim")]
pub mod sim;

use std::time::Duration;

use thiserror::Error;
use tokio_modbus::client::{Context, Reader, Writer};

use crate::bus::BusAddress;
use crate::modbus_client::{self, ModbusError};

/// How long a call waits for the controller by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(500);
/// How often a vend's result is read while it is under way.
pub const POLL_EVERY: Duration = Duration::from_millis(100);

/// Register addresses.
pub mod reg {
    /// The map's version (1).
    pub const MAP_VERSION: u16 = 0;
    /// 0 idle, 1 vending, 2 out of order.
    pub const STATE: u16 = 1;
    /// The service door: 0 closed, 1 open.
    pub const DOOR: u16 = 2;
    /// The number of slots.
    pub const SLOTS: u16 = 3;
    /// The command block: request id (2), slot, action.
    pub const CMD: u16 = 10;
    /// The last request taken (2) and its result.
    pub const LAST: u16 = 20;
    /// Stock of slot n is at `STOCK + n`.
    pub const STOCK: u16 = 100;
    /// `CMD_ACTION` value: vend.
    pub const ACTION_VEND: u16 = 1;
    /// `STOCK` value: not sensed.
    pub const STOCK_UNKNOWN: u16 = 0xFFFF;
}

/// What became of a vend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VendResult {
    /// Under way.
    Vending,
    /// The drink dropped into the tray.
    Dispensed,
    /// The spiral turned but the drink stuck.
    Jammed,
    /// The slot is empty.
    Empty,
    /// The service door is open: nothing vends.
    DoorOpen,
    /// The machine reports a fault.
    Fault,
    /// No such slot.
    NoSuchSlot,
}

impl VendResult {
    /// From `LAST_RESULT` (0 is "no result": `None`).
    pub fn from_register(v: u16) -> Result<Option<Self>, VendingError> {
        Ok(Some(match v {
            0 => return Ok(None),
            1 => Self::Vending,
            2 => Self::Dispensed,
            3 => Self::Jammed,
            4 => Self::Empty,
            5 => Self::DoorOpen,
            6 => Self::Fault,
            7 => Self::NoSuchSlot,
            other => return Err(VendingError::BadRegister(other)),
        }))
    }

    /// The `LAST_RESULT` value.
    pub fn to_register(self) -> u16 {
        match self {
            Self::Vending => 1,
            Self::Dispensed => 2,
            Self::Jammed => 3,
            Self::Empty => 4,
            Self::DoorOpen => 5,
            Self::Fault => 6,
            Self::NoSuchSlot => 7,
        }
    }

    /// A stable name for messages and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Vending => "vending",
            Self::Dispensed => "dispensed",
            Self::Jammed => "jammed",
            Self::Empty => "empty",
            Self::DoorOpen => "door_open",
            Self::Fault => "fault",
            Self::NoSuchSlot => "no_such_slot",
        }
    }
}

/// Why the controller could not be driven.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum VendingError {
    /// The Modbus call failed.
    #[error("vending controller: {0}")]
    Modbus(#[from] ModbusError),
    /// A register held a value outside the map.
    #[error("vending controller: unexpected register value {0}")]
    BadRegister(u16),
    /// The vend did not finish in time (the result may still come).
    #[error("vending controller: no result within {0:?}")]
    StillVending(Duration),
}

impl VendingError {
    /// Whether the controller could not be reached.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Self::Modbus(e) if e.is_unreachable())
    }
}

/// What the machine is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activity {
    /// Waiting.
    Idle,
    /// Vending.
    Vending,
    /// Out of order.
    OutOfOrder,
}

impl Activity {
    /// A stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Vending => "vending",
            Self::OutOfOrder => "out_of_order",
        }
    }
}

/// The machine's state registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MachineState {
    /// What it is doing.
    pub activity: Activity,
    /// The service door is open.
    pub door_open: bool,
    /// How many slots it has.
    pub slots: u8,
}

/// What the agent needs of a vending machine.
pub trait VendingController {
    /// The machine's state.
    fn state(&mut self) -> impl Future<Output = Result<MachineState, VendingError>> + Send;
    /// Starts vending `slot` for request `request`.
    fn start_vend(
        &mut self,
        request: u32,
        slot: u8,
    ) -> impl Future<Output = Result<(), VendingError>> + Send;
    /// The last request taken and its result (`None`: none yet).
    fn last(
        &mut self,
    ) -> impl Future<Output = Result<(u32, Option<VendResult>), VendingError>> + Send;
    /// Drinks sensed in `slot`, if the machine senses them.
    fn stock(&mut self, slot: u8)
    -> impl Future<Output = Result<Option<u16>, VendingError>> + Send;
}

/// Vends `slot` for `request` and waits for the outcome (up to `limit`). If
/// the machine already took `request` (a repeat), nothing vends again: its
/// result is read and returned.
pub async fn vend<C: VendingController>(
    machine: &mut C,
    request: u32,
    slot: u8,
    limit: Duration,
) -> Result<VendResult, VendingError> {
    let (last, _) = machine.last().await?;
    if last != request {
        machine.start_vend(request, slot).await?;
    }
    await_result(machine, request, limit).await
}

/// Waits (up to `limit`) for the result of `request`.
pub async fn await_result<C: VendingController>(
    machine: &mut C,
    request: u32,
    limit: Duration,
) -> Result<VendResult, VendingError> {
    let give_up = tokio::time::Instant::now() + limit;
    loop {
        match machine.last().await? {
            (r, Some(result)) if r == request && result != VendResult::Vending => {
                return Ok(result);
            }
            _ if tokio::time::Instant::now() >= give_up => {
                return Err(VendingError::StillVending(limit));
            }
            _ => tokio::time::sleep(POLL_EVERY).await,
        }
    }
}

/// A vending controller on Modbus (RTU or TCP).
pub struct ModbusVending {
    ctx: Context,
    timeout: Duration,
}

impl std::fmt::Debug for ModbusVending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModbusVending").finish_non_exhaustive()
    }
}

impl ModbusVending {
    /// Connects to the controller at `bus`, unit `unit`.
    pub async fn connect(
        bus: &BusAddress,
        unit: u8,
        timeout: Duration,
    ) -> Result<Self, VendingError> {
        Ok(Self {
            ctx: modbus_client::connect(bus, unit, timeout).await?,
            timeout,
        })
    }
}

impl VendingController for ModbusVending {
    async fn state(&mut self) -> Result<MachineState, VendingError> {
        let w = modbus_client::call(self.timeout, self.ctx.read_holding_registers(reg::STATE, 3))
            .await?;
        let [state, door, slots] = w[..] else {
            return Err(VendingError::BadRegister(w.len() as u16));
        };
        Ok(MachineState {
            activity: match state {
                0 => Activity::Idle,
                1 => Activity::Vending,
                2 => Activity::OutOfOrder,
                other => return Err(VendingError::BadRegister(other)),
            },
            door_open: door == 1,
            slots: u8::try_from(slots).unwrap_or(u8::MAX),
        })
    }

    async fn start_vend(&mut self, request: u32, slot: u8) -> Result<(), VendingError> {
        let words = [
            (request >> 16) as u16,
            (request & 0xFFFF) as u16,
            u16::from(slot),
            reg::ACTION_VEND,
        ];
        Ok(modbus_client::call(
            self.timeout,
            self.ctx.write_multiple_registers(reg::CMD, &words),
        )
        .await?)
    }

    async fn last(&mut self) -> Result<(u32, Option<VendResult>), VendingError> {
        let w = modbus_client::call(self.timeout, self.ctx.read_holding_registers(reg::LAST, 3))
            .await?;
        let [hi, lo, result] = w[..] else {
            return Err(VendingError::BadRegister(w.len() as u16));
        };
        Ok((
            (u32::from(hi) << 16) | u32::from(lo),
            VendResult::from_register(result)?,
        ))
    }

    async fn stock(&mut self, slot: u8) -> Result<Option<u16>, VendingError> {
        let w = modbus_client::call(
            self.timeout,
            self.ctx
                .read_holding_registers(reg::STOCK + u16::from(slot), 1),
        )
        .await?;
        Ok(w.first().copied().filter(|v| *v != reg::STOCK_UNKNOWN))
    }
}

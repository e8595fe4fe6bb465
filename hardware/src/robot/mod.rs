//! The moxibustion robot's controller on Modbus TCP (or RTU): its register
//! map and the driver the robot agent uses.
//!
//! # Register map (holding registers; read with 0x03, written with 0x10)
//!
//! | address | name | access | meaning |
//! |---|---|---|---|
//! | 0 | `MAP_VERSION` | read | 1 |
//! | 1 | `STATE` | read | 0 idle, 1 running, 2 finished, 3 fault, 4 stopped |
//! | 2 | `FAULT` | read | 0 none, 1 emergency stop, 2 overheating, 3 arm blocked, 4 moxa used up, 5 other |
//! | 3 | `PROGRESS` | read | percent of the program done, 0 to 100 |
//! | 4 | `REMAINING` | read | seconds left in the program |
//! | 5-6 | `SESSION` | read | the session id of the program running or last run, a u32, high word first |
//! | 7 | `PROGRAMS` | read | how many programs the robot has (numbered from 1) |
//! | 10-11 | `CMD_SESSION` | write | the session id, a u32, high word first |
//! | 12 | `CMD_PROGRAM` | write | the program, 1 to `PROGRAMS` |
//! | 13 | `CMD_SECONDS` | write | how long the program may run, seconds (1 to 7200) |
//! | 14 | `CMD_ACTION` | write | 1 start, 2 stop, 3 clear the fault |
//!
//! A command is registers 10 to 14 written in one request. A start for the
//! session already running (or just finished) is a no-op, so a repeated
//! command after a lost answer never starts a second program; a start while
//! another session runs is refused with exception 6 (busy), and a start
//! while a fault stands with exception 4 (device failure). Stop and clear
//! name the session they mean; for another session they do nothing.
//!
//! [`sim`] (feature `sim`): the simulated robot, with faults.

#[cfg(feature = "sim")]
pub mod sim;

use std::time::Duration;

use thiserror::Error;
use tokio_modbus::client::{Context, Reader, Writer};

use crate::bus::BusAddress;
use crate::modbus_client::{self, ModbusError};

/// How long a call waits for the controller by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(500);

/// Register addresses and values.
pub mod reg {
    /// The map's version (1).
    pub const MAP_VERSION: u16 = 0;
    /// The status block: state, fault, progress, remaining, session (2), programs.
    pub const STATUS: u16 = 1;
    /// Words in the status block.
    pub const STATUS_LEN: u16 = 7;
    /// The command block: session (2), program, seconds, action.
    pub const CMD: u16 = 10;
    /// `CMD_ACTION`: start.
    pub const ACTION_START: u16 = 1;
    /// `CMD_ACTION`: stop.
    pub const ACTION_STOP: u16 = 2;
    /// `CMD_ACTION`: clear the fault.
    pub const ACTION_CLEAR: u16 = 3;
    /// The longest program run, seconds.
    pub const MAX_SECONDS: u16 = 7200;
}

/// What the robot is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RobotState {
    /// Waiting.
    Idle,
    /// A program is running.
    Running,
    /// The last program ran to its end.
    Finished,
    /// Stopped by a fault; see [`RobotFault`].
    Fault,
    /// The last program was stopped (by a command or the robot's own button).
    Stopped,
}

impl RobotState {
    fn from_register(v: u16) -> Result<Self, RobotError> {
        Ok(match v {
            0 => Self::Idle,
            1 => Self::Running,
            2 => Self::Finished,
            3 => Self::Fault,
            4 => Self::Stopped,
            other => return Err(RobotError::BadRegister(other)),
        })
    }

    /// The `STATE` value.
    pub fn to_register(self) -> u16 {
        match self {
            Self::Idle => 0,
            Self::Running => 1,
            Self::Finished => 2,
            Self::Fault => 3,
            Self::Stopped => 4,
        }
    }

    /// A stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Running => "running",
            Self::Finished => "finished",
            Self::Fault => "fault",
            Self::Stopped => "stopped",
        }
    }
}

/// Why the robot stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RobotFault {
    /// Someone pressed the emergency stop.
    EmergencyStop,
    /// The head overheated.
    Overheating,
    /// The arm could not move.
    ArmBlocked,
    /// The moxa (the consumable) ran out.
    MoxaUsedUp,
    /// Any other fault code.
    Other(u16),
}

impl RobotFault {
    fn from_register(v: u16) -> Option<Self> {
        Some(match v {
            0 => return None,
            1 => Self::EmergencyStop,
            2 => Self::Overheating,
            3 => Self::ArmBlocked,
            4 => Self::MoxaUsedUp,
            other => Self::Other(other),
        })
    }

    /// The `FAULT` value.
    pub fn to_register(self) -> u16 {
        match self {
            Self::EmergencyStop => 1,
            Self::Overheating => 2,
            Self::ArmBlocked => 3,
            Self::MoxaUsedUp => 4,
            Self::Other(v) => v,
        }
    }

    /// For people (staff).
    pub fn describe(self) -> String {
        match self {
            Self::EmergencyStop => "emergency stop pressed".into(),
            Self::Overheating => "the head overheated".into(),
            Self::ArmBlocked => "the arm is blocked".into(),
            Self::MoxaUsedUp => "the moxa ran out: refill it".into(),
            Self::Other(v) => format!("fault code {v}"),
        }
    }
}

/// The robot's status block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RobotStatus {
    /// What it is doing.
    pub state: RobotState,
    /// The fault in force.
    pub fault: Option<RobotFault>,
    /// Percent of the program done.
    pub progress: u8,
    /// Seconds left.
    pub remaining_s: u16,
    /// The session running or last run.
    pub session: u32,
    /// How many programs it has.
    pub programs: u16,
}

/// Why the robot could not be driven.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum RobotError {
    /// The Modbus call failed.
    #[error("robot controller: {0}")]
    Modbus(#[from] ModbusError),
    /// A register held a value outside the map.
    #[error("robot controller: unexpected register value {0}")]
    BadRegister(u16),
}

impl RobotError {
    /// Whether the controller could not be reached.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Self::Modbus(e) if e.is_unreachable())
    }
}

/// The robot's controller on Modbus.
pub struct ModbusRobot {
    ctx: Context,
    timeout: Duration,
}

impl std::fmt::Debug for ModbusRobot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModbusRobot").finish_non_exhaustive()
    }
}

impl ModbusRobot {
    /// Connects to the controller at `bus`, unit `unit`.
    pub async fn connect(
        bus: &BusAddress,
        unit: u8,
        timeout: Duration,
    ) -> Result<Self, RobotError> {
        Ok(Self {
            ctx: modbus_client::connect(bus, unit, timeout).await?,
            timeout,
        })
    }

    /// Reads the status block.
    pub async fn status(&mut self) -> Result<RobotStatus, RobotError> {
        let w = modbus_client::call(
            self.timeout,
            self.ctx
                .read_holding_registers(reg::STATUS, reg::STATUS_LEN),
        )
        .await?;
        let [state, fault, progress, remaining, hi, lo, programs] = w[..] else {
            return Err(RobotError::BadRegister(w.len() as u16));
        };
        Ok(RobotStatus {
            state: RobotState::from_register(state)?,
            fault: RobotFault::from_register(fault),
            progress: u8::try_from(progress.min(100)).unwrap_or(100),
            remaining_s: remaining,
            session: (u32::from(hi) << 16) | u32::from(lo),
            programs,
        })
    }

    async fn command(
        &mut self,
        session: u32,
        program: u16,
        seconds: u16,
        action: u16,
    ) -> Result<(), RobotError> {
        let words = [
            (session >> 16) as u16,
            (session & 0xFFFF) as u16,
            program,
            seconds,
            action,
        ];
        Ok(modbus_client::call(
            self.timeout,
            self.ctx.write_multiple_registers(reg::CMD, &words),
        )
        .await?)
    }

    /// Starts `program` for `session`, to run at most `seconds`.
    pub async fn start(
        &mut self,
        session: u32,
        program: u16,
        seconds: u16,
    ) -> Result<(), RobotError> {
        self.command(
            session,
            program,
            seconds.clamp(1, reg::MAX_SECONDS),
            reg::ACTION_START,
        )
        .await
    }

    /// Stops `session`'s program.
    pub async fn stop(&mut self, session: u32) -> Result<(), RobotError> {
        self.command(session, 0, 0, reg::ACTION_STOP).await
    }

    /// Clears the fault left by `session` (staff fixed the cause).
    pub async fn clear_fault(&mut self, session: u32) -> Result<(), RobotError> {
        self.command(session, 0, 0, reg::ACTION_CLEAR).await
    }
}

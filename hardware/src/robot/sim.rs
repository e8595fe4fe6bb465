//! A simulated moxibustion robot with the map of [`crate::robot`], served
//! over Modbus TCP ([`crate::sim::modbus_tcp`]) or RTU on a pty.
//!
//! A program runs for the seconds it was started with (sped up by
//! [`SimRobot::set_speed`] for tests and the demo), then reads finished.
//! Faults: one during the next program after a given time
//! ([`SimRobot::fail_after`]), no reply at all, a Modbus exception on every
//! request, a bad CRC (RTU). Time is read when a request comes in.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio_modbus::{ExceptionCode, Request, Response};

use crate::robot::{RobotFault, RobotState, reg};
use crate::sim::holding_registers::{self, HoldingRegisters};
use crate::sim::rtu_pty::ModbusSim;

/// A fault of the whole controller (the link, not the robot).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RobotLinkFault {
    /// Every request is answered with this exception.
    Exception(ExceptionCode),
    /// No request is answered.
    NoReply,
    /// Answers carry a wrong CRC (RTU only).
    BadCrc,
}

#[derive(Debug)]
struct Running {
    session: u32,
    started: Instant,
    length: Duration,
}

#[derive(Debug)]
struct State {
    state: RobotState,
    fault: Option<RobotFault>,
    session: u32,
    running: Option<Running>,
    last_length: Duration,
    speed: u32,
    fail_after: Option<(Duration, RobotFault)>,
    link_fault: Option<RobotLinkFault>,
    programs_run: u64,
}

impl State {
    fn elapsed(&self, r: &Running, now: Instant) -> Duration {
        now.saturating_duration_since(r.started) * self.speed
    }

    fn settle(&mut self, now: Instant) {
        let Some(r) = &self.running else { return };
        let elapsed = self.elapsed(r, now);
        if let Some((after, fault)) = self.fail_after
            && elapsed >= after
        {
            self.fail_after = None;
            self.running = None;
            self.state = RobotState::Fault;
            self.fault = Some(fault);
            return;
        }
        if elapsed >= r.length {
            self.running = None;
            self.state = RobotState::Finished;
        }
    }

    fn progress(&self, now: Instant) -> (u16, u16) {
        match &self.running {
            Some(r) => {
                let done = self.elapsed(r, now).min(r.length);
                let pct = (done.as_millis() * 100 / r.length.as_millis().max(1)) as u16;
                let left = (r.length - done).as_secs() as u16;
                (pct, left)
            }
            None if self.state == RobotState::Finished => (100, 0),
            None => (0, 0),
        }
    }
}

impl HoldingRegisters for State {
    const COMMAND_AT: u16 = reg::CMD;

    fn register(&self, addr: u16, now: Instant) -> Result<u16, ExceptionCode> {
        let (progress, remaining) = self.progress(now);
        Ok(match addr {
            reg::MAP_VERSION => 1,
            1 => self.state.to_register(),
            2 => self.fault.map_or(0, RobotFault::to_register),
            3 => progress,
            4 => remaining,
            5 => (self.session >> 16) as u16,
            6 => (self.session & 0xFFFF) as u16,
            7 => 3,
            _ => return Err(ExceptionCode::IllegalDataAddress),
        })
    }

    fn command(&mut self, words: &[u16], now: Instant) -> Result<(), ExceptionCode> {
        let [hi, lo, program, seconds, action] = words else {
            return Err(ExceptionCode::IllegalDataValue);
        };
        let session = (u32::from(*hi) << 16) | u32::from(*lo);
        match *action {
            reg::ACTION_START => {
                if session == self.session
                    && matches!(self.state, RobotState::Running | RobotState::Finished)
                {
                    return Ok(());
                }
                if self.state == RobotState::Running {
                    return Err(ExceptionCode::ServerDeviceBusy);
                }
                if self.state == RobotState::Fault {
                    return Err(ExceptionCode::ServerDeviceFailure);
                }
                if !(1..=3).contains(program) || *seconds == 0 || *seconds > reg::MAX_SECONDS {
                    return Err(ExceptionCode::IllegalDataValue);
                }
                let length = Duration::from_secs(u64::from(*seconds));
                self.session = session;
                self.state = RobotState::Running;
                self.last_length = length;
                self.programs_run += 1;
                self.running = Some(Running {
                    session,
                    started: now,
                    length,
                });
            }
            reg::ACTION_STOP => {
                if self.running.as_ref().is_some_and(|r| r.session == session) {
                    self.running = None;
                    self.state = RobotState::Stopped;
                }
            }
            reg::ACTION_CLEAR => {
                if self.state == RobotState::Fault {
                    self.state = RobotState::Idle;
                    self.fault = None;
                }
            }
            _ => return Err(ExceptionCode::IllegalDataValue),
        }
        Ok(())
    }
}

/// The simulated robot. Clones share the same robot.
#[derive(Clone, Debug)]
pub struct SimRobot {
    state: Arc<Mutex<State>>,
}

impl Default for SimRobot {
    fn default() -> Self {
        Self::new()
    }
}

impl SimRobot {
    /// An idle robot running programs in real time.
    pub fn new() -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                state: RobotState::Idle,
                fault: None,
                session: 0,
                running: None,
                last_length: Duration::ZERO,
                speed: 1,
                fail_after: None,
                link_fault: None,
                programs_run: 0,
            })),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        s.settle(Instant::now());
        f(&mut s)
    }

    /// Runs programs `speed` times faster than real time.
    pub fn set_speed(&self, speed: u32) {
        self.with(|s| s.speed = speed.max(1));
    }

    /// The next program (or the one running) fails with `fault` after `after`
    /// of program time.
    pub fn fail_after(&self, after: Duration, fault: RobotFault) {
        self.with(|s| s.fail_after = Some((after, fault)));
    }

    /// Sets or clears a fault of the link.
    pub fn set_link_fault(&self, fault: Option<RobotLinkFault>) {
        self.with(|s| s.link_fault = fault);
    }

    /// What it is doing, and the session.
    pub fn state(&self) -> (RobotState, u32) {
        self.with(|s| (s.state, s.session))
    }

    /// Programs started (repeats of a session not counted).
    pub fn programs_run(&self) -> u64 {
        self.with(|s| s.programs_run)
    }
}

impl ModbusSim for SimRobot {
    fn handle(&self, req: Request<'static>) -> Result<Option<Response>, ExceptionCode> {
        let now = Instant::now();
        self.with(|s| {
            match s.link_fault {
                Some(RobotLinkFault::NoReply) => return Ok(None),
                Some(RobotLinkFault::Exception(code)) => return Err(code),
                Some(RobotLinkFault::BadCrc) | None => {}
            }
            holding_registers::answer(s, req, now)
        })
    }

    fn corrupt_crc(&self) -> bool {
        self.with(|s| s.link_fault == Some(RobotLinkFault::BadCrc))
    }
}

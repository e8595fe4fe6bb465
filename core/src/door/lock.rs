//! The lock: strike, door contact and exit button, as a sans-IO machine.
//!
//! Inputs: [`LockMachine::handle_grant`] (access granted),
//! [`LockMachine::handle_exit_button`], [`LockMachine::handle_contact`],
//! [`LockMachine::handle_fire`], [`LockMachine::handle_reset`] and
//! [`LockMachine::handle_timeout`]. Outputs, drained with
//! [`LockMachine::poll_output`]: switch the strike, raise or clear an alarm,
//! a new state to publish. [`LockMachine::poll_timeout`] says when to call
//! `handle_timeout` next. The agent relocks on its own timer, so a pulse ends
//! on time with the broker and the kiosk gone.
//!
//! - Power-on: the strike is commanded locked at once, and the state is
//!   `Unknown` until the contact has been read.
//! - A grant or the exit button unlocks for a pulse (default 3 s); the door
//!   closing ends the pulse early.
//! - Held open: open for longer than 15 s (default) raises an alarm, cleared
//!   when the door closes.
//! - Forced: the contact opens while locked, with no grant and no exit button.
//! - Fire: the fire-alarm input closing releases the door at once and
//!   raises the fire alarm; the door stays released (no forced or held-open
//!   alarm: people are leaving) after the input clears, until staff reset
//!   it ([`LockMachine::handle_reset`], refused while the input is still
//!   active). Only the reset clears the alarm.

use std::collections::VecDeque;
use std::time::Duration;

use crate::time::Timestamp;

/// How the lock behaves without power.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailMode {
    /// Locked without power (electric strike): energise to unlock.
    FailSecure,
    /// Unlocked without power (magnetic lock, fire rules): energise to lock.
    FailSafe,
}

impl FailMode {
    /// Whether the relay must be energised for the lock to be `unlocked`.
    pub fn relay_energized(self, unlocked: bool) -> bool {
        match self {
            FailMode::FailSecure => unlocked,
            FailMode::FailSafe => !unlocked,
        }
    }
}

/// The lock's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockConfig {
    /// How long a grant unlocks the strike.
    pub pulse: Duration,
    /// An open door raises the held-open alarm after this long.
    pub held_open_after: Duration,
}

impl Default for LockConfig {
    fn default() -> Self {
        Self {
            pulse: Duration::from_secs(3),
            held_open_after: Duration::from_secs(15),
        }
    }
}

/// What the door is doing, as published on its `status` topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LockState {
    /// The contact has not been read yet (power-on).
    Unknown,
    /// Closed and locked.
    Locked,
    /// Closed, strike released for a pulse.
    Unlocked,
    /// Open, legitimately.
    Open,
    /// Open too long: alarm.
    HeldOpen,
    /// Opened without a grant or the exit button: alarm.
    Forced,
    /// Released by the fire-alarm input, open or closed, until staff reset it.
    Released,
}

/// An alarm the door raises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Alarm {
    /// Open longer than allowed.
    HeldOpen,
    /// Opened while locked.
    Forced,
    /// Too many refused scans: the reader is locked out for a while (raised
    /// by the door agent from [`crate::door::access`], not by this machine).
    Lockout,
    /// Someone pressed the help (SOS) button inside (raised by the door
    /// agent, cleared by staff who answered it, never by this machine).
    Help,
    /// The fire-alarm input released the door; cleared only by staff's
    /// reset once the input is clear.
    Fire,
}

/// Why a reset was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResetRefusal {
    /// The fire-alarm input is still active.
    #[error("the fire alarm input is still active")]
    FireStillActive,
    /// The door is not released for a fire: nothing to reset.
    #[error("the door is not released for a fire")]
    NotReleased,
}

/// What the machine wants done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockOutput {
    /// Set the strike: `unlocked` true releases it.
    Strike {
        /// Released or not.
        unlocked: bool,
    },
    /// Raise an alarm.
    AlarmRaised(Alarm),
    /// An alarm is over.
    AlarmCleared(Alarm),
    /// The state changed; publish it.
    State(LockState),
}

/// The lock of one door.
#[derive(Debug)]
pub struct LockMachine {
    config: LockConfig,
    strike_unlocked: bool,
    contact_open: Option<bool>,
    pulse_until: Option<Timestamp>,
    open_since: Option<Timestamp>,
    alarm: Option<Alarm>,
    /// The fire-alarm input reads active.
    fire_input: bool,
    /// Released for a fire, until staff reset it.
    fire_released: bool,
    published: LockState,
    outputs: VecDeque<LockOutput>,
}

impl LockMachine {
    /// A lock just powered on: it asks for the strike locked, and is `Unknown`.
    pub fn new(config: LockConfig) -> Self {
        let mut outputs = VecDeque::new();
        outputs.push_back(LockOutput::Strike { unlocked: false });
        outputs.push_back(LockOutput::State(LockState::Unknown));
        Self {
            config,
            strike_unlocked: false,
            contact_open: None,
            pulse_until: None,
            open_since: None,
            alarm: None,
            fire_input: false,
            fire_released: false,
            published: LockState::Unknown,
            outputs,
        }
    }

    /// The current state.
    pub fn state(&self) -> LockState {
        if self.fire_released {
            return LockState::Released;
        }
        match (self.contact_open, self.alarm) {
            (None, _) => LockState::Unknown,
            (_, Some(Alarm::Forced)) => LockState::Forced,
            (_, Some(Alarm::HeldOpen)) => LockState::HeldOpen,
            // The machine never holds a lockout alarm (the access rules do).
            (Some(true), None | Some(Alarm::Lockout | Alarm::Help | Alarm::Fire)) => {
                LockState::Open
            }
            (Some(false), None | Some(Alarm::Lockout | Alarm::Help | Alarm::Fire))
                if self.strike_unlocked =>
            {
                LockState::Unlocked
            }
            (Some(false), None | Some(Alarm::Lockout | Alarm::Help | Alarm::Fire)) => {
                LockState::Locked
            }
        }
    }

    /// Access was granted: release the strike for a pulse.
    pub fn handle_grant(&mut self, now: Timestamp) {
        if self.fire_released {
            return;
        }
        self.start_pulse(now);
        self.publish();
    }

    /// The exit button was pressed: release the strike for a pulse.
    pub fn handle_exit_button(&mut self, now: Timestamp) {
        if self.fire_released {
            return;
        }
        self.start_pulse(now);
        self.publish();
    }

    /// A reading of the door contact (`open` true: the door is open).
    pub fn handle_contact(&mut self, open: bool, now: Timestamp) {
        let before = self.contact_open.replace(open);
        if self.fire_released {
            // Released for a fire: people leave; nothing is forced or held.
            self.open_since = None;
            self.publish();
            return;
        }
        match (before, open) {
            (Some(false), true) => {
                self.open_since = Some(now);
                if !self.pulse_active(now) {
                    self.raise(Alarm::Forced);
                }
            }
            // Found open at power-on: not known to be forced, but it may be held open.
            (None, true) => self.open_since = Some(now),
            (Some(true), false) => {
                self.open_since = None;
                if let Some(alarm) = self.alarm.take() {
                    self.outputs.push_back(LockOutput::AlarmCleared(alarm));
                }
                // Closed after a legitimate opening: relock now.
                if self.pulse_until.is_some() {
                    self.end_pulse();
                }
            }
            _ => {}
        }
        self.publish();
    }

    /// The fire-alarm input reads `active` (closed) or not. Active: the
    /// door is released at once and the fire alarm raised; clearing it
    /// changes nothing until staff reset the door.
    pub fn handle_fire(&mut self, active: bool, _now: Timestamp) {
        self.fire_input = active;
        if active && !self.fire_released {
            self.fire_released = true;
            self.pulse_until = None;
            self.open_since = None;
            // A forced or held-open alarm ends: the fire outranks it.
            if let Some(alarm) = self.alarm.take() {
                self.outputs.push_back(LockOutput::AlarmCleared(alarm));
            }
            self.strike_unlocked = true;
            self.outputs
                .push_back(LockOutput::Strike { unlocked: true });
            self.outputs.push_back(LockOutput::AlarmRaised(Alarm::Fire));
        }
        self.publish();
    }

    /// Staff reset a door released for a fire: it locks again and the fire
    /// alarm is cleared. Refused while the fire input is still active.
    pub fn handle_reset(&mut self, now: Timestamp) -> Result<(), ResetRefusal> {
        if !self.fire_released {
            return Err(ResetRefusal::NotReleased);
        }
        if self.fire_input {
            return Err(ResetRefusal::FireStillActive);
        }
        self.fire_released = false;
        self.outputs
            .push_back(LockOutput::AlarmCleared(Alarm::Fire));
        self.end_pulse();
        // Left open at the reset: it may be held open from now.
        if self.contact_open == Some(true) {
            self.open_since = Some(now);
        }
        self.publish();
        Ok(())
    }

    /// Whether the door is released for a fire (until staff reset it).
    pub fn fire_released(&self) -> bool {
        self.fire_released
    }

    /// Time passed: end a pulse, raise a held-open alarm.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        if self.pulse_until.is_some_and(|until| now >= until) {
            self.end_pulse();
        }
        if self.alarm.is_none()
            && self
                .held_open_deadline()
                .is_some_and(|deadline| now >= deadline)
        {
            self.raise(Alarm::HeldOpen);
        }
        self.publish();
    }

    /// When `handle_timeout` must be called next, if ever.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        let held = if self.alarm.is_none() {
            self.held_open_deadline()
        } else {
            None
        };
        match (self.pulse_until, held) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The next thing to do, oldest first.
    pub fn poll_output(&mut self) -> Option<LockOutput> {
        self.outputs.pop_front()
    }

    fn held_open_deadline(&self) -> Option<Timestamp> {
        self.open_since
            .map(|t| t.saturating_add(self.config.held_open_after))
    }

    fn pulse_active(&self, now: Timestamp) -> bool {
        self.pulse_until.is_some_and(|until| now < until)
    }

    fn start_pulse(&mut self, now: Timestamp) {
        self.pulse_until = Some(now.saturating_add(self.config.pulse));
        // Also during a pulse: a strike whose board times the pulse itself
        // is asked again, so the board's time runs from this grant too.
        self.strike_unlocked = true;
        self.outputs
            .push_back(LockOutput::Strike { unlocked: true });
    }

    fn end_pulse(&mut self) {
        self.pulse_until = None;
        if self.strike_unlocked {
            self.strike_unlocked = false;
            self.outputs
                .push_back(LockOutput::Strike { unlocked: false });
        }
    }

    fn raise(&mut self, alarm: Alarm) {
        self.alarm = Some(alarm);
        self.outputs.push_back(LockOutput::AlarmRaised(alarm));
    }

    fn publish(&mut self) {
        let state = self.state();
        if state != self.published {
            self.published = state;
            self.outputs.push_back(LockOutput::State(state));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use LockOutput::*;

    fn t(ms: i64) -> Timestamp {
        Timestamp::from_unix_millis(1_800_000_000_000 + ms)
    }

    fn drain(m: &mut LockMachine) -> Vec<LockOutput> {
        std::iter::from_fn(|| m.poll_output()).collect()
    }

    /// Runs the machine's timers up to `until`, as the agent's loop does.
    fn run_until(m: &mut LockMachine, until: Timestamp) -> Vec<LockOutput> {
        let mut out = Vec::new();
        while let Some(deadline) = m.poll_timeout().filter(|d| *d <= until) {
            m.handle_timeout(deadline);
            out.extend(drain(m));
        }
        out
    }

    fn powered_on_closed() -> LockMachine {
        let mut m = LockMachine::new(LockConfig::default());
        assert_eq!(
            drain(&mut m),
            [Strike { unlocked: false }, State(LockState::Unknown)]
        );
        m.handle_contact(false, t(0));
        assert_eq!(drain(&mut m), [State(LockState::Locked)]);
        m
    }

    #[test]
    fn power_on_is_locked_and_unknown_until_the_contact_is_read() {
        let m = powered_on_closed();
        assert_eq!(m.poll_timeout(), None);
    }

    #[test]
    fn a_grant_pulses_and_relocks_on_time() {
        let mut m = powered_on_closed();
        m.handle_grant(t(1_000));
        assert_eq!(
            drain(&mut m),
            [Strike { unlocked: true }, State(LockState::Unlocked)]
        );
        assert_eq!(m.poll_timeout(), Some(t(4_000)));
        assert_eq!(run_until(&mut m, t(3_999)), []);
        assert_eq!(
            run_until(&mut m, t(4_000)),
            [Strike { unlocked: false }, State(LockState::Locked)]
        );
    }

    #[test]
    fn opening_during_the_pulse_is_not_forced_and_closing_relocks() {
        let mut m = powered_on_closed();
        m.handle_grant(t(0));
        drain(&mut m);
        m.handle_contact(true, t(1_000));
        assert_eq!(drain(&mut m), [State(LockState::Open)]);
        m.handle_contact(false, t(2_000));
        assert_eq!(
            drain(&mut m),
            [Strike { unlocked: false }, State(LockState::Locked)]
        );
        assert_eq!(m.poll_timeout(), None);
    }

    #[test]
    fn held_open_raises_an_alarm_at_15_seconds_and_closing_clears_it() {
        let mut m = powered_on_closed();
        m.handle_grant(t(0));
        m.handle_contact(true, t(1_000));
        drain(&mut m);
        let out = run_until(&mut m, t(16_000));
        assert_eq!(
            out,
            [
                Strike { unlocked: false },
                AlarmRaised(Alarm::HeldOpen),
                State(LockState::HeldOpen)
            ]
        );
        m.handle_contact(false, t(20_000));
        assert_eq!(
            drain(&mut m),
            [AlarmCleared(Alarm::HeldOpen), State(LockState::Locked)]
        );
    }

    #[test]
    fn opening_while_locked_is_forced() {
        let mut m = powered_on_closed();
        m.handle_contact(true, t(5_000));
        assert_eq!(
            drain(&mut m),
            [AlarmRaised(Alarm::Forced), State(LockState::Forced)]
        );
        // Still forced, not "held open", while it stays open.
        assert_eq!(run_until(&mut m, t(60_000)), []);
        m.handle_contact(false, t(61_000));
        assert_eq!(
            drain(&mut m),
            [AlarmCleared(Alarm::Forced), State(LockState::Locked)]
        );
    }

    #[test]
    fn the_exit_button_lets_people_out_without_an_alarm() {
        let mut m = powered_on_closed();
        m.handle_exit_button(t(0));
        m.handle_contact(true, t(500));
        assert_eq!(
            drain(&mut m),
            [
                Strike { unlocked: true },
                State(LockState::Unlocked),
                State(LockState::Open)
            ]
        );
    }

    #[test]
    fn a_door_found_open_at_power_on_can_still_be_held_open() {
        let mut m = LockMachine::new(LockConfig::default());
        drain(&mut m);
        m.handle_contact(true, t(0));
        assert_eq!(drain(&mut m), [State(LockState::Open)]);
        assert_eq!(
            run_until(&mut m, t(15_000)),
            [AlarmRaised(Alarm::HeldOpen), State(LockState::HeldOpen)]
        );
    }

    #[test]
    fn a_second_grant_extends_the_pulse() {
        let mut m = powered_on_closed();
        m.handle_grant(t(0));
        m.handle_grant(t(2_000));
        // The strike is asked again, so a board that times the pulse
        // itself times it from the second grant too.
        assert_eq!(
            drain(&mut m),
            [
                Strike { unlocked: true },
                State(LockState::Unlocked),
                Strike { unlocked: true }
            ]
        );
        assert_eq!(m.poll_timeout(), Some(t(5_000)));
    }

    #[test]
    fn the_fire_input_releases_the_door_until_it_clears_and_staff_reset_it() {
        let mut m = powered_on_closed();
        m.handle_fire(true, t(0));
        assert_eq!(
            drain(&mut m),
            [
                Strike { unlocked: true },
                AlarmRaised(Alarm::Fire),
                State(LockState::Released)
            ]
        );
        // People leave: no forced alarm, no held-open alarm, no relock.
        m.handle_contact(true, t(1_000));
        assert_eq!(drain(&mut m), []);
        assert_eq!(run_until(&mut m, t(600_000)), []);
        assert_eq!(m.poll_timeout(), None);
        m.handle_contact(false, t(601_000));
        m.handle_grant(t(602_000));
        assert_eq!(drain(&mut m), [], "a grant does not end the release");
        // Not while the fire input is still active.
        assert_eq!(
            m.handle_reset(t(603_000)),
            Err(ResetRefusal::FireStillActive)
        );
        // The input clears: still released, the alarm still up.
        m.handle_fire(false, t(604_000));
        assert_eq!(drain(&mut m), []);
        assert_eq!(m.state(), LockState::Released);
        // Staff reset it: locked, the alarm cleared.
        assert_eq!(m.handle_reset(t(605_000)), Ok(()));
        assert_eq!(
            drain(&mut m),
            [
                AlarmCleared(Alarm::Fire),
                Strike { unlocked: false },
                State(LockState::Locked)
            ]
        );
        assert_eq!(m.handle_reset(t(606_000)), Err(ResetRefusal::NotReleased));
    }

    #[test]
    fn a_fire_during_a_forced_alarm_takes_over_and_a_reset_with_the_door_open_can_be_held_open() {
        let mut m = powered_on_closed();
        m.handle_contact(true, t(0));
        drain(&mut m);
        m.handle_fire(true, t(1_000));
        assert_eq!(
            drain(&mut m),
            [
                AlarmCleared(Alarm::Forced),
                Strike { unlocked: true },
                AlarmRaised(Alarm::Fire),
                State(LockState::Released)
            ]
        );
        m.handle_fire(false, t(2_000));
        m.handle_reset(t(3_000)).unwrap();
        assert_eq!(
            drain(&mut m),
            [
                AlarmCleared(Alarm::Fire),
                Strike { unlocked: false },
                State(LockState::Open)
            ]
        );
        assert_eq!(
            run_until(&mut m, t(18_000)),
            [AlarmRaised(Alarm::HeldOpen), State(LockState::HeldOpen)]
        );
    }

    #[test]
    fn fail_modes_map_to_relay_levels() {
        assert!(FailMode::FailSecure.relay_energized(true));
        assert!(!FailMode::FailSecure.relay_energized(false));
        assert!(!FailMode::FailSafe.relay_energized(true));
        assert!(FailMode::FailSafe.relay_energized(false));
    }
}

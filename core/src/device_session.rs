//! A session device's sessions (the piano bank's outputs, the robot's
//! program) as a sans-IO machine: which output is whose until when, and the
//! rule that every session ends at its time on the device's own clock, with
//! the centre gone.
//!
//! Inputs: [`SessionMachine::handle_power_up`] (once, at start),
//! [`SessionMachine::handle_start`], [`SessionMachine::handle_stop`],
//! [`SessionMachine::handle_end_button`], [`SessionMachine::handle_ended`]
//! (the device itself reported an end: the robot finished, stopped or
//! faulted), [`SessionMachine::handle_switched`] (what an output command
//! did) and [`SessionMachine::handle_timeout`]. Outputs, drained with
//! [`SessionMachine::poll_output`], in the order they must be carried out:
//! write the sessions down, switch an output, report an end.
//! [`SessionMachine::poll_timeout`] says when to call `handle_timeout` next.
//!
//! - A session is written down ([`SessionOutput::Persist`]) before its output
//!   switches on, so a restarted agent knows it; at power-up every output
//!   is driven to what the sessions on disk say, and a session that ended
//!   while the agent was down is ended and reported.
//! - An output that would not switch off is retried at every timeout until
//!   it does; the session is over meanwhile (it is reported once).
//! - A repeated start of a running or recently ended session changes
//!   nothing (delivery is at least once); a start for a time already past,
//!   or on an output that is not configured, is refused.

use std::collections::{BTreeSet, VecDeque};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::messages::SessionEnd;
use crate::time::Timestamp;

/// Sessions that ended are remembered this many, so a repeated start
/// command for one of them changes nothing.
pub const ENDED_REMEMBERED: usize = 512;

/// How often an output that would not switch off is tried again.
pub const RETRY_OFF_EVERY: Duration = Duration::from_secs(1);

/// A session in progress on one output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveSession {
    /// The booking's id.
    pub session: i64,
    /// The output's channel (a piano's relay channel; the robot's is 1).
    pub channel: u8,
    /// The player's name, for the panel (at most 8 characters).
    pub name: String,
    /// When it ends (ms since the Unix epoch).
    pub until_ms: i64,
}

/// Everything a session device keeps on disk.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sessions {
    /// In progress.
    pub active: Vec<ActiveSession>,
    /// Recently ended, newest last.
    pub ended: VecDeque<i64>,
}

impl Sessions {
    /// The session on `channel`.
    pub fn on_channel(&self, channel: u8) -> Option<&ActiveSession> {
        self.active.iter().find(|a| a.channel == channel)
    }

    /// Whether `session` is running or ended lately.
    pub fn knows(&self, session: i64) -> bool {
        self.ended.contains(&session) || self.active.iter().any(|a| a.session == session)
    }

    /// Ends `session`: no longer active, remembered as ended.
    pub fn end(&mut self, session: i64) -> Option<ActiveSession> {
        let i = self.active.iter().position(|a| a.session == session)?;
        let a = self.active.remove(i);
        if self.ended.len() == ENDED_REMEMBERED {
            self.ended.pop_front();
        }
        self.ended.push_back(session);
        Some(a)
    }
}

/// What the agent must do next, in this order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionOutput {
    /// Write [`SessionMachine::sessions`] to disk.
    Persist,
    /// Switch `channel` on or off, then call
    /// [`SessionMachine::handle_switched`] with the result.
    Switch {
        /// The output.
        channel: u8,
        /// On or off.
        on: bool,
    },
    /// Tell the centre that `session` ended.
    Ended {
        /// The session.
        session: i64,
        /// Its output.
        channel: u8,
        /// Why.
        reason: SessionEnd,
    },
}

/// The answer to a start command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartDecision {
    /// Started: persist, then switch on (queued). If either fails, call
    /// [`SessionMachine::handle_start_failed`].
    Started,
    /// This session is running or ended already: nothing changes.
    AlreadyKnown,
    /// Refused.
    Refused(StartRefusal),
}

/// Why a start was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StartRefusal {
    /// No output with this channel is configured.
    #[error("this device has no output on channel {0}")]
    NoSuchOutput(u8),
    /// The session's end is not in the future.
    #[error("the session is already over")]
    AlreadyOver,
}

/// The sessions of one device and the timers that end them.
#[derive(Clone, Debug)]
pub struct SessionMachine {
    channels: Vec<u8>,
    sessions: Sessions,
    off_pending: BTreeSet<u8>,
    retry_at: Option<Timestamp>,
    out: VecDeque<SessionOutput>,
}

impl SessionMachine {
    /// A machine for a device with these output `channels`, starting from
    /// the `sessions` read from disk (empty if there were none, or if the
    /// file could not be read: then every output is driven off).
    pub fn new(channels: Vec<u8>, sessions: Sessions) -> Self {
        Self {
            channels,
            sessions,
            off_pending: BTreeSet::new(),
            retry_at: None,
            out: VecDeque::new(),
        }
    }

    /// The sessions, as [`SessionOutput::Persist`] writes them.
    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    /// Whether `channel` should be off but has not switched off yet.
    pub fn off_pending(&self, channel: u8) -> bool {
        self.off_pending.contains(&channel)
    }

    /// Call once at start, before anything else: sessions whose time passed
    /// while the agent was down end (and are reported); every output is
    /// switched to what the remaining sessions say.
    pub fn handle_power_up(&mut self, now: Timestamp) {
        let over: Vec<i64> = self
            .sessions
            .active
            .iter()
            .filter(|a| a.until_ms <= now.as_unix_millis() || !self.channels.contains(&a.channel))
            .map(|a| a.session)
            .collect();
        let any_over = !over.is_empty();
        for session in over {
            if let Some(a) = self.sessions.end(session) {
                self.out.push_back(SessionOutput::Ended {
                    session,
                    channel: a.channel,
                    reason: SessionEnd::TimeUp,
                });
            }
        }
        if any_over {
            self.out.push_front(SessionOutput::Persist);
        }
        for &channel in &self.channels {
            let on = self.sessions.on_channel(channel).is_some();
            self.out.push_back(SessionOutput::Switch { channel, on });
        }
    }

    /// A start command: `session` on `channel` for `name` until `until`.
    pub fn handle_start(
        &mut self,
        session: i64,
        channel: u8,
        name: &str,
        until: Timestamp,
        now: Timestamp,
    ) -> StartDecision {
        if !self.channels.contains(&channel) {
            return StartDecision::Refused(StartRefusal::NoSuchOutput(channel));
        }
        if self.sessions.knows(session) {
            return StartDecision::AlreadyKnown;
        }
        if until <= now {
            return StartDecision::Refused(StartRefusal::AlreadyOver);
        }
        // The centre decides who plays: a session left on this output ends.
        if let Some(old) = self.sessions.on_channel(channel).map(|a| a.session) {
            self.end(old, SessionEnd::Stopped, false);
        }
        self.sessions.active.push(ActiveSession {
            session,
            channel,
            name: name.chars().take(8).collect(),
            until_ms: until.as_unix_millis(),
        });
        self.off_pending.remove(&channel);
        self.out.push_back(SessionOutput::Persist);
        self.out
            .push_back(SessionOutput::Switch { channel, on: true });
        StartDecision::Started
    }

    /// The session just started could not be written down or its output
    /// did not switch on: it is forgotten (not reported: the start was
    /// refused) and its output driven off.
    pub fn handle_start_failed(&mut self, session: i64) {
        if let Some(i) = self
            .sessions
            .active
            .iter()
            .position(|a| a.session == session)
        {
            let a = self.sessions.active.remove(i);
            // What was queued for it must not happen now.
            self.out.retain(|o| {
                *o != SessionOutput::Switch {
                    channel: a.channel,
                    on: true,
                }
            });
            self.out.push_back(SessionOutput::Persist);
            self.out.push_back(SessionOutput::Switch {
                channel: a.channel,
                on: false,
            });
        }
    }

    /// A stop command: the session ends now (`Stopped`). Unknown sessions
    /// change nothing.
    pub fn handle_stop(&mut self, session: i64) {
        self.end(session, SessionEnd::Stopped, true);
    }

    /// The end button of `channel`: its session ends now (`EndedEarly`).
    pub fn handle_end_button(&mut self, channel: u8) {
        if let Some(session) = self.sessions.on_channel(channel).map(|a| a.session) {
            self.end(session, SessionEnd::EndedEarly, true);
        }
    }

    /// The device itself ended `session` (the robot finished, was stopped
    /// at the robot, or faulted): it is written down and reported; the
    /// output is not switched (it is off already).
    pub fn handle_ended(&mut self, session: i64, reason: SessionEnd) {
        self.end(session, reason, false);
    }

    /// What a [`SessionOutput::Switch`] did. An output that should be off
    /// and did not switch off is retried at the next timeouts until it does.
    pub fn handle_switched(&mut self, channel: u8, on: bool, ok: bool, now: Timestamp) {
        if on {
            return;
        }
        if ok {
            self.off_pending.remove(&channel);
        } else if self.sessions.on_channel(channel).is_none() {
            self.off_pending.insert(channel);
            self.retry_at
                .get_or_insert(now.saturating_add(RETRY_OFF_EVERY));
        }
    }

    /// Call at [`SessionMachine::poll_timeout`] (calling it earlier or more
    /// often is harmless): sessions at their end end (`TimeUp`), and
    /// outputs that would not switch off are tried again.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        let due: Vec<i64> = self
            .sessions
            .active
            .iter()
            .filter(|a| a.until_ms <= now.as_unix_millis())
            .map(|a| a.session)
            .collect();
        for session in due {
            self.end(session, SessionEnd::TimeUp, true);
        }
        if self.retry_at.is_some_and(|t| t <= now) {
            self.retry_at = None;
            let pending: Vec<u8> = self.off_pending.iter().copied().collect();
            for channel in pending {
                if self.sessions.on_channel(channel).is_some() {
                    self.off_pending.remove(&channel);
                } else {
                    self.out
                        .push_back(SessionOutput::Switch { channel, on: false });
                }
            }
        }
    }

    /// When to call [`SessionMachine::handle_timeout`]: the next session's
    /// end, or the next retry of an output that would not switch off.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        let next_end = self
            .sessions
            .active
            .iter()
            .map(|a| Timestamp::from_unix_millis(a.until_ms))
            .min();
        match (next_end, self.retry_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The next thing to do, if any.
    pub fn poll_output(&mut self) -> Option<SessionOutput> {
        self.out.pop_front()
    }

    fn end(&mut self, session: i64, reason: SessionEnd, switch_off: bool) {
        let Some(a) = self.sessions.end(session) else {
            return;
        };
        self.out.push_back(SessionOutput::Persist);
        if switch_off {
            self.out.push_back(SessionOutput::Switch {
                channel: a.channel,
                on: false,
            });
        }
        self.out.push_back(SessionOutput::Ended {
            session,
            channel: a.channel,
            reason,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_unix_millis(1_800_000_000_000 + s * 1000)
    }

    fn drain(m: &mut SessionMachine) -> Vec<SessionOutput> {
        std::iter::from_fn(|| m.poll_output()).collect()
    }

    /// Runs the machine up to `to` as an agent would: a timeout at every
    /// `poll_timeout`, every switch succeeding except switching off a
    /// channel in `stuck`. Returns every output, in order.
    fn run_until(m: &mut SessionMachine, to: Timestamp, stuck: &[u8]) -> Vec<SessionOutput> {
        let mut all = Vec::new();
        let mut now = t(0);
        loop {
            while let Some(o) = m.poll_output() {
                if let SessionOutput::Switch { channel, on } = o {
                    m.handle_switched(channel, on, on || !stuck.contains(&channel), now);
                }
                all.push(o);
            }
            match m.poll_timeout() {
                Some(at) if at <= to => {
                    now = at;
                    m.handle_timeout(at);
                }
                _ => break,
            }
        }
        all
    }

    #[test]
    fn a_session_is_written_down_before_its_output_switches_on_and_ends_by_itself() {
        let mut m = SessionMachine::new(vec![1, 2], Sessions::default());
        m.handle_power_up(t(0));
        drain(&mut m);
        assert_eq!(
            m.handle_start(7, 2, "王秀英", t(2700), t(0)),
            StartDecision::Started
        );
        assert_eq!(
            drain(&mut m),
            vec![
                SessionOutput::Persist,
                SessionOutput::Switch {
                    channel: 2,
                    on: true
                }
            ]
        );
        assert_eq!(m.poll_timeout(), Some(t(2700)));
        // Nothing happens before the end, with nobody telling the device.
        m.handle_timeout(t(2699));
        assert_eq!(drain(&mut m), vec![]);
        let out = run_until(&mut m, t(4000), &[]);
        assert_eq!(
            out,
            vec![
                SessionOutput::Persist,
                SessionOutput::Switch {
                    channel: 2,
                    on: false
                },
                SessionOutput::Ended {
                    session: 7,
                    channel: 2,
                    reason: SessionEnd::TimeUp
                },
            ]
        );
        assert!(m.sessions().active.is_empty());
        assert_eq!(m.poll_timeout(), None);
    }

    #[test]
    fn a_repeated_or_late_or_misaddressed_start_changes_nothing() {
        let mut m = SessionMachine::new(vec![1], Sessions::default());
        assert_eq!(
            m.handle_start(7, 1, "a", t(60), t(0)),
            StartDecision::Started
        );
        drain(&mut m);
        assert_eq!(
            m.handle_start(7, 1, "a", t(60), t(1)),
            StartDecision::AlreadyKnown
        );
        assert!(matches!(
            m.handle_start(8, 1, "b", t(5), t(10)),
            StartDecision::Refused(_)
        ));
        assert!(matches!(
            m.handle_start(9, 3, "c", t(60), t(10)),
            StartDecision::Refused(_)
        ));
        assert_eq!(drain(&mut m), vec![]);
        m.handle_timeout(t(60));
        drain(&mut m);
        // Ended sessions are remembered: a late duplicate start is no restart.
        assert_eq!(
            m.handle_start(7, 1, "a", t(120), t(61)),
            StartDecision::AlreadyKnown
        );
    }

    #[test]
    fn a_restart_ends_what_ended_while_down_and_restores_the_rest() {
        let sessions = Sessions {
            active: vec![
                ActiveSession {
                    session: 1,
                    channel: 1,
                    name: "a".into(),
                    until_ms: t(100).as_unix_millis(),
                },
                ActiveSession {
                    session: 2,
                    channel: 2,
                    name: "b".into(),
                    until_ms: t(900).as_unix_millis(),
                },
            ],
            ended: VecDeque::new(),
        };
        let mut m = SessionMachine::new(vec![1, 2, 3], sessions);
        m.handle_power_up(t(500));
        assert_eq!(
            drain(&mut m),
            vec![
                SessionOutput::Persist,
                SessionOutput::Ended {
                    session: 1,
                    channel: 1,
                    reason: SessionEnd::TimeUp
                },
                SessionOutput::Switch {
                    channel: 1,
                    on: false
                },
                SessionOutput::Switch {
                    channel: 2,
                    on: true
                },
                SessionOutput::Switch {
                    channel: 3,
                    on: false
                },
            ]
        );
        assert_eq!(m.poll_timeout(), Some(t(900)));
    }

    #[test]
    fn an_output_that_will_not_switch_off_is_retried_until_it_does() {
        let mut m = SessionMachine::new(vec![1], Sessions::default());
        m.handle_start(7, 1, "a", t(10), t(0));
        drain(&mut m);
        m.handle_timeout(t(10));
        let out = drain(&mut m);
        assert!(out.contains(&SessionOutput::Ended {
            session: 7,
            channel: 1,
            reason: SessionEnd::TimeUp
        }));
        m.handle_switched(1, false, false, t(10));
        assert!(m.off_pending(1));
        assert_eq!(m.poll_timeout(), Some(t(11)));
        m.handle_timeout(t(11));
        assert_eq!(
            drain(&mut m),
            vec![SessionOutput::Switch {
                channel: 1,
                on: false
            }]
        );
        m.handle_switched(1, false, true, t(11));
        assert!(!m.off_pending(1));
        assert_eq!(m.poll_timeout(), None, "reported once, retried no more");
    }

    #[test]
    fn a_start_that_could_not_be_recorded_is_forgotten_and_its_output_off() {
        let mut m = SessionMachine::new(vec![1], Sessions::default());
        m.handle_start(7, 1, "a", t(60), t(0));
        drain(&mut m);
        m.handle_start_failed(7);
        assert_eq!(
            drain(&mut m),
            vec![
                SessionOutput::Persist,
                SessionOutput::Switch {
                    channel: 1,
                    on: false
                }
            ]
        );
        assert!(m.sessions().active.is_empty());
        assert!(!m.sessions().knows(7), "a refused start may be sent again");
    }

    #[test]
    fn a_new_session_on_a_busy_output_stops_the_old_one_and_the_button_ends_early() {
        let mut m = SessionMachine::new(vec![1], Sessions::default());
        m.handle_start(7, 1, "a", t(60), t(0));
        drain(&mut m);
        m.handle_start(8, 1, "b", t(120), t(10));
        let out = drain(&mut m);
        assert!(out.contains(&SessionOutput::Ended {
            session: 7,
            channel: 1,
            reason: SessionEnd::Stopped
        }));
        assert_eq!(
            out.last(),
            Some(&SessionOutput::Switch {
                channel: 1,
                on: true
            })
        );
        m.handle_end_button(1);
        assert_eq!(
            drain(&mut m),
            vec![
                SessionOutput::Persist,
                SessionOutput::Switch {
                    channel: 1,
                    on: false
                },
                SessionOutput::Ended {
                    session: 8,
                    channel: 1,
                    reason: SessionEnd::EndedEarly
                },
            ]
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        #[derive(Clone, Debug)]
        enum Op {
            Start {
                session: i64,
                channel: u8,
                minutes: i64,
            },
            Stop(i64),
            Button(u8),
            Wait(i64),
        }

        fn op() -> impl Strategy<Value = Op> {
            prop_oneof![
                (0i64..6, 1u8..4, 1i64..90).prop_map(|(session, channel, minutes)| Op::Start {
                    session,
                    channel,
                    minutes
                }),
                (0i64..6).prop_map(Op::Stop),
                (1u8..4).prop_map(Op::Button),
                (1i64..3600).prop_map(Op::Wait),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
            /// Whatever the commands, no output is on past its session's
            /// end, every session is reported ended at most once, and an
            /// output only switches on after the session was written down.
            #[test]
            fn no_output_outlives_its_session(ops in proptest::collection::vec(op(), 1..40)) {
                let mut m = SessionMachine::new(vec![1, 2], Sessions::default());
                m.handle_power_up(t(0));
                let mut now = t(0);
                let mut on: std::collections::BTreeMap<u8, i64> = Default::default();
                let mut reported = BTreeSet::new();
                let mut persisted_since_start = true;
                for op in ops {
                    match op {
                        Op::Start { session, channel, minutes } => {
                            if m.handle_start(session, channel, "x", now.saturating_add(Duration::from_secs(minutes as u64 * 60)), now) == StartDecision::Started {
                                persisted_since_start = false;
                            }
                        }
                        Op::Stop(s) => m.handle_stop(s),
                        Op::Button(c) => m.handle_end_button(c),
                        Op::Wait(s) => {
                            let to = now.saturating_add(Duration::from_secs(s as u64));
                            while let Some(at) = m.poll_timeout().filter(|at| *at <= to) {
                                now = now.max(at);
                                m.handle_timeout(now);
                                while let Some(o) = m.poll_output() {
                                    apply(&mut m, o, now, &mut on, &mut reported, &mut persisted_since_start)?;
                                }
                            }
                            now = to;
                        }
                    }
                    while let Some(o) = m.poll_output() {
                        apply(&mut m, o, now, &mut on, &mut reported, &mut persisted_since_start)?;
                    }
                    for (channel, session) in &on {
                        let a = m.sessions().on_channel(*channel);
                        prop_assert!(a.is_some_and(|a| a.session == *session && a.until_ms > now.as_unix_millis()),
                            "channel {channel} on for {session} at {now:?} without a running session");
                    }
                }
            }
        }

        fn apply(
            m: &mut SessionMachine,
            o: SessionOutput,
            now: Timestamp,
            on: &mut std::collections::BTreeMap<u8, i64>,
            reported: &mut BTreeSet<i64>,
            persisted: &mut bool,
        ) -> Result<(), TestCaseError> {
            match o {
                SessionOutput::Persist => *persisted = true,
                SessionOutput::Switch { channel, on: true } => {
                    prop_assert!(
                        *persisted,
                        "switched on before the session was written down"
                    );
                    let s = m.sessions().on_channel(channel).map(|a| a.session);
                    prop_assert!(s.is_some());
                    on.insert(channel, s.unwrap_or_default());
                    m.handle_switched(channel, true, true, now);
                }
                SessionOutput::Switch { channel, on: false } => {
                    on.remove(&channel);
                    m.handle_switched(channel, false, true, now);
                }
                SessionOutput::Ended { session, .. } => {
                    prop_assert!(reported.insert(session), "session {session} reported twice");
                }
            }
            Ok(())
        }
    }
}

//! The robot agent's loop.
//!
//! The session's bookkeeping is the core's sans-IO machine
//! (`keting_core::device_session`, one output: the program): a session is
//! written to disk before the program starts. While it runs the controller
//! is read every second: progress goes to the status, the end (finished,
//! stopped at the robot, a fault) goes to the kiosk as a `session_ended`
//! event. At the end of the slot the agent stops the program itself (a stop
//! the robot did not take is tried again every second). A robot that stops
//! answering during a session is given a minute past the slot's end, then
//! the session is reported failed: nobody can say it was given.

mod self_test;

use std::future::Future;
use std::time::Duration;

use keting_core::device_session::{SessionMachine, SessionOutput, StartDecision, StartRefusal};
use keting_core::ids::{DeviceId, SiteId};
use keting_core::messages::{
    Action, Command, EventKind, Outcome, OutputStatus, PROTOCOL_VERSION, SessionDeviceStatus,
    SessionEnd,
};
use keting_core::time::Timestamp;
use keting_hardware::bus::BusAddress;
use keting_hardware::robot::{DEFAULT_TIMEOUT, ModbusRobot, RobotError, RobotState, RobotStatus};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::agent_loop::DeviceAgent;
use crate::piano::sessions_file::{Sessions, SessionsFile};
use keting_link::clock::now;
use keting_link::connection::{LinkEvent, LinkHandle};
use keting_link::device_topics::DeviceTopics;

/// The robot's one output: its program.
const PROGRAM: u8 = 1;

/// The status is re-published this often (the heartbeat).
const STATUS_EVERY: Duration = Duration::from_secs(60);
/// The robot is read this often while a session runs.
const POLL: Duration = Duration::from_secs(1);
/// A silent robot is given this long past the slot's end.
const SILENCE_GRACE_MS: i64 = 60_000;

/// Everything a robot agent needs.
pub struct RobotSetup {
    /// The site.
    pub site: SiteId,
    /// This robot.
    pub device: DeviceId,
    /// Its controller.
    pub bus: BusAddress,
    /// Its unit id.
    pub unit: u8,
    /// The program run when a session names none.
    pub program: u16,
    /// The session on disk.
    pub file: SessionsFile,
}

/// The robot agent.
pub struct RobotAgent {
    setup: RobotSetup,
    link: LinkHandle,
    topics: DeviceTopics,
    robot: Option<ModbusRobot>,
    sessions: SessionMachine,
    /// The program to start when the machine switches the output on:
    /// (session, program, seconds).
    starting: Option<(u32, u16, u16)>,
    /// The session whose program a stop is for.
    running: Option<u32>,
    /// What the robot said of a session's end, for its event.
    fault_note: Option<(i64, String)>,
    last: Option<Result<RobotStatus, String>>,
    status_due: Instant,
    poll_due: Instant,
}

impl RobotAgent {
    /// A robot agent publishing through `link`.
    pub fn new(setup: RobotSetup, topics: DeviceTopics, link: LinkHandle) -> Self {
        let sessions = setup.file.load().unwrap_or_else(|e| {
            tracing::error!("{e}: starting with no session");
            Sessions::default()
        });
        Self {
            setup,
            link,
            topics,
            robot: None,
            running: sessions
                .active
                .first()
                .and_then(|a| u32::try_from(a.session).ok()),
            sessions: SessionMachine::new(vec![PROGRAM], sessions),
            starting: None,
            fault_note: None,
            last: None,
            status_due: Instant::now(),
            poll_due: Instant::now(),
        }
    }

    /// Runs until `shutdown` completes or the link ends.
    pub async fn run(
        self,
        link_events: mpsc::Receiver<LinkEvent>,
        supervision: crate::agent_loop::Supervision,
        shutdown: impl Future<Output = ()>,
    ) {
        crate::agent_loop::run(self, None, link_events, supervision, shutdown).await;
    }

    async fn robot(&mut self) -> Result<&mut ModbusRobot, RobotError> {
        let r = match self.robot.take() {
            Some(r) => r,
            None => ModbusRobot::connect(&self.setup.bus, self.setup.unit, DEFAULT_TIMEOUT).await?,
        };
        Ok(self.robot.insert(r))
    }

    fn lost(&mut self, e: &RobotError) {
        if e.is_unreachable() {
            self.robot = None;
        }
    }

    async fn read(&mut self) -> Result<RobotStatus, RobotError> {
        let result = match self.robot().await {
            Ok(r) => r.status().await,
            Err(e) => Err(e),
        };
        if let Err(e) = &result {
            self.lost(e);
        }
        let seen = result.clone().map_err(|e| e.to_string());
        if self.last.as_ref() != Some(&seen) {
            self.status_due = Instant::now();
        }
        self.last = Some(seen);
        result
    }

    /// Reads the robot during a session and ends it when the robot did.
    async fn watch(&mut self) {
        let Some(a) = self.sessions.sessions().active.first().cloned() else {
            return;
        };
        let t = now().as_unix_millis();
        match self.read().await {
            Ok(s) if s.session != a.session as u32 || s.state == RobotState::Idle => {
                self.ended(
                    a.session,
                    SessionEnd::Fault,
                    Some("the robot lost the session (restarted or power cut)".into()),
                );
            }
            Ok(s) => match s.state {
                // The slot is over: the machine has the agent stop the program.
                RobotState::Running if t >= a.until_ms => self.sessions.handle_timeout(now()),
                RobotState::Running | RobotState::Idle => {}
                RobotState::Finished => self.ended(a.session, SessionEnd::TimeUp, None),
                RobotState::Stopped => self.ended(a.session, SessionEnd::EndedEarly, None),
                RobotState::Fault => {
                    let why = s.fault.map_or_else(|| "fault".into(), |f| f.describe());
                    self.ended(a.session, SessionEnd::Fault, Some(why));
                }
            },
            Err(e) if t >= a.until_ms + SILENCE_GRACE_MS => {
                self.ended(
                    a.session,
                    SessionEnd::Fault,
                    Some(format!("the robot stopped answering: {e}")),
                );
            }
            Err(_) => {}
        }
        if let Err(e) = self.carry_out().await {
            tracing::warn!("{e}");
        }
    }

    /// The robot ended `session` itself.
    fn ended(&mut self, session: i64, reason: SessionEnd, fault: Option<String>) {
        self.fault_note = fault.map(|f| (session, f));
        self.sessions.handle_ended(session, reason);
    }

    /// Carries out what the session machine asks, in order: write the
    /// session down, start or stop the program, tell the kiosk it ended.
    /// Returns the first failure to write or to start (a start then fails
    /// as a whole).
    async fn carry_out(&mut self) -> Result<(), String> {
        while let Some(output) = self.sessions.poll_output() {
            match output {
                SessionOutput::Persist => {
                    if let Err(e) = self.setup.file.store(self.sessions.sessions()) {
                        tracing::error!("could not write the session file: {e}");
                        return Err(format!("the robot agent cannot record sessions: {e}"));
                    }
                }
                SessionOutput::Switch { on: true, .. } => {
                    let Some((id, program, seconds)) = self.starting.take() else {
                        // Restored at power-up: the program runs, or the watch ends it.
                        continue;
                    };
                    let started = match self.robot().await {
                        Ok(r) => r.start(id, program, seconds).await,
                        Err(e) => Err(e),
                    };
                    self.sessions
                        .handle_switched(PROGRAM, true, started.is_ok(), now());
                    if let Err(e) = started {
                        self.lost(&e);
                        return Err(format!("the robot did not start: {e}"));
                    }
                    self.running = Some(id);
                    tracing::info!(session = id, program, seconds, "program started");
                }
                SessionOutput::Switch { on: false, .. } => {
                    let Some(id) = self.running else {
                        self.sessions.handle_switched(PROGRAM, false, true, now());
                        continue;
                    };
                    // Stopping a program that is not running is harmless.
                    let stopped = match self.robot().await {
                        Ok(r) => r.stop(id).await,
                        Err(e) => Err(e),
                    };
                    if let Err(e) = &stopped {
                        self.lost(e);
                        tracing::warn!(
                            session = id,
                            "the stop did not reach the robot: {e}; trying again"
                        );
                    }
                    self.sessions
                        .handle_switched(PROGRAM, false, stopped.is_ok(), now());
                }
                SessionOutput::Ended {
                    session,
                    channel,
                    reason,
                } => {
                    let fault = self
                        .fault_note
                        .take()
                        .filter(|(s, _)| *s == session)
                        .map(|(_, f)| f);
                    tracing::info!(
                        session,
                        reason = reason.as_str(),
                        fault = fault.as_deref().unwrap_or(""),
                        "session ended"
                    );
                    let kind = EventKind::SessionEnded {
                        session,
                        channel,
                        reason,
                        fault,
                    };
                    self.topics
                        .event(&self.link, &format!("s{session}-end"), kind)
                        .await;
                    self.status_due = Instant::now();
                }
            }
        }
        Ok(())
    }

    async fn handle_command(&mut self, cmd: Command) {
        let outcome = if !self.topics.accept(&self.link, &cmd).await {
            Outcome::Expired
        } else {
            match cmd.action {
                Action::SessionStart {
                    session,
                    name,
                    until_ms,
                    program,
                    ..
                } => {
                    self.start(
                        session,
                        &name,
                        until_ms,
                        program.unwrap_or(self.setup.program),
                    )
                    .await
                }
                Action::SessionStop { session } => {
                    self.sessions.handle_stop(session);
                    let _ = self.carry_out().await;
                    Outcome::Done
                }
                Action::Republish => {
                    self.status_due = Instant::now();
                    Outcome::Done
                }
                Action::SelfTest { .. } => Outcome::SelfTested {
                    checks: self.self_test().await,
                },
                Action::Unlock { .. }
                | Action::Vend { .. }
                | Action::VendQuery { .. }
                | Action::Show { .. }
                | Action::ResetRelease => Outcome::Refused {
                    reason: "a robot does not do that".into(),
                },
            }
        };
        self.topics.ack(&self.link, cmd.id, outcome).await;
    }

    async fn start(&mut self, session: i64, name: &str, until_ms: i64, program: u16) -> Outcome {
        let refused = |reason: String| Outcome::Refused { reason };
        if self.sessions.sessions().knows(session) {
            return Outcome::Done;
        }
        let Ok(id) = u32::try_from(session) else {
            return refused(format!(
                "session {session} does not fit the robot's register"
            ));
        };
        let seconds = (until_ms - now().as_unix_millis()) / 1000;
        if seconds < 1 {
            return refused(StartRefusal::AlreadyOver.to_string());
        }
        if let Some(other) = self.sessions.sessions().active.first() {
            return refused(format!("the robot is busy with session {}", other.session));
        }
        match self.read().await {
            Err(e) => return refused(format!("the robot does not answer: {e}")),
            Ok(s) if s.state == RobotState::Fault => {
                let why = s.fault.map_or_else(|| "a fault".into(), |f| f.describe());
                return refused(format!("the robot reports {why}: staff must clear it"));
            }
            Ok(s) if s.state == RobotState::Running => {
                return refused("the robot is running another program".into());
            }
            Ok(_) => {}
        }
        self.starting = Some((id, program, u16::try_from(seconds).unwrap_or(u16::MAX)));
        let until = Timestamp::from_unix_millis(until_ms);
        match self
            .sessions
            .handle_start(session, PROGRAM, name, until, now())
        {
            StartDecision::AlreadyKnown => Outcome::Done,
            StartDecision::Refused(r) => refused(r.to_string()),
            StartDecision::Started => match self.carry_out().await {
                Ok(()) => {
                    self.poll_due = Instant::now();
                    self.status_due = Instant::now();
                    Outcome::Done
                }
                Err(reason) => {
                    self.starting = None;
                    self.sessions.handle_start_failed(session);
                    // Nothing started: the output is off already.
                    self.running = None;
                    let _ = self.carry_out().await;
                    refused(reason)
                }
            },
        }
    }

    fn status(&self) -> SessionDeviceStatus {
        let a = self.sessions.sessions().active.first();
        let (state, fault, progress, on) = match &self.last {
            None => ("unknown".to_owned(), None, None, false),
            Some(Err(e)) => ("unavailable".to_owned(), Some(e.clone()), None, false),
            Some(Ok(s)) => (
                match s.state {
                    RobotState::Fault => "fault".to_owned(),
                    RobotState::Running => "running".to_owned(),
                    _ => "ready".to_owned(),
                },
                s.fault.map(|f| f.describe()),
                Some(s.progress),
                s.state == RobotState::Running,
            ),
        };
        SessionDeviceStatus {
            v: PROTOCOL_VERSION,
            state,
            outputs: vec![OutputStatus {
                channel: 1,
                on,
                session: a.map(|a| a.session),
                until_ms: a.map(|a| a.until_ms),
                progress: a.and(progress),
            }],
            fault,
            at_ms: None,
        }
    }

    async fn publish_status(&mut self) {
        self.status_due = Instant::now() + STATUS_EVERY;
        if self.sessions.sessions().active.is_empty() {
            // Between sessions the heartbeat is also the check that the robot answers.
            let _ = self.read().await;
            self.status_due = Instant::now() + STATUS_EVERY;
        }
        let status = self.status();
        let stamped = SessionDeviceStatus {
            at_ms: Some(now().as_unix_millis()),
            ..status
        };
        self.topics.status(&self.link, &stamped).await;
    }
}

impl crate::agent_loop::CommandTaker for RobotAgent {
    fn republish_status(&mut self) {
        self.status_due = Instant::now();
    }

    async fn on_command(&mut self, cmd: Command) {
        self.handle_command(cmd).await;
    }
}

impl DeviceAgent for RobotAgent {
    type Input = std::convert::Infallible;
    const OFFLINE: &'static str = "the session goes on and ends on time";

    fn topics_and_link(&mut self) -> (&mut DeviceTopics, &LinkHandle) {
        (&mut self.topics, &self.link)
    }

    async fn tick(&mut self) -> Option<Instant> {
        if Instant::now() >= self.poll_due {
            self.poll_due = Instant::now() + POLL;
            if self.sessions.sessions().active.is_empty() {
                // Only a stop the robot did not take is left to retry.
                self.sessions.handle_timeout(now());
                if let Err(e) = self.carry_out().await {
                    tracing::warn!("{e}");
                }
            } else {
                self.watch().await;
            }
        }
        if Instant::now() >= self.status_due {
            self.publish_status().await;
        }
        Some(self.poll_due.min(self.status_due))
    }

    async fn on_message(&mut self, topic: &str, payload: &[u8]) {
        crate::agent_loop::take_commands(self, topic, payload).await;
    }

    fn on_connected(&mut self) {
        self.status_due = Instant::now();
    }
}

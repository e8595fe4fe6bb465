//! The robot agent's loop.
//!
//! A session is written to disk before the program starts. While it runs
//! the controller is read every second: progress goes to the status, the
//! end (finished, stopped at the robot, a fault) goes to the kiosk as a
//! `session_ended` event. At the end of the slot the agent stops the program
//! itself. A robot that stops answering during a session is given a minute
//! past the slot's end, then the session is reported failed: nobody can
//! say it was given.

use std::future::Future;
use std::time::Duration;

use keting_core::ids::{DeviceId, SiteId};
use keting_core::messages::{
    Action, Command, EventKind, Outcome, OutputStatus, PROTOCOL_VERSION, SessionDeviceStatus,
    SessionEnd,
};
use keting_hardware::bus::BusAddress;
use keting_hardware::robot::{DEFAULT_TIMEOUT, ModbusRobot, RobotError, RobotState, RobotStatus};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::clock::now;
use crate::link::connection::{LinkEvent, LinkHandle};
use crate::link::device_topics::{DeviceTopics, Incoming};
use crate::piano::sessions_file::{ActiveSession, Sessions, SessionsFile};

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
    sessions: Sessions,
    last: Option<Result<RobotStatus, String>>,
    status_due: Instant,
    poll_due: Instant,
}

impl RobotAgent {
    /// A robot agent publishing through `link`.
    pub fn new(setup: RobotSetup, link: LinkHandle) -> Self {
        let sessions = setup.file.load().unwrap_or_else(|e| {
            tracing::error!("{e}: starting with no session");
            Sessions::default()
        });
        let topics = DeviceTopics::new(setup.site.clone(), setup.device.clone());
        Self {
            setup,
            link,
            topics,
            robot: None,
            sessions,
            last: None,
            status_due: Instant::now(),
            poll_due: Instant::now(),
        }
    }

    /// Runs until `shutdown` completes or the link ends.
    pub async fn run(
        mut self,
        mut link_events: mpsc::Receiver<LinkEvent>,
        shutdown: impl Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        loop {
            if Instant::now() >= self.poll_due {
                self.poll_due = Instant::now() + POLL;
                if !self.sessions.active.is_empty() {
                    self.watch().await;
                }
            }
            if Instant::now() >= self.status_due {
                self.publish_status().await;
            }
            let wake = self.poll_due.min(self.status_due);
            tokio::select! {
                () = &mut shutdown => break,
                event = link_events.recv() => match event {
                    Some(LinkEvent::Message { topic, payload }) => self.handle_message(&topic, &payload).await,
                    Some(LinkEvent::Connected) => {
                        tracing::info!("connected to the broker");
                        self.status_due = Instant::now();
                    }
                    Some(LinkEvent::Disconnected(why)) => {
                        tracing::warn!("broker unreachable or refused the login ({why}); the session goes on and ends on time");
                    }
                    Some(LinkEvent::Drained) => {}
                    None => break,
                },
                () = tokio::time::sleep_until(wake) => {}
            }
        }
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
        let Some(a) = self.sessions.active.first().cloned() else {
            return;
        };
        let t = now().as_unix_millis();
        match self.read().await {
            Ok(s) if s.session != a.session as u32 || s.state == RobotState::Idle => {
                self.end(
                    a.session,
                    SessionEnd::Fault,
                    Some("the robot lost the session (restarted or power cut)".into()),
                )
                .await;
            }
            Ok(s) => match s.state {
                RobotState::Running if t >= a.until_ms => {
                    // The slot is over: the agent stops the program itself.
                    let stopped = match self.robot().await {
                        Ok(r) => r.stop(a.session as u32).await,
                        Err(e) => Err(e),
                    };
                    match stopped {
                        Ok(()) => self.end(a.session, SessionEnd::TimeUp, None).await,
                        Err(e) => {
                            self.lost(&e);
                            tracing::warn!(
                                session = a.session,
                                "could not stop the program at the end: {e}"
                            );
                        }
                    }
                }
                RobotState::Running | RobotState::Idle => {}
                RobotState::Finished => self.end(a.session, SessionEnd::TimeUp, None).await,
                RobotState::Stopped => self.end(a.session, SessionEnd::EndedEarly, None).await,
                RobotState::Fault => {
                    let why = s.fault.map_or_else(|| "fault".into(), |f| f.describe());
                    self.end(a.session, SessionEnd::Fault, Some(why)).await;
                }
            },
            Err(e) if t >= a.until_ms + SILENCE_GRACE_MS => {
                self.end(
                    a.session,
                    SessionEnd::Fault,
                    Some(format!("the robot stopped answering: {e}")),
                )
                .await;
            }
            Err(_) => {}
        }
    }

    async fn end(&mut self, session: i64, reason: SessionEnd, fault: Option<String>) {
        let Some(a) = self.sessions.end(session) else {
            return;
        };
        if let Err(e) = self.setup.file.store(&self.sessions) {
            tracing::error!("could not write the session file: {e}");
        }
        tracing::info!(
            session,
            reason = reason.as_str(),
            fault = fault.as_deref().unwrap_or(""),
            "session ended"
        );
        let kind = EventKind::SessionEnded {
            session,
            channel: a.channel,
            reason,
            fault,
        };
        self.topics
            .event(&self.link, &format!("s{session}-end"), kind)
            .await;
        self.status_due = Instant::now();
    }

    async fn handle_message(&mut self, topic: &str, payload: &[u8]) {
        match self.topics.incoming(topic, payload) {
            Incoming::ControllerOnline => self.status_due = Instant::now(),
            Incoming::Command(cmd) => self.handle_command(cmd).await,
            Incoming::Other => {}
        }
    }

    async fn handle_command(&mut self, cmd: Command) {
        let outcome = if now().as_unix_millis() > cmd.deadline_ms {
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
                    if self.sessions.active.iter().any(|a| a.session == session) {
                        let stopped = match self.robot().await {
                            Ok(r) => r.stop(session as u32).await,
                            Err(e) => Err(e),
                        };
                        if let Err(e) = &stopped {
                            self.lost(e);
                            tracing::warn!(session, "the stop did not reach the robot: {e}");
                        }
                        self.end(session, SessionEnd::Stopped, None).await;
                    }
                    Outcome::Done
                }
                Action::Republish => {
                    self.status_due = Instant::now();
                    Outcome::Done
                }
                Action::Unlock { .. }
                | Action::SelfTest
                | Action::Vend { .. }
                | Action::VendQuery { .. } => Outcome::Refused {
                    reason: "a robot does not do that".into(),
                },
            }
        };
        self.topics.ack(&self.link, cmd.id, outcome).await;
    }

    async fn start(&mut self, session: i64, name: &str, until_ms: i64, program: u16) -> Outcome {
        let refused = |reason: String| Outcome::Refused { reason };
        if self.sessions.ended.contains(&session)
            || self.sessions.active.iter().any(|a| a.session == session)
        {
            return Outcome::Done;
        }
        let Ok(id) = u32::try_from(session) else {
            return refused(format!(
                "session {session} does not fit the robot's register"
            ));
        };
        let seconds = (until_ms - now().as_unix_millis()) / 1000;
        if seconds < 1 {
            return refused("the session is already over".into());
        }
        if let Some(other) = self.sessions.active.first() {
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
        self.sessions.active.push(ActiveSession {
            session,
            channel: 1,
            name: name.chars().take(8).collect(),
            until_ms,
        });
        if let Err(e) = self.setup.file.store(&self.sessions) {
            self.sessions.active.clear();
            return refused(format!("the robot agent cannot record sessions: {e}"));
        }
        let seconds = u16::try_from(seconds).unwrap_or(u16::MAX);
        let started = match self.robot().await {
            Ok(r) => r.start(id, program, seconds).await,
            Err(e) => Err(e),
        };
        if let Err(e) = started {
            self.lost(&e);
            self.sessions.active.clear();
            let _ = self.setup.file.store(&self.sessions);
            return refused(format!("the robot did not start: {e}"));
        }
        tracing::info!(session, program, seconds, "program started");
        self.poll_due = Instant::now();
        self.status_due = Instant::now();
        Outcome::Done
    }

    fn status(&self) -> SessionDeviceStatus {
        let a = self.sessions.active.first();
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
        if self.sessions.active.is_empty() {
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

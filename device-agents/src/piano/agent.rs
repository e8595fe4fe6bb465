//! The piano bank's loop: session commands from the kiosk, each piano's
//! timer, buttons, panels, and the bank's status.
//!
//! The sessions and their timers are the core's sans-IO machine
//! (`keting_core::device_session`): a session is written to disk before its
//! piano is switched on, and its end is decided by the machine from
//! `until_ms` on this agent's clock: the kiosk is not asked. At start the
//! agent powers on what is still in session and off everything else, and
//! reports sessions that ended while it was down. A piano that would not
//! switch off is retried every second and shown as a fault. This loop only
//! carries out what the machine says.

use std::future::Future;
use std::time::Duration;

use keting_core::device_session::{SessionMachine, SessionOutput, StartDecision, StartRefusal};
use keting_core::ids::{DeviceId, SiteId};
use keting_core::messages::{
    Action, Command, EventKind, Outcome, OutputStatus, PROTOCOL_VERSION, SessionDeviceStatus,
};
use keting_core::time::Timestamp;
use keting_hardware::bus::BusAddress;
use keting_hardware::panel::PanelDisplay;
use keting_hardware::panel::status_layout::{StatusView, render};
use keting_hardware::panel::text::PanelFont;
use keting_hardware::relay_board::{ModbusRelayBoard, RelayError};
use tokio::sync::mpsc;
use tokio::time::Instant;

mod self_test;

use super::panel_words;
use super::sessions_file::{Sessions, SessionsFile};
use crate::agent_loop::DeviceAgent;
use crate::door::strike::MODBUS_TIMEOUT;
use keting_link::clock::now;
use keting_link::connection::{LinkEvent, LinkHandle};
use keting_link::device_topics::DeviceTopics;

/// The status is re-published this often (the heartbeat, "last seen").
const STATUS_EVERY: Duration = Duration::from_secs(60);
/// The loop wakes at least this often (timers, panels, retries).
const TICK: Duration = Duration::from_secs(1);

/// One piano.
pub struct Piano {
    /// Its relay channel.
    pub channel: u8,
    /// Its name.
    pub name: String,
    /// Its panel, if fitted.
    pub panel: Option<Box<dyn PanelDisplay>>,
}

/// Something that happened at a piano.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PianoInput {
    /// The "end" button of the piano on this channel was pressed.
    EndButton(u8),
    /// An input failed.
    Failed(String),
}

/// Everything a piano-bank agent needs.
pub struct PianoBankSetup {
    /// The site.
    pub site: SiteId,
    /// This bank.
    pub device: DeviceId,
    /// The relay board.
    pub bus: BusAddress,
    /// Its unit id.
    pub unit: u8,
    /// Warn this long before the end.
    pub warn: Duration,
    /// The pianos.
    pub pianos: Vec<Piano>,
    /// The panels' font.
    pub font: Option<PanelFont>,
    /// The sessions on disk.
    pub file: SessionsFile,
}

/// The piano-bank agent.
pub struct PianoBankAgent {
    setup: PianoBankSetup,
    link: LinkHandle,
    topics: DeviceTopics,
    board: Option<ModbusRelayBoard>,
    sessions: SessionMachine,
    fault: Option<String>,
    shown: Vec<Option<StatusView>>,
    status_due: Instant,
}

impl PianoBankAgent {
    /// A piano-bank agent publishing through `link`.
    pub fn new(setup: PianoBankSetup, topics: DeviceTopics, link: LinkHandle) -> Self {
        let sessions = setup.file.load().unwrap_or_else(|e| {
            tracing::error!("{e}: every piano is powered off");
            Sessions::default()
        });
        let shown = setup.pianos.iter().map(|_| None).collect();
        let channels = setup.pianos.iter().map(|p| p.channel).collect();
        Self {
            setup,
            link,
            topics,
            board: None,
            sessions: SessionMachine::new(channels, sessions),
            fault: None,
            shown,
            status_due: Instant::now(),
        }
    }

    /// Runs until `shutdown` completes or the link ends.
    pub async fn run(
        self,
        inputs: mpsc::Receiver<PianoInput>,
        link_events: mpsc::Receiver<LinkEvent>,
        supervision: crate::agent_loop::Supervision,
        shutdown: impl Future<Output = ()>,
    ) {
        crate::agent_loop::run(self, Some(inputs), link_events, supervision, shutdown).await;
    }

    /// When the loop must look again: the machine's next timeout (a
    /// session's end, a retry), a panel's minute, the status, or a tick.
    fn next_wake(&self) -> Instant {
        let mut wake = (Instant::now() + TICK).min(self.status_due);
        if let Some(at) = self.sessions.poll_timeout() {
            let ms = u64::try_from(at.as_unix_millis() - now().as_unix_millis()).unwrap_or(0);
            wake = wake.min(Instant::now() + Duration::from_millis(ms));
        }
        wake
    }

    /// Carries out what the session machine asks, in order: write the
    /// sessions down, switch a piano, tell the kiosk a session ended.
    /// Stops at the first write or switch-on that fails (a start then
    /// fails as a whole).
    async fn carry_out(&mut self) -> Result<(), String> {
        while let Some(output) = self.sessions.poll_output() {
            match output {
                SessionOutput::Persist => {
                    if let Err(e) = self.setup.file.store(self.sessions.sessions()) {
                        tracing::error!("could not write the sessions file: {e}");
                        return Err(format!("the piano bank cannot record sessions: {e}"));
                    }
                }
                SessionOutput::Switch { channel, on } => {
                    let result = self.switch(channel, on).await;
                    self.sessions
                        .handle_switched(channel, on, result.is_ok(), now());
                    if let Err(e) = result
                        && on
                    {
                        return Err(format!("the piano's power did not switch on: {e}"));
                    }
                }
                SessionOutput::Ended {
                    session,
                    channel,
                    reason,
                } => {
                    tracing::info!(session, channel, reason = reason.as_str(), "session ended");
                    let kind = EventKind::SessionEnded {
                        session,
                        channel,
                        reason,
                        fault: None,
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

    async fn board(&mut self) -> Result<&mut ModbusRelayBoard, RelayError> {
        let b = match self.board.take() {
            Some(b) => b,
            None => {
                ModbusRelayBoard::connect(&self.setup.bus, self.setup.unit, MODBUS_TIMEOUT).await?
            }
        };
        Ok(self.board.insert(b))
    }

    /// Switches `channel` and reads it back.
    async fn switch(&mut self, channel: u8, on: bool) -> Result<(), RelayError> {
        let result = match self.board().await {
            Ok(b) => b.set_confirmed(channel, on).await,
            Err(e) => Err(e),
        };
        match &result {
            Ok(()) => {
                if self.fault.take().is_some() {
                    self.status_due = Instant::now();
                }
            }
            Err(e) => {
                if e.is_unreachable() {
                    self.board = None;
                }
                let message = format!("relay board {} channel {channel}: {e}", self.setup.bus);
                if self.fault.as_deref() != Some(&message) {
                    tracing::warn!("{message}");
                    self.fault = Some(message);
                    self.status_due = Instant::now();
                }
            }
        }
        result
    }

    async fn end_button(&mut self, channel: u8) {
        self.sessions.handle_end_button(channel);
        if let Err(e) = self.carry_out().await {
            tracing::warn!("{e}");
        }
    }

    async fn handle_command(&mut self, cmd: Command) {
        let outcome = if !self.topics.accept(&self.link, &cmd).await {
            Outcome::Expired
        } else {
            match cmd.action {
                Action::SessionStart {
                    session,
                    channel,
                    name,
                    until_ms,
                    ..
                } => self.start(session, channel, name, until_ms).await,
                Action::SessionStop { session } => {
                    self.sessions.handle_stop(session);
                    if let Err(e) = self.carry_out().await {
                        tracing::warn!("{e}");
                    }
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
                    reason: "a piano bank does not do that".into(),
                },
            }
        };
        self.topics.ack(&self.link, cmd.id, outcome).await;
    }

    async fn start(&mut self, session: i64, channel: u8, name: String, until_ms: i64) -> Outcome {
        let until = Timestamp::from_unix_millis(until_ms);
        match self
            .sessions
            .handle_start(session, channel, &name, until, now())
        {
            StartDecision::AlreadyKnown => Outcome::Done,
            StartDecision::Refused(StartRefusal::NoSuchOutput(c)) => Outcome::Refused {
                reason: format!("this piano bank has no piano on channel {c}"),
            },
            StartDecision::Refused(r) => Outcome::Refused {
                reason: r.to_string(),
            },
            StartDecision::Started => match self.carry_out().await {
                Ok(()) => {
                    tracing::info!(session, channel, until_ms, "session started");
                    self.status_due = Instant::now();
                    Outcome::Done
                }
                Err(reason) => {
                    self.sessions.handle_start_failed(session);
                    if let Err(e) = self.carry_out().await {
                        tracing::warn!("after a failed start: {e}");
                    }
                    Outcome::Refused { reason }
                }
            },
        }
    }

    fn status(&self) -> SessionDeviceStatus {
        let outputs = self
            .setup
            .pianos
            .iter()
            .map(|p| {
                let a = self.sessions.sessions().on_channel(p.channel);
                OutputStatus {
                    channel: p.channel,
                    on: a.is_some(),
                    session: a.map(|a| a.session),
                    until_ms: a.map(|a| a.until_ms),
                    progress: None,
                }
            })
            .collect();
        SessionDeviceStatus {
            v: PROTOCOL_VERSION,
            state: match (&self.fault, self.board.is_some()) {
                (Some(_), false) => "unavailable".into(),
                (Some(_), true) => "fault".into(),
                (None, _) => "ready".into(),
            },
            outputs,
            fault: self.fault.clone(),
            at_ms: None,
        }
    }

    async fn publish_status(&mut self) {
        self.status_due = Instant::now() + STATUS_EVERY;
        // The heartbeat also checks the board: a silent board is a fault.
        if self.fault.is_none() {
            let check = match self.board().await {
                Ok(b) => b.read_all().await.map(|_| ()),
                Err(e) => Err(e),
            };
            if let Err(e) = check {
                if e.is_unreachable() {
                    self.board = None;
                }
                self.fault = Some(format!("relay board {}: {e}", self.setup.bus));
            }
        }
        let status = self.status();
        let stamped = SessionDeviceStatus {
            at_ms: Some(now().as_unix_millis()),
            ..status
        };
        self.topics.status(&self.link, &stamped).await;
    }

    fn refresh_panels(&mut self) {
        let t = now().as_unix_millis();
        let warn = self.setup.warn.as_secs() / 60;
        for i in 0..self.setup.pianos.len() {
            let channel = self.setup.pianos[i].channel;
            let view = match self.sessions.sessions().on_channel(channel) {
                _ if self.fault.is_some() && self.sessions.off_pending(channel) => {
                    panel_words::fault()
                }
                Some(a) => {
                    let ms = u64::try_from((a.until_ms - t).max(0)).unwrap_or(0);
                    panel_words::playing(&a.name, ms.div_ceil(60_000), warn)
                }
                None => panel_words::idle(&self.setup.pianos[i].name),
            };
            if self.shown[i].as_ref() == Some(&view) {
                continue;
            }
            let (Some(font), Some(panel)) = (&self.setup.font, self.setup.pianos[i].panel.as_mut())
            else {
                continue;
            };
            match panel.show(&render(&view, font)) {
                Ok(()) => self.shown[i] = Some(view),
                Err(e) => tracing::warn!(channel, "panel: {e}"),
            }
        }
    }
}

impl crate::agent_loop::CommandTaker for PianoBankAgent {
    fn republish_status(&mut self) {
        self.status_due = Instant::now();
    }

    async fn on_command(&mut self, cmd: Command) {
        self.handle_command(cmd).await;
    }
}

impl DeviceAgent for PianoBankAgent {
    type Input = PianoInput;
    const OFFLINE: &'static str = "sessions go on and end on time";

    fn topics_and_link(&mut self) -> (&mut DeviceTopics, &LinkHandle) {
        (&mut self.topics, &self.link)
    }

    async fn start(&mut self) {
        self.sessions.handle_power_up(now());
        if let Err(e) = self.carry_out().await {
            tracing::warn!("at start: {e}");
        }
    }

    async fn tick(&mut self) -> Option<Instant> {
        self.sessions.handle_timeout(now());
        if let Err(e) = self.carry_out().await {
            tracing::warn!("{e}");
        }
        self.refresh_panels();
        if Instant::now() >= self.status_due {
            self.publish_status().await;
        }
        Some(self.next_wake())
    }

    async fn on_message(&mut self, topic: &str, payload: &[u8]) {
        crate::agent_loop::take_commands(self, topic, payload).await;
    }

    async fn on_input(&mut self, input: PianoInput) {
        match input {
            PianoInput::EndButton(channel) => self.end_button(channel).await,
            PianoInput::Failed(why) => tracing::warn!("{why}"),
        }
    }

    fn on_connected(&mut self) {
        self.status_due = Instant::now();
    }
}

//! The piano bank's loop: session commands from the kiosk, each piano's
//! timer, buttons, panels, and the bank's status.
//!
//! A session is written to disk before its piano is switched on, and its
//! end is decided here from `until_ms`: the kiosk is not asked. At start the
//! agent powers on what is still in session and off everything else, and
//! reports sessions that ended while it was down. A piano that would not
//! switch off is retried every second and shown as a fault.

use std::collections::BTreeSet;
use std::future::Future;
use std::time::Duration;

use keting_core::ids::{DeviceId, SiteId};
use keting_core::messages::{
    Action, Command, EventKind, Outcome, OutputStatus, PROTOCOL_VERSION, SessionDeviceStatus,
    SessionEnd,
};
use keting_hardware::bus::BusAddress;
use keting_hardware::panel::PanelDisplay;
use keting_hardware::panel::status_layout::{StatusView, render};
use keting_hardware::panel::text::PanelFont;
use keting_hardware::relay_board::{ModbusRelayBoard, RelayError};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::panel_words;
use super::sessions_file::{ActiveSession, Sessions, SessionsFile};
use crate::clock::now;
use crate::door::strike::MODBUS_TIMEOUT;
use crate::link::connection::{LinkEvent, LinkHandle};
use crate::link::device_topics::{DeviceTopics, Incoming};

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
    sessions: Sessions,
    /// Channels that must go off and have not yet.
    off_pending: BTreeSet<u8>,
    fault: Option<String>,
    shown: Vec<Option<StatusView>>,
    status_due: Instant,
}

impl PianoBankAgent {
    /// A piano-bank agent publishing through `link`.
    pub fn new(setup: PianoBankSetup, link: LinkHandle) -> Self {
        let sessions = setup.file.load().unwrap_or_else(|e| {
            tracing::error!("{e}: every piano is powered off");
            Sessions::default()
        });
        let shown = setup.pianos.iter().map(|_| None).collect();
        let topics = DeviceTopics::new(setup.site.clone(), setup.device.clone());
        Self {
            setup,
            link,
            topics,
            board: None,
            sessions,
            off_pending: BTreeSet::new(),
            fault: None,
            shown,
            status_due: Instant::now(),
        }
    }

    /// Runs until `shutdown` completes or the link ends.
    pub async fn run(
        mut self,
        mut inputs: mpsc::Receiver<PianoInput>,
        mut link_events: mpsc::Receiver<LinkEvent>,
        shutdown: impl Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        self.power_up().await;
        loop {
            self.end_due_sessions().await;
            self.retry_off().await;
            self.refresh_panels();
            if Instant::now() >= self.status_due {
                self.publish_status().await;
            }
            let wake = self.next_wake();
            tokio::select! {
                () = &mut shutdown => break,
                event = link_events.recv() => match event {
                    Some(LinkEvent::Message { topic, payload }) => self.handle_message(&topic, &payload).await,
                    Some(LinkEvent::Connected) => {
                        tracing::info!("connected to the broker");
                        self.status_due = Instant::now();
                    }
                    Some(LinkEvent::Disconnected(why)) => {
                        tracing::warn!("broker unreachable or refused the login ({why}); sessions go on and end on time");
                    }
                    Some(LinkEvent::Drained) => {}
                    None => break,
                },
                input = inputs.recv() => match input {
                    Some(PianoInput::EndButton(channel)) => self.end_button(channel).await,
                    Some(PianoInput::Failed(why)) => tracing::warn!("{why}"),
                    None => {}
                },
                () = tokio::time::sleep_until(wake) => {}
            }
        }
    }

    /// When the loop must look again: the next session end or panel
    /// minute, the status, or a tick.
    fn next_wake(&self) -> Instant {
        let t = now().as_unix_millis();
        let mut wake = (Instant::now() + TICK).min(self.status_due);
        for a in &self.sessions.active {
            let ms = u64::try_from((a.until_ms - t).max(0)).unwrap_or(0);
            wake = wake.min(Instant::now() + Duration::from_millis(ms));
        }
        wake
    }

    fn configured(&self, channel: u8) -> bool {
        self.setup.pianos.iter().any(|p| p.channel == channel)
    }

    fn persist(&self) -> std::io::Result<()> {
        self.setup.file.store(&self.sessions)
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

    /// At start: on what is still in session, off the rest; sessions that
    /// ended while the agent was down are reported.
    async fn power_up(&mut self) {
        let t = now().as_unix_millis();
        let channels: Vec<u8> = self.setup.pianos.iter().map(|p| p.channel).collect();
        for channel in channels {
            let on = self
                .sessions
                .on_channel(channel)
                .is_some_and(|a| a.until_ms > t);
            if on {
                if self.switch(channel, true).await.is_err() {
                    tracing::warn!(channel, "a piano in session could not be powered on");
                }
            } else if self.switch(channel, false).await.is_err() {
                self.off_pending.insert(channel);
            }
        }
    }

    async fn end_due_sessions(&mut self) {
        let t = now().as_unix_millis();
        let due: Vec<i64> = self
            .sessions
            .active
            .iter()
            .filter(|a| a.until_ms <= t)
            .map(|a| a.session)
            .collect();
        for session in due {
            self.end(session, SessionEnd::TimeUp).await;
        }
    }

    /// Ends `session`: the piano off (retried until it is), the end written
    /// down, the kiosk told.
    async fn end(&mut self, session: i64, reason: SessionEnd) {
        let Some(a) = self.sessions.end(session) else {
            return;
        };
        if let Err(e) = self.persist() {
            tracing::error!("could not write the sessions file: {e}");
        }
        if self.switch(a.channel, false).await.is_err() {
            self.off_pending.insert(a.channel);
        }
        tracing::info!(
            session,
            channel = a.channel,
            reason = reason.as_str(),
            "session ended"
        );
        let kind = EventKind::SessionEnded {
            session,
            channel: a.channel,
            reason,
            fault: None,
        };
        self.topics
            .event(&self.link, &format!("s{session}-end"), kind)
            .await;
        self.status_due = Instant::now();
    }

    async fn retry_off(&mut self) {
        let pending: Vec<u8> = self.off_pending.iter().copied().collect();
        for channel in pending {
            if self.sessions.on_channel(channel).is_some() {
                self.off_pending.remove(&channel);
            } else if self.switch(channel, false).await.is_ok() {
                self.off_pending.remove(&channel);
                tracing::info!(channel, "piano powered off after a retry");
            }
        }
    }

    async fn end_button(&mut self, channel: u8) {
        if let Some(a) = self.sessions.on_channel(channel) {
            let session = a.session;
            self.end(session, SessionEnd::EndedEarly).await;
        }
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
                    channel,
                    name,
                    until_ms,
                    ..
                } => self.start(session, channel, name, until_ms).await,
                Action::SessionStop { session } => {
                    self.end(session, SessionEnd::Stopped).await;
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
                    reason: "a piano bank does not do that".into(),
                },
            }
        };
        self.topics.ack(&self.link, cmd.id, outcome).await;
    }

    async fn start(&mut self, session: i64, channel: u8, name: String, until_ms: i64) -> Outcome {
        if !self.configured(channel) {
            return Outcome::Refused {
                reason: format!("this piano bank has no piano on channel {channel}"),
            };
        }
        if self.sessions.ended.contains(&session)
            || self.sessions.active.iter().any(|a| a.session == session)
        {
            return Outcome::Done;
        }
        if until_ms <= now().as_unix_millis() {
            return Outcome::Refused {
                reason: "the session is already over".into(),
            };
        }
        // The kiosk decides who plays: a session left on this piano ends.
        if let Some(old) = self.sessions.on_channel(channel).map(|a| a.session) {
            self.end(old, SessionEnd::Stopped).await;
        }
        self.sessions.active.push(ActiveSession {
            session,
            channel,
            name: name.chars().take(8).collect(),
            until_ms,
        });
        if let Err(e) = self.persist() {
            self.sessions.active.retain(|a| a.session != session);
            tracing::error!("could not write the sessions file: {e}");
            return Outcome::Refused {
                reason: format!("the piano bank cannot record sessions: {e}"),
            };
        }
        self.off_pending.remove(&channel);
        if let Err(e) = self.switch(channel, true).await {
            self.sessions.active.retain(|a| a.session != session);
            let _ = self.persist();
            let _ = self.switch(channel, false).await;
            return Outcome::Refused {
                reason: format!("the piano's power did not switch on: {e}"),
            };
        }
        tracing::info!(session, channel, until_ms, "session started");
        self.status_due = Instant::now();
        Outcome::Done
    }

    fn status(&self) -> SessionDeviceStatus {
        let outputs = self
            .setup
            .pianos
            .iter()
            .map(|p| {
                let a = self.sessions.on_channel(p.channel);
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
            let view = match self.sessions.on_channel(channel) {
                _ if self.fault.is_some() && self.off_pending.contains(&channel) => {
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

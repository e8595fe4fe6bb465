//! The door agent's run loop.
//!
//! One task owns the door: the core's [`DoorAccess`] (who may enter) and
//! [`LockMachine`] (strike, contact, alarms), the strike driver, the panel
//! and the roster in force. Inputs come from [`super::inputs`], messages
//! from the link; timers are the machines' own `poll_timeout`s. Every
//! decision, alarm and fault leaves as an event through the durable outbox.
//!
//! Two clocks: the lock machine's timers run on this machine's clock (a
//! pulse is a duration), while who may enter (night hours, paid months,
//! anti-passback, the lockout) and commands' deadlines are judged by the
//! site's time ([`keting_link::site_clock`]): this clock while it agrees with
//! the centre's, the centre's when it does not. A clock known wrong with no
//! centre time to use refuses every scan (`clock_wrong`): the door stays shut.

use std::collections::VecDeque;
use std::future::Future;
use std::time::Duration;

use ed25519_dalek::VerifyingKey;
use keting_core::calendar::SiteCalendar;
use keting_core::door::access::{AccessDecision, AccessPolicy, DoorAccess, DoorRefusal};
use keting_core::door::lock::{Alarm, FailMode, LockConfig, LockMachine, LockOutput, LockState};
use keting_core::door::occupancy::Way;
use keting_core::ids::{DeviceId, MemberId, SiteId};
use keting_core::messages::{
    Action, Command, DoorStatus, EventKind, MessageId, Outcome, PROTOCOL_VERSION,
};
use keting_core::pass::PassVerifier;
use keting_core::roster::{RosterError, RosterInForce, verify};
use keting_core::self_test::SelfCheck;
use keting_core::time::Timestamp;
use keting_hardware::panel::PanelDisplay;
use keting_hardware::panel::status_layout::{StatusView, render};
use keting_hardware::panel::test_pattern::test_pattern;
use keting_hardware::panel::text::PanelFont;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::alarm_output::AlarmOutput;
use super::inputs::DoorInput;
use super::panel_words;
use super::roster_file::RosterFile;
use super::strike::Strike;
use crate::agent_loop::DeviceAgent;
use keting_link::clock::now;
use keting_link::connection::{LinkEvent, LinkHandle};
use keting_link::device_topics::{DeviceTopics, Incoming};

/// How long a welcome or a refusal stays on the panel.
const MESSAGE_ON_PANEL: Duration = Duration::from_secs(4);
/// A strike that could not be driven is tried again this often.
const STRIKE_RETRY: Duration = Duration::from_millis(500);
/// Command ids remembered, so a command delivered twice is acked twice but
/// carried out once.
const COMMANDS_REMEMBERED: usize = 256;
/// The status is published again this often, so "last seen" stays true.
const STATUS_HEARTBEAT: Duration = Duration::from_secs(60);

/// Everything a door agent needs.
pub struct DoorSetup {
    /// The site.
    pub site: SiteId,
    /// This door.
    pub device: DeviceId,
    /// Verifies passes (the site's public key).
    pub passes: PassVerifier,
    /// Verifies rosters (the same key).
    pub roster_key: VerifyingKey,
    /// Who may enter when.
    pub policy: AccessPolicy,
    /// The site's local time.
    pub calendar: SiteCalendar,
    /// Pulse and held-open times.
    pub lock: LockConfig,
    /// Fail-secure or fail-safe.
    pub fail: FailMode,
    /// The strike.
    pub strike: Strike,
    /// The panel and its font, if the door has one.
    pub panel: Option<(Box<dyn PanelDisplay>, PanelFont)>,
    /// What the panel is, for people: `SSD1306 0x3c on /dev/i2c-1`, `simulated`.
    pub panel_name: String,
    /// Where the roster in force is kept.
    pub roster_file: RosterFile,
    /// Take scans from the `sim/<device>/scan` topic (simulated scanner).
    pub sim_scans: bool,
    /// Take exit-reader scans from the `sim/<device>/exit_scan` topic.
    pub sim_exit_scans: bool,
    /// The door's lines are simulated: the demo's contact topic drives
    /// its contact.
    pub sim_contact: bool,
    /// The simulated lines (when `gpio = "sim"`): the `sim/<device>/line/<LINE>`
    /// topic drives any of them, as a wire to the terminal block would.
    pub sim_gpio: Option<keting_hardware::gpio::sim::SimGpio>,
    /// The siren or light, if one is fitted.
    pub alarm_output: Option<AlarmOutput>,
    /// The door contact's line, if one is fitted (for the self-test).
    pub contact_line: Option<String>,
    /// The exit button's line, if one is fitted (for the self-test).
    pub exit_line: Option<String>,
    /// The fire-alarm input's line, if one is fitted (for the self-test).
    pub fire_line: Option<String>,
    /// How long the siren sounds after the help button.
    pub help_siren: Duration,
}

/// A second press of the help button within this long raises nothing new
/// (the first is being answered).
const HELP_AGAIN_AFTER: Duration = Duration::from_secs(30);

/// The door agent.
pub struct DoorAgent {
    setup: DoorSetup,
    access: DoorAccess,
    lock: LockMachine,
    roster: Option<RosterInForce>,
    link: LinkHandle,
    /// The strike value wanted, and whether it is in place.
    strike_wanted: bool,
    strike_in_place: bool,
    strike_retry_at: Option<Instant>,
    /// When a fail-safe lock's hold on the board is renewed.
    strike_renew_at: Option<Instant>,
    fault: Option<String>,
    locked_out: bool,
    message: Option<(StatusView, Instant)>,
    shown: Option<StatusView>,
    topics: DeviceTopics,
    event_prefix: String,
    event_seq: u64,
    commands: VecDeque<(MessageId, Outcome)>,
    /// The status last published (without its time), and when it is due again.
    published: Option<DoorStatus>,
    status_due: Instant,
    /// The inputs' last readings, for the self-test: `Ok(value)` or the failure.
    contact_seen: Option<Result<bool, String>>,
    exit_seen: Option<Result<bool, String>>,
    fire_seen: Option<Result<bool, String>>,
    /// Who the strike is released for now, and which way: the door
    /// opening while it is released is their passage.
    passage_due: Option<(Way, Option<MemberId>)>,
    /// The help button's last press, and until when its siren sounds.
    help_pressed: Option<Instant>,
    help_siren_until: Option<Instant>,
}

/// The instant `t` on a clock reading `clock_now` now.
fn instant_of(t: Timestamp, clock_now: Timestamp) -> Instant {
    Instant::now() + t.since(clock_now).unwrap_or(Duration::ZERO)
}

impl DoorAgent {
    /// A door agent publishing through `link`. Loads the stored roster.
    pub fn new(setup: DoorSetup, mut topics: DeviceTopics, link: LinkHandle) -> Self {
        let roster = setup.roster_file.load().and_then(|payload| {
            match verify(&payload, &setup.site, &setup.roster_key, None) {
                Ok(r) => {
                    tracing::info!(members = r.len(), "roster from disk in force");
                    Some(r)
                }
                Err(e) => {
                    tracing::warn!("stored roster refused: {e}");
                    None
                }
            }
        });
        if let Some(r) = &roster {
            // The real time is at least when the roster was issued.
            topics.clock_mut().note_signed_time(r.issued_ms);
        }
        // Event ids: a random boot id and a counter, unique even if the
        // clock steps back across a reboot (the kiosk drops repeated ids).
        let mut boot = [0u8; 6];
        if getrandom::fill(&mut boot).is_err() {
            boot.copy_from_slice(&now().as_unix_millis().to_be_bytes()[2..]);
        }
        let boot: String = boot.iter().map(|b| format!("{b:02x}")).collect();
        Self {
            access: DoorAccess::new(setup.policy, setup.calendar),
            lock: LockMachine::new(setup.lock),
            setup,
            roster,
            link,
            strike_wanted: false,
            strike_in_place: false,
            strike_retry_at: None,
            strike_renew_at: None,
            fault: None,
            locked_out: false,
            message: None,
            shown: None,
            topics,
            event_prefix: boot,
            event_seq: 0,
            commands: VecDeque::new(),
            published: None,
            status_due: Instant::now() + STATUS_HEARTBEAT,
            contact_seen: None,
            exit_seen: None,
            fire_seen: None,
            passage_due: None,
            help_pressed: None,
            help_siren_until: None,
        }
    }

    /// Runs the door until `shutdown` completes or the link ends; leaves the
    /// strike locked.
    pub async fn run(
        self,
        inputs: mpsc::Receiver<DoorInput>,
        link_events: mpsc::Receiver<LinkEvent>,
        supervision: crate::agent_loop::Supervision,
        shutdown: impl Future<Output = ()>,
    ) {
        crate::agent_loop::run(self, Some(inputs), link_events, supervision, shutdown).await;
    }

    fn next_deadline(&self) -> Option<Instant> {
        let (local, site) = (now(), self.topics.clock().best_time());
        [
            self.lock.poll_timeout().map(|t| instant_of(t, local)),
            self.access.poll_timeout().map(|t| instant_of(t, site)),
            self.strike_retry_at,
            self.strike_renew_at,
            self.message.as_ref().map(|(_, until)| *until),
            Some(self.status_due),
            self.help_siren_until,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    async fn handle_timers(&mut self) {
        let t = now();
        self.lock.handle_timeout(t);
        if self
            .message
            .as_ref()
            .is_some_and(|(_, until)| *until <= Instant::now())
        {
            self.message = None;
        }
        if self.status_due <= Instant::now() {
            // Heartbeat: settle() publishes the status again.
            self.published = None;
        }
        if self.strike_retry_at.is_some_and(|at| at <= Instant::now()) {
            self.strike_retry_at = None;
            self.drive_strike().await;
        }
        if self.strike_renew_at.is_some_and(|at| at <= Instant::now()) {
            self.strike_renew_at = None;
            self.strike_in_place = false;
            self.drive_strike().await;
        }
        let site_now = self.topics.clock().best_time();
        let locked_out = self
            .access
            .poll_timeout()
            .is_some_and(|until| site_now < until);
        if self.locked_out && !locked_out {
            self.locked_out = false;
            self.emit(EventKind::Alarm {
                alarm: Alarm::Lockout,
                raised: false,
            })
            .await;
        }
    }

    async fn handle_input(&mut self, input: DoorInput) {
        let t = now();
        match input {
            DoorInput::Scan(code) => self.handle_scan(&code, t).await,
            DoorInput::ExitScan(code) => self.handle_exit_scan(&code, t),
            DoorInput::Contact(open) => {
                self.contact_seen = Some(Ok(open));
                // Opened while released for a grant or an exit: someone
                // went through (a forced opening is nobody's passage).
                let passage = (open && self.lock.state() == LockState::Unlocked)
                    .then(|| self.passage_due.take())
                    .flatten();
                self.lock.handle_contact(open, t);
                if let Some((way, member)) = passage {
                    self.emit(EventKind::Passed { way, member }).await;
                }
            }
            DoorInput::ExitButton(pressed) => {
                self.exit_seen = Some(Ok(pressed));
                if pressed {
                    self.lock.handle_exit_button(t);
                    self.passage_due = Some((Way::Out, None));
                }
            }
            DoorInput::HelpButton(true) => {
                let again = self
                    .help_pressed
                    .is_some_and(|at| at.elapsed() < HELP_AGAIN_AFTER);
                self.help_siren_until = Some(Instant::now() + self.setup.help_siren);
                if !again {
                    self.help_pressed = Some(Instant::now());
                    tracing::warn!("the help button was pressed");
                    self.emit(EventKind::Alarm {
                        alarm: Alarm::Help,
                        raised: true,
                    })
                    .await;
                }
                self.drive_alarm_output().await;
            }
            DoorInput::HelpButton(false) => {}
            DoorInput::Fire(active) => {
                if self.fire_seen != Some(Ok(active)) {
                    if active {
                        tracing::warn!("the fire alarm input is active: the door is released");
                    } else if self.lock.fire_released() {
                        tracing::warn!(
                            "the fire alarm input cleared: the door stays released until staff reset it"
                        );
                    }
                }
                self.fire_seen = Some(Ok(active));
                self.lock.handle_fire(active, t);
            }
            DoorInput::Failed(what) => {
                tracing::error!("door input failed: {what}");
                if what.starts_with("door.contact") {
                    self.contact_seen = Some(Err(what.clone()));
                } else if what.starts_with("door.exit_button") {
                    self.exit_seen = Some(Err(what.clone()));
                } else if what.starts_with("door.fire_input") {
                    self.fire_seen = Some(Err(what.clone()));
                }
                self.emit(EventKind::Fault { message: what }).await;
            }
        }
    }

    /// A pass at the exit reader: the door is released to let them out
    /// (whatever the pass says: nobody is kept in), and their passage names
    /// them when the pass is this site's.
    fn handle_exit_scan(&mut self, code: &str, t: Timestamp) {
        let member = self
            .setup
            .passes
            .verify(code.trim(), self.topics.clock().best_time())
            .ok()
            .map(|c| c.member);
        tracing::info!(member = member.map(|m| m.0), "exit reader");
        self.lock.handle_exit_button(t);
        self.passage_due = Some((Way::Out, member));
    }

    async fn handle_scan(&mut self, code: &str, t: Timestamp) {
        tracing::debug!(len = code.len(), "scan");
        // A live pass is judged by the time the door decides by; with the
        // clock known wrong nothing is taken below, so its own will do.
        let site_now = self.topics.clock().decision_time();
        let claims = self
            .setup
            .passes
            .verify(code.trim(), self.topics.clock().best_time());
        let member = claims.as_ref().ok().map(|c| c.member);
        let entry = member.and_then(|m| self.roster.as_ref()?.entry(m).copied());
        let decision = match site_now {
            Ok(site_now) => self
                .access
                .handle_scan(claims.as_ref(), entry.as_ref(), site_now),
            // Not an attack: it does not count towards the lockout.
            Err(_) => AccessDecision::Refused {
                reason: DoorRefusal::ClockWrong,
                lockout_started: false,
            },
        };
        match decision {
            AccessDecision::Granted(m) => {
                self.lock.handle_grant(t);
                self.passage_due = Some((Way::In, Some(m)));
                self.show_message(panel_words::welcome());
                // Open first, then write it down (the journal, the event's
                // fsync): the person at the door waits for neither.
                self.settle().await;
                tracing::info!(member = m.0, "access granted");
                self.emit(EventKind::AccessGranted { member: m }).await;
            }
            AccessDecision::Refused {
                reason,
                lockout_started,
            } => {
                tracing::info!(
                    member = member.map(|m| m.0),
                    reason = reason.code(),
                    "access refused"
                );
                self.show_message(panel_words::refused(reason));
                // The person at the door first, then the record.
                self.refresh_panel();
                self.emit(EventKind::AccessRefused { member, reason }).await;
                if lockout_started {
                    self.locked_out = true;
                    self.emit(EventKind::Alarm {
                        alarm: Alarm::Lockout,
                        raised: true,
                    })
                    .await;
                }
                if reason == DoorRefusal::LockedOut {
                    self.message = None;
                }
            }
        }
    }

    async fn handle_message(&mut self, topic: &str, payload: &[u8]) {
        match self.topics.incoming(topic, payload) {
            Incoming::ControllerOnline => {
                // The kiosk (re)appeared: it wants our state again.
                self.published = None;
            }
            Incoming::SimScan(code) if self.setup.sim_scans => self.handle_scan(&code, now()).await,
            Incoming::SimExitScan(code) if self.setup.sim_exit_scans => {
                self.handle_exit_scan(&code, now());
            }
            Incoming::SimContact(open) if self.setup.sim_contact => {
                self.handle_input(DoorInput::Contact(open)).await;
            }
            Incoming::Roster(roster) => self.handle_roster(&roster).await,
            Incoming::Command(cmd) => self.handle_command(cmd).await,
            Incoming::Refused(why) => self.topics.refused(&self.link, &why).await,
            Incoming::SimLine(line, active) => {
                if let Some(gpio) = &self.setup.sim_gpio {
                    gpio.drive(&line, active);
                }
            }
            Incoming::SimScan(_)
            | Incoming::SimExitScan(_)
            | Incoming::SimContact(_)
            | Incoming::Other => {}
        }
    }

    async fn handle_roster(&mut self, payload: &[u8]) {
        let current = self.roster.as_ref().map(|r| r.issued_ms);
        match verify(payload, &self.setup.site, &self.setup.roster_key, current) {
            Ok(roster) => {
                tracing::info!(
                    members = roster.len(),
                    issued_ms = roster.issued_ms,
                    "new roster in force"
                );
                self.topics.clock_mut().note_signed_time(roster.issued_ms);
                if let Err(e) = self.setup.roster_file.store(payload) {
                    tracing::error!("could not store the roster: {e}");
                }
                self.roster = Some(roster);
            }
            // The retained copy of the roster we already hold.
            Err(RosterError::Older) if self.is_current(payload) => {}
            Err(e) => {
                tracing::warn!("roster refused: {e}");
                self.show_message(panel_words::roster_rejected());
                self.emit(EventKind::RosterRejected {
                    reason: e.to_string(),
                })
                .await;
            }
        }
    }

    fn is_current(&self, payload: &[u8]) -> bool {
        verify(payload, &self.setup.site, &self.setup.roster_key, None)
            .is_ok_and(|r| Some(r.issued_ms) == self.roster.as_ref().map(|c| c.issued_ms))
    }

    async fn handle_command(&mut self, cmd: Command) {
        if let Some((_, outcome)) = self.commands.iter().find(|(id, _)| *id == cmd.id) {
            let outcome = outcome.clone();
            self.ack(cmd.id, outcome).await;
            return;
        }
        let t = now();
        let outcome = if !self.topics.accept(&self.link, &cmd).await {
            Outcome::Expired
        } else {
            match cmd.action {
                Action::Unlock { member } => {
                    // Not an entry of `member` (staff opened it for someone):
                    // the kiosk logs the request and this command's ack.
                    tracing::info!(by = member.map(|m| m.0), "remote unlock");
                    self.lock.handle_grant(t);
                    self.passage_due = Some((Way::In, member));
                    // Drive the strike now, and say whether it moved: a relay
                    // board that does not answer opened nothing, and the
                    // staff member who asked must not be told "opened".
                    self.settle().await;
                    if self.strike_in_place {
                        self.show_message(panel_words::welcome());
                        Outcome::Done
                    } else {
                        Outcome::Refused {
                            reason: format!(
                                "the strike could not be driven: {}",
                                self.fault.as_deref().unwrap_or("no answer")
                            ),
                        }
                    }
                }
                Action::Republish => {
                    self.published = None;
                    Outcome::Done
                }
                Action::ResetRelease => match self.lock.handle_reset(t) {
                    Ok(()) => {
                        tracing::info!("reset by staff after the fire alarm: locking again");
                        self.settle().await;
                        Outcome::Done
                    }
                    Err(refusal) => Outcome::Refused {
                        reason: refusal.to_string(),
                    },
                },
                Action::SelfTest { .. } => Outcome::SelfTested {
                    checks: self.self_test().await,
                },
                Action::Vend { .. }
                | Action::VendQuery { .. }
                | Action::SessionStart { .. }
                | Action::SessionStop { .. }
                | Action::Show { .. } => Outcome::Refused {
                    reason: "a door does not do that".into(),
                },
            }
        };
        if self.commands.len() == COMMANDS_REMEMBERED {
            self.commands.pop_front();
        }
        self.commands.push_back((cmd.id.clone(), outcome.clone()));
        self.ack(cmd.id, outcome).await;
    }

    async fn ack(&mut self, id: MessageId, outcome: Outcome) {
        self.topics.ack(&self.link, id, outcome).await;
    }

    /// Carries out what the lock machine wants, then brings the status
    /// topic and the panel up to date.
    async fn settle(&mut self) {
        while let Some(output) = self.lock.poll_output() {
            match output {
                LockOutput::Strike { unlocked } => {
                    self.strike_wanted = self.setup.fail.relay_energized(unlocked);
                    self.strike_in_place = false;
                    self.drive_strike().await;
                }
                LockOutput::AlarmRaised(alarm) => {
                    tracing::warn!(?alarm, "alarm raised");
                    self.emit(EventKind::Alarm {
                        alarm,
                        raised: true,
                    })
                    .await;
                }
                LockOutput::AlarmCleared(alarm) => {
                    self.emit(EventKind::Alarm {
                        alarm,
                        raised: false,
                    })
                    .await;
                }
                LockOutput::State(_) => {}
            }
        }
        self.drive_alarm_output().await;
        // A strike that could not be driven is not known to be where the
        // lock machine wants it: the status says unknown, with the fault,
        // never "locked" (an alarm on the contact still shows as itself).
        let state = match self.lock.state() {
            LockState::Locked | LockState::Unlocked
                if self.fault.is_some() && !self.strike_in_place =>
            {
                LockState::Unknown
            }
            state => state,
        };
        let status = DoorStatus {
            v: PROTOCOL_VERSION,
            state,
            fault: self.fault.clone(),
            locked_out: self.locked_out,
            at_ms: None,
        };
        // The panel before the status: whoever sees the status can trust the panel shows it.
        self.refresh_panel();
        if self.published.as_ref() != Some(&status) {
            let stamped = DoorStatus {
                at_ms: Some(now().as_unix_millis()),
                ..status.clone()
            };
            self.topics.status(&self.link, &stamped).await;
            self.published = Some(status);
            self.status_due = Instant::now() + STATUS_HEARTBEAT;
        }
    }

    /// The siren on while the door is forced or held open, or for a while
    /// after the help button; off otherwise.
    async fn drive_alarm_output(&mut self) {
        if self
            .help_siren_until
            .is_some_and(|until| until <= Instant::now())
        {
            self.help_siren_until = None;
        }
        let alarm = matches!(self.lock.state(), LockState::Forced | LockState::HeldOpen)
            || self.help_siren_until.is_some();
        if let Some(out) = self.setup.alarm_output.as_mut()
            && let Err(e) = out.want(alarm).await
        {
            tracing::error!(
                "alarm output {}: {e} (tried again next turn)",
                out.describe()
            );
        }
    }

    async fn drive_strike(&mut self) {
        if self.strike_in_place {
            return;
        }
        tracing::debug!(energized = self.strike_wanted, "driving the strike");
        match self.setup.strike.set(self.strike_wanted).await {
            Ok(()) => {
                tracing::debug!("strike confirmed");
                self.strike_in_place = true;
                self.strike_retry_at = None;
                self.strike_renew_at = self
                    .setup
                    .strike
                    .renew_every(self.strike_wanted)
                    .map(|every| Instant::now() + every);
                if self.fault.take().is_some() {
                    tracing::info!("strike driven again; fault cleared");
                }
            }
            Err(e) => {
                let message = e.to_string();
                tracing::error!("strike: {message}");
                self.strike_retry_at = Some(Instant::now() + STRIKE_RETRY);
                if self.fault.as_deref() != Some(message.as_str()) {
                    self.fault = Some(message.clone());
                    self.refresh_panel();
                    self.emit(EventKind::Fault { message }).await;
                }
            }
        }
    }

    /// The commissioning self-test: strike (and its relay board), contact,
    /// exit button, panel. A pulse for a member is never cut short by a test.
    async fn self_test(&mut self) -> Vec<SelfCheck> {
        if self.lock.state() == LockState::Unlocked {
            return vec![SelfCheck::fail(
                "door at rest",
                "the strike is released for someone going in",
                "wait a few seconds, then run the check again",
            )];
        }
        tracing::info!("self-test");
        let rest = self.setup.fail.relay_energized(false);
        let open = self.setup.fail.relay_energized(true);
        let mut checks = self.setup.strike.self_test(rest, open).await;
        // Put the strike back where the lock machine wants it.
        self.strike_in_place = false;
        self.drive_strike().await;
        for (name, line, seen, words) in [
            (
                "door contact",
                &self.setup.contact_line,
                &self.contact_seen,
                ("open", "closed"),
            ),
            (
                "exit button",
                &self.setup.exit_line,
                &self.exit_seen,
                ("pressed", "released"),
            ),
            (
                "fire alarm input",
                &self.setup.fire_line,
                &self.fire_seen,
                ("active", "clear"),
            ),
        ] {
            let check = format!("{name} ({})", line.as_deref().unwrap_or("not fitted"));
            checks.push(match (line, seen) {
                (None, _) => SelfCheck::pass(check, "not fitted (nothing in agent.toml)"),
                (Some(_), Some(Ok(v))) => SelfCheck::pass(
                    check,
                    format!("reads {}", if *v { words.0 } else { words.1 }),
                ),
                (Some(_), Some(Err(e))) => SelfCheck::fail(
                    check,
                    e.clone(),
                    "check the line name against `gpioinfo` and the wiring to the terminal block",
                ),
                (Some(_), None) => SelfCheck::fail(
                    check,
                    "no reading yet",
                    "check the line name against `gpioinfo`; restart the agent",
                ),
            });
        }
        let alarm = matches!(self.lock.state(), LockState::Forced | LockState::HeldOpen);
        if let Some(out) = self.setup.alarm_output.as_mut() {
            checks.push(out.self_test(alarm).await);
        }
        let check = format!("panel ({})", self.setup.panel_name);
        checks.push(match &mut self.setup.panel {
            None => SelfCheck::pass(check, "not fitted (nothing in agent.toml)"),
            Some((panel, _)) => match panel.show(&test_pattern()) {
                Ok(()) => {
                    // The pattern stays up while the technician looks.
                    self.message = Some((panel_words::self_test(), Instant::now() + MESSAGE_ON_PANEL));
                    self.shown = Some(panel_words::self_test());
                    SelfCheck::pass(check, "test pattern drawn: look for dark rows or columns")
                }
                Err(e) => SelfCheck::fail(
                    check,
                    e.to_string(),
                    "check the panel's I2C wiring (SDA, SCL, 3.3 V, GND) and its address (`i2cdetect -y 1`)",
                ),
            },
        });
        checks
    }

    fn show_message(&mut self, view: StatusView) {
        self.message = Some((view, Instant::now() + MESSAGE_ON_PANEL));
    }

    fn refresh_panel(&mut self) {
        let view = match &self.message {
            // A fault or an alarm outranks a greeting.
            Some((view, _))
                if self.fault.is_none()
                    && !matches!(self.lock.state(), LockState::Forced | LockState::HeldOpen) =>
            {
                view.clone()
            }
            _ => panel_words::for_state(self.lock.state(), self.fault.is_some(), self.locked_out),
        };
        if self.shown.as_ref() == Some(&view) {
            return;
        }
        if let Some((panel, font)) = &mut self.setup.panel
            && let Err(e) = panel.show(&render(&view, font))
        {
            tracing::warn!("panel: {e}");
        }
        self.shown = Some(view);
    }

    async fn emit(&mut self, kind: EventKind) {
        self.event_seq += 1;
        let suffix = format!("{}-{}", self.event_prefix, self.event_seq);
        self.topics.event(&self.link, &suffix, kind).await;
    }
}

impl DeviceAgent for DoorAgent {
    type Input = DoorInput;
    const OFFLINE: &'static str = "the door keeps deciding alone";

    fn topics_and_link(&mut self) -> (&mut DeviceTopics, &LinkHandle) {
        (&mut self.topics, &self.link)
    }

    async fn start(&mut self) {
        self.settle().await;
    }

    async fn tick(&mut self) -> Option<Instant> {
        self.handle_timers().await;
        self.settle().await;
        self.next_deadline()
    }

    async fn on_message(&mut self, topic: &str, payload: &[u8]) {
        self.handle_message(topic, payload).await;
    }

    async fn on_input(&mut self, input: DoorInput) {
        self.handle_input(input).await;
    }

    fn on_connected(&mut self) {}

    async fn stop(mut self) {
        // Leave the door locked whatever happens next; released for a
        // fire, leave it released.
        let locked = self.setup.fail.relay_energized(self.lock.fire_released());
        if let Err(e) = self.setup.strike.set(locked).await {
            tracing::error!("could not lock the strike on the way out: {e}");
        }
        if let Some(out) = self.setup.alarm_output.as_mut()
            && let Err(e) = out.want(false).await
        {
            tracing::error!("could not switch the alarm output off on the way out: {e}");
        }
    }
}

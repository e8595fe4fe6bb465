//! An agent's side of its own topics: what it subscribes to, the commands
//! that come in for it (each through its [`CommandGuard`]: signed by the
//! site, for this device, never twice), and what it publishes about itself
//! (the acks of its commands and its events with ids unique per device,
//! each signed by the device's own key, and its retained status). A publish that cannot be queued is logged; a command
//! that is not trusted is logged and reported as a `command_refused` event,
//! never dropped silently. It also keeps the device's [`SiteClock`]: the
//! asks for the centre's time, its signed answers, and the time commands
//! (and a door's decisions) are judged by.

use ed25519_dalek::SigningKey;
use keting_core::ids::{DeviceId, SiteId};
use keting_core::messages::{Ack, Command, Event, EventKind, MessageId, Outcome, PROTOCOL_VERSION};
use keting_core::signed_answer;
use keting_core::topics::{DeviceChannel, Topic};
use serde::Serialize;

use crate::clock::now;
use crate::command_guard::{CommandGuard, GuardError};
use crate::connection::LinkHandle;
use crate::site_clock::SiteClock;

/// What came in on an agent's subscriptions.
#[derive(Debug)]
pub enum Incoming {
    /// The kiosk's online flag changed (it came back: publish again).
    ControllerOnline,
    /// A command for this device, signed by the site and not seen before.
    Command(Command),
    /// Something on this device's `cmd` topic that is not to be carried out.
    Refused(GuardError),
    /// The signed door roster for this device (a door verifies it).
    Roster(Vec<u8>),
    /// A scan typed into the demo's simulated scanner of this device.
    SimScan(String),
    /// A scan at this door's simulated exit reader (inside).
    SimExitScan(String),
    /// The demo's simulated door contact: open (`true`) or closed.
    SimContact(bool),
    /// A simulated input line of this device driven active (`true`) or not.
    SimLine(String, bool),
    /// Anything else (another device's topic, a command that could not be read).
    Other,
}

/// One device's topics.
#[derive(Debug)]
pub struct DeviceTopics {
    site: SiteId,
    device: DeviceId,
    guard: CommandGuard,
    answer_key: SigningKey,
    refusals: u32,
    clock: SiteClock,
    /// The nonce of the centre's run, from its birth: every status carries
    /// it, so the centre can tell a status said in answer to it from one
    /// recorded before (a recording proves nothing about being alive).
    centre_run: Option<String>,
}

/// The centre's birth: its online flag and its run's nonce.
#[derive(serde::Deserialize)]
struct CentreBirth {
    online: bool,
    run: Option<String>,
}

impl DeviceTopics {
    /// The topics of `device` of `site`, its commands admitted by `guard`,
    /// its acks and events signed with the device's own `answer_key`.
    pub fn new(
        site: SiteId,
        device: DeviceId,
        guard: CommandGuard,
        answer_key: SigningKey,
    ) -> Self {
        Self {
            site,
            device,
            guard,
            answer_key,
            refusals: 0,
            clock: SiteClock::default(),
            centre_run: None,
        }
    }

    /// The topics an agent taking commands subscribes to: the kiosk's
    /// online flag, its own `cmd` and the centre's answers on its `time`.
    pub fn command_subscriptions(&self) -> Vec<String> {
        vec![
            Topic::ControllerOnline.name(&self.site),
            self.topic(DeviceChannel::Cmd),
            self.topic(DeviceChannel::Time),
        ]
    }

    /// The device's clock against the centre's.
    pub fn clock(&self) -> &SiteClock {
        &self.clock
    }

    /// The same, to note a signed time (a roster's).
    pub fn clock_mut(&mut self) -> &mut SiteClock {
        &mut self.clock
    }

    /// The clock's time-driven work: the ask when due, the `clock` event
    /// when the alarm changed. Returns when it wants to run again.
    pub async fn clock_tick(&mut self, link: &LinkHandle) -> tokio::time::Instant {
        if let Some(ask) = self.clock.ask_if_due()
            && let Err(e) = link
                .publish_latest(&self.topic(DeviceChannel::TimeAsk), &ask)
                .await
        {
            tracing::error!("could not queue a time ask: {e}");
        }
        if let Some(event) = self.clock.report_due() {
            self.refusals = self.refusals.wrapping_add(1);
            let suffix = format!("clock-{}-{}", now().as_unix_millis(), self.refusals);
            self.event(link, &suffix, event).await;
        }
        self.clock.ask_due()
    }

    /// A door's subscriptions: its commands, its roster, with a simulated
    /// scanner the demo's scans, and with simulated lines its contact.
    pub fn door_subscriptions(
        &self,
        sim_scans: bool,
        sim_exit_scans: bool,
        sim_contact: bool,
    ) -> Vec<String> {
        let mut topics = self.command_subscriptions();
        topics.push(self.topic(DeviceChannel::Roster));
        if sim_scans {
            topics.push(Topic::SimScan(self.device.clone()).name(&self.site));
        }
        if sim_exit_scans {
            topics.push(Topic::SimExitScan(self.device.clone()).name(&self.site));
        }
        if sim_contact {
            topics.push(Topic::SimContact(self.device.clone()).name(&self.site));
            topics.push(format!(
                "{}/+",
                Topic::SimLine(self.device.clone(), "x".into())
                    .name(&self.site)
                    .trim_end_matches("/x")
            ));
        }
        topics
    }

    /// What a message on `topic` is for this device.
    pub fn incoming(&mut self, topic: &str, payload: &[u8]) -> Incoming {
        match Topic::parse(&self.site, topic) {
            Ok(Topic::ControllerOnline) => {
                // The centre (re)appeared: ask its time at once, and answer
                // its run from now on.
                self.clock.reconnected();
                if let Ok(birth) = keting_core::messages::decode::<CentreBirth>(payload)
                    && birth.online
                {
                    self.centre_run = birth.run;
                }
                Incoming::ControllerOnline
            }
            Ok(Topic::Device(id, DeviceChannel::Cmd)) if id == self.device => {
                match self
                    .guard
                    .admit(payload, self.clock.best_time().as_unix_millis())
                {
                    Ok(cmd) => Incoming::Command(cmd),
                    Err(e) => {
                        tracing::warn!("command refused: {e}");
                        Incoming::Refused(e)
                    }
                }
            }
            Ok(Topic::Device(id, DeviceChannel::Time)) if id == self.device => {
                self.clock
                    .answer(payload, &self.site, &self.device, self.guard.site_key());
                Incoming::Other
            }
            Ok(Topic::Device(id, DeviceChannel::Roster)) if id == self.device => {
                Incoming::Roster(payload.to_vec())
            }
            Ok(Topic::SimScan(id)) if id == self.device => {
                Incoming::SimScan(String::from_utf8_lossy(payload).into_owned())
            }
            Ok(Topic::SimExitScan(id)) if id == self.device => {
                Incoming::SimExitScan(String::from_utf8_lossy(payload).into_owned())
            }
            Ok(Topic::SimLine(id, line)) if id == self.device => match payload {
                b"active" => Incoming::SimLine(line, true),
                b"inactive" => Incoming::SimLine(line, false),
                _ => Incoming::Other,
            },
            Ok(Topic::SimContact(id)) if id == self.device => match payload {
                b"open" => Incoming::SimContact(true),
                b"closed" => Incoming::SimContact(false),
                _ => Incoming::Other,
            },
            _ => Incoming::Other,
        }
    }

    fn topic(&self, channel: DeviceChannel) -> String {
        Topic::Device(self.device.clone(), channel).name(&self.site)
    }

    /// Acks command `id` with `outcome`.
    pub async fn ack(&self, link: &LinkHandle, id: MessageId, outcome: Outcome) {
        let ack = Ack {
            v: PROTOCOL_VERSION,
            id,
            outcome,
        };
        let topic = self.topic(DeviceChannel::Ack);
        let payload = signed_answer::seal(&self.answer_key, &topic, &ack);
        if let Err(e) = link.publish(&topic, &payload, false).await {
            tracing::error!("could not queue an ack: {e}");
        }
    }

    /// Reports a command that was not carried out (`command_refused`).
    pub async fn refused(&mut self, link: &LinkHandle, why: &GuardError) {
        let (reason, command) = match why {
            GuardError::Refused(r) => (r.code().to_owned(), r.command_id().cloned()),
            GuardError::Window { .. } => ("window_not_written".to_owned(), None),
        };
        self.report_refusal(link, reason, command).await;
    }

    /// Whether `deadline_ms` has passed, by the time this device decides by:
    /// the centre's when its own clock is known wrong, the same clock the
    /// guard admitted the command by. Never the raw wall clock: a device an
    /// hour fast would refuse every command as late, one an hour slow would
    /// carry out stale ones.
    pub fn deadline_passed(&self, deadline_ms: i64) -> bool {
        self.clock.best_time().as_unix_millis() > deadline_ms
    }

    /// The one acceptance of an admitted command, for every agent: `true`
    /// to carry it out; `false` when its deadline passed (by
    /// [`Self::deadline_passed`]), after reporting it (`command_refused`,
    /// `expired`). The caller then acks [`Outcome::Expired`].
    pub async fn accept(&mut self, link: &LinkHandle, cmd: &Command) -> bool {
        if self.deadline_passed(cmd.deadline_ms) {
            self.expired(link, &cmd.id).await;
            return false;
        }
        true
    }

    /// Reports an authentic command that came after its deadline
    /// (`command_refused` with the reason `expired`); the caller acks it.
    pub async fn expired(&mut self, link: &LinkHandle, command: &MessageId) {
        self.report_refusal(link, "expired".to_owned(), Some(command.clone()))
            .await;
    }

    /// Publishes a `command_refused` event, its id unique per device.
    async fn report_refusal(
        &mut self,
        link: &LinkHandle,
        reason: String,
        command: Option<MessageId>,
    ) {
        self.refusals = self.refusals.wrapping_add(1);
        let suffix = format!("cr-{}-{}", now().as_unix_millis(), self.refusals);
        self.event(link, &suffix, EventKind::CommandRefused { reason, command })
            .await;
    }

    /// Publishes an event whose id is `e-<device>-<suffix>` (unique per device).
    pub async fn event(&self, link: &LinkHandle, suffix: &str, kind: EventKind) {
        let Ok(id) = MessageId::new(format!("e-{}-{suffix}", self.device)) else {
            tracing::error!("an event id of {} is not valid: {suffix:?}", self.device);
            return;
        };
        let event = Event {
            v: PROTOCOL_VERSION,
            id,
            at_ms: now().as_unix_millis(),
            kind,
        };
        let topic = self.topic(DeviceChannel::Event);
        let payload = signed_answer::seal(&self.answer_key, &topic, &event);
        if let Err(e) = link.publish(&topic, &payload, false).await {
            tracing::error!("could not queue an event: {e}");
        }
    }

    /// Publishes the retained status, signed by the device's own key like
    /// its acks and events: the staff are shown what the device said, and a
    /// status forged on the broker is refused at the centre. It carries the
    /// nonce of the centre's run it answers (`run`), so a recording of it
    /// proves nothing to a later run.
    pub async fn status<T: Serialize>(&self, link: &LinkHandle, status: &T) {
        let topic = self.topic(DeviceChannel::Status);
        let payload = match (serde_json::to_value(status), &self.centre_run) {
            (Ok(serde_json::Value::Object(mut fields)), Some(run)) => {
                fields.insert("run".into(), run.clone().into());
                signed_answer::seal(&self.answer_key, &topic, &fields)
            }
            _ => signed_answer::seal(&self.answer_key, &topic, status),
        };
        if let Err(e) = link.publish(&topic, &payload, true).await {
            tracing::error!("could not queue the status: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keting_core::site_time::{SignedTime, TimeAnswer};

    /// A device whose wall clock runs `ahead_ms` fast, after the centre
    /// answered its time ask.
    fn answered(ahead_ms: i64) -> DeviceTopics {
        let site_key = SigningKey::from_bytes(&[5; 32]);
        let site = SiteId::new("futian-01").unwrap();
        let device = DeviceId::new("pianos").unwrap();
        let guard = CommandGuard::open(site_key.verifying_key(), device.clone(), None);
        let mut topics = DeviceTopics::new(
            site.clone(),
            device.clone(),
            guard,
            SigningKey::from_bytes(&[6; 32]),
        );
        let ask: keting_core::site_time::TimeAsk =
            serde_json::from_slice(&topics.clock_mut().ask_if_due().unwrap()).unwrap();
        let answer = keting_core::site_time::sign(
            &TimeAnswer {
                v: PROTOCOL_VERSION,
                site: site.clone(),
                device: device.clone(),
                nonce: ask.nonce,
                centre_ms: now().as_unix_millis() - ahead_ms,
            },
            &site_key,
        );
        let _: SignedTime = serde_json::from_slice(&answer).unwrap();
        let time_topic = Topic::Device(device, DeviceChannel::Time).name(&site);
        assert!(matches!(
            topics.incoming(&time_topic, &answer),
            Incoming::Other
        ));
        topics
    }

    #[test]
    fn a_deadline_is_judged_by_the_centres_time_not_a_wrong_wall_clock() {
        let hour = 3_600_000;
        // An hour fast: a command the centre gave 30 s is still in time,
        // though the raw clock says it expired an hour ago.
        let fast = answered(hour);
        let centre_now = now().as_unix_millis() - hour;
        assert!(!fast.deadline_passed(centre_now + 30_000));
        assert!(fast.deadline_passed(centre_now - 1_000));
        // An hour slow: a command stale by the centre's clock is late, though
        // the raw clock would still carry it out.
        let slow = answered(-hour);
        let centre_now = now().as_unix_millis() + hour;
        assert!(slow.deadline_passed(centre_now - 1_000));
        assert!(!slow.deadline_passed(centre_now + 30_000));
    }
}

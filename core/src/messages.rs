//! The messages on the topics of [`crate::topics`]: JSON, readable with
//! `mosquitto_sub`, each carrying the protocol version `v`.
//!
//! ```text
//! cmd     {"v":1,"to":"gym-door","seq":1795299990000,"id":"c-42","deadline_ms":1795300000000,"action":"unlock","member":7}
//! ack     {"v":1,"id":"c-42","outcome":"done"}
//! event   {"v":1,"id":"e-gym-door-1031","at_ms":1795300000123,"event":"access_refused","member":7,"reason":"night_not_paid"}
//! status  {"v":1,"state":"locked","at_ms":1795300000000}
//! ```
//!
//! A command travels sealed in a [`crate::signed_command`] envelope: signed
//! by the centre, addressed to one device (`to`), numbered (`seq`). Commands
//! and events carry an id: delivery is at least once, and the receiver drops
//! an id it has seen. A command past its deadline is not
//! carried out (its ack says `expired`). [`decode`] turns any bytes into a
//! message or a [`MessageError`], never a panic; unknown fields are ignored so
//! a newer sender of the same version can add fields.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::door::access::DoorRefusal;
use crate::door::lock::{Alarm, LockState};
use crate::ids::{DeviceId, MemberId};
use crate::self_test::SelfCheck;

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u8 = 1;

/// The largest payload accepted; anything larger is refused unread.
pub const MAX_PAYLOAD: usize = 64 * 1024;

/// The largest roster payload read: about 17,000 members. A roster lists
/// every resident (day access), so it outgrows [`MAX_PAYLOAD`] in a big centre.
pub const MAX_ROSTER_PAYLOAD: usize = 1024 * 1024;

/// The id of a command or an event: 1 to 64 characters of `A-Za-z0-9-_.:`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MessageId(String);

impl MessageId {
    /// Validates an id.
    pub fn new(s: impl Into<String>) -> Result<Self, MessageError> {
        let s = s.into();
        let ok = |c: char| c.is_ascii_alphanumeric() || "-_.:".contains(c);
        if s.is_empty() || s.len() > 64 || !s.chars().all(ok) {
            return Err(MessageError::BadId);
        }
        Ok(Self(s))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for MessageId {
    type Error = MessageError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl From<MessageId> for String {
    fn from(id: MessageId) -> Self {
        id.0
    }
}

/// A command to a device (`cmd` topic).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    /// Protocol version.
    pub v: u8,
    /// The one device that may carry it out.
    pub to: DeviceId,
    /// The signer's sequence number for that device: each is carried out
    /// at most once ([`crate::replay_window`]).
    pub seq: u64,
    /// The command's id; its ack carries the same.
    pub id: MessageId,
    /// Not carried out after this instant (ms since the Unix epoch).
    pub deadline_ms: i64,
    /// What to do.
    #[serde(flatten)]
    pub action: Action,
}

/// What a command asks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Release the strike for one pulse (staff opening the door remotely).
    Unlock {
        /// On whose behalf, for the log.
        member: Option<MemberId>,
    },
    /// Publish the current status again (the controller came back).
    Republish,
    /// Run the commissioning self-test; the ack carries the report.
    SelfTest {
        /// A drinks machine also vends one drink from this slot (a
        /// technician's test vend; nobody's points are spent).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        test_vend: Option<u8>,
    },
    /// Vend one drink from `slot` for the redemption whose id is this
    /// command's id. The agent records the id before it vends: a command
    /// delivered twice never vends twice.
    Vend {
        /// The slot.
        slot: u8,
    },
    /// What became of the redemption `redemption`? An id the agent never
    /// saw is recorded as cancelled, so its vend can never happen later.
    VendQuery {
        /// The redemption (the vend command's id).
        redemption: MessageId,
    },
    /// Power output `channel` (a piano) or start the program (the robot)
    /// for booking `session` until `until_ms`; the agent ends it then on its
    /// own, kiosk or no kiosk. Carried out once per session: a repeat is
    /// acked `done` and changes nothing, a session already ended stays ended.
    SessionStart {
        /// The booking's id.
        session: i64,
        /// The output (the piano's relay channel; 1 for the robot).
        channel: u8,
        /// The member's name for the panel.
        name: String,
        /// When the session ends (ms since the Unix epoch).
        until_ms: i64,
        /// The robot's program number, if the device has programs.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        program: Option<u16>,
    },
    /// End booking `session` now (ended early at the kiosk, or by staff).
    SessionStop {
        /// The booking's id.
        session: i64,
    },
    /// Show a greeting on a reader's panel for a few seconds: what the
    /// centre made of a scan there (signed in, signed out, nothing on now).
    Show {
        /// In Chinese (large).
        zh: String,
        /// In English (small).
        en: String,
        /// A good outcome (else drawn as a refusal).
        ok: bool,
    },
    /// A door released by its fire-alarm input locks again (staff reset
    /// it); refused while the input is still active.
    ResetRelease,
}

/// The outcome of a command (`ack` topic).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    /// Protocol version.
    pub v: u8,
    /// The command's id.
    pub id: MessageId,
    /// What happened.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// What happened to a command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Carried out.
    Done,
    /// Not carried out, with the reason.
    Refused {
        /// Why, for people.
        reason: String,
    },
    /// Arrived after its deadline; not carried out.
    Expired,
    /// The self-test ran; one line per check.
    SelfTested {
        /// The checks, in the order they ran.
        checks: Vec<SelfCheck>,
    },
    /// What became of a redemption's vend (the answer to `vend` and to
    /// `vend_query`).
    Vended {
        /// The redemption.
        redemption: MessageId,
        /// What happened.
        result: VendOutcome,
    },
}

/// What became of a vend, as the kiosk settles it: `dispensed` commits the
/// points; `in_doubt` waits for a query; anything else refunds them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VendOutcome {
    /// The drink dropped.
    Dispensed,
    /// The drink stuck.
    Jammed,
    /// The slot was empty.
    Empty,
    /// The service door was open.
    DoorOpen,
    /// The machine reported a fault.
    Fault,
    /// No such slot.
    NoSuchSlot,
    /// Never vended: cancelled by a query, past its deadline, or never taken
    /// by the machine.
    NotVended,
    /// Not known yet (the machine could not be asked, or is still vending):
    /// ask again.
    InDoubt,
}

impl VendOutcome {
    /// Whether the points are spent (a drink dropped).
    pub fn is_dispensed(self) -> bool {
        self == Self::Dispensed
    }

    /// Whether the outcome is final (commit or refund now).
    pub fn is_final(self) -> bool {
        self != Self::InDoubt
    }

    /// The stable name (as in the JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dispensed => "dispensed",
            Self::Jammed => "jammed",
            Self::Empty => "empty",
            Self::DoorOpen => "door_open",
            Self::Fault => "fault",
            Self::NoSuchSlot => "no_such_slot",
            Self::NotVended => "not_vended",
            Self::InDoubt => "in_doubt",
        }
    }

    /// The outcome named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Dispensed,
            Self::Jammed,
            Self::Empty,
            Self::DoorOpen,
            Self::Fault,
            Self::NoSuchSlot,
            Self::NotVended,
            Self::InDoubt,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }
}

/// A vending machine's retained state (`status` topic).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VendingStatus {
    /// Protocol version.
    pub v: u8,
    /// `idle`, `vending`, or `unavailable` (the controller does not answer).
    pub state: String,
    /// The service door is open.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub door_open: bool,
    /// Drinks sensed per slot (slot 1 first), if the machine senses them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stock: Vec<u16>,
    /// When the agent published it (ms since the Unix epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_ms: Option<i64>,
}

/// A room reader's state (`status` topic, retained): its heartbeat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReaderStatus {
    /// Protocol version.
    pub v: u8,
    /// `ready`, or `fault` (its scanner failed).
    pub state: String,
    /// When the agent published it (ms since the Unix epoch).
    pub at_ms: i64,
}

/// Something that happened at a device (`event` topic).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Protocol version.
    pub v: u8,
    /// The event's id, unique per device.
    pub id: MessageId,
    /// When it happened (ms since the Unix epoch).
    pub at_ms: i64,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// The door opened for a member.
    AccessGranted {
        /// Who.
        member: MemberId,
    },
    /// The door stayed shut.
    AccessRefused {
        /// Who, if the pass named a member.
        member: Option<MemberId>,
        /// Why.
        reason: DoorRefusal,
    },
    /// A roster arrived and was not taken; the door keeps the one in force.
    RosterRejected {
        /// Why, for people.
        reason: String,
    },
    /// The device's hardware failed (relay board unreachable, input lost).
    Fault {
        /// What failed, for people.
        message: String,
    },
    /// An alarm was raised or cleared.
    Alarm {
        /// Which.
        alarm: Alarm,
        /// Raised (true) or cleared (false).
        raised: bool,
    },
    /// A command was not carried out because it could not be trusted
    /// (unsigned, forged, replayed, for another device, numbered from the
    /// future) or came after its deadline.
    CommandRefused {
        /// Why, as a stable code ([`crate::signed_command::CommandRefusal::code`]).
        reason: String,
        /// The command's id, if it could be read.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        command: Option<MessageId>,
    },
    /// A session ended at the device, and why.
    SessionEnded {
        /// The booking's id.
        session: i64,
        /// The output it ran on.
        channel: u8,
        /// Why it ended.
        reason: SessionEnd,
        /// What the device reported, for a fault.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        fault: Option<String>,
    },
    /// A pass scanned at a room reader, verified there with the site key:
    /// the centre counts it as attendance of what is on in the reader's
    /// room and answers with a greeting ([`Action::Show`]).
    Scanned {
        /// Whose pass.
        member: MemberId,
        /// Its epoch (a replaced card's is refused at the centre).
        epoch: crate::ids::Epoch,
    },
    /// Someone went through the door: it opened after a grant (in), or
    /// after the exit button or the exit reader (out). The centre's head
    /// count ([`crate::door::occupancy`]).
    Passed {
        /// In or out.
        way: crate::door::occupancy::Way,
        /// Who, when a scan named them.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        member: Option<MemberId>,
    },
    /// The device's clock went wrong, or right again
    /// ([`crate::clock_judge`]): the clock alarm's raise and clear.
    Clock {
        /// The clock is not right (corrected by the centre's, or unknown).
        wrong: bool,
        /// The centre's clock minus the device's, when the centre's is known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        offset_ms: Option<i64>,
        /// The kernel's view: synchronised by NTP (`None`: could not be read).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        synced: Option<bool>,
    },
}

/// Why a session ended at the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionEnd {
    /// Its time was up.
    TimeUp,
    /// Ended early at the device's button.
    EndedEarly,
    /// Stopped by a `session_stop` command.
    Stopped,
    /// The device failed: the session did not finish.
    Fault,
}

impl SessionEnd {
    /// The stable name (as in the JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TimeUp => "time_up",
            Self::EndedEarly => "ended_early",
            Self::Stopped => "stopped",
            Self::Fault => "fault",
        }
    }
}

/// One output of a session device (a piano of a piano bank, the robot).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputStatus {
    /// The output's channel.
    pub channel: u8,
    /// Powered (or running).
    pub on: bool,
    /// The session on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<i64>,
    /// When that session ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_ms: Option<i64>,
    /// The program's progress, percent (the robot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<u8>,
}

/// A session device's retained state (`status` topic): a piano bank or the
/// robot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionDeviceStatus {
    /// Protocol version.
    pub v: u8,
    /// `ready`, `fault`, or `unavailable` (the hardware does not answer).
    pub state: String,
    /// Each output.
    #[serde(default)]
    pub outputs: Vec<OutputStatus>,
    /// The fault in force, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    /// When the agent published it (ms since the Unix epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_ms: Option<i64>,
}

/// A door's retained state (`status` topic).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoorStatus {
    /// Protocol version.
    pub v: u8,
    /// The lock's state.
    pub state: LockState,
    /// A hardware fault in force (the strike could not be driven), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    /// The reader is locked out after repeated refused scans.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub locked_out: bool,
    /// When the agent published it (ms since the Unix epoch): the status is
    /// re-published every few minutes, so this is when the door was last seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_ms: Option<i64>,
}

/// Why bytes are not a message of this protocol.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum MessageError {
    /// Larger than [`MAX_PAYLOAD`].
    #[error("a message of more than {MAX_PAYLOAD} bytes")]
    TooLarge,
    /// Another protocol version.
    #[error("protocol version {0}, this build speaks {PROTOCOL_VERSION}")]
    Version(u64),
    /// Not JSON of the expected shape.
    #[error("not a valid message: {0}")]
    Invalid(String),
    /// An id that is empty, too long or has other characters.
    #[error("an id has 1 to 64 characters of A-Z a-z 0-9 - _ . :")]
    BadId,
}

#[derive(Deserialize)]
struct VersionOnly {
    v: u64,
}

/// Reads a message of type `T` from a payload.
pub fn decode<T: DeserializeOwned>(payload: &[u8]) -> Result<T, MessageError> {
    decode_up_to(payload, MAX_PAYLOAD)
}

/// Reads a message of type `T` from a payload of at most `limit` bytes.
pub fn decode_up_to<T: DeserializeOwned>(payload: &[u8], limit: usize) -> Result<T, MessageError> {
    if payload.len() > limit {
        return Err(MessageError::TooLarge);
    }
    let version: VersionOnly =
        serde_json::from_slice(payload).map_err(|e| MessageError::Invalid(e.to_string()))?;
    if version.v != u64::from(PROTOCOL_VERSION) {
        return Err(MessageError::Version(version.v));
    }
    serde_json::from_slice(payload).map_err(|e| MessageError::Invalid(e.to_string()))
}

/// Writes a message as its payload.
pub fn encode<T: Serialize>(message: &T) -> Vec<u8> {
    // Our message types contain only strings, numbers and enums: they always serialise.
    serde_json::to_vec(message).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn id(s: &str) -> MessageId {
        MessageId::new(s).unwrap()
    }

    #[test]
    fn the_documented_examples_decode() {
        let cmd: Command = decode(
            br#"{"v":1,"to":"gym-door","seq":1795299990000,"id":"c-42","deadline_ms":1795300000000,"action":"unlock","member":7}"#,
        )
        .unwrap();
        assert_eq!(
            cmd,
            Command {
                v: 1,
                to: DeviceId::new("gym-door").unwrap(),
                seq: 1_795_299_990_000,
                id: id("c-42"),
                deadline_ms: 1_795_300_000_000,
                action: Action::Unlock {
                    member: Some(MemberId(7))
                }
            }
        );
        let ack: Ack = decode(br#"{"v":1,"id":"c-42","outcome":"done"}"#).unwrap();
        assert_eq!(ack.outcome, Outcome::Done);
        let ev: Event = decode(
            br#"{"v":1,"id":"e-gym-door-1031","at_ms":1795300000123,"event":"access_refused","member":7,"reason":"night_not_paid"}"#,
        )
        .unwrap();
        assert_eq!(
            ev.kind,
            EventKind::AccessRefused {
                member: Some(MemberId(7)),
                reason: DoorRefusal::NightNotPaid
            }
        );
        let st: DoorStatus = decode(br#"{"v":1,"state":"locked","extra":"ignored"}"#).unwrap();
        assert_eq!(st.state, LockState::Locked);
    }

    #[test]
    fn every_message_round_trips() {
        let events = [
            EventKind::AccessGranted {
                member: MemberId(1),
            },
            EventKind::AccessRefused {
                member: None,
                reason: DoorRefusal::LockedOut,
            },
            EventKind::Alarm {
                alarm: Alarm::Forced,
                raised: true,
            },
        ];
        for kind in events {
            let e = Event {
                v: 1,
                id: id("e-1"),
                at_ms: 5,
                kind,
            };
            assert_eq!(decode::<Event>(&encode(&e)).unwrap(), e);
        }
        for outcome in [
            Outcome::Done,
            Outcome::Expired,
            Outcome::Refused {
                reason: "jammed".into(),
            },
            Outcome::Vended {
                redemption: id("r-1"),
                result: VendOutcome::Jammed,
            },
            Outcome::SelfTested {
                checks: vec![
                    SelfCheck::pass("panel", "test pattern drawn"),
                    SelfCheck::fail("relay channel 2", "reads off after on", "replace the relay"),
                ],
            },
        ] {
            let a = Ack {
                v: 1,
                id: id("c.1:x_y"),
                outcome,
            };
            assert_eq!(decode::<Ack>(&encode(&a)).unwrap(), a);
        }
        let c = Command {
            v: 1,
            to: DeviceId::new("vending").unwrap(),
            seq: 1,
            id: id("c-1"),
            deadline_ms: 9,
            action: Action::Republish,
        };
        assert_eq!(decode::<Command>(&encode(&c)).unwrap(), c);
    }

    #[test]
    fn bad_payloads_are_errors() {
        assert_eq!(
            decode::<DoorStatus>(br#"{"v":2,"state":"locked"}"#),
            Err(MessageError::Version(2))
        );
        assert!(matches!(
            decode::<DoorStatus>(br#"{"v":1,"state":"ajar"}"#),
            Err(MessageError::Invalid(_))
        ));
        assert!(matches!(
            decode::<Ack>(br#"{"v":1,"id":"","outcome":"done"}"#),
            Err(MessageError::Invalid(_))
        ));
        assert!(matches!(
            decode::<Ack>(br#"{"v":1,"id":"a/b","outcome":"done"}"#),
            Err(MessageError::Invalid(_))
        ));
        assert!(matches!(
            decode::<Ack>(b"\xff\xfe"),
            Err(MessageError::Invalid(_))
        ));
        assert!(matches!(decode::<Ack>(b""), Err(MessageError::Invalid(_))));
        assert_eq!(
            decode::<Ack>(&vec![b' '; MAX_PAYLOAD + 1]),
            Err(MessageError::TooLarge)
        );
    }

    proptest! {
        #[test]
        fn any_bytes_decode_or_err(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode::<Command>(&bytes);
            let _ = decode::<Event>(&bytes);
            let _ = decode::<Ack>(&bytes);
            let _ = decode::<DoorStatus>(&bytes);
        }

        #[test]
        fn json_shaped_input_decodes_or_errs(v in 0u64..3, id in ".{0,70}", action in "[a-z_]{0,12}") {
            let payload = serde_json::json!({"v": v, "id": id, "deadline_ms": 1, "action": action, "member": 3});
            let _ = decode::<Command>(payload.to_string().as_bytes());
        }
    }
}

//! What a centre tells its district, and only that: the wire contract of
//! the uplink to the district's JetStream stream (issue 15's first part).
//!
//! - Each centre publishes under its own subject,
//!   `keting.<district>.<centre>.events`; the district refuses a message
//!   whose body names another centre than its subject ([`centre_of`]).
//! - Each message's id is `<centre>:<event id>` ([`message_id`]), the
//!   JetStream `Nats-Msg-Id` that drops a repeat within the stream's
//!   window, and the key the district's database inserts by.
//! - No pass, no name, no phone digits leave a centre. A member is a
//!   per-centre pseudonym ([`Pseudonym`]): an HMAC-SHA256 of the member's
//!   number under the centre's own uplink key, so the district can count
//!   distinct visitors of one centre but cannot join them across centres
//!   or back to a person.
//! - A body is versioned JSON, at most [`MAX_EVENT_BYTES`]; [`decode`]
//!   refuses a larger one unread, another version, or unknown fields.
//! - The district speaks to each centre on its own downlink subject,
//!   `keting.<district>.<centre>.downlink` ([`downlink_subject`]): an
//!   announcement for the kiosk's home page, an activity on the district's
//!   programme, a lost card to refuse. [`decode_downlink`] refuses a
//!   message for another centre, and text too long for the screen.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::ids::MemberId;

/// The uplink's protocol version.
pub const DISTRICT_VERSION: u8 = 1;

/// The largest event body the district reads.
pub const MAX_EVENT_BYTES: usize = 4 * 1024;

/// A centre's or a district's name on the wire: 1 to 32 of `a-z0-9-`.
pub fn valid_name(s: &str) -> bool {
    (1..=32).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The subject `centre` of `district` publishes its events on.
pub fn events_subject(district: &str, centre: &str) -> String {
    format!("keting.{district}.{centre}.events")
}

/// The centre a subject of `district` belongs to, if it is an events
/// subject at all.
pub fn centre_of<'a>(district: &str, subject: &'a str) -> Option<&'a str> {
    let rest = subject.strip_prefix("keting.")?.strip_prefix(district)?;
    let centre = rest.strip_prefix('.')?.strip_suffix(".events")?;
    valid_name(centre).then_some(centre)
}

/// The message id of `centre`'s event `event_id` (its outbox row).
pub fn message_id(centre: &str, event_id: u64) -> String {
    format!("{centre}:{event_id}")
}

/// A member as the district sees them: 16 bytes of HMAC-SHA256 over the
/// member's number, under the centre's uplink key, in hex.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Pseudonym(String);

impl Pseudonym {
    /// `member`'s pseudonym under `key` (the centre's 32-byte uplink key,
    /// which never leaves the centre).
    pub fn of(key: &[u8; 32], member: MemberId) -> Self {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
        mac.update(b"keting-district-pseudonym-v1");
        mac.update(&member.0.to_be_bytes());
        let out = mac.finalize().into_bytes();
        Self(out[..16].iter().map(|b| format!("{b:02x}")).collect())
    }

    /// As written on the wire.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One thing that happened at a centre, as the district needs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DistrictEventKind {
    /// A counted check-in at the entrance.
    CheckIn {
        /// Who.
        visitor: Pseudonym,
    },
    /// An entry through a door (the gym at night).
    DoorEntry {
        /// The door.
        door: String,
        /// Who.
        visitor: Pseudonym,
    },
    /// An alarm raised or cleared.
    Alarm {
        /// The device.
        device: String,
        /// `forced`, `held_open`, `offline`, ...
        alarm: String,
        /// Raised (`true`) or cleared.
        raised: bool,
    },
    /// A device went online or offline.
    DeviceStatus {
        /// The device.
        device: String,
        /// Online now.
        online: bool,
    },
    /// A session rated, 1 to 5 stars.
    Rating {
        /// The kind of service (`piano`, `robot`, `childcare`, `room`).
        service: String,
        /// Stars.
        stars: u8,
    },
    /// Volunteer points awarded: under an award occasion's name, or for
    /// time on a held activity (its title).
    PointsAwarded {
        /// What they were awarded for (on the wire `activity`, as centres
        /// already send it).
        #[serde(rename = "activity")]
        awarded_for: String,
        /// To whom.
        volunteer: Pseudonym,
        /// How many.
        points: u32,
    },
    /// Points spent (a drink, a booking).
    PointsSpent {
        /// By whom.
        member: Pseudonym,
        /// How many.
        points: u32,
    },
    /// A booked session done.
    BookingDone {
        /// The kind of service.
        service: String,
    },
    /// An activity held: closed by its organiser with someone there.
    /// Counted once per centre and activity, however often it is sent.
    ActivityHeld {
        /// Its number at the centre.
        activity: u64,
        /// `class`, `lecture`, `event` or `volunteer`.
        activity_kind: String,
        /// When it started (ms since the epoch): the day it counts on.
        starts_ms: i64,
        /// People who attended.
        participants: u32,
        /// Volunteer minutes confirmed.
        volunteer_minutes: u32,
    },
    /// The centre's own count of what it sent, for the district to check
    /// its database against: of the events numbered `from_id` through the
    /// envelope's `id`, `sent` were published and acknowledged (numbers
    /// between them are not all used: what was pruned before it could
    /// leave, a restore's jump). Not an event of the centre's day: its
    /// message id is [`tally_message_id`], and it is counted nowhere.
    Tally {
        /// The first number it covers (one past the last tally's).
        from_id: u64,
        /// How many events of the range left.
        sent: u64,
    },
}

/// The message id of `centre`'s tally through event `through_id` (apart
/// from the events': a tally never drops an event as its repeat).
pub fn tally_message_id(centre: &str, through_id: u64) -> String {
    format!("{centre}:tally:{through_id}")
}

/// An event with its envelope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistrictEvent {
    /// [`DISTRICT_VERSION`].
    pub v: u8,
    /// The centre it happened at.
    pub centre: String,
    /// The centre's own number for it (its outbox row): with the centre,
    /// the message id.
    pub id: u64,
    /// When it happened (ms since the Unix epoch).
    pub at_ms: i64,
    /// What happened.
    pub event: DistrictEventKind,
}

/// Why the district did not take a message.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum DistrictRefusal {
    /// Larger than [`MAX_EVENT_BYTES`].
    #[error("an event of {0} bytes, more than the {MAX_EVENT_BYTES} read")]
    TooLarge(usize),
    /// Not an event of this version.
    #[error("not a district event: {0}")]
    Undecodable(String),
    /// Another protocol version.
    #[error("district protocol version {0}, not {DISTRICT_VERSION}")]
    Version(u8),
    /// Its body names another centre than its subject.
    #[error("centre {body:?} published under {subject:?}'s subject")]
    WrongCentre {
        /// The centre the subject names.
        subject: String,
        /// The centre the body names.
        body: String,
    },
    /// A subject that is no centre's events subject.
    #[error("{0:?} is not a centre's events subject")]
    NotEventsSubject(String),
    /// Its message id is not `<centre>:<id>`.
    #[error("message id {got:?}, expected {want:?}")]
    WrongId {
        /// The header.
        got: String,
        /// What the body says it must be.
        want: String,
    },
}

impl DistrictEvent {
    /// The body, as sent.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a district event serialises")
    }

    /// Its message id.
    pub fn message_id(&self) -> String {
        match self.event {
            DistrictEventKind::Tally { .. } => tally_message_id(&self.centre, self.id),
            _ => message_id(&self.centre, self.id),
        }
    }

    /// A digest of the body, to tell a repeat (same digest) from a
    /// different event under a used id.
    pub fn digest(body: &[u8]) -> [u8; 32] {
        Sha256::digest(body).into()
    }
}

/// Reads a message of `district` on `subject` with its `msg_id` header: the
/// event, or why it is refused. The body must name the subject's centre,
/// and the header must be that centre's id for it.
pub fn decode(
    district: &str,
    subject: &str,
    msg_id: &str,
    body: &[u8],
) -> Result<DistrictEvent, DistrictRefusal> {
    if body.len() > MAX_EVENT_BYTES {
        return Err(DistrictRefusal::TooLarge(body.len()));
    }
    let centre = centre_of(district, subject)
        .ok_or_else(|| DistrictRefusal::NotEventsSubject(subject.to_owned()))?;
    let event: DistrictEvent =
        serde_json::from_slice(body).map_err(|e| DistrictRefusal::Undecodable(e.to_string()))?;
    if event.v != DISTRICT_VERSION {
        return Err(DistrictRefusal::Version(event.v));
    }
    if event.centre != centre {
        return Err(DistrictRefusal::WrongCentre {
            subject: centre.to_owned(),
            body: event.centre,
        });
    }
    let want = event.message_id();
    if msg_id != want {
        return Err(DistrictRefusal::WrongId {
            got: msg_id.to_owned(),
            want,
        });
    }
    Ok(event)
}

/// The subject the district sends `centre` its messages on.
pub fn downlink_subject(district: &str, centre: &str) -> String {
    format!("keting.{district}.{centre}.downlink")
}

/// The district's downlink stream: every centre's messages, each on its
/// own subject.
pub fn downlink_stream(district: &str) -> String {
    format!(
        "KETING_{}_DOWNLINK",
        district.to_ascii_uppercase().replace('-', "_")
    )
}

/// The durable consumer `centre` pulls its messages through (the district
/// creates it; the centre only asks it for the next messages).
pub fn downlink_consumer(centre: &str) -> String {
    format!("centre-{centre}")
}

/// The longest text a downlink message carries, in characters (the home
/// page shows it in large type).
pub const MAX_NOTICE_CHARS: usize = 200;

/// What the district tells a centre.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DownlinkKind {
    /// A district-wide announcement, on the kiosk's home page until
    /// `until_ms`.
    Announcement {
        /// In Chinese.
        zh: String,
        /// In English.
        en: String,
        /// Shown until (ms since the Unix epoch).
        until_ms: i64,
    },
    /// An activity on the district's programme, on the home page's "On
    /// today" on its day.
    Activity {
        /// `YYYY-MM-DD`.
        date: String,
        /// `HH:MM`.
        starts: String,
        /// Its title in Chinese.
        title_zh: String,
        /// In English.
        title_en: String,
        /// Where, in Chinese.
        place_zh: String,
        /// Where, in English.
        place_en: String,
    },
    /// A lost card, issued at centre `issuer` to its member `member`: a
    /// district pass of it is refused at every centre.
    RevokeCard {
        /// The centre that issued it.
        issuer: String,
        /// Its member number there.
        member: u32,
    },
}

/// A downlink message with its envelope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DownlinkMessage {
    /// [`DISTRICT_VERSION`].
    pub v: u8,
    /// The district's id for it (its `Nats-Msg-Id` too): applied once.
    pub id: String,
    /// The centre it is for.
    pub centre: String,
    /// When the district sent it (ms).
    pub at_ms: i64,
    /// What it says.
    pub message: DownlinkKind,
}

impl DownlinkMessage {
    /// The body, as sent.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a downlink message serialises")
    }
}

fn hhmm(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 5
        && b[2] == b':'
        && s[..2].parse::<u8>().is_ok_and(|h| h < 24)
        && s[3..].parse::<u8>().is_ok_and(|m| m < 60)
}

fn iso_date(s: &str) -> bool {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &format).is_ok()
}

/// Reads a downlink message `centre` received on `subject`.
pub fn decode_downlink(
    district: &str,
    centre: &str,
    subject: &str,
    body: &[u8],
) -> Result<DownlinkMessage, DistrictRefusal> {
    if body.len() > MAX_EVENT_BYTES {
        return Err(DistrictRefusal::TooLarge(body.len()));
    }
    if subject != downlink_subject(district, centre) {
        return Err(DistrictRefusal::NotEventsSubject(subject.to_owned()));
    }
    let m: DownlinkMessage =
        serde_json::from_slice(body).map_err(|e| DistrictRefusal::Undecodable(e.to_string()))?;
    if m.v != DISTRICT_VERSION {
        return Err(DistrictRefusal::Version(m.v));
    }
    if m.centre != centre {
        return Err(DistrictRefusal::WrongCentre {
            subject: centre.to_owned(),
            body: m.centre,
        });
    }
    let bad = |why: &str| Err(DistrictRefusal::Undecodable(why.to_owned()));
    if m.id.is_empty() || m.id.len() > 64 {
        return bad("a message id of 1 to 64 bytes");
    }
    let long = |t: &str| t.chars().count() > MAX_NOTICE_CHARS || t.chars().any(char::is_control);
    match &m.message {
        DownlinkKind::Announcement { zh, en, .. } => {
            if zh.trim().is_empty() || long(zh) || long(en) {
                return bad("an announcement of 1 to 200 characters, no control characters");
            }
        }
        DownlinkKind::Activity {
            date,
            starts,
            title_zh,
            title_en,
            place_zh,
            place_en,
        } => {
            if !iso_date(date) || !hhmm(starts) {
                return bad("an activity's date is YYYY-MM-DD and its time HH:MM");
            }
            if title_zh.trim().is_empty()
                || [title_zh, title_en, place_zh, place_en]
                    .iter()
                    .any(|t| long(t))
            {
                return bad("an activity's title and place of at most 200 characters");
            }
        }
        DownlinkKind::RevokeCard { issuer, .. } => {
            if !valid_name(issuer) {
                return bad("a card's issuer is a centre's name");
            }
        }
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_award_keeps_its_wire_name_for_districts_already_running() {
        let award = DistrictEventKind::PointsAwarded {
            awarded_for: "敬老探访".into(),
            volunteer: Pseudonym::of(&[7; 32], MemberId(3)),
            points: 20,
        };
        let json = serde_json::to_string(&award).unwrap();
        assert!(json.contains(r#""activity":"敬老探访""#), "{json}");
        assert_eq!(
            serde_json::from_str::<DistrictEventKind>(&json).unwrap(),
            award
        );
    }

    #[test]
    fn a_downlink_message_is_for_its_centre_only_and_fits_the_screen() {
        let m = DownlinkMessage {
            v: DISTRICT_VERSION,
            id: "n-1".into(),
            centre: "futian-01".into(),
            at_ms: 0,
            message: DownlinkKind::Announcement {
                zh: "本周六全区义诊".into(),
                en: "Free clinic on Saturday".into(),
                until_ms: 1,
            },
        };
        let subject = downlink_subject("futian", "futian-01");
        assert_eq!(subject, "keting.futian.futian-01.downlink");
        assert_eq!(
            decode_downlink("futian", "futian-01", &subject, &m.encode()),
            Ok(m.clone())
        );
        assert!(matches!(
            decode_downlink(
                "futian",
                "futian-02",
                &downlink_subject("futian", "futian-02"),
                &m.encode()
            ),
            Err(DistrictRefusal::WrongCentre { .. })
        ));
        let mut long = m.clone();
        long.message = DownlinkKind::Announcement {
            zh: "长".repeat(201),
            en: String::new(),
            until_ms: 1,
        };
        assert!(decode_downlink("futian", "futian-01", &subject, &long.encode()).is_err());
        let mut activity = m;
        activity.message = DownlinkKind::Activity {
            date: "2026-12-05".into(),
            starts: "25:00".into(),
            title_zh: "义诊".into(),
            title_en: String::new(),
            place_zh: String::new(),
            place_en: String::new(),
        };
        assert!(decode_downlink("futian", "futian-01", &subject, &activity.encode()).is_err());
    }

    const KEY_A: [u8; 32] = [7; 32];
    const KEY_B: [u8; 32] = [8; 32];

    fn check_in(centre: &str, id: u64) -> DistrictEvent {
        DistrictEvent {
            v: DISTRICT_VERSION,
            centre: centre.into(),
            id,
            at_ms: 1_800_000_000_000,
            event: DistrictEventKind::CheckIn {
                visitor: Pseudonym::of(&KEY_A, MemberId(42)),
            },
        }
    }

    #[test]
    fn a_pseudonym_is_stable_per_centre_and_unlinkable_across_centres() {
        let a = Pseudonym::of(&KEY_A, MemberId(42));
        assert_eq!(a, Pseudonym::of(&KEY_A, MemberId(42)));
        assert_ne!(a, Pseudonym::of(&KEY_A, MemberId(43)));
        assert_ne!(a, Pseudonym::of(&KEY_B, MemberId(42)), "another centre");
        assert_eq!(a.as_str().len(), 32);
        assert!(!a.as_str().contains("42"));
    }

    #[test]
    fn an_event_goes_through_and_names_its_message_id() {
        let e = check_in("futian-01", 17);
        let body = e.encode();
        let text = String::from_utf8(body.clone()).unwrap();
        assert!(text.contains("\"kind\":\"check_in\""), "{text}");
        let subject = events_subject("futian", "futian-01");
        assert_eq!(subject, "keting.futian.futian-01.events");
        assert_eq!(decode("futian", &subject, "futian-01:17", &body), Ok(e));
    }

    #[test]
    fn the_district_refuses_what_is_not_the_centres_own() {
        let body = check_in("futian-02", 5).encode();
        let subject = events_subject("futian", "futian-01");
        assert!(matches!(
            decode("futian", &subject, "futian-02:5", &body),
            Err(DistrictRefusal::WrongCentre { .. })
        ));
        let own = events_subject("futian", "futian-02");
        assert!(matches!(
            decode("futian", &own, "futian-02:6", &body),
            Err(DistrictRefusal::WrongId { .. })
        ));
        assert!(matches!(
            decode(
                "futian",
                "keting.baoan.futian-02.events",
                "futian-02:5",
                &body
            ),
            Err(DistrictRefusal::NotEventsSubject(_))
        ));
        assert!(matches!(
            decode("futian", &own, "futian-02:5", b"{not json"),
            Err(DistrictRefusal::Undecodable(_))
        ));
        let mut v2 = check_in("futian-02", 5);
        v2.v = 2;
        assert_eq!(
            decode("futian", &own, "futian-02:5", &v2.encode()),
            Err(DistrictRefusal::Version(2))
        );
        let extra =
            String::from_utf8(body.clone())
                .unwrap()
                .replacen('{', "{\"name\":\"陈晓梅\",", 1);
        assert!(
            matches!(
                decode("futian", &own, "futian-02:5", extra.as_bytes()),
                Err(DistrictRefusal::Undecodable(_))
            ),
            "a field the contract does not have, a name above all, is refused"
        );
        let big = vec![b' '; MAX_EVENT_BYTES + 1];
        assert_eq!(
            decode("futian", &own, "futian-02:5", &big),
            Err(DistrictRefusal::TooLarge(MAX_EVENT_BYTES + 1))
        );
        assert!(centre_of("futian", "keting.futian.FUTIAN.events").is_none());
        assert!(centre_of("futian", "keting.futian..events").is_none());
    }

    #[test]
    fn a_repeat_has_the_same_digest_and_a_different_event_under_its_id_does_not() {
        let a = check_in("futian-01", 9).encode();
        let mut other = check_in("futian-01", 9);
        other.event = DistrictEventKind::BookingDone {
            service: "robot".into(),
        };
        assert_eq!(DistrictEvent::digest(&a), DistrictEvent::digest(&a.clone()));
        assert_ne!(
            DistrictEvent::digest(&a),
            DistrictEvent::digest(&other.encode())
        );
    }
}

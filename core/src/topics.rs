//! The MQTT topic tree, shared by the kiosk and every device agent.
//!
//! ```text
//! keting/v1/<site>/controller/online      retained   the kiosk is up (its last will clears it)
//! keting/v1/<site>/device/<id>/online     retained   the agent is up (its last will clears it)
//! keting/v1/<site>/device/<id>/status     retained   the device's state, re-published on demand
//! keting/v1/<site>/device/<id>/roster     retained   signed list of who may use the device
//! keting/v1/<site>/device/<id>/cmd        QoS 1      a command, with an id and a deadline
//! keting/v1/<site>/device/<id>/ack        QoS 1      the outcome of a command, by its id
//! keting/v1/<site>/device/<id>/event      QoS 1      something that happened, each with an id
//! keting/v1/<site>/device/<id>/time_ask   QoS 1      the device asks the centre's time (crate::site_time)
//! keting/v1/<site>/device/<id>/time       QoS 1      the centre's signed answer
//! keting/v1/<site>/sim/<id>/scan          QoS 1      demo only: a scan for a simulated scanner
//! keting/v1/<site>/sim/<id>/contact       QoS 1      demo only: "open"/"closed" for a simulated door contact
//! keting/v1/<site>/claim/<id>/request     QoS 1      a device claiming its identity (see crate::claim)
//! keting/v1/<site>/claim/<id>/response    QoS 1      the kiosk's answer to a claim
//! ```
//!
//! `v1` is the protocol version: a breaking change to any message gets a new
//! root, so old and new agents never misread each other. Any string parses to
//! a [`Topic`] or a [`TopicError`], never a panic.

use std::fmt;

use thiserror::Error;

use crate::ids::{DeviceId, SiteId};

/// The root of every Keting topic, with the protocol version.
pub const ROOT: &str = "keting/v1";

/// What one device agent publishes or receives on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeviceChannel {
    /// Retained online flag.
    Online,
    /// Retained state.
    Status,
    /// Retained signed roster.
    Roster,
    /// Commands to the device.
    Cmd,
    /// Outcomes of commands.
    Ack,
    /// Events from the device.
    Event,
    /// The device asking the centre's time.
    TimeAsk,
    /// The centre's signed time, for the device.
    Time,
}

impl DeviceChannel {
    /// Every channel.
    pub const ALL: [DeviceChannel; 8] = [
        Self::Online,
        Self::Status,
        Self::Roster,
        Self::Cmd,
        Self::Ack,
        Self::Event,
        Self::TimeAsk,
        Self::Time,
    ];

    fn segment(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Status => "status",
            Self::Roster => "roster",
            Self::Cmd => "cmd",
            Self::Ack => "ack",
            Self::Event => "event",
            Self::TimeAsk => "time_ask",
            Self::Time => "time",
        }
    }
}

/// A Keting topic within one site.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Topic {
    /// The controller's (kiosk's) retained online flag.
    ControllerOnline,
    /// One channel of one device.
    Device(DeviceId, DeviceChannel),
    /// A scan for a simulated scanner (demo site).
    SimScan(DeviceId),
    /// A scan for a door's simulated exit reader, inside (demo site, tests).
    SimExitScan(DeviceId),
    /// The simulated door contact opening or closing (demo site, tests).
    SimContact(DeviceId),
    /// Any simulated input line of a device (`GPIO23`: the help button),
    /// driven active or inactive (demo site, tests; a device on real GPIO
    /// does not listen).
    SimLine(DeviceId, String),
    /// A device claiming its identity with a one-time code.
    ClaimRequest(DeviceId),
    /// The kiosk's answer to a claim.
    ClaimResponse(DeviceId),
}

/// Why a topic string is not a Keting topic of this site.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum TopicError {
    /// Not under `keting/v1/`.
    #[error("not a Keting v1 topic")]
    NotKeting,
    /// A Keting topic of another site.
    #[error("a topic of another site")]
    OtherSite,
    /// Under this site, but not a topic the protocol defines.
    #[error("no such topic in the protocol")]
    Unknown,
}

impl Topic {
    /// The full topic name for `site`.
    pub fn name(&self, site: &SiteId) -> String {
        match self {
            Topic::ControllerOnline => format!("{ROOT}/{site}/controller/online"),
            Topic::Device(id, ch) => format!("{ROOT}/{site}/device/{id}/{}", ch.segment()),
            Topic::SimScan(id) => format!("{ROOT}/{site}/sim/{id}/scan"),
            Topic::SimExitScan(id) => format!("{ROOT}/{site}/sim/{id}/exit_scan"),
            Topic::SimContact(id) => format!("{ROOT}/{site}/sim/{id}/contact"),
            Topic::SimLine(id, line) => format!("{ROOT}/{site}/sim/{id}/line/{line}"),
            Topic::ClaimRequest(id) => format!("{ROOT}/{site}/claim/{id}/request"),
            Topic::ClaimResponse(id) => format!("{ROOT}/{site}/claim/{id}/response"),
        }
    }

    /// Reads a topic name received on a subscription of `site`.
    pub fn parse(site: &SiteId, name: &str) -> Result<Self, TopicError> {
        let rest = name
            .strip_prefix(ROOT)
            .and_then(|r| r.strip_prefix('/'))
            .ok_or(TopicError::NotKeting)?;
        let (topic_site, rest) = rest.split_once('/').ok_or(TopicError::Unknown)?;
        if topic_site != site.as_str() {
            return Err(TopicError::OtherSite);
        }
        let parts: Vec<&str> = rest.split('/').collect();
        match parts.as_slice() {
            ["controller", "online"] => Ok(Topic::ControllerOnline),
            ["device", id, channel] => {
                let id = DeviceId::new(*id).map_err(|_| TopicError::Unknown)?;
                let ch = DeviceChannel::ALL
                    .into_iter()
                    .find(|c| c.segment() == *channel)
                    .ok_or(TopicError::Unknown)?;
                Ok(Topic::Device(id, ch))
            }
            ["sim", id, "scan"] => Ok(Topic::SimScan(
                DeviceId::new(*id).map_err(|_| TopicError::Unknown)?,
            )),
            ["sim", id, "contact"] => Ok(Topic::SimContact(
                DeviceId::new(*id).map_err(|_| TopicError::Unknown)?,
            )),
            ["sim", id, "exit_scan"] => Ok(Topic::SimExitScan(
                DeviceId::new(*id).map_err(|_| TopicError::Unknown)?,
            )),
            ["sim", id, "line", line]
                if !line.is_empty()
                    && line.len() <= 32
                    && line.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
            {
                Ok(Topic::SimLine(
                    DeviceId::new(*id).map_err(|_| TopicError::Unknown)?,
                    (*line).to_owned(),
                ))
            }
            ["claim", id, which @ ("request" | "response")] => {
                let id = DeviceId::new(*id).map_err(|_| TopicError::Unknown)?;
                Ok(if *which == "request" {
                    Topic::ClaimRequest(id)
                } else {
                    Topic::ClaimResponse(id)
                })
            }
            _ => Err(TopicError::Unknown),
        }
    }

    /// Whether messages on this topic are published retained (state that a
    /// newcomer must see at once).
    pub fn is_retained(&self) -> bool {
        matches!(
            self,
            Topic::ControllerOnline
                | Topic::Device(
                    _,
                    DeviceChannel::Online | DeviceChannel::Status | DeviceChannel::Roster
                )
        )
    }

    /// Whether messages on this topic must arrive (QoS 1, through the durable outbox).
    pub fn must_arrive(&self) -> bool {
        matches!(
            self,
            Topic::Device(
                _,
                DeviceChannel::Cmd | DeviceChannel::Ack | DeviceChannel::Event
            ) | Topic::SimScan(_)
                | Topic::SimExitScan(_)
                | Topic::SimContact(_)
                | Topic::SimLine(..)
                | Topic::ClaimRequest(_)
                | Topic::ClaimResponse(_)
        )
    }
}

/// The subscription filter for every device's claim requests.
pub fn claim_requests_filter(site: &SiteId) -> String {
    format!("{ROOT}/{site}/claim/+/request")
}

/// The subscription filter for everything of one device.
pub fn device_filter(site: &SiteId, id: &DeviceId) -> String {
    format!("{ROOT}/{site}/device/{id}/#")
}

impl fmt::Display for DeviceChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.segment())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn site() -> SiteId {
        SiteId::new("futian-01").unwrap()
    }

    #[test]
    fn every_topic_round_trips() {
        let door = DeviceId::new("gym-door").unwrap();
        let mut topics = vec![
            Topic::ControllerOnline,
            Topic::SimScan(door.clone()),
            Topic::SimExitScan(door.clone()),
            Topic::SimContact(door.clone()),
            Topic::SimLine(door.clone(), "GPIO23".into()),
            Topic::ClaimRequest(door.clone()),
            Topic::ClaimResponse(door.clone()),
        ];
        topics.extend(DeviceChannel::ALL.map(|c| Topic::Device(door.clone(), c)));
        for t in topics {
            let name = t.name(&site());
            assert_eq!(Topic::parse(&site(), &name), Ok(t.clone()), "{name}");
            assert!(name.starts_with("keting/v1/futian-01/"));
            assert!(!(t.is_retained() && t.must_arrive()), "{name}");
        }
        assert_eq!(
            device_filter(&site(), &door),
            "keting/v1/futian-01/device/gym-door/#"
        );
    }

    #[test]
    fn foreign_and_unknown_topics_are_errors() {
        let cases = [
            (
                "keting/v2/futian-01/controller/online",
                TopicError::NotKeting,
            ),
            ("homeassistant/lock/x/config", TopicError::NotKeting),
            (
                "keting/v1/baoan-02/controller/online",
                TopicError::OtherSite,
            ),
            (
                "keting/v1/futian-01/device/gym-door/reboot",
                TopicError::Unknown,
            ),
            (
                "keting/v1/futian-01/device/Gym Door/cmd",
                TopicError::Unknown,
            ),
            (
                "keting/v1/futian-01/device/gym-door/cmd/extra",
                TopicError::Unknown,
            ),
            ("keting/v1/futian-01", TopicError::Unknown),
            ("", TopicError::NotKeting),
        ];
        for (name, want) in cases {
            assert_eq!(Topic::parse(&site(), name), Err(want), "{name}");
        }
    }

    proptest! {
        #[test]
        fn any_string_parses_or_errs(s in ".{0,200}", tail in "[a-z/#+-]{0,40}") {
            let _ = Topic::parse(&site(), &s);
            let _ = Topic::parse(&site(), &format!("keting/v1/futian-01/{tail}"));
        }
    }
}

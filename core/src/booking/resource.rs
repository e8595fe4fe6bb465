//! What can be booked: a resource, its hours, slots, capacity and price.

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A resource's id: 1 to 32 characters of `a-z0-9-`, e.g. `piano-3`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ResourceId(String);

/// Why a resource (or its id) is not valid.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum ResourceError {
    /// The id is empty, too long, or has other characters.
    #[error("a resource id is 1 to 32 characters of a-z, 0-9 and '-', not {0:?}")]
    BadId(String),
    /// No opening window, or one that closes before it opens.
    #[error("opening hours must be one or more HH:MM-HH:MM windows within a day, in order")]
    BadHours,
    /// A slot length of zero or longer than a window.
    #[error("the slot length must be 5 to 720 minutes and fit in each window")]
    BadSlot,
    /// Capacity zero, or more than [`Resource::CAPACITY_MAX`].
    #[error("the capacity must be 1 to {}", Resource::CAPACITY_MAX)]
    BadCapacity,
    /// A name empty, longer than [`Resource::NAME_MAX_CHARS`], or holding
    /// markup or control characters.
    #[error(
        "the {} name must be 1 to {} characters, with no < > or control characters",
        if *chinese { "Chinese" } else { "English" },
        Resource::NAME_MAX_CHARS
    )]
    BadName {
        /// The Chinese name (else the English one).
        chinese: bool,
    },
    /// Bookings per member a day or a week out of range.
    #[error(
        "a member may book 1 to {} sessions a day and 1 to {} a week",
        Resource::PER_DAY_MAX,
        Resource::PER_WEEK_MAX
    )]
    BadLimits,
}

impl ResourceId {
    /// Validates an id.
    pub fn new(s: impl Into<String>) -> Result<Self, ResourceError> {
        let s = s.into();
        let ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        if s.is_empty() || s.len() > 32 || !s.chars().all(ok) {
            return Err(ResourceError::BadId(s));
        }
        Ok(Self(s))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ResourceId {
    type Error = ResourceError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl From<ResourceId> for String {
    fn from(id: ResourceId) -> Self {
        id.0
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What kind of thing a resource is; it decides what the devices do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    /// An AI piano: walk-up sessions, powered by a relay channel.
    Piano,
    /// The moxibustion robot: booked slots, a program on its controller,
    /// checked by staff after each session.
    Robot,
    /// Childcare: a morning and an afternoon slot with several places.
    Childcare,
    /// A room shared by timetable.
    Room,
}

impl ResourceKind {
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Piano => "piano",
            Self::Robot => "robot",
            Self::Childcare => "childcare",
            Self::Room => "room",
        }
    }

    /// The kind named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Piano, Self::Robot, Self::Childcare, Self::Room]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// A price per session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "in", rename_all = "snake_case")]
pub enum Price {
    /// Free.
    Free,
    /// Volunteer points, held at booking and spent when the session starts.
    Points {
        /// How many.
        points: u32,
    },
    /// Yuan, paid at the desk (Keting records what is owed, takes no money).
    Yuan {
        /// In fen (1/100 yuan): 29.9 yuan is 2990.
        fen: u32,
    },
}

impl Price {
    /// Reads a price as a person writes it: `free`, `20 points`,
    /// `88 yuan`, `29.9元`; zero of anything is free.
    pub fn parse_written(s: &str) -> Result<Price, String> {
        let t = s.trim().to_lowercase();
        if t == "free" || t == "免费" {
            return Ok(Self::Free);
        }
        let bad = || format!("{s:?}: write free, \"20 points\" or \"29.9 yuan\"");
        let (num, unit) = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .map(|i| (t[..i].trim(), t[i..].trim()))
            .ok_or_else(bad)?;
        match unit {
            "points" | "point" | "p" | "积分" => {
                let points: u32 = num.parse().map_err(|_| bad())?;
                if points == 0 {
                    return Ok(Self::Free);
                }
                Ok(Price::Points { points })
            }
            "yuan" | "元" => {
                let (y, f) = num.split_once('.').unwrap_or((num, ""));
                if f.len() > 2 {
                    return Err(bad());
                }
                let yuan: u32 = y.parse().map_err(|_| bad())?;
                let fen: u32 = format!("{f:0<2}").parse().map_err(|_| bad())?;
                let total = yuan
                    .checked_mul(100)
                    .and_then(|v| v.checked_add(fen))
                    .ok_or_else(bad)?;
                Ok(if total == 0 {
                    Price::Free
                } else {
                    Price::Yuan { fen: total }
                })
            }
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Free => f.write_str("free"),
            Self::Points { points } => write!(f, "{points} points"),
            Self::Yuan { fen } => write!(f, "{}.{:02} yuan", fen / 100, fen % 100),
        }
    }
}

/// A span of the day the resource is open, in minutes after local midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpeningWindow {
    /// Opens (minutes after midnight).
    pub opens: u16,
    /// Closes (minutes after midnight, at most 1440).
    pub closes: u16,
}

impl OpeningWindow {
    /// Parses `HH:MM-HH:MM`.
    pub fn parse(s: &str) -> Option<Self> {
        let (a, b) = s.split_once('-')?;
        let hm = |t: &str| -> Option<u16> {
            let (h, m) = t.trim().split_once(':')?;
            let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
            (h <= 24 && m < 60 && h * 60 + m <= 1440).then_some(h * 60 + m)
        };
        let w = Self {
            opens: hm(a)?,
            closes: hm(b)?,
        };
        (w.opens < w.closes).then_some(w)
    }
}

/// Parses opening hours written `09:00-12:00,14:00-17:00`; one window that
/// is not `HH:MM-HH:MM` refuses the whole ([`ResourceError::BadHours`]).
pub fn parse_hours(s: &str) -> Result<Vec<OpeningWindow>, ResourceError> {
    s.split(',')
        .map(|w| OpeningWindow::parse(w.trim()).ok_or(ResourceError::BadHours))
        .collect()
}

/// Writes opening hours as [`parse_hours`] reads them.
pub fn format_hours(hours: &[OpeningWindow]) -> String {
    hours
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

impl fmt::Display for OpeningWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}:{:02}-{:02}:{:02}",
            self.opens / 60,
            self.opens % 60,
            self.closes / 60,
            self.closes % 60
        )
    }
}

/// How many sessions of one resource kind a member may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Per local day.
    pub per_day: u16,
    /// Per week (Monday to Sunday, local).
    pub per_week: u16,
}

/// A bookable resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    /// Its id.
    pub id: ResourceId,
    /// What it is.
    pub kind: ResourceKind,
    /// Its name in Chinese (shown first).
    pub name_zh: String,
    /// Its name in English.
    pub name_en: String,
    /// When it is open, each day.
    pub hours: Vec<OpeningWindow>,
    /// The slot length in minutes; `None`: each window is one slot
    /// (childcare's morning and afternoon).
    pub slot_minutes: Option<u16>,
    /// Places per slot.
    pub capacity: u16,
    /// The price of a session.
    pub price: Price,
    /// The price of a member's first session, if there is a trial.
    pub trial_price: Option<Price>,
    /// Limits per member (over all resources of this kind).
    pub limits: Limits,
    /// Whether staff must check it after each session ("to check").
    pub checked_after_use: bool,
}

impl Resource {
    /// The longest name, in characters (it must fit the kiosk's buttons).
    pub const NAME_MAX_CHARS: usize = 40;
    /// The most places in one slot.
    pub const CAPACITY_MAX: u16 = 500;
    /// The most sessions a member may book a day.
    pub const PER_DAY_MAX: u16 = 50;
    /// The most sessions a member may book a week.
    pub const PER_WEEK_MAX: u16 = 100;

    /// Checks everything a person sets: the names, the hours, the slot
    /// length, the capacity and the limits per member. Every surface (the
    /// command line, the dashboard, any later one) is refused the same
    /// values through the desk that calls this.
    pub fn validate(&self) -> Result<(), ResourceError> {
        let name_ok = |n: &str| {
            let chars = n.trim().chars().count();
            (1..=Self::NAME_MAX_CHARS).contains(&chars)
                && !n.contains(['<', '>'])
                && !n.chars().any(char::is_control)
        };
        if !name_ok(&self.name_zh) {
            return Err(ResourceError::BadName { chinese: true });
        }
        if !name_ok(&self.name_en) {
            return Err(ResourceError::BadName { chinese: false });
        }
        if self.hours.is_empty() {
            return Err(ResourceError::BadHours);
        }
        let mut last_close = 0;
        for w in &self.hours {
            if w.opens >= w.closes || w.closes > 1440 || w.opens < last_close {
                return Err(ResourceError::BadHours);
            }
            last_close = w.closes;
            if let Some(m) = self.slot_minutes
                && (!(5..=720).contains(&m) || m > w.closes - w.opens)
            {
                return Err(ResourceError::BadSlot);
            }
        }
        if !(1..=Self::CAPACITY_MAX).contains(&self.capacity) {
            return Err(ResourceError::BadCapacity);
        }
        if !(1..=Self::PER_DAY_MAX).contains(&self.limits.per_day)
            || !(1..=Self::PER_WEEK_MAX).contains(&self.limits.per_week)
        {
            return Err(ResourceError::BadLimits);
        }
        Ok(())
    }

    /// The name in the screen's language.
    pub fn name(&self, chinese: bool) -> &str {
        if chinese {
            &self.name_zh
        } else {
            &self.name_en
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_windows_parse_strictly() {
        assert!(ResourceId::new("piano-3").is_ok());
        for bad in ["", "Piano", "piano 3", "琴", &"x".repeat(33)] {
            assert!(ResourceId::new(bad).is_err(), "{bad:?}");
        }
        let w = OpeningWindow::parse("08:30-11:30").unwrap();
        assert_eq!((w.opens, w.closes), (510, 690));
        assert_eq!(w.to_string(), "08:30-11:30");
        assert_eq!(OpeningWindow::parse("00:00-24:00").unwrap().closes, 1440);
        for bad in [
            "11:30-08:30",
            "8-9",
            "25:00-26:00",
            "09:60-10:00",
            "10:00-10:00",
        ] {
            assert!(OpeningWindow::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(Price::Yuan { fen: 2990 }.to_string(), "29.90 yuan");
    }
}

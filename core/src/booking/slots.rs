//! The slots of a resource: cut from its opening windows in the site's
//! local time, and the window a walk-up session fits in.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use time::Date;

use super::resource::Resource;
use crate::calendar::SiteCalendar;
use crate::time::Timestamp;

const MS_PER_MINUTE: i64 = 60_000;

/// One slot of one resource: `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Slot {
    /// When it starts.
    pub start: Timestamp,
    /// When it ends.
    pub end: Timestamp,
}

impl Slot {
    /// Minutes from `t` to the end (0 once over).
    pub fn minutes_left(&self, t: Timestamp) -> u32 {
        let ms = (self.end.as_unix_millis() - t.as_unix_millis()).max(0);
        u32::try_from((ms + MS_PER_MINUTE - 1) / MS_PER_MINUTE).unwrap_or(u32::MAX)
    }
}

/// Why an instant is not the start of a slot.
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
pub enum SlotError {
    /// Not at a slot boundary, or outside the opening hours.
    #[error("no slot of this resource starts then")]
    NoSuchSlot,
    /// The resource is closed now (walk-up).
    #[error("closed now")]
    Closed,
}

/// Every slot of `resource` on local day `day`, in order.
pub fn slots_on(resource: &Resource, calendar: SiteCalendar, day: Date) -> Vec<Slot> {
    let midnight = calendar.start_of(day).as_unix_millis();
    let at =
        |minute: u16| Timestamp::from_unix_millis(midnight + i64::from(minute) * MS_PER_MINUTE);
    let mut out = Vec::new();
    for w in &resource.hours {
        match resource.slot_minutes {
            None => out.push(Slot {
                start: at(w.opens),
                end: at(w.closes),
            }),
            Some(len) if len > 0 => {
                let mut m = w.opens;
                while m + len <= w.closes {
                    out.push(Slot {
                        start: at(m),
                        end: at(m + len),
                    });
                    m += len;
                }
            }
            Some(_) => {}
        }
    }
    out
}

/// The slot of `resource` starting at `start`.
pub fn slot_starting(
    resource: &Resource,
    calendar: SiteCalendar,
    start: Timestamp,
) -> Result<Slot, SlotError> {
    slots_on(resource, calendar, calendar.date_of(start))
        .into_iter()
        .find(|s| s.start == start)
        .ok_or(SlotError::NoSuchSlot)
}

/// A walk-up session from `now` for `length`, cut at the closing time of
/// the window `now` falls in.
pub fn walk_up(
    resource: &Resource,
    calendar: SiteCalendar,
    now: Timestamp,
    length: Duration,
) -> Result<Slot, SlotError> {
    let day = calendar.date_of(now);
    let midnight = calendar.start_of(day).as_unix_millis();
    let minute = (now.as_unix_millis() - midnight) / MS_PER_MINUTE;
    let window = resource
        .hours
        .iter()
        .find(|w| i64::from(w.opens) <= minute && minute < i64::from(w.closes))
        .ok_or(SlotError::Closed)?;
    let closes = Timestamp::from_unix_millis(midnight + i64::from(window.closes) * MS_PER_MINUTE);
    Ok(Slot {
        start: now,
        end: now.saturating_add(length).min(closes),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::booking::resource::{Limits, OpeningWindow, Price, ResourceId, ResourceKind};
    use crate::calendar::parse_date;

    fn resource(hours: &[&str], slot: Option<u16>) -> Resource {
        Resource {
            id: ResourceId::new("robot").unwrap(),
            kind: ResourceKind::Robot,
            name_zh: "艾灸机器人".into(),
            name_en: "Moxibustion robot".into(),
            hours: hours
                .iter()
                .map(|h| OpeningWindow::parse(h).unwrap())
                .collect(),
            slot_minutes: slot,
            capacity: 1,
            price: Price::Free,
            trial_price: None,
            limits: Limits {
                per_day: 1,
                per_week: 3,
            },
            checked_after_use: true,
        }
    }

    #[test]
    fn slots_are_cut_in_local_time() {
        let cal = SiteCalendar::china();
        let day = parse_date("2026-11-23").unwrap();
        let r = resource(&["09:00-12:00", "14:00-17:30"], Some(60));
        let slots = slots_on(&r, cal, day);
        // 3 in the morning, 3 in the afternoon (17:00-18:00 does not fit).
        assert_eq!(slots.len(), 6);
        let nine = cal.start_of(day).as_unix_millis() + 9 * 3_600_000;
        assert_eq!(slots[0].start.as_unix_millis(), nine);
        assert_eq!(slot_starting(&r, cal, slots[4].start), Ok(slots[4]));
        let off = Timestamp::from_unix_millis(nine + 60_000);
        assert_eq!(slot_starting(&r, cal, off), Err(SlotError::NoSuchSlot));
        // Childcare: each window is one slot.
        let care = resource(&["08:30-11:30", "14:00-17:30"], None);
        assert_eq!(slots_on(&care, cal, day).len(), 2);
    }

    #[test]
    fn walk_up_is_cut_at_closing() {
        let cal = SiteCalendar::china();
        let day = parse_date("2026-11-23").unwrap();
        let r = resource(&["08:00-21:00"], None);
        let h = |h: i64, m: i64| {
            Timestamp::from_unix_millis(
                cal.start_of(day).as_unix_millis() + h * 3_600_000 + m * 60_000,
            )
        };
        let s = walk_up(&r, cal, h(10, 0), Duration::from_secs(45 * 60)).unwrap();
        assert_eq!(s.end, h(10, 45));
        assert_eq!(s.minutes_left(h(10, 40)), 5);
        let late = walk_up(&r, cal, h(20, 30), Duration::from_secs(45 * 60)).unwrap();
        assert_eq!(late.end, h(21, 0));
        assert_eq!(
            walk_up(&r, cal, h(22, 0), Duration::from_secs(60)),
            Err(SlotError::Closed)
        );
    }
}

//! What the kiosk's home page shows of the centre beside the visits: the
//! district's announcement in force, and what is on today (the centre's
//! own timetable, the district's items, and the day's activities with
//! places left). Reads only.

use keting_core::time::Timestamp;
use keting_store::programme::{self, ProgrammeItem};
use keting_store::{Store, StoreError, district_notices};
use time::Date;

/// The district's announcement in force at `now`, (Chinese, English).
pub fn announcement(store: &Store, now: Timestamp) -> Result<Option<(String, String)>, StoreError> {
    district_notices::current_announcement(store.conn(), now)
}

/// The programme of `day`, by starting time.
pub fn programme(store: &Store, day: Date) -> Result<Vec<ProgrammeItem>, StoreError> {
    programme::for_day(store.conn(), day)
}

/// Places of an activity on the home page's list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Places {
    /// This many left to sign up for.
    Left(u32),
    /// Every place taken; this many wait.
    Full {
        /// People waiting.
        waiting: u32,
    },
    /// Cancelled.
    Cancelled,
    /// Started, ended or closed: nothing to sign up for.
    Over,
}

/// One line of what is on today: the centre's own timetable, the
/// district's items, and the activities people sign up for, with places.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnToday {
    /// Start, `HH:MM` local.
    pub starts: String,
    /// Title in Chinese.
    pub title_zh: String,
    /// Title in English.
    pub title_en: String,
    /// Where, in Chinese.
    pub place_zh: String,
    /// Where, in English.
    pub place_en: String,
    /// An activity's places (none for a timetable item).
    pub places: Option<Places>,
}

/// What is on `day` at `now`, by start: the programme's items and the
/// day's activities with their places left.
pub fn on_today(
    store: &Store,
    calendar: keting_core::calendar::SiteCalendar,
    day: Date,
    now: Timestamp,
) -> Result<Vec<OnToday>, crate::activities::ActivityError> {
    let mut out: Vec<OnToday> = programme(store, day)?
        .into_iter()
        .map(|i| OnToday {
            starts: i.starts,
            title_zh: i.title_zh,
            title_en: i.title_en,
            place_zh: i.place_zh,
            place_en: i.place_en,
            places: None,
        })
        .collect();
    for v in crate::activities::programme(store, calendar.day_span(day), now)? {
        let p = &v.record.plan;
        let local = calendar.local(p.starts);
        let places = match &v.record.state {
            keting_store::activities::ActivityState::Cancelled(_) => Places::Cancelled,
            keting_store::activities::ActivityState::Open if now < p.starts => {
                if v.places_left > 0 && v.waiting == 0 {
                    Places::Left(v.places_left)
                } else {
                    Places::Full { waiting: v.waiting }
                }
            }
            _ => Places::Over,
        };
        out.push(OnToday {
            starts: format!("{:02}:{:02}", local.hour(), local.minute()),
            title_zh: p.title_zh.clone(),
            title_en: p.title_en.clone(),
            place_zh: p.room.clone(),
            place_en: p.room.clone(),
            places: Some(places),
        });
    }
    out.sort_by(|a, b| a.starts.cmp(&b.starts));
    Ok(out)
}

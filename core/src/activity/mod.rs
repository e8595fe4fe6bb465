//! Activities: classes, lectures, events and volunteer shifts the centre
//! runs, each a thing with a life, planned, open for sign-up, on, ended,
//! then held (closed by its organiser with at least one attendance) or
//! cancelled with a reason.
//!
//! What an activity is ([`ActivityPlan`], its [`ActivityKind`] and
//! [`Audience`]) and its refusals live here; the decisions in
//! [`rules`] (sign-up, the waiting list's offers, cancelling, attendance,
//! what "held" means), [`recurrence`] (one rule, many occurrences) and
//! [`volunteer_hours`] (a shift's check-in and check-out). No clock is
//! read here: every decision is given `now`.

pub mod recurrence;
pub mod rules;
pub mod volunteer_hours;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use thiserror::Error;

use crate::time::Timestamp;

/// The longest title, in characters (either language).
pub const TITLE_MAX_CHARS: usize = 40;
/// The most places one activity has.
pub const CAPACITY_MAX: u32 = 500;
/// The longest activity (a day-long outing).
pub const LONGEST: Duration = Duration::from_secs(24 * 3600);
/// The most points an hour of volunteering earns.
pub const POINTS_PER_HOUR_MAX: u32 = 100;

/// What sort of activity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ActivityKind {
    /// A course's session (calligraphy, yoga).
    Class,
    /// A talk.
    Lecture,
    /// A one-off event (a festival, an outing).
    Event,
    /// A volunteer shift: check-in and check-out, points per hour.
    Volunteer,
}

impl ActivityKind {
    /// Every kind.
    pub const ALL: [ActivityKind; 4] = [Self::Class, Self::Lecture, Self::Event, Self::Volunteer];

    /// The stable name (database, command line, district).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Class => "class",
            Self::Lecture => "lecture",
            Self::Event => "event",
            Self::Volunteer => "volunteer",
        }
    }
}

impl fmt::Display for ActivityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ActivityKind {
    type Err = ActivityRefusal;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(ActivityRefusal::UnknownKind)
    }
}

/// Who may sign up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Audience {
    /// Anyone with a pass.
    Everyone,
    /// Members of the centre (residents, gym members, volunteers), as
    /// opposed to visitors with a day pass; today every pass holder.
    Members,
    /// Volunteers only (a volunteer shift).
    Volunteers,
}

impl Audience {
    /// Every audience.
    pub const ALL: [Audience; 3] = [Self::Everyone, Self::Members, Self::Volunteers];

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Everyone => "everyone",
            Self::Members => "members",
            Self::Volunteers => "volunteers",
        }
    }
}

impl FromStr for Audience {
    type Err = ActivityRefusal;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or(ActivityRefusal::UnknownAudience)
    }
}

/// Everything a person sets about one occurrence of an activity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivityPlan {
    /// The title in Chinese.
    pub title_zh: String,
    /// The title in English.
    pub title_en: String,
    /// The room (a bookable resource's id or a room's name).
    pub room: String,
    /// When it starts.
    pub starts: Timestamp,
    /// When it ends.
    pub ends: Timestamp,
    /// How many places.
    pub capacity: u32,
    /// What sort.
    pub kind: ActivityKind,
    /// Who may sign up.
    pub audience: Audience,
    /// Points per hour of a volunteer shift (0 for other kinds).
    pub points_per_hour: u32,
    /// An outside organisation running it, by name (empty: the centre's
    /// staff member who added it organises it).
    pub organiser_name: String,
}

impl ActivityPlan {
    /// How long it lasts.
    pub fn length(&self) -> Duration {
        self.ends.since(self.starts).unwrap_or_default()
    }

    /// Checks everything a person sets: both titles and the room (1 to
    /// [`TITLE_MAX_CHARS`] characters, no markup), an end after the start
    /// and within [`LONGEST`], a capacity of 1 to [`CAPACITY_MAX`], and
    /// points per hour for a volunteer shift only (1 to
    /// [`POINTS_PER_HOUR_MAX`]).
    pub fn validate(&self) -> Result<(), ActivityRefusal> {
        let text_ok = |n: &str| {
            let chars = n.trim().chars().count();
            (1..=TITLE_MAX_CHARS).contains(&chars)
                && !n.contains(['<', '>'])
                && !n.chars().any(char::is_control)
        };
        if !text_ok(&self.title_zh) || !text_ok(&self.title_en) {
            return Err(ActivityRefusal::BadTitle);
        }
        if !text_ok(&self.room) {
            return Err(ActivityRefusal::BadRoom);
        }
        if self.organiser_name.chars().count() > TITLE_MAX_CHARS
            || self.organiser_name.contains(['<', '>'])
            || self.organiser_name.chars().any(char::is_control)
        {
            return Err(ActivityRefusal::BadOrganiser);
        }
        if self.ends <= self.starts {
            return Err(ActivityRefusal::EndsBeforeStart);
        }
        if self.length() > LONGEST {
            return Err(ActivityRefusal::TooLong);
        }
        if !(1..=CAPACITY_MAX).contains(&self.capacity) {
            return Err(ActivityRefusal::BadCapacity);
        }
        match self.kind {
            ActivityKind::Volunteer
                if !(1..=POINTS_PER_HOUR_MAX).contains(&self.points_per_hour) =>
            {
                Err(ActivityRefusal::PointsPerHour)
            }
            ActivityKind::Volunteer => Ok(()),
            _ if self.points_per_hour != 0 => Err(ActivityRefusal::PointsForNonVolunteer),
            _ => Ok(()),
        }
    }
}

/// Why an activity, a sign-up, a cancellation, an attendance or a close
/// was refused. Each surface words these itself.
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
pub enum ActivityRefusal {
    /// A title empty, too long, or holding markup.
    #[error("a title has 1 to {TITLE_MAX_CHARS} characters, with no < > or control characters")]
    BadTitle,
    /// A room empty, too long, or holding markup.
    #[error("a room has 1 to {TITLE_MAX_CHARS} characters, with no < > or control characters")]
    BadRoom,
    /// An organiser's name too long or holding markup.
    #[error("an organiser's name has at most {TITLE_MAX_CHARS} characters, with no < >")]
    BadOrganiser,
    /// An end at or before the start.
    #[error("the activity ends before it starts")]
    EndsBeforeStart,
    /// Longer than a day.
    #[error("an activity lasts at most 24 hours")]
    TooLong,
    /// A capacity of 0 or more than the most.
    #[error("the capacity is 1 to {CAPACITY_MAX} places")]
    BadCapacity,
    /// A capacity below the places already taken.
    #[error("{taken} places are taken; the capacity may not go below that")]
    CapacityBelowTaken {
        /// Places taken or offered.
        taken: u32,
    },
    /// A volunteer shift without points per hour, or too many.
    #[error("a volunteer shift earns 1 to {POINTS_PER_HOUR_MAX} points an hour")]
    PointsPerHour,
    /// Points per hour on something that is not a volunteer shift.
    #[error("only a volunteer shift earns points per hour")]
    PointsForNonVolunteer,
    /// A kind that is not class, lecture, event or volunteer.
    #[error("the kind is class, lecture, event or volunteer")]
    UnknownKind,
    /// An audience that is not everyone, members or volunteers.
    #[error("who may sign up is everyone, members or volunteers")]
    UnknownAudience,
    /// Sign-up has not opened yet.
    #[error("sign-up opens {opens_days} days before the start")]
    NotOpenYet {
        /// Days before the start.
        opens_days: u32,
    },
    /// Sign-up after the start.
    #[error("the activity has started; sign-up is closed")]
    Started,
    /// Already has a place, an offer or a place in the queue.
    #[error("already signed up")]
    AlreadySignedUp,
    /// The person may not sign up for this audience.
    #[error("this activity is for volunteers")]
    VolunteersOnly,
    /// Cancelled, or closed by its organiser.
    #[error("the activity is {state}")]
    NotOpen {
        /// `cancelled` or `closed`.
        state: &'static str,
    },
    /// Cancelling a place that is not there.
    #[error("not signed up")]
    NotSignedUp,
    /// A resident cancelling their own place after the start.
    #[error("the activity has started; a place can no longer be cancelled")]
    TooLateToCancel,
    /// An attendance outside the activity's time or room.
    #[error("the activity is not on in this room now")]
    NotOnNow,
    /// A walk-in when every place is taken.
    #[error("every place is taken")]
    Full,
    /// Hours longer than the shift, or negative.
    #[error("a volunteer's time is at most the shift's {shift_minutes} minutes")]
    HoursOverShift {
        /// The shift's length.
        shift_minutes: u32,
    },
    /// Hours for someone who did not attend, or for a non-volunteer activity.
    #[error("hours are set for a volunteer who attended a volunteer shift")]
    HoursNotApplicable,
    /// Closing before the end.
    #[error("the activity has not ended yet")]
    NotEnded,
    /// Closing with volunteers whose check-out was forgotten and whose time
    /// the organiser has not confirmed.
    #[error("{count} volunteers have no check-out; confirm their time first")]
    ForgottenCheckOut {
        /// How many.
        count: u32,
    },
    /// Cancelling without a reason.
    #[error("a cancellation needs a reason")]
    NoReason,
    /// Settings out of range.
    #[error(
        "an offer is held {OFFER_MINUTES_MIN} to {OFFER_MINUTES_MAX} minutes; sign-up opens 1 to {SIGNUP_DAYS_MAX} days before"
    )]
    BadPolicy,
}

/// The shortest time a freed place is offered, in minutes.
pub const OFFER_MINUTES_MIN: u32 = 5;
/// The longest time a freed place is offered, in minutes (two days).
pub const OFFER_MINUTES_MAX: u32 = 2880;
/// The most days before the start that sign-up may open.
pub const SIGNUP_DAYS_MAX: u32 = 90;

//! The bookings desk: resources, course packages, bookings and their
//! sessions, the pianos' walk-up queue, ratings, and the site's booking
//! rules.
//!
//! Every call reads the site's booking rules (`store::booking_policy`) in
//! its own transaction and writes its audit row there. The devices are not
//! told here: the service sees the change and sends session starts and
//! stops. Every call answers [`BookingError`]: a typed refusal (the core's
//! `BookingRefusal`, the ledger's, a resource's settings, …) that each
//! surface words itself, or the database.

use keting_core::staff::StaffAction;
use std::time::Duration;

use keting_core::booking::{BookingPolicy, ResourceKind};
use keting_core::calendar::SiteCalendar;
use keting_core::ids::MemberId;
use keting_core::time::Timestamp;
use time::Date;

use super::Actor;
use keting_core::booking::Charge;
use keting_core::booking::Package;
use keting_store::bookings::{self, Booked, Booking, Cancelled, Swept};
use keting_store::packages;
use keting_store::packages::PackageRefusal;
use keting_store::ratings::RatingRefusal;
use keting_store::ratings::{self, ServiceRatings};
use keting_store::resources::{self, ResourceRecord};
use keting_store::walk_up::{self, WalkUp};
use keting_store::{Store, StoreError, audit, booking_policy};
use thiserror::Error;

use keting_core::booking::{BookingRefusal, ResourceError};
use keting_core::ledger::rules::PointsRefusal;
use keting_core::staff::Forbidden;

/// Why the bookings desk did nothing: a refusal each surface words in its
/// reader's language, or (`Store`) the database.
#[derive(Debug, Error)]
pub enum BookingError {
    /// The booking rules said no.
    #[error(transparent)]
    Refused(BookingRefusal),
    /// The points ledger said no (a session paid in points).
    #[error(transparent)]
    Points(PointsRefusal),
    /// A resource's settings do not hold (the core's rule).
    #[error(transparent)]
    Resource(ResourceError),
    /// A course package's settings do not hold.
    #[error(transparent)]
    Package(PackageRefusal),
    /// A rating was refused.
    #[error(transparent)]
    Rating(RatingRefusal),
    /// The person's role does not allow it, or it is not theirs to do.
    #[error(transparent)]
    Forbidden(Forbidden),
    /// A capacity lowered below the places booked in one of its slots.
    #[error(
        "capacity {capacity} is less than the {booked} places booked in the slot at {slot}: cancel bookings first"
    )]
    CapacityBelowBooked {
        /// The capacity asked for.
        capacity: u16,
        /// The places booked in that slot.
        booked: u16,
        /// The slot's start.
        slot: Timestamp,
    },
    /// A piano without its bank or relay channel.
    #[error("a piano needs --device (its piano bank) and --channel (its relay channel)")]
    PianoNeedsBank,
    /// Pianos are played by walking up, never booked.
    #[error("pianos are not booked: scan at the kiosk to play on a free one")]
    PianoNotBookable,
    /// No slot of the resource starts at the time asked.
    #[error("no slot of {resource} starts then (its hours: {hours}, {slots})")]
    NoSuchSlot {
        /// The resource's id.
        resource: String,
        /// Its opening hours.
        hours: String,
        /// Its slots, in words.
        slots: String,
    },
    /// No resource with that id.
    #[error("no resource {id:?} here (there are: {known})")]
    UnknownResource {
        /// The id asked for.
        id: String,
        /// The ids there are.
        known: String,
    },
    /// A start grace of zero minutes.
    #[error("a place waits at least 1 minute for its member")]
    NoGrace,
    /// The booking, member or package named is not there (or not this
    /// member's).
    #[error("{0} not found")]
    NotFound(String),
    /// The database failed, or holds something unreadable.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for BookingError {
    /// Sorts what the store refused into the desk's refusals; anything
    /// else is the database's.
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Booking(r) => Self::Refused(r),
            StoreError::Points(r) => Self::Points(r),
            StoreError::Resource(r) => Self::Resource(r),
            StoreError::Package(r) => Self::Package(r),
            StoreError::Rating(r) => Self::Rating(r),
            StoreError::Forbidden(f) => Self::Forbidden(f),
            StoreError::PianoNotBookable => Self::PianoNotBookable,
            StoreError::NoSuchSlot {
                resource,
                hours,
                slots,
            } => Self::NoSuchSlot {
                resource,
                hours,
                slots,
            },
            StoreError::UnknownResource { id, known } => Self::UnknownResource { id, known },
            StoreError::NotFound(what) => Self::NotFound(what),
            e => Self::Store(e),
        }
    }
}

impl From<rusqlite::Error> for BookingError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Store(e.into())
    }
}

impl From<BookingRefusal> for BookingError {
    fn from(r: BookingRefusal) -> Self {
        Self::Refused(r)
    }
}

impl From<ResourceError> for BookingError {
    fn from(r: ResourceError) -> Self {
        Self::Resource(r)
    }
}

/// Adds a bookable resource, or changes one (its bookings stay).
pub fn put_resource(
    store: &mut Store,
    actor: Actor,
    record: &ResourceRecord,
    now: Timestamp,
) -> Result<(), BookingError> {
    record.resource.validate()?;
    if record.resource.kind == ResourceKind::Piano
        && (record.device.is_none() || record.channel.is_none())
    {
        return Err(BookingError::PianoNeedsBank);
    }
    store.write(|tx| {
        super::staff::require(tx, actor, StaffAction::Bookings)?;
        // Booked places stay booked: the capacity may not go below them in
        // any slot from now on.
        let id = record.resource.id.as_str();
        if let Some((slot, booked)) = bookings::fullest_slot_from(tx, id, now)?
            && booked > record.resource.capacity
        {
            return Err(BookingError::CapacityBelowBooked {
                capacity: record.resource.capacity,
                booked,
                slot,
            });
        }
        resources::put(tx, record)?;
        Ok(audit::record(
            tx,
            now,
            &actor.audit_name(),
            "resource.add",
            &format!("{} ({})", record.resource.id, record.resource.kind.as_str()),
        )?)
    })
}

/// Sessions over and waiting for staff to check the device, oldest first.
pub fn to_check(store: &Store) -> Result<Vec<Booking>, BookingError> {
    Ok(bookings::to_check(store.conn())?)
}

/// Every resource, or those of one kind.
pub fn resources(
    store: &Store,
    kind: Option<ResourceKind>,
) -> Result<Vec<ResourceRecord>, BookingError> {
    Ok(resources::list(store.conn(), kind)?)
}

/// One resource.
pub fn resource(store: &Store, id: &str) -> Result<ResourceRecord, BookingError> {
    Ok(resources::require(store.conn(), id)?)
}

/// Sells `member` a course package of `sessions` sessions of `kind`, valid
/// through `last_day`; returns its number.
#[allow(clippy::too_many_arguments)]
pub fn sell_package(
    store: &mut Store,
    actor: Actor,
    member: MemberId,
    kind: ResourceKind,
    sessions: u16,
    last_day: Date,
    calendar: SiteCalendar,
    now: Timestamp,
) -> Result<i64, BookingError> {
    let who = actor.audit_name();
    let expires = calendar.day_span(last_day).end;
    store.write(|tx| {
        super::staff::require(tx, actor, StaffAction::Bookings)?;
        let id = packages::sell(tx, member, kind, sessions, expires, &who, now)?;
        audit::record(
            tx,
            now,
            &who,
            "package.sell",
            &format!(
                "package {id}: member {member} {sessions} x {} until {last_day}",
                kind.as_str()
            ),
        )?;
        Ok(id)
    })
}

/// A member's bookings from `since` on.
pub fn of_member(
    store: &Store,
    member: MemberId,
    since: Timestamp,
) -> Result<Vec<Booking>, BookingError> {
    Ok(bookings::of_member(store.conn(), member, since)?)
}

/// A waiting booking's place on its slot's waiting list (1: next).
pub fn waiting_turn(store: &Store, booking: i64) -> Result<u32, BookingError> {
    Ok(bookings::waiting_position(store.conn(), booking)?)
}

/// What a resident's services page shows, read in one go.
#[derive(Clone, Debug)]
pub struct MemberServices {
    /// Every resource.
    pub resources: Vec<ResourceRecord>,
    /// The member's bookings from now on.
    pub mine: Vec<Booking>,
    /// Their last session, over and not rated yet.
    pub to_rate: Option<Booking>,
    /// How many wait in the piano queue.
    pub piano_queue: u32,
    /// The pianos taken (a session in progress, or kept for the queue).
    pub pianos_in_use: Vec<String>,
}

/// What `member`'s services page shows at `now`.
pub fn member_services(
    store: &Store,
    member: MemberId,
    now: Timestamp,
) -> Result<MemberServices, BookingError> {
    let conn = store.conn();
    Ok(MemberServices {
        resources: resources::list(conn, None)?,
        mine: bookings::of_member(conn, member, now)?,
        to_rate: ratings::to_rate(conn, member, now)?,
        piano_queue: walk_up::queue_length(conn, ResourceKind::Piano)?,
        pianos_in_use: walk_up::in_use(conn, ResourceKind::Piano)?,
    })
}

/// A slot as a resident is about to book it: whether every place is taken,
/// and what it would cost them (the trial price, a package session, the
/// session price), by the same rule [`book`] charges with.
pub fn slot_quote(
    store: &Store,
    calendar: SiteCalendar,
    resource: &str,
    start: Timestamp,
    member: MemberId,
    now: Timestamp,
) -> Result<(bool, Charge), BookingError> {
    let conn = store.conn();
    let r = resources::require(conn, resource)?;
    let full = bookings::places_taken(conn, resource, start)? >= r.resource.capacity;
    Ok((
        full,
        bookings::quote(conn, calendar, resource, start, member, now)?,
    ))
}

/// A resource's bookings with slots starting in `[from, to)`.
pub fn of_resource(
    store: &Store,
    resource: &str,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<Booking>, BookingError> {
    Ok(bookings::of_resource(store.conn(), resource, from, to)?)
}

/// Packages sold in `[from, to)`, per kind: (kind, packages, sessions).
pub fn packages_sold(
    store: &Store,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<(ResourceKind, u32, u32)>, BookingError> {
    Ok(packages::sold_between(store.conn(), from, to)?)
}

/// Ratings per kind of service in `[from, to)`.
pub fn ratings_between(
    store: &Store,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<ServiceRatings>, BookingError> {
    Ok(ratings::per_service_between(store.conn(), from, to)?)
}

/// A member's packages.
pub fn packages(store: &Store, member: MemberId) -> Result<Vec<Package>, BookingError> {
    Ok(packages::of_member(store.conn(), member, None)?)
}

/// Books `member` into the slot of `resource` starting at `start` (or onto
/// its waiting list when full and `wait`).
#[allow(clippy::too_many_arguments)]
pub fn book(
    store: &mut Store,
    actor: Actor,
    resource: &str,
    start: Timestamp,
    member: MemberId,
    wait: bool,
    calendar: SiteCalendar,
    now: Timestamp,
) -> Result<Booked, BookingError> {
    store.write(|tx| {
        super::staff::require_for(tx, actor, member, StaffAction::Bookings)?;
        let policy = booking_policy::get(tx)?;
        let b = bookings::book(tx, &policy, calendar, resource, start, member, wait, now)?;
        let at = calendar.local(start);
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "booking.book",
            &format!(
                "booking {} of member {member}: {resource} {:04}-{:02}-{:02} {:02}:{:02}",
                b.booking.id,
                at.year(),
                u8::from(at.month()),
                at.day(),
                at.hour(),
                at.minute()
            ),
        )?;
        Ok(b)
    })
}

/// Who a cancellation is for: a member's own (inside the window only) or
/// staff's (any time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CancelAs {
    /// The member's own cancellation: the window applies, and only their
    /// own booking.
    Member,
    /// Staff cancel: any time, the charge given back.
    Staff,
}

/// Cancels `booking`; a resident acting for themselves always cancels as
/// the member.
pub fn cancel(
    store: &mut Store,
    actor: Actor,
    booking: i64,
    how: CancelAs,
    calendar: SiteCalendar,
    now: Timestamp,
) -> Result<Cancelled, BookingError> {
    store.write(|tx| {
        let policy = booking_policy::get(tx)?;
        let who = match (actor, how) {
            (Actor::Member(m), _) => Some(m),
            (_, CancelAs::Member) => Some(bookings::get(tx, booking)?.member),
            (_, CancelAs::Staff) => None,
        };
        let c = bookings::cancel(tx, &policy, calendar, booking, who, now)?;
        let by_staff = if who.is_none() { " by staff" } else { "" };
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "booking.cancel",
            &format!("booking {booking}{by_staff}"),
        )?;
        Ok(c)
    })
}

/// The booking, if it is `member`'s (a resident may act on their own only).
/// `booking`, if `actor` may act on it: its member, or staff whose role
/// allows bookings.
fn own(tx: &rusqlite::Connection, actor: Actor, booking: i64) -> Result<Booking, BookingError> {
    if let Actor::Staff(_) = actor {
        super::staff::require(tx, actor, StaffAction::Bookings)?;
    }
    let b = bookings::get(tx, booking)?;
    match actor {
        Actor::Member(m) if m != b.member => Err(BookingError::NotFound(format!(
            "booking {booking} of this member"
        ))),
        _ => Ok(b),
    }
}

/// Starts `member`'s booking that may start now (of `resource`, if named):
/// check-in opens a while before the slot.
pub fn start(
    store: &mut Store,
    actor: Actor,
    member: MemberId,
    resource: Option<&str>,
    calendar: SiteCalendar,
    now: Timestamp,
) -> Result<Booking, BookingError> {
    store.write(|tx| check_in(tx, actor, member, resource, calendar, now))
}

/// Starts `booking` (a resident's tap on "start" beside it).
pub fn start_booking(
    store: &mut Store,
    actor: Actor,
    booking: i64,
    calendar: SiteCalendar,
    now: Timestamp,
) -> Result<Booking, BookingError> {
    store.write(|tx| {
        let b = own(tx, actor, booking)?;
        check_in(tx, actor, b.member, Some(&b.resource), calendar, now)
    })
}

/// Checks `member` in (by the site's rules), audited.
fn check_in(
    tx: &rusqlite::Connection,
    actor: Actor,
    member: MemberId,
    resource: Option<&str>,
    calendar: SiteCalendar,
    now: Timestamp,
) -> Result<Booking, BookingError> {
    let policy = booking_policy::get(tx)?;
    let b = bookings::check_in(tx, &policy, calendar, member, resource, now)?;
    audit::record(
        tx,
        now,
        &actor.audit_name(),
        "booking.start",
        &format!("booking {}", b.id),
    )?;
    Ok(b)
}

/// Ends a session early (the device is told to switch off).
pub fn end(
    store: &mut Store,
    actor: Actor,
    booking: i64,
    calendar: SiteCalendar,
    now: Timestamp,
) -> Result<Booking, BookingError> {
    store.write(|tx| {
        own(tx, actor, booking)?;
        let b = bookings::finish(tx, calendar, booking, "ended_early", false, now)?;
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "booking.end",
            &format!("booking {booking} ended early"),
        )?;
        Ok(b)
    })
}

/// Staff checked a session that needs checking after use.
pub fn clear(
    store: &mut Store,
    actor: Actor,
    booking: i64,
    now: Timestamp,
) -> Result<Booking, BookingError> {
    store.write(|tx| {
        super::staff::require(tx, actor, StaffAction::Bookings)?;
        let b = bookings::clear(tx, booking, now)?;
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "booking.clear",
            &format!("booking {booking} ({}) checked", b.resource),
        )?;
        Ok(b)
    })
}

/// Records a rating of 1 to 5 stars for a finished session (once).
pub fn rate(
    store: &mut Store,
    actor: Actor,
    booking: i64,
    stars: u8,
    now: Timestamp,
) -> Result<(), BookingError> {
    let member = match actor {
        Actor::Member(m) => Some(m),
        _ => None,
    };
    Ok(store.write(|tx| {
        ratings::rate(tx, booking, member, stars, now)?;
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "booking.rate",
            &format!("booking {booking}: {stars} star(s)"),
        )
    })?)
}

/// Ratings per kind of service since `since`.
pub fn ratings(store: &Store, since: Timestamp) -> Result<Vec<ServiceRatings>, BookingError> {
    Ok(ratings::per_service(store.conn(), since)?)
}

/// "Scan and play": a free piano now (none of `unavailable`, whose banks
/// are offline), or a place in the queue.
pub fn play_piano(
    store: &mut Store,
    actor: Actor,
    member: MemberId,
    unavailable: &[String],
    calendar: SiteCalendar,
    now: Timestamp,
) -> Result<WalkUp, BookingError> {
    store.write(|tx| {
        super::staff::require_for(tx, actor, member, StaffAction::Bookings)?;
        let policy = booking_policy::get(tx)?;
        let got = walk_up::scan(
            tx,
            &policy,
            calendar,
            ResourceKind::Piano,
            member,
            unavailable,
            now,
        )?;
        let detail = match &got {
            WalkUp::Started(b) => format!("member {member}: booking {} on {}", b.id, b.resource),
            WalkUp::AlreadyPlaying(b) => {
                format!("member {member}: already playing, booking {}", b.id)
            }
            WalkUp::Queued { position } => {
                format!("member {member}: number {position} in the queue")
            }
        };
        audit::record(tx, now, &actor.audit_name(), "piano.play", &detail)?;
        Ok(got)
    })
}

/// Takes `member` out of the piano queue; whether they were in it.
pub fn leave_piano_queue(
    store: &mut Store,
    actor: Actor,
    member: MemberId,
    now: Timestamp,
) -> Result<bool, BookingError> {
    store.write(|tx| {
        super::staff::require_for(tx, actor, member, StaffAction::Bookings)?;
        let left = walk_up::leave_queue(tx, ResourceKind::Piano, member)?;
        if left {
            audit::record(
                tx,
                now,
                &actor.audit_name(),
                "piano.leave",
                &format!("member {member}"),
            )?;
        }
        Ok(left)
    })
}

/// The time-driven work, once: places nobody started released and their
/// waiting lists promoted, sessions past their end finished, the piano
/// queue served with pianos now free (none of `unavailable`).
pub fn sweep(
    store: &mut Store,
    calendar: SiteCalendar,
    unavailable: &[String],
    now: Timestamp,
) -> Result<(Swept, Vec<Booking>), BookingError> {
    store.write(|tx| {
        let policy = booking_policy::get(tx)?;
        let swept = bookings::sweep(tx, &policy, calendar, now)?;
        let served = walk_up::serve_queue(tx, &policy, ResourceKind::Piano, unavailable, now)?;
        Ok((swept, served))
    })
}

/// The site's booking rules as they stand.
pub fn rules(store: &Store) -> Result<BookingPolicy, BookingError> {
    Ok(booking_policy::get(store.conn())?)
}

/// A change to the site's booking rules; `None` keeps a value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PolicyChange {
    /// A member may cancel until this many minutes before the start.
    pub cancel_before_minutes: Option<u32>,
    /// A place waits this many minutes for its member.
    pub start_grace_minutes: Option<u32>,
    /// Check-in opens this many minutes before the start.
    pub check_in_early_minutes: Option<u32>,
}

/// The site's booking rules, changed first if `change` changes anything
/// (audited).
pub fn policy(
    store: &mut Store,
    actor: Actor,
    change: PolicyChange,
    now: Timestamp,
) -> Result<BookingPolicy, BookingError> {
    let minutes = |m: u32| Duration::from_secs(u64::from(m) * 60);
    store.write(|tx| {
        super::staff::require(tx, actor, StaffAction::ManageStaff)?;
        let mut p = booking_policy::get(tx)?;
        if change == PolicyChange::default() {
            return Ok(p);
        }
        if change.start_grace_minutes == Some(0) {
            return Err(BookingError::NoGrace);
        }
        if let Some(m) = change.cancel_before_minutes {
            p.cancel_before = minutes(m);
        }
        if let Some(m) = change.start_grace_minutes {
            p.start_grace = minutes(m);
        }
        if let Some(m) = change.check_in_early_minutes {
            p.check_in_early = minutes(m);
        }
        booking_policy::set(tx, &p)?;
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "booking.policy",
            &format!("{p:?}"),
        )?;
        Ok(p)
    })
}

//! The activities desk: plan activities (one-off or from a repeat rule,
//! skipping the days the centre is closed), change and cancel them, sign
//! people up and off (the waiting list's offers settled first), count a
//! scan in a room as attendance, confirm volunteers' time, and close an
//! activity: held when someone attended, its volunteers paid in one
//! transaction through the ledger.
//!
//! The rules are the core's (`keting_core::activity`); each call settles
//! the list, decides, and writes the changes and its audit row in one
//! transaction. Refusals are typed ([`ActivityError`]); each surface words
//! them itself.

use keting_core::activity::recurrence::{RepeatError, RepeatRule};
use keting_core::activity::rules::{self, Attendance, Entry, SignedUp, Slot, Standing};
use keting_core::activity::volunteer_hours::{self, ShiftTime};
use keting_core::activity::{ActivityKind, ActivityPlan, ActivityRefusal};
use keting_core::calendar::{SiteCalendar, Span};
use keting_core::ids::MemberId;
use keting_core::ledger::rules::PointsRefusal;
use keting_core::staff::{Forbidden, StaffAction};
use keting_core::time::Timestamp;
use rusqlite::Connection;
use thiserror::Error;
use time::Date;

use super::Actor;
use keting_store::activities::{self, ActivityRecord, AttendanceRow, HeldFigures};
use keting_store::members::{self, Role};
use keting_store::{Store, StoreError, audit, points};

/// Why the activities desk did nothing.
#[derive(Debug, Error)]
pub enum ActivityError {
    /// The activity rules said no.
    #[error(transparent)]
    Refused(#[from] ActivityRefusal),
    /// A repeat rule not understood or too long.
    #[error(transparent)]
    Repeat(#[from] RepeatError),
    /// The actor's role does not allow it.
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// No such activity.
    #[error("activity {0} not found")]
    UnknownActivity(i64),
    /// No such member.
    #[error("member {0} not found")]
    UnknownMember(MemberId),
    /// A scan from a device that is not registered as a room reader.
    #[error("device {0} is not a room reader (`kiosk activity reader DEVICE --room ROOM`)")]
    NotAReader(String),
    /// A pass of a card since replaced.
    #[error("this card was replaced")]
    CardReplaced,
    /// No activity from the district under this id waiting to be adopted
    /// (never sent, past, or adopted already).
    #[error("no district activity {0} to adopt")]
    UnknownNotice(String),
    /// A volunteer's award refused by the ledger (over a cap): nothing was
    /// awarded and the activity stays open.
    #[error("member {member}: {refusal}")]
    Points {
        /// Whose award.
        member: MemberId,
        /// Why.
        refusal: PointsRefusal,
    },
    /// The database.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ActivityError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Activity(r) => ActivityError::Refused(r),
            StoreError::Forbidden(f) => ActivityError::Forbidden(f),
            other => ActivityError::Store(other),
        }
    }
}

impl From<rusqlite::Error> for ActivityError {
    fn from(e: rusqlite::Error) -> Self {
        ActivityError::Store(e.into())
    }
}

/// An activity with its places, as every surface shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivityView {
    /// The activity.
    pub record: ActivityRecord,
    /// Places left for someone new.
    pub places_left: u32,
    /// Places held (places and live offers).
    pub places_held: u32,
    /// People waiting.
    pub waiting: u32,
}

fn slot(r: &ActivityRecord) -> Slot {
    Slot {
        starts: r.plan.starts,
        ends: r.plan.ends,
        capacity: r.plan.capacity,
        audience: r.plan.audience,
        open: r.state.open(),
    }
}

fn require(conn: &Connection, id: i64) -> Result<ActivityRecord, ActivityError> {
    activities::get(conn, id)?.ok_or(ActivityError::UnknownActivity(id))
}

fn require_member(conn: &Connection, member: MemberId) -> Result<members::Member, ActivityError> {
    members::get(conn, member)?.ok_or(ActivityError::UnknownMember(member))
}

/// Settles activity `id`'s list at `now` (lapsed offers, freed places
/// offered) and returns it.
fn settled_list(
    conn: &Connection,
    record: &ActivityRecord,
    now: Timestamp,
) -> Result<Vec<Entry>, ActivityError> {
    let mut list = activities::list(conn, record.id)?;
    let policy = activities::policy(conn)?;
    for change in rules::settle(&slot(record), &mut list, &policy, now) {
        activities::write_change(conn, record.id, &change, "centre", now)?;
    }
    Ok(list)
}

fn view(conn: &Connection, record: ActivityRecord) -> Result<ActivityView, ActivityError> {
    let list = activities::list(conn, record.id)?;
    Ok(view_of(record, &list))
}

/// `record` with the places its `list` holds.
fn view_of(record: ActivityRecord, list: &[Entry]) -> ActivityView {
    let s = slot(&record);
    ActivityView {
        places_left: rules::places_left(&s, list),
        places_held: rules::places_held(list),
        waiting: rules::waiting(list),
        record,
    }
}

/// Plans an activity, or one per date of `repeat` (from the plan's own
/// date, skipping closed days); returns the new numbers. The organiser is
/// the staff member acting unless the plan names an outside organiser.
pub fn add(
    store: &mut Store,
    actor: Actor,
    plan: &ActivityPlan,
    repeat: Option<(&RepeatRule, &str)>,
    calendar: SiteCalendar,
    now: Timestamp,
) -> Result<Vec<i64>, ActivityError> {
    plan.validate()?;
    let who = actor.audit_name();
    store.write(|tx| {
        super::staff::require(tx, actor, StaffAction::Activities)?;
        let organiser = if plan.organiser_name.trim().is_empty() {
            actor.staff()
        } else {
            None
        };
        let first = calendar.date_of(plan.starts);
        let dates = match repeat {
            None => vec![first],
            Some((rule, _)) => {
                let closed: Vec<Date> = activities::closed_days_from(tx, first)?
                    .into_iter()
                    .map(|(d, _)| d)
                    .collect();
                rule.dates(first, |d| closed.contains(&d))?
            }
        };
        let mut ids = Vec::with_capacity(dates.len());
        let mut series = None;
        for d in dates {
            let shift = (d - first).whole_days() * 86_400_000;
            let p = ActivityPlan {
                starts: Timestamp::from_unix_millis(plan.starts.as_unix_millis() + shift),
                ends: Timestamp::from_unix_millis(plan.ends.as_unix_millis() + shift),
                ..plan.clone()
            };
            let rule_text = repeat.map(|(_, t)| t).unwrap_or("");
            let origin = activities::Origin {
                organiser,
                series,
                repeat_rule: rule_text,
                adopted_notice: None,
            };
            let id = activities::insert(tx, &p, origin, &who, now)?;
            if repeat.is_some() && series.is_none() {
                series = Some(id);
            }
            ids.push(id);
        }
        audit::record(
            tx,
            now,
            &who,
            "activity.add",
            &format!(
                "{} / {} in {}: {} occurrence(s) from {}",
                plan.title_zh,
                plan.title_en,
                plan.room,
                ids.len(),
                ids.first().copied().unwrap_or_default()
            ),
        )?;
        Ok(ids)
    })
}

/// Changes open activity `id`'s plan; its capacity may not go below the
/// places held.
pub fn edit(
    store: &mut Store,
    actor: Actor,
    id: i64,
    plan: &ActivityPlan,
    now: Timestamp,
) -> Result<(), ActivityError> {
    plan.validate()?;
    store.write(|tx| {
        super::staff::require(tx, actor, StaffAction::Activities)?;
        let record = require(tx, id)?;
        record
            .state
            .open()
            .map_err(|state| ActivityRefusal::NotOpen { state })?;
        let list = settled_list(tx, &record, now)?;
        let taken = rules::places_held(&list);
        if plan.capacity < taken {
            return Err(ActivityRefusal::CapacityBelowTaken { taken }.into());
        }
        activities::update_plan(tx, id, plan)?;
        let updated = require(tx, id)?;
        settled_list(tx, &updated, now)?;
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "activity.edit",
            &format!("activity {id}"),
        )?;
        Ok(())
    })
}

/// Cancels open activity `id` with `reason`; those on its list see it
/// cancelled with the reason.
pub fn cancel_activity(
    store: &mut Store,
    actor: Actor,
    id: i64,
    reason: &str,
    now: Timestamp,
) -> Result<(), ActivityError> {
    if reason.trim().is_empty() {
        return Err(ActivityRefusal::NoReason.into());
    }
    store.write(|tx| {
        super::staff::require(tx, actor, StaffAction::Activities)?;
        let record = require(tx, id)?;
        record
            .state
            .open()
            .map_err(|state| ActivityRefusal::NotOpen { state })?;
        activities::cancel(tx, id, reason, &actor.audit_name(), now)?;
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "activity.cancel",
            &format!("activity {id}: {}", reason.trim()),
        )?;
        Ok(())
    })
}

/// Signs `member` up for activity `id`: a place (or an offer taken), or a
/// turn on the waiting list. A resident signs up themselves; staff and the
/// command line for anyone.
pub fn sign_up(
    store: &mut Store,
    actor: Actor,
    id: i64,
    member: MemberId,
    now: Timestamp,
) -> Result<SignedUp, ActivityError> {
    store.write(|tx| {
        super::staff::require_for(tx, actor, member, StaffAction::Activities)?;
        let m = require_member(tx, member)?;
        let record = require(tx, id)?;
        let list = settled_list(tx, &record, now)?;
        let policy = activities::policy(tx)?;
        let (outcome, change) = rules::sign_up(
            &slot(&record),
            &list,
            member,
            m.roles.contains(&Role::Volunteer),
            &policy,
            now,
        )?;
        activities::write_change(tx, id, &change, &actor.audit_name(), now)?;
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "activity.signup",
            &format!("activity {id} member {member}: {outcome:?}"),
        )?;
        Ok(outcome)
    })
}

/// Takes `member` off activity `id`'s list; a freed place is offered to
/// the next person waiting. A resident may cancel their own until the
/// start; staff until it is closed.
pub fn cancel_place(
    store: &mut Store,
    actor: Actor,
    id: i64,
    member: MemberId,
    now: Timestamp,
) -> Result<(), ActivityError> {
    store.write(|tx| {
        super::staff::require_for(tx, actor, member, StaffAction::Activities)?;
        let record = require(tx, id)?;
        let list = settled_list(tx, &record, now)?;
        let by_staff = !matches!(actor, Actor::Member(_));
        let change = rules::cancel(&slot(&record), &list, member, by_staff, now)?;
        activities::write_change(tx, id, &change, &actor.audit_name(), now)?;
        settled_list(tx, &record, now)?;
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "activity.cancel_place",
            &format!("activity {id} member {member}"),
        )?;
        Ok(())
    })
}

/// Where a scan is counted from: a kiosk in activity mode, a room
/// reader, a staff member's mark, the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Via {
    /// A kiosk showing a room (`kiosk --room NAME`).
    RoomKiosk(String),
    /// A reader device by its id.
    Reader(String),
    /// The organiser or staff, by hand.
    ByHand(Actor),
}

impl Via {
    fn name(&self) -> String {
        match self {
            Via::RoomKiosk(room) => format!("kiosk:{room}"),
            Via::Reader(device) => format!("reader:{device}"),
            Via::ByHand(actor) => actor.audit_name(),
        }
    }
}

/// What a scan or a mark did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attended {
    /// The activity.
    pub activity: ActivityRecord,
    /// What it counted as.
    pub attendance: Attendance,
    /// The person's display name (to greet them).
    pub name: String,
}

fn attend_in(
    tx: &Connection,
    record: ActivityRecord,
    member: MemberId,
    via: &Via,
    now: Timestamp,
) -> Result<Attended, ActivityError> {
    let m = require_member(tx, member)?;
    let list = settled_list(tx, &record, now)?;
    let policy = activities::policy(tx)?;
    let mine = activities::attendance(tx, record.id)?
        .into_iter()
        .find(|a| a.member == member);
    let attendance = rules::attend(
        &slot(&record),
        &list,
        member,
        mine.map(|a| a.arrived),
        mine.is_some_and(|a| a.left.is_some()),
        record.plan.kind == ActivityKind::Volunteer,
        &policy,
        now,
    )?;
    match attendance {
        Attendance::Arrived => {
            activities::record_arrival(tx, record.id, member, &via.name(), now)?;
            if !list
                .iter()
                .any(|e| e.member == member && e.standing.holds_place())
            {
                // A walk-in takes a free place, so the count stays true.
                activities::write_change(
                    tx,
                    record.id,
                    &rules::Change {
                        member,
                        standing: Standing::Place,
                    },
                    &via.name(),
                    now,
                )?;
            }
        }
        Attendance::CheckedOut => activities::record_check_out(tx, record.id, member, now)?,
        Attendance::Again => {}
    }
    if attendance != Attendance::Again {
        audit::record(
            tx,
            now,
            &via.name(),
            "activity.attend",
            &format!("activity {} member {member}: {attendance:?}", record.id),
        )?;
    }
    Ok(Attended {
        activity: record,
        attendance,
        name: m.name,
    })
}

/// Counts `member` at activity `id` (staff marking by hand, or a script).
pub fn attend(
    store: &mut Store,
    actor: Actor,
    id: i64,
    member: MemberId,
    now: Timestamp,
) -> Result<Attended, ActivityError> {
    store.write(|tx| {
        super::staff::require(tx, actor, StaffAction::Activities)?;
        let record = require(tx, id)?;
        attend_in(tx, record, member, &Via::ByHand(actor), now)
    })
}

/// Counts a scan in `room` at `now` as attendance of what is on there:
/// the activity the person has a place at, else the first one on.
/// Refused as not on now when nothing is.
pub fn scan_in_room(
    store: &mut Store,
    via: &Via,
    room: &str,
    member: MemberId,
    now: Timestamp,
) -> Result<Attended, ActivityError> {
    store.write(|tx| {
        let policy = activities::policy(tx)?;
        let on = activities::on_in_room(tx, room, policy.early_attendance, now)?;
        let mut chosen = None;
        for r in &on {
            let list = activities::list(tx, r.id)?;
            if list
                .iter()
                .any(|e| e.member == member && e.standing.holds_place())
            {
                chosen = Some(r.clone());
                break;
            }
        }
        let record = chosen
            .or_else(|| on.into_iter().next())
            .ok_or(ActivityRefusal::NotOnNow)?;
        attend_in(tx, record, member, via, now)
    })
}

/// What is on in `room` at `now` (for the room's screen), with its places.
pub fn on_in_room(
    store: &Store,
    room: &str,
    now: Timestamp,
) -> Result<Option<ActivityView>, ActivityError> {
    let conn = store.conn();
    let policy = activities::policy(conn)?;
    match activities::on_in_room(conn, room, policy.early_attendance, now)?
        .into_iter()
        .next()
    {
        Some(r) => Ok(Some(view(conn, r)?)),
        None => Ok(None),
    }
}

/// One attendee on the closing sheet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SheetLine {
    /// Who.
    pub member: MemberId,
    /// Their name.
    pub name: String,
    /// Their attendance.
    pub row: AttendanceRow,
    /// A volunteer's time (none for other kinds).
    pub time: Option<ShiftTime>,
    /// The points closing would award.
    pub points: i64,
}

/// What closing activity `id` would record: who attended, each
/// volunteer's time (a forgotten check-out flagged) and points.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClosingSheet {
    /// The activity.
    pub activity: ActivityRecord,
    /// The attendees.
    pub lines: Vec<SheetLine>,
}

impl ClosingSheet {
    /// Volunteers whose check-out is missing and time unconfirmed.
    pub fn forgotten(&self) -> u32 {
        u32::try_from(
            self.lines
                .iter()
                .filter(|l| l.time == Some(ShiftTime::ForgotCheckOut))
                .count(),
        )
        .unwrap_or(u32::MAX)
    }

    /// Volunteer minutes counted.
    pub fn volunteer_minutes(&self) -> u32 {
        self.lines
            .iter()
            .map(|l| match l.time {
                Some(ShiftTime::Minutes(m)) => m,
                _ => 0,
            })
            .sum()
    }
}

fn sheet(conn: &Connection, record: ActivityRecord) -> Result<ClosingSheet, ActivityError> {
    let volunteer = record.plan.kind == ActivityKind::Volunteer;
    let mut lines = Vec::new();
    for row in activities::attendance(conn, record.id)? {
        let name = members::get(conn, row.member)?
            .map(|m| m.name)
            .unwrap_or_default();
        let time = volunteer.then(|| {
            volunteer_hours::time_on_shift(
                record.plan.starts,
                record.plan.ends,
                row.arrived,
                row.left,
                row.confirmed_minutes,
            )
        });
        let points = match time {
            Some(ShiftTime::Minutes(m)) => {
                volunteer_hours::points_for(m, record.plan.points_per_hour)
            }
            _ => 0,
        };
        lines.push(SheetLine {
            member: row.member,
            name,
            row,
            time,
            points,
        });
    }
    Ok(ClosingSheet {
        activity: record,
        lines,
    })
}

/// The closing sheet of activity `id`, for the organiser to check.
pub fn closing_sheet(store: &Store, id: i64) -> Result<ClosingSheet, ActivityError> {
    let record = require(store.conn(), id)?;
    sheet(store.conn(), record)
}

/// Confirms `minutes` of `member`'s time on volunteer shift `id` (a
/// forgotten check-out, or a correction); at most the shift's length.
pub fn confirm_time(
    store: &mut Store,
    actor: Actor,
    id: i64,
    member: MemberId,
    minutes: u32,
    now: Timestamp,
) -> Result<(), ActivityError> {
    store.write(|tx| {
        super::staff::require(tx, actor, StaffAction::Activities)?;
        let record = require(tx, id)?;
        record
            .state
            .open()
            .map_err(|state| ActivityRefusal::NotOpen { state })?;
        let attended = activities::attendance(tx, id)?
            .iter()
            .any(|a| a.member == member);
        if record.plan.kind != ActivityKind::Volunteer || !attended {
            return Err(ActivityRefusal::HoursNotApplicable.into());
        }
        let minutes = volunteer_hours::confirm(minutes, record.plan.starts, record.plan.ends)?;
        activities::confirm_minutes(tx, id, member, minutes)?;
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "activity.hours",
            &format!("activity {id} member {member}: {minutes} min"),
        )?;
        Ok(())
    })
}

/// What closing did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Closed {
    /// Whether it was held (someone attended).
    pub held: bool,
    /// People who attended.
    pub attended: u32,
    /// Each volunteer paid: who, minutes, points, the posting (to reverse).
    pub awards: Vec<(MemberId, u32, i64, i64)>,
}

/// Closes activity `id` after its end: held when someone attended; each
/// volunteer's time paid at the shift's rate, one posting each, in this one
/// transaction (a refused award leaves everything as it was). Refused while
/// a volunteer's check-out is missing and their time unconfirmed, and for
/// an activity already closed (so nothing is paid twice).
pub fn close(
    store: &mut Store,
    actor: Actor,
    id: i64,
    calendar: SiteCalendar,
    now: Timestamp,
) -> Result<Closed, ActivityError> {
    let who = actor.audit_name();
    store.write(|tx| {
        super::staff::require(tx, actor, StaffAction::Activities)?;
        let record = require(tx, id)?;
        rules::may_close(&slot(&record), now)?;
        let title = format!(
            "{} {}",
            record.plan.title_zh,
            calendar.date_of(record.plan.starts)
        );
        let sheet = sheet(tx, record)?;
        let forgotten = sheet.forgotten();
        if forgotten > 0 {
            return Err(ActivityRefusal::ForgottenCheckOut { count: forgotten }.into());
        }
        let attended = u32::try_from(sheet.lines.len()).unwrap_or(u32::MAX);
        let mut awards = Vec::new();
        for line in &sheet.lines {
            let Some(ShiftTime::Minutes(m)) = line.time else {
                continue;
            };
            if line.points <= 0 {
                continue;
            }
            let posting = points::award_for_activity(
                tx,
                line.member,
                id,
                line.points,
                &title,
                &who,
                calendar,
                now,
            )
            .map_err(|e| match e {
                StoreError::Points(refusal) => ActivityError::Points {
                    member: line.member,
                    refusal,
                },
                other => other.into(),
            })?;
            awards.push((line.member, m, line.points, posting));
        }
        activities::close(tx, id, attended, sheet.volunteer_minutes(), &who, now)?;
        audit::record(
            tx,
            now,
            &who,
            "activity.close",
            &format!(
                "activity {id}: {attended} attended, {} volunteers paid {} points",
                awards.len(),
                awards.iter().map(|a| a.2).sum::<i64>()
            ),
        )?;
        Ok(Closed {
            held: rules::held(attended),
            attended,
            awards,
        })
    })
}

/// The activities starting within `span` with their places as of `now`
/// (an offer past its time counts as free, before the sweep writes it).
pub fn programme(
    store: &Store,
    span: Span,
    now: Timestamp,
) -> Result<Vec<ActivityView>, ActivityError> {
    let conn = store.conn();
    let policy = activities::policy(conn)?;
    let mut out = Vec::new();
    for r in activities::starting_in(conn, span)? {
        // An offer past its time no longer holds a place, even before the
        // next sweep writes it.
        let mut list = activities::list(conn, r.id)?;
        rules::settle(&slot(&r), &mut list, &policy, now);
        out.push(view_of(r, &list));
    }
    Ok(out)
}

/// The local week (Monday to Sunday) holding `day`.
pub fn week_of(calendar: SiteCalendar, day: Date) -> Span {
    let monday = day - time::Duration::days(i64::from(day.weekday().number_days_from_monday()));
    Span {
        start: calendar.start_of(monday),
        end: calendar.start_of(monday + time::Duration::days(7)),
    }
}

/// Activity `id` with its places.
pub fn get(store: &Store, id: i64) -> Result<ActivityView, ActivityError> {
    let r = require(store.conn(), id)?;
    view(store.conn(), r)
}

/// Activity `id`'s list, in turn order, with names.
pub fn list_of(store: &Store, id: i64) -> Result<Vec<(Entry, String)>, ActivityError> {
    let conn = store.conn();
    require(conn, id)?;
    let mut out = Vec::new();
    for e in activities::list(conn, id)? {
        let name = members::get(conn, e.member)?
            .map(|m| m.name)
            .unwrap_or_default();
        out.push((e, name));
    }
    Ok(out)
}

/// The activities `member` attended since `since`, newest first (at most
/// `limit`), with a volunteer's confirmed minutes.
pub fn attended_by(
    store: &Store,
    member: MemberId,
    since: Timestamp,
    limit: u32,
) -> Result<Vec<activities::Attended>, ActivityError> {
    Ok(activities::attended_by(store.conn(), member, since, limit)?)
}

/// Where `member` stands on activity `id`'s waiting list (1: next), if
/// they wait.
pub fn waiting_turn(
    store: &Store,
    id: i64,
    member: MemberId,
) -> Result<Option<u32>, ActivityError> {
    let mut turn = 0;
    for e in activities::list(store.conn(), id)? {
        if e.standing == Standing::Waiting {
            turn += 1;
            if e.member == member {
                return Ok(Some(turn));
            }
        }
    }
    Ok(None)
}

/// The activities `member` is on the list of, not yet ended.
pub fn of_member(
    store: &Store,
    member: MemberId,
    now: Timestamp,
) -> Result<Vec<(ActivityRecord, Standing)>, ActivityError> {
    Ok(activities::of_member(store.conn(), member, now)?)
}

/// Settles every list that can move with time (open, not over, with an
/// offer or someone waiting): offers past their time lapse and move on,
/// freed places are offered. The service calls this every second; it
/// takes the write lock only when something moves. Returns the changes
/// (offers made are what a resident's phone will be told).
pub fn settle_offers(
    store: &mut Store,
    now: Timestamp,
) -> Result<Vec<(i64, rules::Change)>, ActivityError> {
    // Read first: most seconds nothing moves, and no write lock is taken.
    let policy = activities::policy(store.conn())?;
    let mut due = false;
    for r in activities::with_queue(store.conn(), now)? {
        let mut list = activities::list(store.conn(), r.id)?;
        if !rules::settle(&slot(&r), &mut list, &policy, now).is_empty() {
            due = true;
            break;
        }
    }
    if !due {
        return Ok(Vec::new());
    }
    store.write(|tx| {
        let mut out = Vec::new();
        for r in activities::with_queue(tx, now)? {
            let mut list = activities::list(tx, r.id)?;
            for change in rules::settle(&slot(&r), &mut list, &policy, now) {
                activities::write_change(tx, r.id, &change, "centre", now)?;
                out.push((r.id, change));
            }
        }
        Ok(out)
    })
}

/// Marks `day` closed (a public holiday): repeat rules skip it.
pub fn close_day(
    store: &mut Store,
    actor: Actor,
    day: Date,
    reason: &str,
    now: Timestamp,
) -> Result<(), ActivityError> {
    if reason.trim().is_empty() {
        return Err(ActivityRefusal::NoReason.into());
    }
    store.write(|tx| {
        super::staff::require(tx, actor, StaffAction::Activities)?;
        activities::close_day(tx, day, reason, &actor.audit_name(), now)?;
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "activity.closed_day",
            &format!("{day}: {}", reason.trim()),
        )?;
        Ok(())
    })
}

/// The days marked closed from `from` on, with their reasons.
pub fn closed_days(store: &Store, from: Date) -> Result<Vec<(Date, String)>, ActivityError> {
    Ok(activities::closed_days_from(store.conn(), from)?)
}

/// The held activities, their participants, distinct people and
/// volunteer minutes, of activities that started within `span`.
pub fn held_in(store: &Store, span: Span) -> Result<HeldFigures, ActivityError> {
    Ok(activities::held_in(store.conn(), span)?)
}

/// The centre's activity settings.
pub fn policy(store: &Store) -> Result<rules::ActivityPolicy, ActivityError> {
    Ok(activities::policy(store.conn())?)
}

/// Changes how long a freed place is offered (minutes) and how many days
/// before the start sign-up opens.
pub fn set_policy(
    store: &mut Store,
    actor: Actor,
    offer_minutes: u32,
    signup_opens_days: u32,
    now: Timestamp,
) -> Result<(), ActivityError> {
    use keting_core::activity::{OFFER_MINUTES_MAX, OFFER_MINUTES_MIN, SIGNUP_DAYS_MAX};
    if !(OFFER_MINUTES_MIN..=OFFER_MINUTES_MAX).contains(&offer_minutes)
        || !(1..=SIGNUP_DAYS_MAX).contains(&signup_opens_days)
    {
        return Err(ActivityRefusal::BadPolicy.into());
    }
    store.write(|tx| {
        super::staff::require(tx, actor, StaffAction::Activities)?;
        activities::set_policy(tx, offer_minutes, signup_opens_days)?;
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "activity.policy",
            &format!(
                "offers held {offer_minutes} min, sign-up opens {signup_opens_days} days before"
            ),
        )?;
        Ok(())
    })
}

/// The district's activities from today on that the centre has not
/// adopted.
pub fn from_district(
    store: &Store,
    calendar: SiteCalendar,
    now: Timestamp,
) -> Result<Vec<keting_store::district_notices::DistrictActivity>, ActivityError> {
    Ok(keting_store::district_notices::adoptable(
        store.conn(),
        &calendar.date_of(now).to_string(),
    )?)
}

/// Adopts the district's activity `msg_id` as one of the centre's: its
/// title, date, time and place as sent, `minutes` long, `capacity` places,
/// open for sign-up; it replaces the district's line on the programme.
/// Adopting it twice is refused.
pub fn adopt(
    store: &mut Store,
    actor: Actor,
    msg_id: &str,
    capacity: u32,
    minutes: u32,
    calendar: SiteCalendar,
    now: Timestamp,
) -> Result<i64, ActivityError> {
    store.write(|tx| {
        super::staff::require(tx, actor, StaffAction::Activities)?;
        let found = keting_store::district_notices::adoptable(tx, "0000-00-00")?
            .into_iter()
            .find(|a| a.msg_id == msg_id)
            .ok_or_else(|| ActivityError::UnknownNotice(msg_id.to_owned()))?;
        let day = keting_core::calendar::parse_date(&found.date)
            .map_err(|_| ActivityError::UnknownNotice(msg_id.to_owned()))?;
        let (h, m) = found
            .starts
            .split_once(':')
            .and_then(|(h, m)| Some((h.parse::<i64>().ok()?, m.parse::<i64>().ok()?)))
            .ok_or_else(|| ActivityError::UnknownNotice(msg_id.to_owned()))?;
        let starts = Timestamp::from_unix_millis(
            calendar.start_of(day).as_unix_millis() + (h * 60 + m) * 60_000,
        );
        let plan = ActivityPlan {
            title_zh: found
                .title_zh
                .chars()
                .take(keting_core::activity::TITLE_MAX_CHARS)
                .collect(),
            title_en: found
                .title_en
                .chars()
                .take(keting_core::activity::TITLE_MAX_CHARS)
                .collect(),
            room: found
                .place_zh
                .chars()
                .take(keting_core::activity::TITLE_MAX_CHARS)
                .collect(),
            starts,
            ends: starts.saturating_add(std::time::Duration::from_secs(u64::from(minutes) * 60)),
            capacity,
            kind: ActivityKind::Event,
            audience: keting_core::activity::Audience::Everyone,
            points_per_hour: 0,
            organiser_name: String::new(),
        };
        plan.validate()?;
        let origin = activities::Origin {
            organiser: actor.staff(),
            adopted_notice: Some(msg_id),
            ..activities::Origin::default()
        };
        let id = activities::insert(tx, &plan, origin, &actor.audit_name(), now)?;
        keting_store::district_notices::remove_from_programme(tx, msg_id)?;
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "activity.adopt",
            &format!("district {msg_id} as activity {id}, {capacity} places"),
        )?;
        Ok(id)
    })
}

/// Registers reader `device` in `room` (a technician's or a manager's
/// job, like any device's place).
pub fn set_reader(
    store: &mut Store,
    actor: Actor,
    device: &keting_core::ids::DeviceId,
    room: &str,
    now: Timestamp,
) -> Result<(), ActivityError> {
    let plan_room_ok = {
        let n = room.trim().chars().count();
        (1..=keting_core::activity::TITLE_MAX_CHARS).contains(&n) && !room.contains(['<', '>'])
    };
    if !plan_room_ok {
        return Err(ActivityRefusal::BadRoom.into());
    }
    store.write(|tx| {
        super::staff::require(tx, actor, StaffAction::Devices)?;
        activities::set_reader(tx, device.as_str(), room, &actor.audit_name(), now)?;
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "activity.reader",
            &format!("{device} in {}", room.trim()),
        )?;
        Ok(())
    })
}

/// Every room reader and its room.
pub fn readers(store: &Store) -> Result<Vec<(String, String)>, ActivityError> {
    Ok(activities::readers(store.conn())?)
}

/// A pass scanned at reader `device` at `at` (verified there with the site
/// key; its signature checked by the centre): counted at what is on in the
/// reader's room. A replaced card and a device that is no reader are
/// refused.
pub fn scan_at_reader(
    store: &mut Store,
    device: &keting_core::ids::DeviceId,
    member: MemberId,
    epoch: keting_core::ids::Epoch,
    at: Timestamp,
) -> Result<Attended, ActivityError> {
    let room = activities::reader_room(store.conn(), device.as_str())?
        .ok_or_else(|| ActivityError::NotAReader(device.to_string()))?;
    let m = require_member(store.conn(), member)?;
    if m.epoch != epoch {
        return Err(ActivityError::CardReplaced);
    }
    scan_in_room(store, &Via::Reader(device.to_string()), &room, member, at)
}

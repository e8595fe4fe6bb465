//! The points desk: volunteer points awarded for an activity, an award
//! reversed with a reason, balances (expiry applied when read), a member's
//! history, the ledger's zero-sum check, and the site's points policy.
//!
//! The rules are the core's (`ledger::rules`); the ledger tables refuse
//! UPDATE and DELETE, so a wrong award is undone by a reversing posting.

use keting_core::calendar::SiteCalendar;
use keting_core::ids::MemberId;
use keting_core::ledger::rules::{PointsPolicy, PointsRefusal};
use keting_core::ledger::{Account, Points};
use keting_core::staff::StaffAction;
use keting_core::time::Timestamp;
use thiserror::Error;

use super::Actor;
use keting_store::points::{self, HistoryLine};
use keting_store::{Store, StoreError, audit, members};

/// The reason recorded when staff undo an award given to the wrong person
/// (the kiosk's "undo" beside each award): the ledger's memo, in both
/// languages.
pub const WRONG_PERSON: &str = "记错人了 (wrong person, on the kiosk)";

/// Why the points desk did nothing.
#[derive(Debug, Error)]
pub enum PointsError {
    /// The ledger's rules said no (already awarded, over a cap, ...).
    #[error(transparent)]
    Refused(#[from] PointsRefusal),
    /// No such member.
    #[error("member {0} not found")]
    UnknownMember(MemberId),
    /// A policy cap that is not a positive number of points.
    #[error("{0}: caps are positive numbers of points")]
    CapNotPositive(Points),
    /// The database (an unknown posting among others).
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for PointsError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Points(r) => PointsError::Refused(r),
            other => PointsError::Store(other),
        }
    }
}

impl From<rusqlite::Error> for PointsError {
    fn from(e: rusqlite::Error) -> Self {
        PointsError::Store(e.into())
    }
}

/// An award made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Awarded {
    /// The posting's number (to reverse it).
    pub posting: i64,
    /// The member's balance after it.
    pub balance: Points,
}

fn require(conn: &rusqlite::Connection, member: MemberId) -> Result<(), PointsError> {
    members::get(conn, member)?
        .map(|_| ())
        .ok_or(PointsError::UnknownMember(member))
}

/// Awards `member` `worth` points for award occasion `occasion` today (a
/// name volunteers are awarded under, recorded once a day by name and
/// worth; a member is awarded once per occasion). A held activity's
/// volunteers are paid by `activities::close`, not here.
pub fn award(
    store: &mut Store,
    actor: Actor,
    member: MemberId,
    occasion: &str,
    worth: Points,
    calendar: SiteCalendar,
    now: Timestamp,
) -> Result<Awarded, PointsError> {
    let who = actor.audit_name();
    let day = calendar.date_of(now).to_string();
    store.write(|tx| {
        super::staff::require(tx, actor, StaffAction::Points)?;
        require(tx, member)?;
        let a = points::occasion(tx, occasion, worth, &day, &who, now)?;
        let posting = points::award(tx, member, a, &who, calendar, now)?;
        audit::record(
            tx,
            now,
            &who,
            "points.award",
            &format!("member {member} {worth} for {occasion} (posting {posting})"),
        )?;
        let balance = points::balance(tx, Account::Member(member))?;
        Ok(Awarded { posting, balance })
    })
}

/// Reverses award `posting` with `reason`; returns the reversal's number.
/// Refused when the points were spent meanwhile (no member goes below zero).
pub fn reverse(
    store: &mut Store,
    actor: Actor,
    posting: i64,
    reason: &str,
    calendar: SiteCalendar,
    now: Timestamp,
) -> Result<i64, PointsError> {
    let who = actor.audit_name();
    store.write(|tx| {
        super::staff::require(tx, actor, StaffAction::Points)?;
        let r = points::reverse(tx, posting, reason, &who, calendar, now)?;
        audit::record(
            tx,
            now,
            &who,
            "points.reverse",
            &format!("posting {posting}: {} (posting {r})", reason.trim()),
        )?;
        Ok(r)
    })
}

/// A member's balance now: points past their lifetime expire first (the
/// number that did is returned beside the balance).
pub fn balance(
    store: &mut Store,
    member: MemberId,
    calendar: SiteCalendar,
    now: Timestamp,
) -> Result<(Points, Points), PointsError> {
    store.write(|tx| {
        require(tx, member)?;
        let policy = points::policy(tx)?;
        let expired = points::expire_due(tx, member, &policy, calendar, now)?;
        Ok((expired, points::balance(tx, Account::Member(member))?))
    })
}

/// A member's balance as the ledger holds it, expiring nothing (the
/// screen shows it as a redemption settles: its hold already expired what
/// was due).
pub fn balance_as_held(store: &Store, member: MemberId) -> Result<Points, PointsError> {
    Ok(points::balance(store.conn(), Account::Member(member))?)
}

/// What of a member's balance will expire after `now` and when, if they
/// neither spend nor earn meanwhile.
pub fn expiry_schedule(
    store: &Store,
    member: MemberId,
    now: Timestamp,
) -> Result<Vec<(Timestamp, Points)>, PointsError> {
    require(store.conn(), member)?;
    let policy = points::policy(store.conn())?;
    Ok(points::expiry_schedule(store.conn(), member, &policy, now)?)
}

/// A member's newest `limit` postings, newest first.
pub fn history(
    store: &Store,
    member: MemberId,
    limit: u32,
) -> Result<Vec<HistoryLine>, PointsError> {
    require(store.conn(), member)?;
    Ok(points::history(store.conn(), member, limit)?)
}

/// The newest `limit` award occasions by name and worth, to award again.
pub fn recent_occasions(store: &Store, limit: u32) -> Result<Vec<(String, Points)>, PointsError> {
    Ok(points::recent_occasions(store.conn(), limit)?)
}

/// Every account's balance, and their sum (zero when the ledger balances).
pub fn ledger(store: &Store) -> Result<(Vec<(String, Points)>, Points), PointsError> {
    let all = points::balances(store.conn())?;
    let sum = all.iter().map(|(_, b)| b).sum();
    Ok((all, sum))
}

/// A change to the site's points policy; `None` keeps a value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PolicyChange {
    /// The most one award may give.
    pub max_award: Option<Points>,
    /// The most a member may earn in a day.
    pub daily_earn_cap: Option<Points>,
    /// The most a member may spend in a day.
    pub daily_spend_cap: Option<Points>,
    /// Points expire after this many months (a month is 365/12 days).
    pub expiry_months: Option<u32>,
}

impl PolicyChange {
    fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// The site's points policy, changed first if `change` changes anything
/// (audited).
pub fn policy(
    store: &mut Store,
    actor: Actor,
    change: PolicyChange,
    now: Timestamp,
) -> Result<PointsPolicy, PointsError> {
    store.write(|tx| {
        super::staff::require(tx, actor, StaffAction::ManageStaff)?;
        let mut p = points::policy(tx)?;
        if change.is_empty() {
            return Ok(p);
        }
        for v in [
            change.max_award,
            change.daily_earn_cap,
            change.daily_spend_cap,
        ]
        .into_iter()
        .flatten()
        {
            if v <= 0 {
                return Err(PointsError::CapNotPositive(v));
            }
        }
        p.max_award = change.max_award.unwrap_or(p.max_award);
        p.daily_earn_cap = change.daily_earn_cap.unwrap_or(p.daily_earn_cap);
        p.daily_spend_cap = change.daily_spend_cap.unwrap_or(p.daily_spend_cap);
        if let Some(m) = change.expiry_months {
            // A month is 365/12 days: 12 months is 365 days.
            p.lifetime = std::time::Duration::from_secs(u64::from(m) * 365 / 12 * 24 * 3600);
        }
        points::set_policy(tx, &p)?;
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "points.policy",
            &format!("{p:?}"),
        )?;
        Ok(p)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use keting_store::members::NewMember;

    #[test]
    fn an_award_twice_for_one_activity_is_refused_as_such_and_a_reversal_names_its_actor() {
        let mut store = Store::open_in_memory().unwrap();
        let cal = SiteCalendar::china();
        let now = Timestamp::from_unix_millis(1_800_000_000_000);
        let m = store
            .write(|tx| members::add(tx, &NewMember::new("张伟", None, &[]).unwrap(), now))
            .unwrap();
        let desk_staff =
            super::super::staff::staff_for_tests(&mut store, keting_core::staff::StaffRole::Staff);
        let a = award(
            &mut store,
            Actor::Staff(desk_staff),
            m,
            "图书整理",
            10,
            cal,
            now,
        )
        .unwrap();
        assert_eq!(a.balance, 10);
        let again = award(&mut store, Actor::CommandLine, m, "图书整理", 10, cal, now);
        assert!(
            matches!(
                again,
                Err(PointsError::Refused(PointsRefusal::AlreadyAwarded))
            ),
            "{again:?}"
        );
        reverse(
            &mut store,
            Actor::Staff(desk_staff),
            a.posting,
            "wrong person",
            cal,
            now,
        )
        .unwrap();
        assert_eq!(balance(&mut store, m, cal, now).unwrap(), (0, 0));
        assert_eq!(ledger(&store).unwrap().1, 0);
        let log = audit::recent(store.conn(), 1).unwrap();
        assert_eq!(
            (log[0].actor.clone(), log[0].action.as_str()),
            (format!("staff:{desk_staff}"), "points.reverse")
        );
        assert!(matches!(
            policy(
                &mut store,
                Actor::CommandLine,
                PolicyChange {
                    max_award: Some(0),
                    ..Default::default()
                },
                now
            ),
            Err(PointsError::CapNotPositive(0))
        ));
    }
}

//! The gym desk: paid months (月付制) granted, extended and ended.
//!
//! The doors get the new roster within a poll interval of the commit (the
//! service notices the database change); nothing here talks to a door.

use keting_core::calendar::SiteCalendar;
use keting_core::door::access::extend_paid_month;
use keting_core::ids::MemberId;
use keting_core::staff::StaffAction;
use keting_core::time::Timestamp;
use thiserror::Error;
use time::Date;

use super::Actor;
use keting_store::gym::{self, GymMember};
use keting_store::{Store, StoreError, audit, members};

/// Why the gym desk did nothing.
#[derive(Debug, Error)]
pub enum GymError {
    /// No such member.
    #[error("member {0} not found")]
    UnknownMember(MemberId),
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for GymError {
    fn from(e: rusqlite::Error) -> Self {
        GymError::Store(e.into())
    }
}

/// A member's paid month after a grant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GymPaid {
    /// The member's display name.
    pub name: String,
    /// The last paid day.
    pub until: Date,
}

/// What ending a membership did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GymEnded {
    /// The member had a paid month; it is gone (day hours only now).
    Ended {
        /// The member's display name.
        name: String,
    },
    /// The member had none; nothing changed.
    HadNone {
        /// The member's display name.
        name: String,
    },
}

fn require(conn: &rusqlite::Connection, member: MemberId) -> Result<String, GymError> {
    members::get(conn, member)?
        .map(|m| m.name)
        .ok_or(GymError::UnknownMember(member))
}

/// Records that `member` has paid up to `until`, replacing any earlier date.
pub fn grant(
    store: &mut Store,
    actor: Actor,
    member: MemberId,
    until: Date,
    now: Timestamp,
) -> Result<GymPaid, GymError> {
    store.write(|tx| {
        super::staff::require(tx, actor, StaffAction::GymMonths)?;
        paid_to(tx, actor, member, |_| until, now)
    })
}

/// Extends `member`'s paid month by one month from where it ends (or from
/// today, if it ended or never began): the staff page's one tap.
pub fn extend_month(
    store: &mut Store,
    actor: Actor,
    member: MemberId,
    calendar: SiteCalendar,
    now: Timestamp,
) -> Result<GymPaid, GymError> {
    let today = calendar.date_of(now);
    store.write(|tx| {
        super::staff::require(tx, actor, StaffAction::GymMonths)?;
        paid_to(
            tx,
            actor,
            member,
            |current| extend_paid_month(current, today),
            now,
        )
    })
}

/// Sets `member`'s last paid day to `until(current last paid day)`, audited.
fn paid_to(
    tx: &rusqlite::Connection,
    actor: Actor,
    member: MemberId,
    until: impl FnOnce(Option<Date>) -> Date,
    now: Timestamp,
) -> Result<GymPaid, GymError> {
    let name = require(tx, member)?;
    let current =
        gym::paid_until(tx, member)?.and_then(|d| keting_core::calendar::parse_date(&d).ok());
    let until = until(current);
    gym::grant(tx, member, until, now)?;
    let detail = format!("member {member} paid until {until}");
    audit::record(tx, now, &actor.audit_name(), "gym.grant", &detail)?;
    Ok(GymPaid { name, until })
}

/// Ends `member`'s gym membership. Audited either way: a staff member who
/// tapped "end" is named even when there was nothing to end.
pub fn revoke(
    store: &mut Store,
    actor: Actor,
    member: MemberId,
    now: Timestamp,
) -> Result<GymEnded, GymError> {
    store.write(|tx| {
        super::staff::require(tx, actor, StaffAction::GymMonths)?;
        let name = require(tx, member)?;
        let had = gym::revoke(tx, member)?;
        let detail = if had {
            format!("member {member}")
        } else {
            format!("member {member} (had no gym membership)")
        };
        audit::record(tx, now, &actor.audit_name(), "gym.revoke", &detail)?;
        Ok(if had {
            GymEnded::Ended { name }
        } else {
            GymEnded::HadNone { name }
        })
    })
}

/// Every gym member with their paid month, by name.
pub fn list(store: &Store) -> Result<Vec<GymMember>, GymError> {
    Ok(gym::list(store.conn())?)
}

/// The member's last paid day, if any.
pub fn paid_until(store: &Store, member: MemberId) -> Result<Option<String>, GymError> {
    Ok(gym::paid_until(store.conn(), member)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use keting_store::members::NewMember;

    fn store_with_member() -> (Store, MemberId) {
        let mut store = Store::open_in_memory().unwrap();
        let id = store
            .write(|tx| {
                members::add(
                    tx,
                    &NewMember::new("王秀英", None, &[]).unwrap(),
                    Timestamp::from_unix_millis(0),
                )
            })
            .unwrap();
        (store, id)
    }

    fn audit_actions(store: &Store) -> Vec<(String, String)> {
        audit::recent(store.conn(), 10)
            .unwrap()
            .into_iter()
            .map(|e| (e.actor, e.action))
            .collect()
    }

    #[test]
    fn a_revoke_is_audited_with_its_actor_whether_or_not_there_was_a_month() {
        let (mut store, id) = store_with_member();
        let now = Timestamp::from_unix_millis(1_000);
        let ended = revoke(&mut store, Actor::CommandLine, id, now).unwrap();
        assert_eq!(
            ended,
            GymEnded::HadNone {
                name: "王秀英".into()
            }
        );
        let until = keting_core::calendar::parse_date("2026-12-31").unwrap();
        let desk_staff =
            super::super::staff::staff_for_tests(&mut store, keting_core::staff::StaffRole::Staff);
        grant(&mut store, Actor::Staff(desk_staff), id, until, now).unwrap();
        let ended = revoke(&mut store, Actor::Staff(desk_staff), id, now).unwrap();
        assert_eq!(
            ended,
            GymEnded::Ended {
                name: "王秀英".into()
            }
        );
        assert_eq!(
            audit_actions(&store),
            vec![
                (format!("staff:{desk_staff}"), "gym.revoke".into()),
                (format!("staff:{desk_staff}"), "gym.grant".into()),
                ("command-line".into(), "staff.role".into()),
                ("command-line".into(), "gym.revoke".into()),
            ]
        );
    }

    #[test]
    fn an_unknown_member_is_refused_and_nothing_is_written() {
        let (mut store, _) = store_with_member();
        let now = Timestamp::from_unix_millis(1_000);
        let until = keting_core::calendar::parse_date("2026-12-31").unwrap();
        assert!(matches!(
            grant(&mut store, Actor::CommandLine, MemberId(99), until, now),
            Err(GymError::UnknownMember(MemberId(99)))
        ));
        assert!(audit_actions(&store).is_empty());
    }
}

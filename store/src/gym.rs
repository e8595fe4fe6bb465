//! Gym memberships: who has paid the month (月付制), up to which day.
//!
//! The door roster is built from here and from the members' epochs: every
//! member may enter in day hours, members with a paid month also at night.

use keting_core::ids::MemberId;
use keting_core::roster::RosterMember;
use keting_core::time::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};
use time::Date;

use super::StoreError;
use super::members;

/// One gym member as staff see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GymMember {
    /// The member.
    pub id: MemberId,
    /// Their display name.
    pub name: String,
    /// The last paid day, `YYYY-MM-DD`.
    pub paid_until: String,
}

/// Records that `member` has paid up to `until`, replacing any earlier
/// date. The member must exist.
pub fn grant(
    conn: &Connection,
    member: MemberId,
    until: Date,
    now: Timestamp,
) -> Result<(), StoreError> {
    let until = until.to_string();
    members::require(conn, member)?;
    conn.execute(
        "INSERT INTO gym_memberships (member_id, paid_until, granted_ms) VALUES (?1, ?2, ?3)
         ON CONFLICT (member_id) DO UPDATE SET paid_until = excluded.paid_until, granted_ms = excluded.granted_ms",
        params![member.0, until, now.as_unix_millis()],
    )?;
    Ok(())
}

/// Ends `member`'s gym membership; returns whether there was one.
pub fn revoke(conn: &Connection, member: MemberId) -> Result<bool, StoreError> {
    members::require(conn, member)?;
    Ok(conn.execute(
        "DELETE FROM gym_memberships WHERE member_id = ?1",
        [member.0],
    )? > 0)
}

/// The member's paid-until date, if any.
pub fn paid_until(conn: &Connection, member: MemberId) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT paid_until FROM gym_memberships WHERE member_id = ?1",
            [member.0],
            |r| r.get(0),
        )
        .optional()?)
}

/// Every gym member, by name.
pub fn list(conn: &Connection) -> Result<Vec<GymMember>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT m.id, m.display_name, g.paid_until FROM gym_memberships g JOIN members m ON m.id = g.member_id
         ORDER BY m.display_name, m.id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(GymMember {
            id: MemberId(r.get(0)?),
            name: r.get(1)?,
            paid_until: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The door roster's members: everyone, with their epoch and paid month.
pub fn roster_members(conn: &Connection) -> Result<Vec<RosterMember>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT m.id, m.epoch, g.paid_until FROM members m LEFT JOIN gym_memberships g ON g.member_id = m.id
         ORDER BY m.id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(RosterMember {
            member: MemberId(r.get(0)?),
            epoch: keting_core::ids::Epoch(r.get(1)?),
            paid_until: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;
    use crate::members::{NewMember, Role};
    use keting_core::calendar::parse_date;

    #[test]
    fn grant_replaces_revoke_ends_and_the_roster_follows() {
        let store = Store::open_in_memory().unwrap();
        let c = store.conn();
        let t = Timestamp::from_unix_millis(0);
        let a = members::add(c, &NewMember::new("甲", None, &[Role::Gym]).unwrap(), t).unwrap();
        members::add(
            c,
            &NewMember::new("乙", None, &[Role::Resident]).unwrap(),
            t,
        )
        .unwrap();
        let day = |s: &str| parse_date(s).unwrap();
        grant(c, a, day("2026-11-30"), t).unwrap();
        grant(c, a, day("2026-12-31"), t).unwrap();
        assert_eq!(paid_until(c, a).unwrap().as_deref(), Some("2026-12-31"));
        let roster = roster_members(c).unwrap();
        assert_eq!(roster.len(), 2);
        assert_eq!(roster[0].paid_until.as_deref(), Some("2026-12-31"));
        assert_eq!(roster[1].paid_until, None);
        assert!(revoke(c, a).unwrap());
        assert!(!revoke(c, a).unwrap());
        assert!(list(c).unwrap().is_empty());
        assert!(parse_date("2026-02-30").is_err(), "a date that is not one");
        assert!(matches!(
            grant(c, MemberId(99), day("2026-12-31"), t),
            Err(StoreError::NotFound(_))
        ));
    }
}

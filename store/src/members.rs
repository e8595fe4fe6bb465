//! Members: the residents, volunteers, gym members and staff a site knows.
//!
//! A member has a display name (shown on the welcome screen), optionally the
//! last four digits of a phone number (so staff can tell two 王秀英 apart,
//! without storing the whole number), roles, and an epoch: revoking a member's
//! pass bumps the epoch, and only passes of the current epoch are honoured.

use std::fmt;
use std::str::FromStr;

use keting_core::checkin::MemberStanding;
use keting_core::ids::{Epoch, MemberId};
use keting_core::time::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;

/// The longest display name, in characters.
pub const NAME_MAX_CHARS: usize = 40;

/// What a member may do; entitlements are looked up here, never put in a pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// A resident: check-in, day-time services.
    Resident,
    /// A volunteer who earns points.
    Volunteer,
    /// A gym member.
    Gym,
    /// Centre staff.
    Staff,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 4] = [Role::Resident, Role::Volunteer, Role::Gym, Role::Staff];

    /// The role's name as stored and typed.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Resident => "resident",
            Role::Volunteer => "volunteer",
            Role::Gym => "gym",
            Role::Staff => "staff",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role {s:?}; roles are resident, volunteer, gym, staff"))
    }
}

/// Why a new member's details were refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NewMemberError {
    /// No name.
    #[error("a member's name cannot be empty")]
    EmptyName,
    /// Longer than [`NAME_MAX_CHARS`].
    #[error("a member's name has at most {NAME_MAX_CHARS} characters")]
    NameTooLong,
    /// A control character in the name.
    #[error("a member's name cannot contain control characters")]
    ControlCharacters,
    /// `<` or `>` in the name: markup, not a name.
    #[error("a member's name cannot contain < or >")]
    Markup,
    /// Not four digits.
    #[error("the phone tail is the last 4 digits of a phone number, got {0:?}")]
    PhoneTail(String),
}

/// A member to be added, validated by [`NewMember::new`].
#[derive(Clone, Debug)]
pub struct NewMember {
    name: String,
    phone_tail: Option<String>,
    roles: Vec<Role>,
}

impl NewMember {
    /// Validates a new member: a name of 1 to 40 characters without control
    /// characters, and if given, exactly four digits of a phone number.
    pub fn new(
        name: &str,
        phone_tail: Option<&str>,
        roles: &[Role],
    ) -> Result<Self, NewMemberError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(NewMemberError::EmptyName);
        }
        if name.chars().count() > NAME_MAX_CHARS {
            return Err(NewMemberError::NameTooLong);
        }
        if name.chars().any(char::is_control) {
            return Err(NewMemberError::ControlCharacters);
        }
        if name.contains(['<', '>']) {
            return Err(NewMemberError::Markup);
        }
        let phone_tail = match phone_tail.map(str::trim) {
            None => None,
            Some(t) if t.len() == 4 && t.bytes().all(|b| b.is_ascii_digit()) => Some(t.to_owned()),
            Some(t) => return Err(NewMemberError::PhoneTail(t.to_owned())),
        };
        let mut roles = if roles.is_empty() {
            vec![Role::Resident]
        } else {
            roles.to_vec()
        };
        roles.sort();
        roles.dedup();
        Ok(Self {
            name: name.to_owned(),
            phone_tail,
            roles,
        })
    }
}

/// A member as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The member's number.
    pub id: MemberId,
    /// The name shown on screen.
    pub name: String,
    /// The last four digits of a phone number, if given.
    pub phone_tail: Option<String>,
    /// What the member may do.
    pub roles: Vec<Role>,
    /// The current pass epoch.
    pub epoch: Epoch,
    /// When the member was added.
    pub created: Timestamp,
}

/// Adds a member at epoch 0.
pub fn add(conn: &Connection, new: &NewMember, now: Timestamp) -> Result<MemberId, StoreError> {
    conn.execute(
        "INSERT INTO members (display_name, phone_tail, epoch, created_ms) VALUES (?1, ?2, 0, ?3)",
        params![new.name, new.phone_tail, now.as_unix_millis()],
    )?;
    let id = u32::try_from(conn.last_insert_rowid())
        .map_err(|_| StoreError::Exhausted("member numbers"))?;
    let mut insert_role =
        conn.prepare_cached("INSERT INTO member_roles (member_id, role) VALUES (?1, ?2)")?;
    for role in &new.roles {
        insert_role.execute(params![id, role.as_str()])?;
    }
    if new.roles.contains(&Role::Staff) {
        // Staff, with the front desk's role and no PIN yet: the staff page
        // stays shut to their card until a PIN is set (`kiosk staff pin`).
        super::staff_access::set_role(
            conn,
            MemberId(id),
            keting_core::staff::StaffRole::Staff,
            now,
        )?;
    }
    Ok(MemberId(id))
}

/// The member with this id.
pub fn get(conn: &Connection, id: MemberId) -> Result<Option<Member>, StoreError> {
    let row = conn
        .query_row(
            "SELECT display_name, phone_tail, epoch, created_ms FROM members WHERE id = ?1",
            [id.0],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, u32>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            },
        )
        .optional()?;
    let Some((name, phone_tail, epoch, created)) = row else {
        return Ok(None);
    };
    Ok(Some(Member {
        id,
        name,
        phone_tail,
        roles: roles(conn, id)?,
        epoch: Epoch(epoch),
        created: Timestamp::from_unix_millis(created),
    }))
}

/// The member, or a clear "not found" error.
pub fn require(conn: &Connection, id: MemberId) -> Result<Member, StoreError> {
    get(conn, id)?.ok_or_else(|| StoreError::NotFound(format!("member {id}")))
}

fn roles(conn: &Connection, id: MemberId) -> Result<Vec<Role>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT role FROM member_roles WHERE member_id = ?1")?;
    let names = stmt
        .query_map([id.0], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    let mut roles = names
        .iter()
        .map(|n| n.parse().map_err(StoreError::Corrupt))
        .collect::<Result<Vec<Role>, _>>()?;
    roles.sort();
    Ok(roles)
}

/// Every member, by number.
pub fn list(conn: &Connection) -> Result<Vec<Member>, StoreError> {
    let mut stmt = conn.prepare("SELECT id FROM members ORDER BY id")?;
    let ids = stmt
        .query_map([], |r| r.get::<_, u32>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    ids.into_iter()
        .map(|id| require(conn, MemberId(id)))
        .collect()
}

/// Every member's number and epoch in force (what a fallback code is
/// checked against).
pub fn epochs(conn: &Connection) -> Result<Vec<(MemberId, Epoch)>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT id, epoch FROM members ORDER BY id")?;
    let rows = stmt.query_map([], |r| Ok((MemberId(r.get(0)?), Epoch(r.get(1)?))))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The member's name and what check-in needs to know of them.
pub fn standing(
    conn: &Connection,
    id: MemberId,
) -> Result<Option<(String, MemberStanding)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.display_name, m.epoch,
                (SELECT max(at_ms) FROM checkins c WHERE c.member_id = m.id AND c.counted = 1)
         FROM members m WHERE m.id = ?1",
    )?;
    let row = stmt
        .query_row([id.0], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, u32>(1)?,
                r.get::<_, Option<i64>>(2)?,
            ))
        })
        .optional()?;
    Ok(row.map(|(name, epoch, last)| {
        (
            name,
            MemberStanding {
                epoch: Epoch(epoch),
                last_counted_visit: last.map(Timestamp::from_unix_millis),
            },
        )
    }))
}

/// The name a member's record keeps once their personal data is deleted.
pub const ERASED_NAME: &str = "（已删除）";

/// Deletes a member's personal data: the name becomes [`ERASED_NAME`], the
/// phone tail, the roles and any staff access go. The number stays, so the
/// visits, the ledger and the bookings that name it stay whole.
pub fn erase_personal(conn: &Connection, id: MemberId) -> Result<(), StoreError> {
    require(conn, id)?;
    conn.execute(
        "UPDATE members SET display_name = ?1, phone_tail = NULL WHERE id = ?2",
        params![ERASED_NAME, id.0],
    )?;
    conn.execute("DELETE FROM member_roles WHERE member_id = ?1", [id.0])?;
    conn.execute("DELETE FROM staff_access WHERE member_id = ?1", [id.0])?;
    Ok(())
}

/// Revokes the member's passes: bumps the epoch and returns the new one.
pub fn bump_epoch(conn: &Connection, id: MemberId) -> Result<Epoch, StoreError> {
    let member = require(conn, id)?;
    let next = member
        .epoch
        .next()
        .ok_or(StoreError::Exhausted("a card's reissues"))?;
    conn.execute(
        "UPDATE members SET epoch = ?1 WHERE id = ?2",
        params![next.0, id.0],
    )?;
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;

    #[test]
    fn validation() {
        assert!(NewMember::new("王秀英", Some("1234"), &[]).is_ok());
        assert!(NewMember::new("  李玥  ", None, &[Role::Gym, Role::Gym]).is_ok());
        for (name, tail) in [
            ("", None),
            ("   ", None),
            ("a\u{7}b", None),
            ("王", Some("12a4")),
            ("王", Some("12345")),
        ] {
            assert!(
                NewMember::new(name, tail, &[]).is_err(),
                "{name:?} {tail:?}"
            );
        }
        assert!(NewMember::new(&"长".repeat(41), None, &[]).is_err());
        assert!(NewMember::new(&"长".repeat(40), None, &[]).is_ok());
    }

    #[test]
    fn add_get_revoke() {
        let store = Store::open_in_memory().unwrap();
        let conn = store.conn();
        let new = NewMember::new(" 李玥 ", Some("0042"), &[Role::Volunteer, Role::Gym]).unwrap();
        let id = add(conn, &new, Timestamp::from_unix_millis(5)).unwrap();
        let m = require(conn, id).unwrap();
        assert_eq!(
            (m.name.as_str(), m.phone_tail.as_deref(), m.epoch),
            ("李玥", Some("0042"), Epoch(0))
        );
        assert_eq!(m.roles, vec![Role::Volunteer, Role::Gym]);
        assert_eq!(bump_epoch(conn, id).unwrap(), Epoch(1));
        assert_eq!(require(conn, id).unwrap().epoch, Epoch(1));
        assert!(matches!(
            bump_epoch(conn, MemberId(99)),
            Err(StoreError::NotFound(_))
        ));
    }
}

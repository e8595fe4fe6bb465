//! Staff roles and PINs: the role, the PIN's Argon2id hash (never the PIN),
//! the wrong tries in a row and the lock they may have earned.

use keting_core::ids::MemberId;
use keting_core::staff::{PinAttempts, StaffRole};
use keting_core::time::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;

/// One staff member's access.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffAccess {
    /// The member.
    pub member: MemberId,
    /// Their role.
    pub role: StaffRole,
    /// The PIN's Argon2id PHC string, if a PIN is set.
    pub pin_hash: Option<String>,
    /// Wrong tries and lock at the kiosk's staff page (card and PIN).
    pub attempts: PinAttempts,
    /// Wrong tries and lock on the dashboard (a browser anywhere on the
    /// LAN): kept apart, so nobody can lock a card at the kiosk from a
    /// browser.
    pub web_attempts: PinAttempts,
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StaffAccess> {
    let role: String = r.get(1)?;
    Ok(StaffAccess {
        member: MemberId(r.get(0)?),
        role: StaffRole::parse(&role).unwrap_or(StaffRole::Observer),
        pin_hash: r.get(2)?,
        attempts: PinAttempts {
            wrong: r.get(3)?,
            locked_until_ms: r.get(4)?,
        },
        web_attempts: PinAttempts {
            wrong: r.get(5)?,
            locked_until_ms: r.get(6)?,
        },
    })
}

const COLUMNS: &str =
    "member_id, role, pin_hash, wrong_pins, locked_until_ms, web_wrong, web_locked_until_ms";

/// `member`'s access, if they have any.
pub fn get(conn: &Connection, member: MemberId) -> Result<Option<StaffAccess>, StoreError> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM staff_access WHERE member_id = ?1"),
            [member.0],
            row,
        )
        .optional()?)
}

/// Every staff member's access, by member number.
pub fn list(conn: &Connection) -> Result<Vec<StaffAccess>, StoreError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM staff_access ORDER BY member_id"
    ))?;
    let rows = stmt.query_map([], row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Gives `member` `role` (keeping a PIN already set).
pub fn set_role(
    conn: &Connection,
    member: MemberId,
    role: StaffRole,
    now: Timestamp,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO staff_access (member_id, role, updated_ms) VALUES (?1, ?2, ?3)
         ON CONFLICT (member_id) DO UPDATE SET role = excluded.role, updated_ms = excluded.updated_ms",
        params![member.0, role.as_str(), now.as_unix_millis()],
    )?;
    Ok(())
}

/// Sets `member`'s PIN hash and clears their wrong tries and lock.
pub fn set_pin_hash(
    conn: &Connection,
    member: MemberId,
    hash: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    set_secret_hash(conn, "pin_hash", member, hash, now)
}

/// Sets `column` (`pin_hash` or `password_hash`) and clears the tries and lock.
fn set_secret_hash(
    conn: &Connection,
    column: &str,
    member: MemberId,
    hash: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    let n = conn.execute(
        &format!(
            "UPDATE staff_access SET {column} = ?2, wrong_pins = 0, locked_until_ms = NULL,
                 web_wrong = 0, web_locked_until_ms = NULL, updated_ms = ?3
             WHERE member_id = ?1"
        ),
        params![member.0, hash, now.as_unix_millis()],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("staff member {member}")));
    }
    Ok(())
}

/// Sets `member`'s dashboard password hash and clears their wrong tries and lock.
pub fn set_password_hash(
    conn: &Connection,
    member: MemberId,
    hash: &str,
    now: Timestamp,
) -> Result<(), StoreError> {
    set_secret_hash(conn, "password_hash", member, hash, now)
}

/// `member`'s dashboard password hash, if one is set.
pub fn password_hash(conn: &Connection, member: MemberId) -> Result<Option<String>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT password_hash FROM staff_access WHERE member_id = ?1",
            [member.0],
            |r| r.get(0),
        )
        .optional()?
        .flatten())
}

/// The staff members whose name is exactly `name`.
pub fn named(conn: &Connection, name: &str) -> Result<Vec<MemberId>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.member_id FROM staff_access s JOIN members m ON m.id = s.member_id
         WHERE m.display_name = ?1 ORDER BY s.member_id",
    )?;
    let rows = stmt.query_map([name], |r| Ok(MemberId(r.get(0)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Writes `member`'s tries after a PIN was entered.
pub fn set_attempts(
    conn: &Connection,
    member: MemberId,
    attempts: PinAttempts,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE staff_access SET wrong_pins = ?2, locked_until_ms = ?3 WHERE member_id = ?1",
        params![member.0, attempts.wrong, attempts.locked_until_ms],
    )?;
    Ok(())
}

/// Records `member`'s wrong tries and lock on the dashboard.
pub fn set_web_attempts(
    conn: &Connection,
    member: MemberId,
    attempts: PinAttempts,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE staff_access SET web_wrong = ?2, web_locked_until_ms = ?3 WHERE member_id = ?1",
        params![member.0, attempts.wrong, attempts.locked_until_ms],
    )?;
    Ok(())
}

/// Takes `member`'s staff access away.
pub fn remove(conn: &Connection, member: MemberId) -> Result<bool, StoreError> {
    Ok(conn.execute("DELETE FROM staff_access WHERE member_id = ?1", [member.0])? > 0)
}

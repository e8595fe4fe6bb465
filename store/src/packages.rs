//! Course packages sold at the desk: N sessions of a kind of resource
//! until a date. The sessions used are counted from the bookings that
//! spent one (and did not give it back), never kept as a number that could
//! drift from them.

use keting_core::booking::{Package, ResourceKind};
use keting_core::ids::MemberId;
use keting_core::time::Timestamp;
use rusqlite::{Connection, params};

use thiserror::Error;

use super::{StoreError, members};

/// Why a course package was not sold.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum PackageRefusal {
    /// Fewer than 1 or more than 100 sessions.
    #[error("a package has 1 to 100 sessions, not {0}")]
    Sessions(u16),
    /// An expiry date already past.
    #[error("the package's expiry date is in the past")]
    ExpiryPast,
}

/// Sells `member` a package of `sessions` sessions of `kind`, valid until
/// `expires`; returns its id.
pub fn sell(
    conn: &Connection,
    member: MemberId,
    kind: ResourceKind,
    sessions: u16,
    expires: Timestamp,
    sold_by: &str,
    now: Timestamp,
) -> Result<i64, StoreError> {
    members::require(conn, member)?;
    if !(1..=100).contains(&sessions) {
        return Err(PackageRefusal::Sessions(sessions).into());
    }
    if expires <= now {
        return Err(PackageRefusal::ExpiryPast.into());
    }
    conn.execute(
        "INSERT INTO packages (member_id, kind, sessions, expires_ms, sold_by, created_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            member.0,
            kind.as_str(),
            sessions,
            expires.as_unix_millis(),
            sold_by,
            now.as_unix_millis()
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Packages sold in `[from, to)`, per kind: (kind, packages, sessions).
pub fn sold_between(
    conn: &Connection,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<(ResourceKind, u32, u32)>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT kind, count(*), sum(sessions) FROM packages
         WHERE created_ms >= ?1 AND created_ms < ?2 GROUP BY kind ORDER BY kind",
    )?;
    let rows = stmt.query_map(params![from.as_unix_millis(), to.as_unix_millis()], |r| {
        Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (kind, n, sessions) = row?;
        let kind = ResourceKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("a package's kind {kind:?}")))?;
        out.push((kind, n, sessions));
    }
    Ok(out)
}

/// `member`'s packages for `kind` (every kind if `None`), oldest first,
/// with the sessions used.
pub fn of_member(
    conn: &Connection,
    member: MemberId,
    kind: Option<ResourceKind>,
) -> Result<Vec<Package>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT p.id, p.kind, p.sessions, p.expires_ms,
                (SELECT count(*) FROM bookings b WHERE b.package_id = p.id AND b.returned = 0)
         FROM packages p WHERE p.member_id = ?1 AND (?2 IS NULL OR p.kind = ?2) ORDER BY p.id",
    )?;
    let rows = stmt.query_map(params![member.0, kind.map(ResourceKind::as_str)], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, u16>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, u16>(4)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, k, sessions, expires, used) = row?;
        out.push(Package {
            id,
            member,
            kind: ResourceKind::parse(&k)
                .ok_or_else(|| StoreError::Corrupt(format!("package {id}: kind {k:?}")))?,
            sessions,
            used,
            expires: Timestamp::from_unix_millis(expires),
        });
    }
    Ok(out)
}

//! The check-in log: every scan at the kiosk, accepted or not.
//!
//! A row's `counted` flag marks the scans that are visits (the first of a
//! member's scans within the repeat window); the reports count those. Denied
//! scans keep their reason code, so staff can see how often, say, revoked
//! passes are still used.

use keting_core::checkin::{CheckInDecision, DenyReason};
use keting_core::ids::MemberId;
use keting_core::time::Timestamp;
use rusqlite::{Connection, params};

use super::StoreError;

/// The number of a row in the check-in log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CheckinId(pub i64);

/// Where a scan came from: the screen's scanner, a demo tap, the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScanSource {
    /// The USB scanner at the kiosk.
    Scanner,
    /// A tap on a demo resident.
    DemoTap,
    /// `kiosk checkin` on the command line.
    CommandLine,
}

impl ScanSource {
    /// The name stored in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            ScanSource::Scanner => "scanner",
            ScanSource::DemoTap => "demo-tap",
            ScanSource::CommandLine => "command-line",
        }
    }
}

/// Appends one decided scan to the log. `member` is who the pass named, if
/// it was a valid pass of this site (known or not).
pub fn insert(
    conn: &Connection,
    at: Timestamp,
    member: Option<MemberId>,
    decision: &CheckInDecision,
    source: ScanSource,
) -> Result<CheckinId, StoreError> {
    let (accepted, counted, reason) = match decision {
        CheckInDecision::Accepted { counted, .. } => (true, *counted, None),
        CheckInDecision::Denied(r) => (false, false, Some(r.code())),
    };
    // A pass of an unknown member names no row of `members`: keep the id out.
    let member = match decision {
        CheckInDecision::Denied(DenyReason::UnknownMember) => None,
        _ => member,
    };
    let mut stmt = conn.prepare_cached(
        "INSERT INTO checkins (at_ms, member_id, accepted, counted, reason, source) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    stmt.execute(params![
        at.as_unix_millis(),
        member.map(|m| m.0),
        accepted,
        counted,
        reason,
        source.as_str()
    ])?;
    Ok(CheckinId(conn.last_insert_rowid()))
}

/// When the newest visit recorded was: the time a right clock cannot be
/// behind. Refused scans are left out, as they are recorded whatever the
/// clock reads.
pub fn newest_visit_at(conn: &Connection) -> Result<Option<Timestamp>, StoreError> {
    let newest: Option<i64> = conn.query_row(
        "SELECT max(at_ms) FROM checkins WHERE counted = 1",
        [],
        |r| r.get(0),
    )?;
    Ok(newest.map(Timestamp::from_unix_millis))
}

/// Whether a check-in row exists (used to prove acknowledged scans survived).
pub fn exists(conn: &Connection, id: CheckinId) -> Result<bool, StoreError> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM checkins WHERE id = ?1)",
        [id.0],
        |r| r.get(0),
    )?)
}

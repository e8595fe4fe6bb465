//! What the district told this centre (migration 17), each message applied
//! once by its id in one transaction: an announcement kept for the home
//! page until its end, an activity added to the programme on its day, a
//! card lost at another centre recorded so a district pass of it is
//! refused. A message seen before changes nothing.

use keting_core::district::{DownlinkKind, DownlinkMessage};
use keting_core::time::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;

/// Applies `m` unless it was applied before; whether it was new.
pub fn apply(conn: &Connection, m: &DownlinkMessage, now: Timestamp) -> Result<bool, StoreError> {
    let (kind, zh, en, until) = match &m.message {
        DownlinkKind::Announcement { zh, en, until_ms } => {
            ("announcement", zh.as_str(), en.as_str(), Some(*until_ms))
        }
        DownlinkKind::Activity {
            title_zh, title_en, ..
        } => ("activity", title_zh.as_str(), title_en.as_str(), None),
        DownlinkKind::RevokeCard { .. } => ("revoke_card", "", "", None),
    };
    let new = conn.execute(
        "INSERT INTO district_notices (msg_id, kind, zh, en, until_ms, sent_ms, received_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (msg_id) DO NOTHING",
        params![m.id, kind, zh, en, until, m.at_ms, now.as_unix_millis()],
    )? == 1;
    if !new {
        return Ok(false);
    }
    match &m.message {
        DownlinkKind::Announcement { .. } => {}
        DownlinkKind::Activity {
            date,
            starts,
            title_zh,
            title_en,
            place_zh,
            place_en,
        } => {
            conn.execute(
                "INSERT INTO programme (on_date, starts, title_zh, title_en, place_zh, place_en, district_msg)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![date, starts, title_zh, title_en, place_zh, place_en, m.id],
            )?;
        }
        DownlinkKind::RevokeCard { issuer, member } => {
            conn.execute(
                "INSERT INTO district_revocations (issuer, member_id, msg_id, received_ms)
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                params![issuer, member, m.id, now.as_unix_millis()],
            )?;
        }
    }
    Ok(true)
}

/// An activity the district sent, on the programme and not yet adopted
/// as one of the centre's activities.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DistrictActivity {
    /// The district's message id.
    pub msg_id: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// `HH:MM`.
    pub starts: String,
    /// Title in Chinese.
    pub title_zh: String,
    /// Title in English.
    pub title_en: String,
    /// Where, in Chinese.
    pub place_zh: String,
}

/// The district's activities on `from` (`YYYY-MM-DD`) or later that the
/// centre has not adopted, by date and time.
pub fn adoptable(conn: &Connection, from: &str) -> Result<Vec<DistrictActivity>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT district_msg, on_date, starts, title_zh, title_en, place_zh FROM programme
         WHERE district_msg IS NOT NULL AND on_date >= ?1
           AND NOT EXISTS (SELECT 1 FROM activities a WHERE a.adopted_notice = programme.district_msg)
         ORDER BY on_date, starts",
    )?;
    let rows = stmt.query_map([from], |r| {
        Ok(DistrictActivity {
            msg_id: r.get(0)?,
            date: r.get(1)?,
            starts: r.get(2)?,
            title_zh: r.get(3)?,
            title_en: r.get(4)?,
            place_zh: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Takes the district's item `msg_id` off the programme (an activity
/// adopted from it shows instead).
pub fn remove_from_programme(conn: &Connection, msg_id: &str) -> Result<(), StoreError> {
    conn.execute("DELETE FROM programme WHERE district_msg = ?1", [msg_id])?;
    Ok(())
}

/// The newest announcement still shown at `now`: (Chinese, English).
pub fn current_announcement(
    conn: &Connection,
    now: Timestamp,
) -> Result<Option<(String, String)>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT zh, en FROM district_notices WHERE kind = 'announcement' AND until_ms > ?1
             ORDER BY sent_ms DESC, received_ms DESC LIMIT 1",
            [now.as_unix_millis()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// Whether the card `issuer` gave its member `member` was reported lost to
/// the district.
pub fn is_revoked(conn: &Connection, issuer: &str, member: u32) -> Result<bool, StoreError> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM district_revocations WHERE issuer = ?1 AND member_id = ?2",
            params![issuer, member],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;
    use keting_core::district::DISTRICT_VERSION;

    fn message(id: &str, message: DownlinkKind) -> DownlinkMessage {
        DownlinkMessage {
            v: DISTRICT_VERSION,
            id: id.into(),
            centre: "futian-01".into(),
            at_ms: 1_000,
            message,
        }
    }

    #[test]
    fn each_message_is_applied_once() {
        let store = Store::open_in_memory().unwrap();
        let now = Timestamp::from_unix_millis(2_000);
        let notice = message(
            "n-1",
            DownlinkKind::Announcement {
                zh: "本周六全区义诊".into(),
                en: "Free clinic on Saturday".into(),
                until_ms: 10_000,
            },
        );
        assert!(apply(store.conn(), &notice, now).unwrap());
        assert!(
            !apply(store.conn(), &notice, now).unwrap(),
            "a repeat changes nothing"
        );
        assert_eq!(
            current_announcement(store.conn(), now).unwrap(),
            Some(("本周六全区义诊".into(), "Free clinic on Saturday".into()))
        );
        assert_eq!(
            current_announcement(store.conn(), Timestamp::from_unix_millis(10_000)).unwrap(),
            None,
            "gone at its end"
        );
        let activity = message(
            "n-2",
            DownlinkKind::Activity {
                date: "2026-12-05".into(),
                starts: "09:30".into(),
                title_zh: "全区义诊".into(),
                title_en: "District free clinic".into(),
                place_zh: "活动室".into(),
                place_en: "Activity room".into(),
            },
        );
        assert!(apply(store.conn(), &activity, now).unwrap());
        assert!(!apply(store.conn(), &activity, now).unwrap());
        let day = time::macros::date!(2026 - 12 - 05);
        let items = crate::programme::for_day(store.conn(), day).unwrap();
        assert_eq!(items.iter().filter(|i| i.title_zh == "全区义诊").count(), 1);
        let lost = message(
            "n-3",
            DownlinkKind::RevokeCard {
                issuer: "futian-02".into(),
                member: 42,
            },
        );
        assert!(apply(store.conn(), &lost, now).unwrap());
        assert!(is_revoked(store.conn(), "futian-02", 42).unwrap());
        assert!(!is_revoked(store.conn(), "futian-01", 42).unwrap());
    }
}

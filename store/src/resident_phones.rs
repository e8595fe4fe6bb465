//! Residents' own phones: the phones bound to a member, and the one-time
//! invitations that bind one. Only hashes of the secrets are kept: a copy
//! of the database signs nobody in.

use keting_core::ids::{Epoch, MemberId};
use keting_core::time::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use super::StoreError;

/// How an invitation reaches the phone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvitationKind {
    /// A link a staff member gave (the dashboard, `kiosk phone link`).
    Link,
    /// A QR on the kiosk after the member's pass was scanned.
    Kiosk,
}

impl InvitationKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Link => "link",
            Self::Kiosk => "kiosk",
        }
    }
}

/// An invitation as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitation {
    /// Its number.
    pub id: i64,
    /// Whose phone it binds.
    pub member: MemberId,
    /// The number both screens show.
    pub confirm: u8,
    /// When it lapses.
    pub expires: Timestamp,
    /// When it was used, if it was.
    pub used: Option<Timestamp>,
}

/// A bound phone as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phone {
    /// Its number.
    pub id: i64,
    /// Whose it is.
    pub member: MemberId,
    /// The member's epoch when it was bound (a new card ends it).
    pub epoch: Epoch,
    /// The token every form of it carries.
    pub csrf: String,
    /// What the phone said it was, for the resident's list.
    pub label: String,
    /// When it was bound.
    pub bound: Timestamp,
    /// When it was last seen (to the hour).
    pub used: Timestamp,
}

/// An invitation to store.
#[derive(Clone, Debug)]
pub struct NewInvitation<'a> {
    /// Whose phone it binds.
    pub member: MemberId,
    /// SHA-256 of its secret.
    pub secret_hash: [u8; 32],
    /// How it reaches the phone.
    pub kind: InvitationKind,
    /// The number both screens show (10 to 99).
    pub confirm: u8,
    /// Who made it, as the audit log names them.
    pub made_by: &'a str,
    /// When it lapses.
    pub expires: Timestamp,
}

/// Stores a new invitation made at `now`.
pub fn invite(
    conn: &Connection,
    new: &NewInvitation<'_>,
    now: Timestamp,
) -> Result<i64, StoreError> {
    conn.execute(
        "INSERT INTO phone_invitations (member_id, secret_hash, kind, confirm, made_by, made_ms, expires_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            new.member.0,
            new.secret_hash.as_slice(),
            new.kind.as_str(),
            new.confirm,
            new.made_by,
            now.as_unix_millis(),
            new.expires.as_unix_millis()
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// The invitation whose secret hashes to `secret_hash`.
pub fn invitation(
    conn: &Connection,
    secret_hash: &[u8; 32],
) -> Result<Option<Invitation>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT id, member_id, confirm, expires_ms, used_ms FROM phone_invitations WHERE secret_hash = ?1",
            [secret_hash.as_slice()],
            |r| {
                Ok(Invitation {
                    id: r.get(0)?,
                    member: MemberId(r.get(1)?),
                    confirm: r.get(2)?,
                    expires: Timestamp::from_unix_millis(r.get(3)?),
                    used: r.get::<_, Option<i64>>(4)?.map(Timestamp::from_unix_millis),
                })
            },
        )
        .optional()?)
}

/// Marks invitation `id` used; false if it was used already.
pub fn use_invitation(conn: &Connection, id: i64, now: Timestamp) -> Result<bool, StoreError> {
    Ok(conn.execute(
        "UPDATE phone_invitations SET used_ms = ?2 WHERE id = ?1 AND used_ms IS NULL",
        params![id, now.as_unix_millis()],
    )? == 1)
}

/// Binds a phone.
pub fn bind(
    conn: &Connection,
    member: MemberId,
    epoch: Epoch,
    token_hash: &[u8; 32],
    csrf: &str,
    label: &str,
    now: Timestamp,
) -> Result<i64, StoreError> {
    conn.execute(
        "INSERT INTO resident_phones (member_id, epoch, token_hash, csrf, label, bound_ms, used_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        params![
            member.0,
            epoch.0,
            token_hash.as_slice(),
            csrf,
            label,
            now.as_unix_millis()
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

fn phone(r: &rusqlite::Row<'_>) -> rusqlite::Result<Phone> {
    Ok(Phone {
        id: r.get(0)?,
        member: MemberId(r.get(1)?),
        epoch: Epoch(r.get(2)?),
        csrf: r.get(3)?,
        label: r.get(4)?,
        bound: Timestamp::from_unix_millis(r.get(5)?),
        used: Timestamp::from_unix_millis(r.get(6)?),
    })
}

const PHONE: &str =
    "SELECT id, member_id, epoch, csrf, label, bound_ms, used_ms FROM resident_phones";

/// The phone in force whose token hashes to `token_hash`.
pub fn by_token(conn: &Connection, token_hash: &[u8; 32]) -> Result<Option<Phone>, StoreError> {
    Ok(conn
        .query_row(
            &format!("{PHONE} WHERE token_hash = ?1 AND ended_ms IS NULL"),
            [token_hash.as_slice()],
            phone,
        )
        .optional()?)
}

/// Notes that phone `id` was seen at `now`.
pub fn seen(conn: &Connection, id: i64, now: Timestamp) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE resident_phones SET used_ms = ?2 WHERE id = ?1",
        params![id, now.as_unix_millis()],
    )?;
    Ok(())
}

/// The member's phones in force, the newest bound first.
pub fn of_member(conn: &Connection, member: MemberId) -> Result<Vec<Phone>, StoreError> {
    let mut stmt = conn.prepare(&format!(
        "{PHONE} WHERE member_id = ?1 AND ended_ms IS NULL ORDER BY bound_ms DESC, id DESC"
    ))?;
    let rows = stmt.query_map([member.0], phone)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Ends the member's phone `id` (only theirs); false if there was none in force.
pub fn end(
    conn: &Connection,
    member: MemberId,
    id: i64,
    by: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    Ok(conn.execute(
        "UPDATE resident_phones SET ended_ms = ?3, ended_by = ?4
         WHERE id = ?1 AND member_id = ?2 AND ended_ms IS NULL",
        params![id, member.0, now.as_unix_millis(), by],
    )? == 1)
}

/// Ends every phone of the member, every invitation not yet used, their
/// calendar feed and their WeChat account's binding; the number of phones
/// ended.
pub fn end_all(
    conn: &Connection,
    member: MemberId,
    by: &str,
    now: Timestamp,
) -> Result<usize, StoreError> {
    conn.execute(
        "UPDATE phone_invitations SET used_ms = ?2 WHERE member_id = ?1 AND used_ms IS NULL",
        params![member.0, now.as_unix_millis()],
    )?;
    end_calendar(conn, member)?;
    conn.execute(
        "DELETE FROM wechat_openids WHERE member_id = ?1",
        [member.0],
    )?;
    Ok(conn.execute(
        "UPDATE resident_phones SET ended_ms = ?2, ended_by = ?3 WHERE member_id = ?1 AND ended_ms IS NULL",
        params![member.0, now.as_unix_millis(), by],
    )?)
}

/// Sets `member`'s calendar feed to the secret hashing to `token_hash`
/// (an earlier address stops working).
pub fn set_calendar(
    conn: &Connection,
    member: MemberId,
    token_hash: &[u8; 32],
    now: Timestamp,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO calendar_feeds (member_id, token_hash, made_ms) VALUES (?1, ?2, ?3)
         ON CONFLICT (member_id) DO UPDATE SET token_hash = excluded.token_hash, made_ms = excluded.made_ms",
        params![member.0, token_hash.as_slice(), now.as_unix_millis()],
    )?;
    Ok(())
}

/// The member whose calendar feed's secret hashes to `token_hash`.
pub fn calendar_of(
    conn: &Connection,
    token_hash: &[u8; 32],
) -> Result<Option<MemberId>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT member_id FROM calendar_feeds WHERE token_hash = ?1",
            [token_hash.as_slice()],
            |r| r.get(0).map(MemberId),
        )
        .optional()?)
}

/// Whether `member` has a calendar feed.
pub fn has_calendar(conn: &Connection, member: MemberId) -> Result<bool, StoreError> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM calendar_feeds WHERE member_id = ?1)",
        [member.0],
        |r| r.get(0),
    )?)
}

/// Ends `member`'s calendar feed.
pub fn end_calendar(conn: &Connection, member: MemberId) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM calendar_feeds WHERE member_id = ?1",
        [member.0],
    )?;
    Ok(())
}

/// Binds WeChat account `openid` to `member` (a later binding moves it).
pub fn bind_openid(
    conn: &Connection,
    openid: &str,
    member: MemberId,
    now: Timestamp,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO wechat_openids (openid, member_id, bound_ms) VALUES (?1, ?2, ?3)
         ON CONFLICT (openid) DO UPDATE SET member_id = excluded.member_id, bound_ms = excluded.bound_ms",
        params![openid, member.0, now.as_unix_millis()],
    )?;
    Ok(())
}

/// The member WeChat account `openid` is bound to.
pub fn member_of_openid(conn: &Connection, openid: &str) -> Result<Option<MemberId>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT member_id FROM wechat_openids WHERE openid = ?1",
            [openid],
            |r| r.get(0).map(MemberId),
        )
        .optional()?)
}

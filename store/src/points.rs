//! The points ledger in SQLite: postings and their legs, append-only
//! (triggers refuse any update or delete), balances summed from the legs.
//!
//! Every operation reads the member's standing and writes its posting in the
//! caller's transaction (`Store::write`, which holds the write lock from its
//! start), so two kiosks or a kiosk and a shell never decide on stale
//! balances. The rules are the core's (`keting_core::ledger::rules`); this
//! module only reads and writes. Expiry happens lazily: before an award, a
//! reservation or a balance shown, the member's due points expire.

use std::time::Duration;

use keting_core::calendar::SiteCalendar;
use keting_core::ids::MemberId;
use keting_core::ledger::expiry::{self, Lot};
use keting_core::ledger::rules::{self, PointsPolicy, PointsRefusal, Standing};
use keting_core::ledger::{Account, Points, Posting, PostingError, PostingKind};
use keting_core::time::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use super::{StoreError, members};

/// Who and what a posting is about, beside its legs.
#[derive(Clone, Debug, Default)]
pub struct PostingMeta<'a> {
    /// The member whose points it concerns.
    pub member: Option<MemberId>,
    /// Who did it: `staff:<id>`, `command-line`, `kiosk`, `centre`.
    pub actor: &'a str,
    /// The award occasion (a name on a day) of an award.
    pub occasion: Option<i64>,
    /// The held activity (a volunteer shift) an award pays for.
    pub held_activity: Option<i64>,
    /// The redemption of a reserve, commit or refund.
    pub redemption: Option<&'a str>,
    /// The posting a reversal reverses.
    pub reverses: Option<i64>,
    /// Free text: a reversal's reason.
    pub memo: &'a str,
}

/// One line of a member's history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryLine {
    /// The posting's number (to reverse it).
    pub posting: i64,
    /// What it was.
    pub kind: PostingKind,
    /// When.
    pub at: Timestamp,
    /// The change to the member's balance.
    pub points: Points,
    /// The activity's name, the drink, or the reason.
    pub what: String,
    /// Who did it.
    pub actor: String,
    /// Reversed since.
    pub reversed: bool,
}

/// The centre's points rules.
pub fn policy(conn: &Connection) -> Result<PointsPolicy, StoreError> {
    Ok(conn.query_row(
        "SELECT max_award, daily_earn_cap, daily_spend_cap, lifetime_days FROM points_policy",
        [],
        |r| {
            Ok(PointsPolicy {
                max_award: r.get(0)?,
                daily_earn_cap: r.get(1)?,
                daily_spend_cap: r.get(2)?,
                lifetime: Duration::from_secs(u64::from(r.get::<_, u32>(3)?.max(1)) * 24 * 3600),
            })
        },
    )?)
}

/// Changes the centre's points rules.
pub fn set_policy(conn: &Connection, p: &PointsPolicy) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE points_policy SET max_award = ?1, daily_earn_cap = ?2, daily_spend_cap = ?3, lifetime_days = ?4",
        params![
            p.max_award,
            p.daily_earn_cap,
            p.daily_spend_cap,
            i64::try_from(p.lifetime.as_secs() / (24 * 3600)).unwrap_or(i64::MAX).max(1)
        ],
    )?;
    Ok(())
}

/// An account's balance.
pub fn balance(conn: &Connection, account: Account) -> Result<Points, StoreError> {
    Ok(conn
        .prepare_cached("SELECT COALESCE(SUM(amount), 0) FROM ledger_legs WHERE account = ?1")?
        .query_row([account.to_string()], |r| r.get(0))?)
}

/// Every account's balance (they sum to zero).
pub fn balances(conn: &Connection) -> Result<Vec<(String, Points)>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT account, SUM(amount) FROM ledger_legs GROUP BY account ORDER BY account",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The member's standing on `day` (local date).
pub fn standing(conn: &Connection, member: MemberId, day: &str) -> Result<Standing, StoreError> {
    let account = Account::Member(member).to_string();
    let (earned, spent): (Points, Points) = conn
        .prepare_cached(
            "SELECT COALESCE(SUM(CASE WHEN p.kind = 'earn' THEN l.amount END), 0),
                    COALESCE(-SUM(CASE WHEN p.kind IN ('reserve', 'refund') THEN l.amount END), 0)
             FROM ledger_postings p JOIN ledger_legs l ON l.posting_id = p.id
             WHERE p.member_id = ?1 AND p.day = ?2 AND l.account = ?3",
        )?
        .query_row(params![member.0, day, account], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    Ok(Standing {
        balance: balance(conn, Account::Member(member))?,
        earned_today: earned,
        spent_today: spent,
    })
}

/// Writes `posting` (checked: zero-sum, no member below zero afterwards).
pub fn post(
    conn: &Connection,
    posting: &Posting,
    meta: &PostingMeta<'_>,
    calendar: SiteCalendar,
    now: Timestamp,
) -> Result<i64, StoreError> {
    posting.check()?;
    conn.prepare_cached(
        "INSERT INTO ledger_postings (kind, at_ms, day, member_id, actor, activity_id, redemption_id, reverses, memo, held_activity_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        posting.kind.as_str(),
        now.as_unix_millis(),
        calendar.date_of(now).to_string(),
        meta.member.map(|m| m.0),
        meta.actor,
        meta.occasion,
        meta.redemption,
        meta.reverses,
        meta.memo,
        meta.held_activity,
    ])?;
    let id = conn.last_insert_rowid();
    let mut leg = conn.prepare_cached(
        "INSERT INTO ledger_legs (posting_id, account, amount) VALUES (?1, ?2, ?3)",
    )?;
    for (account, amount) in &posting.legs {
        leg.execute(params![id, account.to_string(), amount])?;
        if let Account::Member(m) = account
            && *amount < 0
            && balance(conn, *account)? < 0
        {
            return Err(PostingError::MemberNegative(*m).into());
        }
    }
    Ok(id)
}

/// Expires `member`'s points that are past the policy's lifetime, oldest
/// first; returns how many expired.
pub fn expire_due(
    conn: &Connection,
    member: MemberId,
    policy: &PointsPolicy,
    calendar: SiteCalendar,
    now: Timestamp,
) -> Result<Points, StoreError> {
    let (lots, used) = lots_and_used(conn, member)?;
    if lots.is_empty() {
        return Ok(0);
    }
    let bal = balance(conn, Account::Member(member))?;
    let n = expiry::expiring(&lots, used, bal, now, policy.lifetime);
    if let Some(p) = expiry::expire(member, n) {
        let meta = PostingMeta {
            member: Some(member),
            actor: "centre",
            memo: "expired",
            ..PostingMeta::default()
        };
        post(conn, &p, &meta, calendar, now)?;
    }
    Ok(n)
}

/// What of `member`'s balance will expire after `now` and when (if
/// nothing is spent or earned meanwhile).
pub fn expiry_schedule(
    conn: &Connection,
    member: MemberId,
    policy: &PointsPolicy,
    now: Timestamp,
) -> Result<Vec<(Timestamp, Points)>, StoreError> {
    let (lots, used) = lots_and_used(conn, member)?;
    let bal = balance(conn, Account::Member(member))?;
    Ok(expiry::schedule(&lots, used, bal, now, policy.lifetime))
}

/// A member's lots (awards not reversed) and what their account gave away
/// other than by reversal.
fn lots_and_used(conn: &Connection, member: MemberId) -> Result<(Vec<Lot>, Points), StoreError> {
    let account = Account::Member(member).to_string();
    let lots: Vec<Lot> = conn
        .prepare_cached(
            "SELECT p.at_ms, l.amount FROM ledger_postings p JOIN ledger_legs l ON l.posting_id = p.id
             WHERE p.kind = 'earn' AND p.member_id = ?1 AND l.account = ?2
               AND NOT EXISTS (SELECT 1 FROM ledger_postings r WHERE r.reverses = p.id)",
        )?
        .query_map(params![member.0, account], |r| {
            Ok(Lot {
                at: Timestamp::from_unix_millis(r.get(0)?),
                points: r.get(1)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    if lots.is_empty() {
        return Ok((lots, 0));
    }
    let used: Points = conn
        .prepare_cached(
            "SELECT COALESCE(-SUM(l.amount), 0) FROM ledger_postings p JOIN ledger_legs l ON l.posting_id = p.id
             WHERE p.member_id = ?1 AND l.account = ?2 AND p.kind IN ('reserve', 'refund', 'expire')",
        )?
        .query_row(params![member.0, account], |r| r.get(0))?;
    Ok((lots, used))
}

/// The award occasion `name` on `day` worth `points` (what volunteers are
/// awarded for, by name: not an activity of the programme), created if
/// new. The same name on the same day with other points is refused (a
/// typo).
pub fn occasion(
    conn: &Connection,
    name: &str,
    points: Points,
    day: &str,
    by: &str,
    now: Timestamp,
) -> Result<i64, StoreError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 40 {
        return Err(PointsRefusal::BadOccasionName.into());
    }
    if points <= 0 {
        return Err(PointsRefusal::NotPositive.into());
    }
    let found: Option<(i64, Points)> = conn
        .query_row(
            "SELECT id, points FROM award_occasions WHERE name = ?1 AND day = ?2",
            params![name, day],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match found {
        Some((id, p)) if p == points => Ok(id),
        Some((_, p)) => Err(PointsRefusal::OccasionWorth {
            name: name.to_owned(),
            day: day.to_owned(),
            worth: p,
            asked: points,
        }
        .into()),
        None => {
            conn.execute(
                "INSERT INTO award_occasions (name, points, day, created_by, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![name, points, day, by, now.as_unix_millis()],
            )?;
            Ok(conn.last_insert_rowid())
        }
    }
}

/// The award occasions of late (name and points), newest first: what
/// staff choose from on the screen.
pub fn recent_occasions(
    conn: &Connection,
    limit: u32,
) -> Result<Vec<(String, Points)>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT name, points FROM award_occasions GROUP BY name, points ORDER BY MAX(created_ms) DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Awards `member` the points of award occasion `occasion`; returns the
/// posting's number.
pub fn award(
    conn: &Connection,
    member: MemberId,
    occasion: i64,
    actor: &str,
    calendar: SiteCalendar,
    now: Timestamp,
) -> Result<i64, StoreError> {
    members::require(conn, member)?;
    let (points, name): (Points, String) = conn
        .query_row(
            "SELECT points, name FROM award_occasions WHERE id = ?1",
            [occasion],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("award occasion {occasion}")))?;
    let meta = PostingMeta {
        member: Some(member),
        actor,
        occasion: Some(occasion),
        memo: &name,
        ..PostingMeta::default()
    };
    earn(conn, member, points, &meta, calendar, now)
}

/// Awards `member` `points` for their time on held activity `activity`
/// (a volunteer shift titled `title`); returns the posting's number.
/// Refused as already awarded when they were paid for it before.
#[allow(clippy::too_many_arguments)]
pub fn award_for_activity(
    conn: &Connection,
    member: MemberId,
    activity: i64,
    points: Points,
    title: &str,
    actor: &str,
    calendar: SiteCalendar,
    now: Timestamp,
) -> Result<i64, StoreError> {
    members::require(conn, member)?;
    let meta = PostingMeta {
        member: Some(member),
        actor,
        held_activity: Some(activity),
        memo: title,
        ..PostingMeta::default()
    };
    earn(conn, member, points, &meta, calendar, now)
}

/// The one way points are earned: the member's due points expire, the
/// ledger's rules decide (once per award occasion or held activity, the
/// caps), and the posting is written with `meta`.
fn earn(
    conn: &Connection,
    member: MemberId,
    points: Points,
    meta: &PostingMeta<'_>,
    calendar: SiteCalendar,
    now: Timestamp,
) -> Result<i64, StoreError> {
    let policy = policy(conn)?;
    expire_due(conn, member, &policy, calendar, now)?;
    let already: bool = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM ledger_postings WHERE kind = 'earn' AND member_id = ?1
                AND ((?2 IS NOT NULL AND activity_id = ?2) OR (?3 IS NOT NULL AND held_activity_id = ?3)))",
        )?
        .query_row(params![member.0, meta.occasion, meta.held_activity], |r| {
            r.get(0)
        })?;
    let day = calendar.date_of(now).to_string();
    let posting = rules::earn(
        member,
        points,
        already,
        standing(conn, member, &day)?,
        &policy,
    )?;
    post(conn, &posting, meta, calendar, now)
}

/// Reverses award `posting` with `reason`; returns the reversal's number.
pub fn reverse(
    conn: &Connection,
    posting: i64,
    reason: &str,
    actor: &str,
    calendar: SiteCalendar,
    now: Timestamp,
) -> Result<i64, StoreError> {
    let (kind, member): (String, Option<u32>) = conn
        .query_row(
            "SELECT kind, member_id FROM ledger_postings WHERE id = ?1",
            [posting],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .ok_or_else(|| {
            StoreError::NotFound(format!("posting {posting} (see `kiosk points history ID`)"))
        })?;
    let kind = PostingKind::parse(&kind)
        .ok_or_else(|| StoreError::Corrupt(format!("posting {posting} has kind {kind:?}")))?;
    let legs: Vec<(Account, Points)> = conn
        .prepare_cached("SELECT account, amount FROM ledger_legs WHERE posting_id = ?1")?
        .query_map([posting], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))?
        .map(|row| {
            let (a, p) = row?;
            let a = a
                .parse::<Account>()
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            Ok((a, p))
        })
        .collect::<Result<_, StoreError>>()?;
    let original = Posting { kind, legs };
    let already: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM ledger_postings WHERE reverses = ?1)",
        [posting],
        |r| r.get(0),
    )?;
    let member = member.map(MemberId);
    let bal = match member {
        Some(m) => balance(conn, Account::Member(m))?,
        None => 0,
    };
    let reversal = rules::reverse(&original, already, bal, reason)?;
    let meta = PostingMeta {
        member,
        actor,
        reverses: Some(posting),
        memo: reason.trim(),
        ..PostingMeta::default()
    };
    post(conn, &reversal, &meta, calendar, now)
}

/// Holds `points` of `member` for redemption `redemption`.
pub fn reserve(
    conn: &Connection,
    member: MemberId,
    points: Points,
    redemption: &str,
    calendar: SiteCalendar,
    now: Timestamp,
) -> Result<i64, StoreError> {
    let policy = policy(conn)?;
    expire_due(conn, member, &policy, calendar, now)?;
    let day = calendar.date_of(now).to_string();
    let posting = rules::reserve(member, points, standing(conn, member, &day)?, &policy)?;
    let meta = PostingMeta {
        member: Some(member),
        actor: "kiosk",
        redemption: Some(redemption),
        ..PostingMeta::default()
    };
    post(conn, &posting, &meta, calendar, now)
}

/// Settles redemption `redemption`: its held points are spent (`dispensed`)
/// or returned. A second settlement of the same redemption is refused by the
/// database (one commit or refund per redemption).
pub fn settle(
    conn: &Connection,
    member: MemberId,
    points: Points,
    redemption: &str,
    dispensed: bool,
    calendar: SiteCalendar,
    now: Timestamp,
) -> Result<i64, StoreError> {
    let posting = if dispensed {
        rules::commit(points)
    } else {
        rules::refund(member, points)
    };
    let meta = PostingMeta {
        member: Some(member),
        actor: "centre",
        redemption: Some(redemption),
        ..PostingMeta::default()
    };
    post(conn, &posting, &meta, calendar, now)
}

/// A member's history, newest first.
pub fn history(
    conn: &Connection,
    member: MemberId,
    limit: u32,
) -> Result<Vec<HistoryLine>, StoreError> {
    let account = Account::Member(member).to_string();
    let mut stmt = conn.prepare_cached(
        "SELECT p.id, p.kind, p.at_ms, COALESCE(l.amount, 0), p.actor, p.memo,
                COALESCE(a.name, h.title_zh, ''),
                COALESCE((SELECT s.name_zh FROM redemptions r JOIN vending_slots s
                          ON s.device_id = r.device_id AND s.slot = r.slot WHERE r.id = p.redemption_id), ''),
                EXISTS (SELECT 1 FROM ledger_postings x WHERE x.reverses = p.id)
         FROM ledger_postings p
         LEFT JOIN ledger_legs l ON l.posting_id = p.id AND l.account = ?2
         LEFT JOIN award_occasions a ON a.id = p.activity_id
         LEFT JOIN activities h ON h.id = p.held_activity_id
         WHERE p.member_id = ?1 AND p.kind <> 'commit'
         ORDER BY p.id DESC LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![member.0, account, limit], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, Points>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, String>(6)?,
            r.get::<_, String>(7)?,
            r.get::<_, bool>(8)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (posting, kind, at, points, actor, memo, activity, drink, reversed) = row?;
        let kind = PostingKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("posting {posting} has kind {kind:?}")))?;
        let what = [activity, drink, memo]
            .into_iter()
            .find(|s| !s.is_empty())
            .unwrap_or_default();
        out.push(HistoryLine {
            posting,
            kind,
            at: Timestamp::from_unix_millis(at),
            points,
            what,
            actor,
            reversed,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;
    use crate::members::{NewMember, Role};
    use proptest::prelude::*;

    const DAY: i64 = 24 * 3600 * 1000;

    fn store_with_members(n: u32) -> (Store, Vec<MemberId>) {
        let mut store = Store::open_in_memory().unwrap();
        let ids = store
            .write(|tx| {
                (0..n)
                    .map(|i| {
                        let m = NewMember::new(&format!("义工{i}"), None, &[Role::Volunteer])?;
                        members::add(tx, &m, Timestamp::from_unix_millis(0))
                    })
                    .collect::<Result<Vec<_>, StoreError>>()
            })
            .unwrap();
        (store, ids)
    }

    #[test]
    fn an_award_is_refused_for_an_unknown_member_twice_for_one_activity_and_over_the_cap() {
        let (mut store, ids) = store_with_members(1);
        let cal = SiteCalendar::china();
        let now = Timestamp::from_unix_millis(1_800_000_000_000);
        let day = cal.date_of(now).to_string();
        let m = ids[0];
        store
            .write(|tx| {
                let a = occasion(tx, "图书整理", 60, &day, "staff:1", now)?;
                award(tx, m, a, "staff:1", cal, now)?;
                assert!(matches!(
                    award(tx, m, a, "staff:1", cal, now),
                    Err(StoreError::Points(PointsRefusal::AlreadyAwarded))
                ));
                assert!(matches!(
                    award(tx, MemberId(999), a, "staff:1", cal, now),
                    Err(StoreError::NotFound(_))
                ));
                let b = occasion(tx, "敬老探访", 100, &day, "staff:1", now)?;
                award(tx, m, b, "staff:1", cal, now)?;
                let c = occasion(tx, "环境清洁", 50, &day, "staff:1", now)?;
                assert!(matches!(
                    award(tx, m, c, "staff:1", cal, now),
                    Err(StoreError::Points(PointsRefusal::OverDailyEarnCap {
                        left: 40
                    }))
                ));
                assert!(occasion(tx, "图书整理", 30, &day, "staff:1", now).is_err());
                Ok::<_, StoreError>(())
            })
            .unwrap();
        assert_eq!(balance(store.conn(), Account::Member(m)).unwrap(), 160);
        let history = history(store.conn(), m, 10).unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[0].what, "敬老探访");
    }

    #[test]
    fn the_ledger_refuses_any_edit_or_delete() {
        let (mut store, ids) = store_with_members(1);
        let cal = SiteCalendar::china();
        let now = Timestamp::from_unix_millis(1_800_000_000_000);
        let day = cal.date_of(now).to_string();
        store
            .write(|tx| {
                let a = occasion(tx, "图书整理", 10, &day, "x", now)?;
                award(tx, ids[0], a, "x", cal, now)
            })
            .unwrap();
        for sql in [
            "UPDATE ledger_legs SET amount = 1000",
            "DELETE FROM ledger_legs",
            "UPDATE ledger_postings SET actor = 'me'",
            "DELETE FROM ledger_postings",
        ] {
            let e = store.conn().execute(sql, []).unwrap_err();
            assert!(e.to_string().contains("append-only"), "{sql}: {e}");
        }
    }

    #[test]
    fn a_redemption_settles_once() {
        let (mut store, ids) = store_with_members(1);
        let cal = SiteCalendar::china();
        let now = Timestamp::from_unix_millis(1_800_000_000_000);
        let day = cal.date_of(now).to_string();
        let m = ids[0];
        store
            .write(|tx| {
                let a = occasion(tx, "图书整理", 50, &day, "x", now)?;
                award(tx, m, a, "x", cal, now)?;
                reserve(tx, m, 30, "r-1", cal, now)?;
                settle(tx, m, 30, "r-1", true, cal, now)?;
                Ok::<_, StoreError>(())
            })
            .unwrap();
        let again = store.write(|tx| settle(tx, m, 30, "r-1", false, cal, now));
        assert!(again.is_err(), "a second settlement is refused");
        assert_eq!(balance(store.conn(), Account::Member(m)).unwrap(), 20);
        assert_eq!(balance(store.conn(), Account::Spent).unwrap(), 30);
    }

    #[derive(Clone, Debug)]
    enum Op {
        Award(usize, i64, u8),
        Redeem(usize, i64),
        Settle(usize, bool),
        Reverse(usize),
        Wait(i64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0usize..3, 1i64..120, 0u8..4).prop_map(|(m, p, a)| Op::Award(m, p, a)),
            4 => (0usize..3, 1i64..90).prop_map(|(m, p)| Op::Redeem(m, p)),
            3 => (0usize..6, any::<bool>()).prop_map(|(i, d)| Op::Settle(i, d)),
            1 => (0usize..30).prop_map(Op::Reverse),
            2 => (0i64..400).prop_map(Op::Wait),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
        /// The SQLite ledger under any sequence: zero-sum, nobody below zero,
        /// held points equal to the open redemptions.
        #[test]
        fn the_stored_ledger_stays_zero_sum_and_no_member_goes_below_zero(ops in proptest::collection::vec(op(), 1..40)) {
            let (mut store, ids) = store_with_members(3);
            let cal = SiteCalendar::china();
            let mut now = Timestamp::from_unix_millis(1_800_000_000_000);
            let mut open: Vec<(MemberId, Points, String)> = Vec::new();
            let mut awards: Vec<i64> = Vec::new();
            for (n, op) in ops.into_iter().enumerate() {
                // Any refusal leaves the ledger as it was: the transaction rolls back.
                let _ = store.write(|tx| -> Result<(), StoreError> {
                    match &op {
                        Op::Award(m, p, a) => {
                            let day = cal.date_of(now).to_string();
                            let act = occasion(tx, &format!("活动{a}-{p}"), *p, &day, "t", now)?;
                            awards.push(award(tx, ids[*m], act, "t", cal, now)?);
                        }
                        Op::Redeem(m, p) => {
                            let r = format!("r-{n}");
                            reserve(tx, ids[*m], *p, &r, cal, now)?;
                            open.push((ids[*m], *p, r));
                        }
                        Op::Settle(i, dispensed) if *i < open.len() => {
                            let (m, p, r) = open[*i].clone();
                            settle(tx, m, p, &r, *dispensed, cal, now)?;
                            open.remove(*i);
                        }
                        Op::Reverse(i) if *i < awards.len() => {
                            reverse(tx, awards[*i], "测试", "t", cal, now)?;
                        }
                        Op::Wait(days) => now = Timestamp::from_unix_millis(now.as_unix_millis() + days * DAY),
                        _ => {}
                    }
                    Ok(())
                });
                let all = balances(store.conn()).unwrap();
                prop_assert_eq!(all.iter().map(|(_, b)| b).sum::<Points>(), 0);
                for (account, b) in &all {
                    if account.starts_with("member:") {
                        prop_assert!(*b >= 0, "{} at {}", account, b);
                    }
                }
                let held: Points = open.iter().map(|(_, p, _)| p).sum();
                prop_assert_eq!(balance(store.conn(), Account::Held).unwrap(), held);
            }
        }
    }
}

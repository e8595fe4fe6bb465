//! What may be posted: an award (the activity named, the approving staff
//! member known, at most once per member and activity, under the daily cap),
//! a reservation for a redemption (enough points, under the daily spending
//! cap), its commit or refund, and a reversal of an award with a reason.
//! Each rule takes the member's standing as read inside the same database
//! transaction that will write the posting.

use std::time::Duration;

use thiserror::Error;

use super::{Account, Points, Posting, PostingKind};
use crate::ids::MemberId;

/// The centre's points rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PointsPolicy {
    /// The most one award may give.
    pub max_award: Points,
    /// The most a member may earn in one local day.
    pub daily_earn_cap: Points,
    /// The most a member may spend in one local day.
    pub daily_spend_cap: Points,
    /// Points expire this long after they were earned, oldest first.
    pub lifetime: Duration,
}

impl Default for PointsPolicy {
    fn default() -> Self {
        Self {
            max_award: 100,
            daily_earn_cap: 200,
            daily_spend_cap: 100,
            lifetime: Duration::from_secs(365 * 24 * 3600),
        }
    }
}

/// A member's standing, read where the posting will be written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Standing {
    /// The member's balance.
    pub balance: Points,
    /// Earned today (local day), net of reversals.
    pub earned_today: Points,
    /// Spent or held today (local day), net of refunds.
    pub spent_today: Points,
}

/// Why the ledger said no. Each carries what a person needs to know.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum PointsRefusal {
    /// Zero or fewer points.
    #[error("points must be a positive number")]
    NotPositive,
    /// An award occasion's name empty or over 40 characters.
    #[error("an award's occasion has a name of 1 to 40 characters")]
    BadOccasionName,
    /// The occasion exists on that day with another number of points.
    #[error("{name} on {day} is worth {worth} points, not {asked}")]
    OccasionWorth {
        /// The occasion's name.
        name: String,
        /// Its day, `YYYY-MM-DD`.
        day: String,
        /// The points it is worth.
        worth: Points,
        /// The points given.
        asked: Points,
    },
    /// More than one award may give.
    #[error("one award gives at most {max} points")]
    AwardTooLarge {
        /// The most.
        max: Points,
    },
    /// Over the daily earning cap.
    #[error("over today's earning cap: {left} points left today")]
    OverDailyEarnCap {
        /// What may still be earned today.
        left: Points,
    },
    /// This activity was already awarded to this member.
    #[error("already awarded for this activity")]
    AlreadyAwarded,
    /// Not enough points.
    #[error("not enough points: {balance} held, {needed} needed")]
    NotEnoughPoints {
        /// The balance.
        balance: Points,
        /// The price.
        needed: Points,
    },
    /// Over the daily spending cap.
    #[error("over today's spending cap: {left} points left today")]
    OverDailySpendCap {
        /// What may still be spent today.
        left: Points,
    },
    /// Only awards are reversed by people; redemptions settle themselves.
    #[error("only an award can be reversed")]
    NotReversible,
    /// Reversed once already.
    #[error("this posting was reversed already")]
    AlreadyReversed,
    /// The member has spent the points the reversal would take back.
    #[error("the member has {balance} points; the reversal takes {needed}")]
    ReversalExceedsBalance {
        /// The balance.
        balance: Points,
        /// What the reversal takes.
        needed: Points,
    },
    /// No reason given for a correction.
    #[error("a reversal needs a reason")]
    NoReason,
}

impl PointsRefusal {
    /// A stable code for logs and screens.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotPositive => "not_positive",
            Self::BadOccasionName => "bad_occasion_name",
            Self::OccasionWorth { .. } => "occasion_worth",
            Self::AwardTooLarge { .. } => "award_too_large",
            Self::OverDailyEarnCap { .. } => "over_daily_earn_cap",
            Self::AlreadyAwarded => "already_awarded",
            Self::NotEnoughPoints { .. } => "not_enough_points",
            Self::OverDailySpendCap { .. } => "over_daily_spend_cap",
            Self::NotReversible => "not_reversible",
            Self::AlreadyReversed => "already_reversed",
            Self::ReversalExceedsBalance { .. } => "reversal_exceeds_balance",
            Self::NoReason => "no_reason",
        }
    }
}

/// An award of `points` to `member`; `already_awarded` if this member got
/// this activity's award before.
pub fn earn(
    member: MemberId,
    points: Points,
    already_awarded: bool,
    standing: Standing,
    policy: &PointsPolicy,
) -> Result<Posting, PointsRefusal> {
    if points <= 0 {
        return Err(PointsRefusal::NotPositive);
    }
    if points > policy.max_award {
        return Err(PointsRefusal::AwardTooLarge {
            max: policy.max_award,
        });
    }
    if already_awarded {
        return Err(PointsRefusal::AlreadyAwarded);
    }
    let left = (policy.daily_earn_cap - standing.earned_today).max(0);
    if points > left {
        return Err(PointsRefusal::OverDailyEarnCap { left });
    }
    Ok(Posting::transfer(
        PostingKind::Earn,
        Account::Pool,
        Account::Member(member),
        points,
    ))
}

/// Holds `points` of `member` for a redemption.
pub fn reserve(
    member: MemberId,
    points: Points,
    standing: Standing,
    policy: &PointsPolicy,
) -> Result<Posting, PointsRefusal> {
    if points <= 0 {
        return Err(PointsRefusal::NotPositive);
    }
    if standing.balance < points {
        return Err(PointsRefusal::NotEnoughPoints {
            balance: standing.balance,
            needed: points,
        });
    }
    let left = (policy.daily_spend_cap - standing.spent_today).max(0);
    if points > left {
        return Err(PointsRefusal::OverDailySpendCap { left });
    }
    Ok(Posting::transfer(
        PostingKind::Reserve,
        Account::Member(member),
        Account::Held,
        points,
    ))
}

/// The drink dropped: the held points are spent.
pub fn commit(points: Points) -> Posting {
    Posting::transfer(PostingKind::Commit, Account::Held, Account::Spent, points)
}

/// No drink: the held points go back to `member`.
pub fn refund(member: MemberId, points: Points) -> Posting {
    Posting::transfer(
        PostingKind::Refund,
        Account::Held,
        Account::Member(member),
        points,
    )
}

/// The reversal of an award, if it may be reversed: `member_balance` is the
/// balance of the member it gave to.
pub fn reverse(
    original: &Posting,
    already_reversed: bool,
    member_balance: Points,
    reason: &str,
) -> Result<Posting, PointsRefusal> {
    if original.kind != PostingKind::Earn {
        return Err(PointsRefusal::NotReversible);
    }
    if already_reversed {
        return Err(PointsRefusal::AlreadyReversed);
    }
    if reason.trim().is_empty() {
        return Err(PointsRefusal::NoReason);
    }
    let needed: Points = original
        .legs
        .iter()
        .filter(|(a, _)| matches!(a, Account::Member(_)))
        .map(|(_, p)| *p)
        .sum();
    if member_balance < needed {
        return Err(PointsRefusal::ReversalExceedsBalance {
            balance: member_balance,
            needed,
        });
    }
    Ok(original.reversed())
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: MemberId = MemberId(3);

    fn standing(balance: Points, earned_today: Points, spent_today: Points) -> Standing {
        Standing {
            balance,
            earned_today,
            spent_today,
        }
    }

    #[test]
    fn an_award_is_refused_with_its_reason() {
        let p = PointsPolicy::default();
        let s = standing(0, 0, 0);
        assert_eq!(earn(M, 0, false, s, &p), Err(PointsRefusal::NotPositive));
        assert_eq!(
            earn(M, 101, false, s, &p),
            Err(PointsRefusal::AwardTooLarge { max: 100 })
        );
        assert_eq!(earn(M, 10, true, s, &p), Err(PointsRefusal::AlreadyAwarded));
        assert_eq!(
            earn(M, 30, false, standing(0, 180, 0), &p),
            Err(PointsRefusal::OverDailyEarnCap { left: 20 })
        );
        let ok = earn(M, 20, false, standing(0, 180, 0), &p).unwrap();
        assert_eq!(
            ok.legs,
            vec![(Account::Pool, -20), (Account::Member(M), 20)]
        );
    }

    #[test]
    fn a_reservation_needs_the_points_and_room_under_the_cap() {
        let p = PointsPolicy::default();
        assert_eq!(
            reserve(M, 30, standing(20, 0, 0), &p),
            Err(PointsRefusal::NotEnoughPoints {
                balance: 20,
                needed: 30
            })
        );
        assert_eq!(
            reserve(M, 30, standing(500, 0, 80), &p),
            Err(PointsRefusal::OverDailySpendCap { left: 20 })
        );
        let ok = reserve(M, 30, standing(30, 0, 0), &p).unwrap();
        assert_eq!(
            ok.legs,
            vec![(Account::Member(M), -30), (Account::Held, 30)]
        );
    }

    #[test]
    fn only_an_award_is_reversed_once_with_a_reason_and_within_the_balance() {
        let p = PointsPolicy::default();
        let award = earn(M, 40, false, Standing::default(), &p).unwrap();
        assert_eq!(
            reverse(&award, false, 40, " "),
            Err(PointsRefusal::NoReason)
        );
        assert_eq!(
            reverse(&award, true, 40, "wrong person"),
            Err(PointsRefusal::AlreadyReversed)
        );
        assert_eq!(
            reverse(&award, false, 25, "wrong person"),
            Err(PointsRefusal::ReversalExceedsBalance {
                balance: 25,
                needed: 40
            })
        );
        assert_eq!(
            reverse(&commit(5), false, 100, "x"),
            Err(PointsRefusal::NotReversible)
        );
        let r = reverse(&award, false, 40, "wrong person").unwrap();
        assert_eq!(r.kind, PostingKind::Reverse);
        assert_eq!(r.legs, vec![(Account::Pool, 40), (Account::Member(M), -40)]);
    }
}

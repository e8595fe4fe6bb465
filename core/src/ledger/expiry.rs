//! Expiry: points expire a lifetime after they were earned, oldest first.
//!
//! Spending takes the oldest points first, so at any instant the points due
//! to expire are those earned before the cutoff less everything the member
//! has used since the first award (spent, held, expired before), never more
//! than the balance. Reversed awards are not lots.

use std::time::Duration;

use super::{Account, Points, Posting, PostingKind};
use crate::ids::MemberId;
use crate::time::Timestamp;

/// Points earned at one instant (an award not reversed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lot {
    /// When they were earned.
    pub at: Timestamp,
    /// How many.
    pub points: Points,
}

/// How many of a member's points expire at `now`. `used` is everything the
/// member's account gave away other than reversals of awards: reservations
/// net of refunds, and earlier expiries.
pub fn expiring(
    lots: &[Lot],
    used: Points,
    balance: Points,
    now: Timestamp,
    lifetime: Duration,
) -> Points {
    let life = i64::try_from(lifetime.as_millis()).unwrap_or(i64::MAX);
    let cutoff = now.as_unix_millis().saturating_sub(life);
    let old: Points = lots
        .iter()
        .filter(|l| l.at.as_unix_millis() <= cutoff)
        .map(|l| l.points)
        .sum();
    (old - used).clamp(0, balance.max(0))
}

/// What will expire after `now` and when, if nothing is spent or earned
/// meanwhile: (instant, points) in time order, each a lot's lifetime end
/// where some of the balance goes. The sum is at most the balance.
pub fn schedule(
    lots: &[Lot],
    used: Points,
    balance: Points,
    now: Timestamp,
    lifetime: Duration,
) -> Vec<(Timestamp, Points)> {
    let mut ends: Vec<Timestamp> = lots
        .iter()
        .map(|l| l.at.saturating_add(lifetime))
        .filter(|t| *t > now)
        .collect();
    ends.sort();
    ends.dedup();
    let mut out = Vec::new();
    let mut before = expiring(lots, used, balance, now, lifetime);
    for t in ends {
        let by_then = expiring(lots, used, balance, t, lifetime);
        if by_then > before {
            out.push((t, by_then - before));
        }
        before = by_then;
    }
    out
}

/// The posting that expires `points` of `member`, if any.
pub fn expire(member: MemberId, points: Points) -> Option<Posting> {
    (points > 0).then(|| {
        Posting::transfer(
            PostingKind::Expire,
            Account::Member(member),
            Account::Expired,
            points,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 24 * 3600 * 1000;
    const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);

    #[test]
    fn the_schedule_says_what_goes_when_oldest_first_after_spending() {
        let t = |d: i64| Timestamp::from_unix_millis(d * DAY);
        let lots = [
            Lot {
                at: t(0),
                points: 10,
            },
            Lot {
                at: t(100),
                points: 5,
            },
            Lot {
                at: t(200),
                points: 20,
            },
        ];
        // 12 spent: the first lot is gone, 3 of the second remain.
        let s = schedule(&lots, 12, 23, t(150), YEAR);
        assert_eq!(s, vec![(t(465), 3), (t(565), 20)]);
        // Nothing after the last lot's end; never more than the balance.
        assert!(schedule(&lots, 0, 35, t(600), YEAR).is_empty());
        assert_eq!(
            schedule(&lots, 0, 8, t(10), YEAR)
                .iter()
                .map(|(_, p)| p)
                .sum::<Points>(),
            8
        );
    }

    fn lot(day: i64, points: Points) -> Lot {
        Lot {
            at: Timestamp::from_unix_millis(day * DAY),
            points,
        }
    }

    #[test]
    fn the_oldest_points_expire_first_and_spending_uses_them_up() {
        let lots = [lot(0, 50), lot(200, 30)];
        let at = |day| Timestamp::from_unix_millis(day * DAY);
        // Before a year: nothing.
        assert_eq!(expiring(&lots, 0, 80, at(364), YEAR), 0);
        // A year after the first award: its 50, less what was used.
        assert_eq!(expiring(&lots, 0, 80, at(365), YEAR), 50);
        assert_eq!(expiring(&lots, 20, 60, at(365), YEAR), 30);
        // Used more than the old lot: nothing of it left to expire.
        assert_eq!(expiring(&lots, 60, 20, at(365), YEAR), 0);
        // Both lots old; 50 expired before counts as used.
        assert_eq!(expiring(&lots, 50, 30, at(565), YEAR), 30);
        assert_eq!(expire(MemberId(1), 0), None);
    }
}

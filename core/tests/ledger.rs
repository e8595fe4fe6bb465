//! The ledger under any sequence of operations: awards (some over the caps,
//! some repeated), redemptions held then committed or refunded, reversals,
//! expiry across simulated years. After every step all accounts sum to zero,
//! no member is below zero, the held account equals the redemptions in
//! progress, and each balance equals earned minus reversed minus spent minus
//! held minus expired.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};

use keting_core::ids::MemberId;
use keting_core::ledger::expiry::{Lot, expire, expiring};
use keting_core::ledger::rules::{self, PointsPolicy, Standing};
use keting_core::ledger::{Account, Book, Points, PostingKind};
use keting_core::time::Timestamp;
use proptest::prelude::*;

const DAY: i64 = 24 * 3600 * 1000;

#[derive(Clone, Debug)]
enum Op {
    Award {
        member: u32,
        points: Points,
        activity: u8,
    },
    Redeem {
        member: u32,
        points: Points,
    },
    Settle {
        which: usize,
        dispensed: bool,
    },
    Reverse {
        which: usize,
    },
    Expire {
        member: u32,
    },
    Wait {
        days: i64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u32..4, -5i64..160, 0u8..6).prop_map(|(member, points, activity)| Op::Award { member, points, activity }),
        4 => (0u32..4, -5i64..130).prop_map(|(member, points)| Op::Redeem { member, points }),
        3 => (0usize..8, any::<bool>()).prop_map(|(which, dispensed)| Op::Settle { which, dispensed }),
        1 => (0usize..40).prop_map(|which| Op::Reverse { which }),
        1 => (0u32..4).prop_map(|member| Op::Expire { member }),
        2 => (0i64..200).prop_map(|days| Op::Wait { days }),
    ]
}

/// What the test remembers beside the book, as the kiosk's tables would.
#[derive(Default)]
struct Model {
    now: i64,
    awards: Vec<(usize, MemberId, Timestamp, Points)>,
    reversed: BTreeSet<usize>,
    awarded: BTreeSet<(u32, u8)>,
    open: Vec<(MemberId, Points)>,
    /// Per member and day: earned, spent (net).
    day: BTreeMap<(u32, i64), (Points, Points)>,
    earned: BTreeMap<u32, Points>,
    spent: BTreeMap<u32, Points>,
    expired: BTreeMap<u32, Points>,
}

impl Model {
    fn standing(&self, book: &Book, m: MemberId) -> Standing {
        let (earned_today, spent_today) = self
            .day
            .get(&(m.0, self.now / DAY))
            .copied()
            .unwrap_or_default();
        Standing {
            balance: book.balance(Account::Member(m)),
            earned_today,
            spent_today,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]
    #[test]
    fn the_ledger_stays_zero_sum_and_no_member_goes_below_zero(ops in proptest::collection::vec(op(), 1..80)) {
        let policy = PointsPolicy::default();
        let mut book = Book::default();
        let mut m = Model::default();
        for op in ops {
            let t = Timestamp::from_unix_millis(m.now);
            match op {
                Op::Award { member, points, activity } => {
                    let id = MemberId(member);
                    let already = m.awarded.contains(&(member, activity));
                    if let Ok(p) = rules::earn(id, points, already, m.standing(&book, id), &policy) {
                        let i = book.post(p).unwrap();
                        m.awards.push((i, id, t, points));
                        m.awarded.insert((member, activity));
                        m.day.entry((member, m.now / DAY)).or_default().0 += points;
                        *m.earned.entry(member).or_default() += points;
                    }
                }
                Op::Redeem { member, points } => {
                    let id = MemberId(member);
                    if let Ok(p) = rules::reserve(id, points, m.standing(&book, id), &policy) {
                        book.post(p).unwrap();
                        m.open.push((id, points));
                        m.day.entry((member, m.now / DAY)).or_default().1 += points;
                    }
                }
                Op::Settle { which, dispensed } => {
                    if which < m.open.len() {
                        let (id, points) = m.open.remove(which);
                        if dispensed {
                            book.post(rules::commit(points)).unwrap();
                            *m.spent.entry(id.0).or_default() += points;
                        } else {
                            book.post(rules::refund(id, points)).unwrap();
                            m.day.entry((id.0, m.now / DAY)).or_default().1 -= points;
                        }
                    }
                }
                Op::Reverse { which } => {
                    if let Some(&(i, id, _, points)) = m.awards.get(which) {
                        let original = book.postings()[i].clone();
                        let balance = book.balance(Account::Member(id));
                        if let Ok(p) = rules::reverse(&original, m.reversed.contains(&i), balance, "test") {
                            book.post(p).unwrap();
                            m.reversed.insert(i);
                            *m.earned.entry(id.0).or_default() -= points;
                        }
                    }
                }
                Op::Expire { member } => {
                    let id = MemberId(member);
                    let lots: Vec<Lot> = m.awards.iter()
                        .filter(|(i, who, _, _)| *who == id && !m.reversed.contains(i))
                        .map(|(_, _, at, points)| Lot { at: *at, points: *points })
                        .collect();
                    let held: Points = m.open.iter().filter(|(who, _)| *who == id).map(|(_, p)| p).sum();
                    let used = m.spent.get(&member).copied().unwrap_or(0) + held + m.expired.get(&member).copied().unwrap_or(0);
                    let balance = book.balance(Account::Member(id));
                    let n = expiring(&lots, used, balance, t, policy.lifetime);
                    if let Some(p) = expire(id, n) {
                        book.post(p).unwrap();
                        *m.expired.entry(member).or_default() += n;
                    }
                }
                Op::Wait { days } => m.now += days * DAY,
            }
            // The invariants, after every step.
            prop_assert_eq!(book.balances().values().sum::<Points>(), 0);
            for (account, balance) in book.balances() {
                if let Account::Member(_) = account {
                    prop_assert!(*balance >= 0, "{account} at {balance}");
                }
            }
            let held: Points = m.open.iter().map(|(_, p)| p).sum();
            prop_assert_eq!(book.balance(Account::Held), held);
            for member in 0..4u32 {
                let id = MemberId(member);
                let held: Points = m.open.iter().filter(|(who, _)| *who == id).map(|(_, p)| p).sum();
                let expected = m.earned.get(&member).copied().unwrap_or(0)
                    - m.spent.get(&member).copied().unwrap_or(0)
                    - held
                    - m.expired.get(&member).copied().unwrap_or(0);
                prop_assert_eq!(book.balance(Account::Member(id)), expected);
            }
            for ((_, _), (earned, spent)) in &m.day {
                prop_assert!(*earned <= policy.daily_earn_cap);
                prop_assert!(*spent <= policy.daily_spend_cap);
            }
        }
        // Every posting kept its shape, and nothing but awards was reversed.
        for p in book.postings() {
            prop_assert!(p.check().is_ok());
        }
        prop_assert!(book.postings().iter().filter(|p| p.kind == PostingKind::Reverse).count() == m.reversed.len());
    }
}

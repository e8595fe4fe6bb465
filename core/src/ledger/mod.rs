//! Volunteer points as an append-only, double-entry, zero-sum ledger.
//!
//! Every change is a [`Posting`]: two or more legs on [`Account`]s whose
//! amounts sum to zero. Points come into being by leaving the centre's
//! [`Account::Pool`] (which goes negative by everything ever awarded) and
//! end in [`Account::Spent`] (drinks) or [`Account::Expired`]. A redemption
//! first moves the points to [`Account::Held`], then on to `Spent` when the
//! drink drops, or back to the member when it does not. Nothing is edited: a
//! correction is a reversing posting with a reason. A balance is the sum of
//! an account's legs, never a stored number.
//!
//! - [`rules`]: what may be posted (caps, balance, one award per activity)
//!   and the postings themselves.
//! - [`expiry`]: points older than the policy's lifetime expire, oldest first.
//! - [`Book`]: an in-memory ledger that applies postings and checks them;
//!   the kiosk keeps the same postings in SQLite.

pub mod expiry;
pub mod rules;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use thiserror::Error;

use crate::ids::MemberId;

/// An amount of points (negative on the giving side of a posting).
pub type Points = i64;

/// Where points are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Account {
    /// A member's points.
    Member(MemberId),
    /// The centre's pool: points are awarded out of it (it goes negative).
    Pool,
    /// Points held for a redemption in progress.
    Held,
    /// Points spent on drinks.
    Spent,
    /// Points that expired.
    Expired,
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Account::Member(m) => write!(f, "member:{m}"),
            Account::Pool => f.write_str("pool"),
            Account::Held => f.write_str("held"),
            Account::Spent => f.write_str("spent"),
            Account::Expired => f.write_str("expired"),
        }
    }
}

/// Text that is not an account.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("not a ledger account: {0:?}")]
pub struct BadAccount(pub String);

impl FromStr for Account {
    type Err = BadAccount;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pool" => Ok(Account::Pool),
            "held" => Ok(Account::Held),
            "spent" => Ok(Account::Spent),
            "expired" => Ok(Account::Expired),
            _ => s
                .strip_prefix("member:")
                .and_then(|n| n.parse().ok())
                .map(|n| Account::Member(MemberId(n)))
                .ok_or_else(|| BadAccount(s.to_owned())),
        }
    }
}

/// What a posting records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PostingKind {
    /// Points awarded for volunteering.
    Earn,
    /// Points held for a redemption.
    Reserve,
    /// A held redemption completed: the drink dropped.
    Commit,
    /// A held redemption returned: no drink.
    Refund,
    /// Points that outlived the policy's lifetime.
    Expire,
    /// A correction: the exact opposite of an earlier posting.
    Reverse,
}

impl PostingKind {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Earn => "earn",
            Self::Reserve => "reserve",
            Self::Commit => "commit",
            Self::Refund => "refund",
            Self::Expire => "expire",
            Self::Reverse => "reverse",
        }
    }

    /// The kind named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Earn,
            Self::Reserve,
            Self::Commit,
            Self::Refund,
            Self::Expire,
            Self::Reverse,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// One change to the ledger: legs that sum to zero.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Posting {
    /// What it records.
    pub kind: PostingKind,
    /// The legs: each account and its change.
    pub legs: Vec<(Account, Points)>,
}

/// Why a posting is not well formed (a bug, never a person's mistake).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum PostingError {
    /// Its legs do not sum to zero.
    #[error("the legs sum to {0}, not zero")]
    NotZeroSum(Points),
    /// Fewer than two legs, or a leg of zero.
    #[error("a posting needs two or more legs, none of them zero")]
    Degenerate,
    /// It would take a member below zero.
    #[error("member {0} would go below zero")]
    MemberNegative(MemberId),
}

impl Posting {
    /// A posting of `points` from `from` to `to`.
    pub fn transfer(kind: PostingKind, from: Account, to: Account, points: Points) -> Self {
        Self {
            kind,
            legs: vec![(from, -points), (to, points)],
        }
    }

    /// Checks the shape: two or more non-zero legs summing to zero.
    pub fn check(&self) -> Result<(), PostingError> {
        if self.legs.len() < 2 || self.legs.iter().any(|(_, p)| *p == 0) {
            return Err(PostingError::Degenerate);
        }
        let sum: Points = self.legs.iter().map(|(_, p)| p).sum();
        if sum != 0 {
            return Err(PostingError::NotZeroSum(sum));
        }
        Ok(())
    }

    /// The exact opposite (a reversal).
    pub fn reversed(&self) -> Self {
        Self {
            kind: PostingKind::Reverse,
            legs: self.legs.iter().map(|(a, p)| (*a, -p)).collect(),
        }
    }
}

/// An in-memory ledger: postings applied in order, balances derived.
#[derive(Clone, Debug, Default)]
pub struct Book {
    postings: Vec<Posting>,
    balances: BTreeMap<Account, Points>,
}

impl Book {
    /// Applies `posting` if it is well formed and leaves every member at or
    /// above zero; returns its index.
    pub fn post(&mut self, posting: Posting) -> Result<usize, PostingError> {
        posting.check()?;
        for (account, points) in &posting.legs {
            if let Account::Member(m) = account
                && self.balance(*account) + points < 0
            {
                return Err(PostingError::MemberNegative(*m));
            }
        }
        for (account, points) in &posting.legs {
            *self.balances.entry(*account).or_default() += points;
        }
        self.postings.push(posting);
        Ok(self.postings.len() - 1)
    }

    /// An account's balance.
    pub fn balance(&self, account: Account) -> Points {
        self.balances.get(&account).copied().unwrap_or(0)
    }

    /// Every account's balance.
    pub fn balances(&self) -> &BTreeMap<Account, Points> {
        &self.balances
    }

    /// The postings, in order.
    pub fn postings(&self) -> &[Posting] {
        &self.postings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_round_trip_as_text() {
        for a in [
            Account::Member(MemberId(7)),
            Account::Pool,
            Account::Held,
            Account::Spent,
            Account::Expired,
        ] {
            assert_eq!(a.to_string().parse::<Account>(), Ok(a));
        }
        assert!("member:x".parse::<Account>().is_err());
        assert!("bank".parse::<Account>().is_err());
    }

    #[test]
    fn a_posting_must_sum_to_zero_and_keep_members_at_or_above_zero() {
        let m = Account::Member(MemberId(1));
        let mut book = Book::default();
        assert_eq!(
            book.post(Posting {
                kind: PostingKind::Earn,
                legs: vec![(Account::Pool, -5), (m, 4)]
            }),
            Err(PostingError::NotZeroSum(-1))
        );
        assert_eq!(
            book.post(Posting::transfer(PostingKind::Reserve, m, Account::Held, 1)),
            Err(PostingError::MemberNegative(MemberId(1)))
        );
        book.post(Posting::transfer(PostingKind::Earn, Account::Pool, m, 5))
            .unwrap();
        assert_eq!(book.balance(m), 5);
        assert_eq!(book.balance(Account::Pool), -5);
        let r = book.postings()[0].reversed();
        book.post(r).unwrap();
        assert_eq!(book.balance(m), 0);
        assert_eq!(book.balances().values().sum::<Points>(), 0);
    }
}

//! Who may open the gym door, decided alone at the door.
//!
//! - Residents in day hours; at night (default 22:00-06:00) only members whose
//!   month is paid (月付制: paid until a date, inclusive).
//! - Anti-passback: the same member is not let in twice within a window
//!   (default 30 s), so one card cannot bring in a queue.
//! - After 5 refused scans within 50 s the reader locks out for 60 s and
//!   raises an alarm: someone is trying cards.
//!
//! The roster (who, at which epoch, paid until when) comes signed from the
//! kiosk; this module only reads the entry for the scanned member.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use time::{Date, Time};

use crate::calendar::SiteCalendar;
use crate::ids::{Epoch, MemberId};
use crate::pass::{PassClaims, PassError};
use crate::time::Timestamp;

/// What the roster says of one member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RosterEntry {
    /// The member's current pass epoch.
    pub epoch: Epoch,
    /// The last day of the member's paid gym month, if any.
    pub paid_until: Option<Date>,
}

/// The paid-until date after staff extend a gym membership by a month
/// (月付制): to the end of this month if the member is not yet paid through
/// it, otherwise to the end of the month after the one paid to.
pub fn extend_paid_month(current: Option<Date>, today: Date) -> Date {
    let month_end = |d: Date| {
        let days = d.month().length(d.year());
        Date::from_calendar_date(d.year(), d.month(), days).unwrap_or(d)
    };
    let this_month_end = month_end(today);
    match current {
        Some(paid) if paid >= this_month_end => {
            let next = paid.next_day().unwrap_or(paid);
            month_end(next)
        }
        _ => this_month_end,
    }
}

/// The door's rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccessPolicy {
    /// Local time night begins (paid members only from then).
    pub night_starts: Time,
    /// Local time night ends.
    pub night_ends: Time,
    /// The same member is refused again within this window.
    pub anti_passback: Duration,
    /// This many refused scans...
    pub lockout_after: usize,
    /// ...within this window...
    pub lockout_window: Duration,
    /// ...lock the reader out for this long.
    pub lockout_for: Duration,
}

impl Default for AccessPolicy {
    fn default() -> Self {
        Self {
            night_starts: Time::from_hms(22, 0, 0).unwrap_or(Time::MIDNIGHT),
            night_ends: Time::from_hms(6, 0, 0).unwrap_or(Time::MIDNIGHT),
            anti_passback: Duration::from_secs(30),
            lockout_after: 5,
            lockout_window: Duration::from_secs(50),
            lockout_for: Duration::from_secs(60),
        }
    }
}

/// Why the door stayed shut. The codes are stable: they travel in events and
/// show on the door's panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DoorRefusal {
    /// Not a Keting pass.
    NotAPass,
    /// A pass of another site.
    WrongSite,
    /// Forged or altered.
    BadSignature,
    /// A phone's live pass made too long ago: the phone shows a fresh one.
    Expired,
    /// An old pass of a member whose pass was replaced.
    Revoked,
    /// Not on the door's roster.
    NotOnRoster,
    /// Night hours, and the member's gym month is not paid.
    NightNotPaid,
    /// The same member entered moments ago.
    Passback,
    /// Too many refused scans: the reader is locked out for a while.
    LockedOut,
    /// The door's clock is known wrong and the centre's time is not known:
    /// nothing that depends on the time is decided ([`crate::clock_judge`]).
    ClockWrong,
}

impl DoorRefusal {
    /// Whether the scan could be an attack on the reader (garbage, a
    /// forgery, another site's pass, a revoked card): only these count
    /// towards the lockout. A member refused for an unpaid night, by
    /// anti-passback or not yet on the roster is told why, and the paid
    /// member behind them is not locked out for it.
    pub fn could_be_an_attack(self) -> bool {
        matches!(
            self,
            Self::NotAPass | Self::WrongSite | Self::BadSignature | Self::Revoked
        )
    }

    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::NotAPass => "not_a_pass",
            Self::WrongSite => "wrong_site",
            Self::BadSignature => "bad_signature",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
            Self::NotOnRoster => "not_on_roster",
            Self::NightNotPaid => "night_not_paid",
            Self::Passback => "passback",
            Self::LockedOut => "locked_out",
            Self::ClockWrong => "clock_wrong",
        }
    }
}

/// The answer to one scan at the door.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessDecision {
    /// Open the door for this member.
    Granted(MemberId),
    /// Stay shut. `lockout_started` is true on the refusal that started a lockout (raise the alarm).
    Refused {
        /// Why.
        reason: DoorRefusal,
        /// Whether this refusal began a lockout.
        lockout_started: bool,
    },
}

/// The door's access state: recent entries and refused scans.
#[derive(Debug)]
pub struct DoorAccess {
    policy: AccessPolicy,
    calendar: SiteCalendar,
    last_entry: HashMap<MemberId, Timestamp>,
    refused: VecDeque<Timestamp>,
    locked_out_until: Option<Timestamp>,
}

impl DoorAccess {
    /// A door with these rules in this site's local time.
    pub fn new(policy: AccessPolicy, calendar: SiteCalendar) -> Self {
        Self {
            policy,
            calendar,
            last_entry: HashMap::new(),
            refused: VecDeque::new(),
            locked_out_until: None,
        }
    }

    /// Whether `now` is in night hours, local time.
    pub fn is_night(&self, now: Timestamp) -> bool {
        let t = self.calendar.local(now).time();
        let (start, end) = (self.policy.night_starts, self.policy.night_ends);
        if start <= end {
            t >= start && t < end
        } else {
            t >= start || t < end
        }
    }

    /// Decides a scan: `pass` is the verified pass (or why it is not one),
    /// `entry` what the roster says of its member.
    pub fn handle_scan(
        &mut self,
        pass: Result<&PassClaims, &PassError>,
        entry: Option<&RosterEntry>,
        now: Timestamp,
    ) -> AccessDecision {
        if self.locked_out_until.is_some_and(|until| now < until) {
            return AccessDecision::Refused {
                reason: DoorRefusal::LockedOut,
                lockout_started: false,
            };
        }
        self.locked_out_until = None;
        match self.judge(pass, entry, now) {
            Ok(member) => {
                self.last_entry.insert(member, now);
                AccessDecision::Granted(member)
            }
            Err(reason) => {
                let lockout_started = reason.could_be_an_attack() && self.count_refusal(now);
                AccessDecision::Refused {
                    reason,
                    lockout_started,
                }
            }
        }
    }

    /// When the lockout ends, if one is on.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        self.locked_out_until
    }

    fn judge(
        &self,
        pass: Result<&PassClaims, &PassError>,
        entry: Option<&RosterEntry>,
        now: Timestamp,
    ) -> Result<MemberId, DoorRefusal> {
        let claims = pass.map_err(|e| match e {
            PassError::Malformed(_) => DoorRefusal::NotAPass,
            PassError::WrongSite(_) => DoorRefusal::WrongSite,
            PassError::BadSignature => DoorRefusal::BadSignature,
            PassError::Expired => DoorRefusal::Expired,
        })?;
        let entry = entry.ok_or(DoorRefusal::NotOnRoster)?;
        if claims.epoch != entry.epoch {
            return Err(DoorRefusal::Revoked);
        }
        if self.is_night(now) {
            let today = self.calendar.date_of(now);
            if entry.paid_until.is_none_or(|until| today > until) {
                return Err(DoorRefusal::NightNotPaid);
            }
        }
        let recently_in = self.last_entry.get(&claims.member).is_some_and(|last| {
            // A clock that stepped back counts as "just now".
            now.since(*last)
                .is_none_or(|d| d < self.policy.anti_passback)
        });
        if recently_in {
            return Err(DoorRefusal::Passback);
        }
        Ok(claims.member)
    }

    /// Records a refusal; returns true if it starts a lockout.
    fn count_refusal(&mut self, now: Timestamp) -> bool {
        self.refused.push_back(now);
        while let Some(first) = self.refused.front() {
            if now
                .since(*first)
                .is_some_and(|d| d >= self.policy.lockout_window)
            {
                self.refused.pop_front();
            } else {
                break;
            }
        }
        if self.refused.len() >= self.policy.lockout_after {
            self.refused.clear();
            self.locked_out_until = Some(now.saturating_add(self.policy.lockout_for));
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn extending_a_month_goes_to_the_right_month_end() {
        use time::macros::date;
        let today = date!(2026 - 11 - 22);
        assert_eq!(super::extend_paid_month(None, today), date!(2026 - 11 - 30));
        assert_eq!(
            super::extend_paid_month(Some(date!(2026 - 10 - 31)), today),
            date!(2026 - 11 - 30)
        );
        assert_eq!(
            super::extend_paid_month(Some(date!(2026 - 11 - 30)), today),
            date!(2026 - 12 - 31)
        );
        assert_eq!(
            super::extend_paid_month(Some(date!(2026 - 12 - 31)), today),
            date!(2027 - 01 - 31)
        );
        assert_eq!(
            super::extend_paid_month(Some(date!(2028 - 01 - 31)), date!(2028 - 01 - 05)),
            date!(2028 - 02 - 29)
        );
    }

    use super::*;
    use crate::ids::SiteId;
    use crate::pass::Malformation;
    use time::macros::{date, datetime};

    fn at(dt: time::PrimitiveDateTime) -> Timestamp {
        // Local China time.
        let utc = dt.assume_offset(time::macros::offset!(+8));
        Timestamp::from_unix_millis((utc.unix_timestamp_nanos() / 1_000_000) as i64)
    }

    fn claims(member: u32, epoch: u32) -> PassClaims {
        PassClaims {
            site: SiteId::new("futian-01").unwrap(),
            member: MemberId(member),
            epoch: Epoch(epoch),
        }
    }

    fn door() -> DoorAccess {
        DoorAccess::new(AccessPolicy::default(), SiteCalendar::china())
    }

    const PAID: RosterEntry = RosterEntry {
        epoch: Epoch(0),
        paid_until: Some(date!(2026 - 11 - 30)),
    };
    const UNPAID: RosterEntry = RosterEntry {
        epoch: Epoch(0),
        paid_until: Some(date!(2026 - 10 - 31)),
    };
    const RESIDENT: RosterEntry = RosterEntry {
        epoch: Epoch(0),
        paid_until: None,
    };
    /// A member whose card was replaced: the roster names epoch 1.
    const RESIDENT_NEW_EPOCH: RosterEntry = RosterEntry {
        epoch: Epoch(1),
        paid_until: None,
    };

    #[test]
    fn day_and_night() {
        use AccessDecision::*;
        let refused = |reason| Refused {
            reason,
            lockout_started: false,
        };
        // (roster entry, pass epoch, local time, expected)
        let cases = [
            (
                Some(RESIDENT),
                0,
                datetime!(2026-11-22 10:00),
                Granted(MemberId(1)),
            ),
            (
                Some(RESIDENT),
                0,
                datetime!(2026-11-22 21:59:59),
                Granted(MemberId(1)),
            ),
            (
                Some(RESIDENT),
                0,
                datetime!(2026-11-22 22:00),
                refused(DoorRefusal::NightNotPaid),
            ),
            (
                Some(RESIDENT),
                0,
                datetime!(2026-11-23 05:59),
                refused(DoorRefusal::NightNotPaid),
            ),
            (
                Some(RESIDENT),
                0,
                datetime!(2026-11-23 06:00),
                Granted(MemberId(1)),
            ),
            (
                Some(PAID),
                0,
                datetime!(2026-11-22 23:30),
                Granted(MemberId(1)),
            ),
            (
                Some(PAID),
                0,
                datetime!(2026-11-30 23:59),
                Granted(MemberId(1)),
            ),
            (
                Some(PAID),
                0,
                datetime!(2026-12-01 00:01),
                refused(DoorRefusal::NightNotPaid),
            ),
            (
                Some(UNPAID),
                0,
                datetime!(2026-11-22 23:30),
                refused(DoorRefusal::NightNotPaid),
            ),
            (
                Some(PAID),
                1,
                datetime!(2026-11-22 23:30),
                refused(DoorRefusal::Revoked),
            ),
            (
                None,
                0,
                datetime!(2026-11-22 10:00),
                refused(DoorRefusal::NotOnRoster),
            ),
        ];
        for (i, (entry, epoch, when, want)) in cases.into_iter().enumerate() {
            let got = door().handle_scan(Ok(&claims(1, epoch)), entry.as_ref(), at(when));
            assert_eq!(got, want, "case {i}: {when}");
        }
    }

    #[test]
    fn refusal_codes_match_their_json() {
        for r in [
            DoorRefusal::NotAPass,
            DoorRefusal::WrongSite,
            DoorRefusal::BadSignature,
            DoorRefusal::Revoked,
            DoorRefusal::NotOnRoster,
            DoorRefusal::NightNotPaid,
            DoorRefusal::Passback,
            DoorRefusal::LockedOut,
        ] {
            assert_eq!(
                serde_json::to_string(&r).unwrap(),
                format!("\"{}\"", r.code())
            );
        }
    }

    #[test]
    fn anti_passback() {
        let mut d = door();
        let t = at(datetime!(2026-11-22 23:00));
        let scan = |d: &mut DoorAccess, secs: u64| {
            d.handle_scan(
                Ok(&claims(1, 0)),
                Some(&PAID),
                t.saturating_add(Duration::from_secs(secs)),
            )
        };
        assert_eq!(scan(&mut d, 0), AccessDecision::Granted(MemberId(1)));
        assert!(matches!(
            scan(&mut d, 29),
            AccessDecision::Refused {
                reason: DoorRefusal::Passback,
                ..
            }
        ));
        assert_eq!(scan(&mut d, 30), AccessDecision::Granted(MemberId(1)));
        // Another member is not held back.
        assert_eq!(
            d.handle_scan(Ok(&claims(2, 0)), Some(&PAID), t),
            AccessDecision::Granted(MemberId(2))
        );
    }

    #[test]
    fn five_bad_scans_in_50_seconds_lock_out_with_an_alarm() {
        let mut d = door();
        let t = at(datetime!(2026-11-22 23:00));
        let garbage = PassError::Malformed(Malformation::NoPrefix);
        let bad = |d: &mut DoorAccess, s: u64| {
            d.handle_scan(
                Err(&garbage),
                None,
                t.saturating_add(Duration::from_secs(s)),
            )
        };
        for s in [0, 10, 20, 30] {
            assert_eq!(
                bad(&mut d, s),
                AccessDecision::Refused {
                    reason: DoorRefusal::NotAPass,
                    lockout_started: false
                }
            );
        }
        assert_eq!(
            bad(&mut d, 49),
            AccessDecision::Refused {
                reason: DoorRefusal::NotAPass,
                lockout_started: true
            }
        );
        let until = d.poll_timeout().unwrap();
        assert_eq!(until, t.saturating_add(Duration::from_secs(109)));
        // Even a paid member waits out the lockout.
        let paid = |d: &mut DoorAccess, s: u64| {
            d.handle_scan(
                Ok(&claims(1, 0)),
                Some(&PAID),
                t.saturating_add(Duration::from_secs(s)),
            )
        };
        assert!(matches!(
            paid(&mut d, 108),
            AccessDecision::Refused {
                reason: DoorRefusal::LockedOut,
                ..
            }
        ));
        assert_eq!(paid(&mut d, 109), AccessDecision::Granted(MemberId(1)));
        assert_eq!(d.poll_timeout(), None);
    }

    #[test]
    fn refusals_that_are_no_attack_never_lock_the_reader_for_the_next_member() {
        let mut d = door();
        let t = at(datetime!(2026-11-22 23:00));
        let after = |s: u64| t.saturating_add(Duration::from_secs(s));
        // An unpaid member tries ten times at night, in ten seconds.
        for s in 0..10 {
            assert_eq!(
                d.handle_scan(Ok(&claims(2, 0)), Some(&UNPAID), after(s)),
                AccessDecision::Refused {
                    reason: DoorRefusal::NightNotPaid,
                    lockout_started: false
                }
            );
        }
        // A member who just went in scans again and again (anti-passback).
        assert_eq!(
            d.handle_scan(Ok(&claims(1, 0)), Some(&PAID), after(10)),
            AccessDecision::Granted(MemberId(1))
        );
        for s in 11..16 {
            assert!(matches!(
                d.handle_scan(Ok(&claims(1, 0)), Some(&PAID), after(s)),
                AccessDecision::Refused {
                    reason: DoorRefusal::Passback,
                    lockout_started: false
                }
            ));
        }
        // The paid member behind them gets in.
        assert_eq!(
            d.handle_scan(Ok(&claims(3, 0)), Some(&PAID), after(16)),
            AccessDecision::Granted(MemberId(3))
        );
        assert_eq!(d.poll_timeout(), None, "no lockout");
        // Revoked cards count: five of them lock the reader.
        let started: Vec<bool> = (0..5)
            .map(|s| {
                match d.handle_scan(Ok(&claims(4, 0)), Some(&RESIDENT_NEW_EPOCH), after(20 + s)) {
                    AccessDecision::Refused {
                        reason: DoorRefusal::Revoked,
                        lockout_started,
                    } => lockout_started,
                    other => panic!("{other:?}"),
                }
            })
            .collect();
        assert_eq!(started, [false, false, false, false, true]);
    }

    #[test]
    fn bad_scans_spread_out_do_not_lock_out() {
        let mut d = door();
        let t = at(datetime!(2026-11-22 23:00));
        let garbage = PassError::Malformed(Malformation::Empty);
        for i in 0..20u64 {
            let r = d.handle_scan(
                Err(&garbage),
                None,
                t.saturating_add(Duration::from_secs(i * 13)),
            );
            assert_eq!(
                r,
                AccessDecision::Refused {
                    reason: DoorRefusal::NotAPass,
                    lockout_started: false
                },
                "scan {i}"
            );
        }
    }
}

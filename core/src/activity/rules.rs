//! The rules of one activity's places: sign-up (a place, or a turn on the
//! waiting list), the offer a freed place makes to the next person (taken
//! within the centre's window, else it moves on), cancelling, attendance
//! where and when the activity is on, and what "held" means.
//!
//! The list is plain data ([`Entry`] rows in arrival order); the store
//! reads it, these functions decide, the store writes the changes back in
//! the same transaction.

use std::time::Duration;

use super::{ActivityRefusal, Audience};
use crate::ids::MemberId;
use crate::time::Timestamp;

/// The centre's activity settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActivityPolicy {
    /// How long a freed place is held for the next person on the waiting
    /// list before it moves on.
    pub offer_window: Duration,
    /// How many days before the start sign-up opens.
    pub signup_opens_days: u32,
    /// How early before the start a scan counts as attendance.
    pub early_attendance: Duration,
}

impl Default for ActivityPolicy {
    fn default() -> Self {
        Self {
            offer_window: Duration::from_secs(2 * 3600),
            signup_opens_days: 14,
            early_attendance: Duration::from_secs(30 * 60),
        }
    }
}

/// Where one person stands on an activity's list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// Has a place.
    Place,
    /// Offered a freed place, theirs if taken before `until`.
    Offered {
        /// When the offer lapses.
        until: Timestamp,
    },
    /// Waiting for a place.
    Waiting,
    /// Cancelled their place or turn.
    Cancelled,
    /// Let an offer lapse (off the list).
    Lapsed,
}

impl Standing {
    /// The stable name (database).
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Place => "place",
            Standing::Offered { .. } => "offered",
            Standing::Waiting => "waiting",
            Standing::Cancelled => "cancelled",
            Standing::Lapsed => "lapsed",
        }
    }

    /// Whether this holds a place (a place, or an offer not yet lapsed).
    pub fn holds_place(self) -> bool {
        matches!(self, Standing::Place | Standing::Offered { .. })
    }

    /// Whether this person is on the list at all.
    pub fn is_on_list(self) -> bool {
        matches!(
            self,
            Standing::Place | Standing::Offered { .. } | Standing::Waiting
        )
    }
}

/// One person on an activity's list, in arrival order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Who.
    pub member: MemberId,
    /// Their standing.
    pub standing: Standing,
}

/// The activity's times and places, as the rules need them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    /// Starts.
    pub starts: Timestamp,
    /// Ends.
    pub ends: Timestamp,
    /// Places.
    pub capacity: u32,
    /// Who may sign up.
    pub audience: Audience,
    /// Whether it is still open (not cancelled, not closed); `Err` names
    /// its state.
    pub open: Result<(), &'static str>,
}

/// What a sign-up came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignedUp {
    /// A place (new, or an offer taken).
    Place,
    /// On the waiting list, at this position (1 = next).
    Waiting(u32),
}

/// A change to one person's standing, for the store to write and the
/// surfaces to tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Change {
    /// Who.
    pub member: MemberId,
    /// Their new standing.
    pub standing: Standing,
}

/// Places held (places and live offers).
pub fn places_held(list: &[Entry]) -> u32 {
    u32::try_from(list.iter().filter(|e| e.standing.holds_place()).count()).unwrap_or(u32::MAX)
}

/// Places left for someone new (0 when full).
pub fn places_left(slot: &Slot, list: &[Entry]) -> u32 {
    slot.capacity.saturating_sub(places_held(list))
}

/// How many wait.
pub fn waiting(list: &[Entry]) -> u32 {
    u32::try_from(
        list.iter()
            .filter(|e| e.standing == Standing::Waiting)
            .count(),
    )
    .unwrap_or(u32::MAX)
}

/// Whether sign-up is open at `now`: from `signup_opens_days` before the
/// start until the start.
fn check_signup_window(
    slot: &Slot,
    policy: &ActivityPolicy,
    now: Timestamp,
) -> Result<(), ActivityRefusal> {
    slot.open
        .map_err(|state| ActivityRefusal::NotOpen { state })?;
    if now >= slot.starts {
        return Err(ActivityRefusal::Started);
    }
    let opens = Timestamp::from_unix_millis(
        slot.starts.as_unix_millis() - i64::from(policy.signup_opens_days) * 86_400_000,
    );
    if now < opens {
        return Err(ActivityRefusal::NotOpenYet {
            opens_days: policy.signup_opens_days,
        });
    }
    Ok(())
}

/// `member` (a volunteer or not) signs up at `now`. The list is settled
/// first (call [`settle`] and write its changes); then: an offer is taken
/// as a place; someone already on the list is refused; a free place is
/// theirs; else they join the waiting list. Returns the outcome and the
/// change to write.
pub fn sign_up(
    slot: &Slot,
    list: &[Entry],
    member: MemberId,
    is_volunteer: bool,
    policy: &ActivityPolicy,
    now: Timestamp,
) -> Result<(SignedUp, Change), ActivityRefusal> {
    check_signup_window(slot, policy, now)?;
    if slot.audience == Audience::Volunteers && !is_volunteer {
        return Err(ActivityRefusal::VolunteersOnly);
    }
    match list.iter().find(|e| e.member == member).map(|e| e.standing) {
        Some(Standing::Offered { until }) if now < until => {
            return Ok((
                SignedUp::Place,
                Change {
                    member,
                    standing: Standing::Place,
                },
            ));
        }
        Some(s) if s.is_on_list() => return Err(ActivityRefusal::AlreadySignedUp),
        _ => {}
    }
    if places_left(slot, list) > 0 && waiting(list) == 0 {
        Ok((
            SignedUp::Place,
            Change {
                member,
                standing: Standing::Place,
            },
        ))
    } else {
        Ok((
            SignedUp::Waiting(waiting(list) + 1),
            Change {
                member,
                standing: Standing::Waiting,
            },
        ))
    }
}

/// Cancels `member`'s place or turn. A resident may cancel their own until
/// the start (`by_staff` may until the activity is closed). The caller then
/// settles the list, which offers a freed place to the next person.
pub fn cancel(
    slot: &Slot,
    list: &[Entry],
    member: MemberId,
    by_staff: bool,
    now: Timestamp,
) -> Result<Change, ActivityRefusal> {
    slot.open
        .map_err(|state| ActivityRefusal::NotOpen { state })?;
    if !by_staff && now >= slot.starts {
        return Err(ActivityRefusal::TooLateToCancel);
    }
    match list.iter().find(|e| e.member == member) {
        Some(e) if e.standing.is_on_list() => Ok(Change {
            member,
            standing: Standing::Cancelled,
        }),
        _ => Err(ActivityRefusal::NotSignedUp),
    }
}

/// Brings the list up to `now`: offers past their time lapse, then each
/// free place is offered to the next person waiting, for the centre's
/// window but never beyond the start (after the start nobody is offered
/// anything, and an offer still open at the start lapses then). Returns the
/// changes in the order they happened; the list is updated in place.
pub fn settle(
    slot: &Slot,
    list: &mut [Entry],
    policy: &ActivityPolicy,
    now: Timestamp,
) -> Vec<Change> {
    let mut changes = Vec::new();
    for e in list.iter_mut() {
        if let Standing::Offered { until } = e.standing
            && now >= until
        {
            e.standing = Standing::Lapsed;
            changes.push(Change {
                member: e.member,
                standing: Standing::Lapsed,
            });
        }
    }
    if slot.open.is_err() || now >= slot.starts {
        return changes;
    }
    let until = now.saturating_add(policy.offer_window).min(slot.starts);
    let mut free = places_left(slot, list);
    for e in list.iter_mut() {
        if free == 0 {
            break;
        }
        if e.standing == Standing::Waiting {
            e.standing = Standing::Offered { until };
            changes.push(Change {
                member: e.member,
                standing: e.standing,
            });
            free -= 1;
        }
    }
    changes
}

/// When the next offer on this list lapses, if any: the moment to settle
/// it again.
pub fn next_lapse(list: &[Entry]) -> Option<Timestamp> {
    list.iter()
        .filter_map(|e| match e.standing {
            Standing::Offered { until } => Some(until),
            _ => None,
        })
        .min()
}

/// How a scan at the activity's room counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attendance {
    /// First scan: attended (for a volunteer shift, checked in).
    Arrived,
    /// A volunteer's second scan: checked out.
    CheckedOut,
    /// Scanned again (a class), or a volunteer's repeat within a minute:
    /// nothing changes.
    Again,
}

/// A second scan within this is a repeat, not a check-out.
pub const REPEAT_SCAN: Duration = Duration::from_secs(60);

/// What `member`'s scan at `now` in the activity's room means. On from
/// `early` before the start until the end; someone not signed up walks in
/// while a place is free. `first` and `checked_out` are their attendance so
/// far; `volunteer_shift` whether the activity counts hours.
#[allow(clippy::too_many_arguments)]
pub fn attend(
    slot: &Slot,
    list: &[Entry],
    member: MemberId,
    first: Option<Timestamp>,
    checked_out: bool,
    volunteer_shift: bool,
    policy: &ActivityPolicy,
    now: Timestamp,
) -> Result<Attendance, ActivityRefusal> {
    slot.open
        .map_err(|state| ActivityRefusal::NotOpen { state })?;
    let from = Timestamp::from_unix_millis(
        slot.starts.as_unix_millis()
            - i64::try_from(policy.early_attendance.as_millis()).unwrap_or(0),
    );
    if now < from || now > slot.ends {
        return Err(ActivityRefusal::NotOnNow);
    }
    match first {
        None => {
            let has_place = list
                .iter()
                .any(|e| e.member == member && e.standing.holds_place());
            if !has_place && places_left(slot, list) == 0 {
                return Err(ActivityRefusal::Full);
            }
            Ok(Attendance::Arrived)
        }
        Some(at)
            if volunteer_shift
                && !checked_out
                && now.since(at).unwrap_or_default() >= REPEAT_SCAN =>
        {
            Ok(Attendance::CheckedOut)
        }
        Some(_) => Ok(Attendance::Again),
    }
}

/// Whether an activity closed with `attended` people was held.
pub fn held(attended: u32) -> bool {
    attended > 0
}

/// Whether the organiser may close it at `now`: after its end.
pub fn may_close(slot: &Slot, now: Timestamp) -> Result<(), ActivityRefusal> {
    slot.open
        .map_err(|state| ActivityRefusal::NotOpen { state })?;
    if now < slot.ends {
        return Err(ActivityRefusal::NotEnded);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn t(min: i64) -> Timestamp {
        Timestamp::from_unix_millis(1_800_000_000_000 + min * MIN)
    }

    /// A class of 20 starting at minute 1000, ending at 1090.
    fn class() -> Slot {
        Slot {
            starts: t(1000),
            ends: t(1090),
            capacity: 20,
            audience: Audience::Everyone,
            open: Ok(()),
        }
    }

    fn apply(list: &mut Vec<Entry>, c: Change) {
        match list.iter_mut().find(|e| e.member == c.member) {
            Some(e) => e.standing = c.standing,
            None => list.push(Entry {
                member: c.member,
                standing: c.standing,
            }),
        }
    }

    #[test]
    fn twenty_five_for_twenty_places_five_wait_and_freed_places_are_offered_in_turn() {
        let slot = class();
        let p = ActivityPolicy::default();
        let mut list = Vec::new();
        let mut outcomes = Vec::new();
        for m in 1..=25 {
            let (o, c) = sign_up(&slot, &list, MemberId(m), false, &p, t(0)).unwrap();
            apply(&mut list, c);
            outcomes.push(o);
        }
        assert_eq!(
            outcomes.iter().filter(|o| **o == SignedUp::Place).count(),
            20
        );
        assert_eq!(outcomes[24], SignedUp::Waiting(5));
        assert_eq!(
            sign_up(&slot, &list, MemberId(3), false, &p, t(1)),
            Err(ActivityRefusal::AlreadySignedUp)
        );

        // Two cancel: members 21 and 22 are offered, for two hours.
        for m in [4, 9] {
            let c = cancel(&slot, &list, MemberId(m), false, t(10)).unwrap();
            apply(&mut list, c);
        }
        let changes = settle(&slot, &mut list, &p, t(10));
        assert_eq!(
            changes,
            vec![
                Change {
                    member: MemberId(21),
                    standing: Standing::Offered { until: t(130) }
                },
                Change {
                    member: MemberId(22),
                    standing: Standing::Offered { until: t(130) }
                },
            ]
        );
        // The full list is still full: a newcomer waits behind 23..25.
        let (o, _) = sign_up(&slot, &list, MemberId(99), false, &p, t(11)).unwrap();
        assert_eq!(o, SignedUp::Waiting(4));

        // 21 takes it; 22 lets it lapse and 23 is offered it.
        let (o, c) = sign_up(&slot, &list, MemberId(21), false, &p, t(60)).unwrap();
        assert_eq!(o, SignedUp::Place);
        apply(&mut list, c);
        assert!(settle(&slot, &mut list, &p, t(129)).is_empty());
        let changes = settle(&slot, &mut list, &p, t(130));
        assert_eq!(
            changes,
            vec![
                Change {
                    member: MemberId(22),
                    standing: Standing::Lapsed
                },
                Change {
                    member: MemberId(23),
                    standing: Standing::Offered { until: t(250) }
                },
            ]
        );
        // 22 is off the list and may join again, at the back.
        let (o, _) = sign_up(&slot, &list, MemberId(22), false, &p, t(131)).unwrap();
        assert_eq!(o, SignedUp::Waiting(3));
        assert_eq!(places_held(&list), 20);
    }

    #[test]
    fn an_offer_never_runs_past_the_start_and_nothing_is_offered_after_it() {
        let slot = class();
        let p = ActivityPolicy::default();
        let mut list: Vec<Entry> = (1..=20)
            .map(|m| Entry {
                member: MemberId(m),
                standing: Standing::Place,
            })
            .collect();
        list.push(Entry {
            member: MemberId(21),
            standing: Standing::Waiting,
        });
        list[0].standing = Standing::Cancelled;
        let changes = settle(&slot, &mut list, &p, t(950));
        assert_eq!(changes[0].standing, Standing::Offered { until: t(1000) });
        let changes = settle(&slot, &mut list, &p, t(1000));
        assert_eq!(
            changes,
            vec![Change {
                member: MemberId(21),
                standing: Standing::Lapsed
            }]
        );
        list[1].standing = Standing::Cancelled;
        assert!(settle(&slot, &mut list, &p, t(1001)).is_empty());
    }

    #[test]
    fn sign_up_opens_days_before_and_closes_at_the_start_and_volunteers_only_means_it() {
        let slot = class();
        let p = ActivityPolicy {
            signup_opens_days: 1,
            ..ActivityPolicy::default()
        };
        assert_eq!(
            sign_up(&slot, &[], MemberId(1), false, &p, t(1000 - 24 * 60 - 1)),
            Err(ActivityRefusal::NotOpenYet { opens_days: 1 })
        );
        assert!(sign_up(&slot, &[], MemberId(1), false, &p, t(1000 - 24 * 60)).is_ok());
        assert_eq!(
            sign_up(&slot, &[], MemberId(1), false, &p, t(1000)),
            Err(ActivityRefusal::Started)
        );
        let shift = Slot {
            audience: Audience::Volunteers,
            ..slot
        };
        assert_eq!(
            sign_up(&shift, &[], MemberId(1), false, &p, t(900)),
            Err(ActivityRefusal::VolunteersOnly)
        );
        assert!(sign_up(&shift, &[], MemberId(1), true, &p, t(900)).is_ok());
        let gone = Slot {
            open: Err("cancelled"),
            ..slot
        };
        assert_eq!(
            sign_up(&gone, &[], MemberId(1), false, &p, t(900)),
            Err(ActivityRefusal::NotOpen { state: "cancelled" })
        );
    }

    #[test]
    fn a_resident_cancels_until_the_start_staff_after_it() {
        let slot = class();
        let list = [Entry {
            member: MemberId(1),
            standing: Standing::Place,
        }];
        assert!(cancel(&slot, &list, MemberId(1), false, t(999)).is_ok());
        assert_eq!(
            cancel(&slot, &list, MemberId(1), false, t(1000)),
            Err(ActivityRefusal::TooLateToCancel)
        );
        assert!(cancel(&slot, &list, MemberId(1), true, t(1010)).is_ok());
        assert_eq!(
            cancel(&slot, &list, MemberId(2), false, t(10)),
            Err(ActivityRefusal::NotSignedUp)
        );
    }

    #[test]
    fn attendance_counts_in_its_time_walk_ins_while_places_last_and_a_volunteer_checks_out() {
        let slot = Slot {
            capacity: 1,
            ..class()
        };
        let p = ActivityPolicy::default();
        let list = [Entry {
            member: MemberId(1),
            standing: Standing::Place,
        }];
        let go =
            |m, first, out, vol, now| attend(&slot, &list, MemberId(m), first, out, vol, &p, now);
        assert_eq!(
            go(1, None, false, false, t(969)),
            Err(ActivityRefusal::NotOnNow)
        );
        assert_eq!(go(1, None, false, false, t(970)), Ok(Attendance::Arrived));
        assert_eq!(
            go(1, None, false, false, t(1091)),
            Err(ActivityRefusal::NotOnNow)
        );
        assert_eq!(
            go(2, None, false, false, t(1000)),
            Err(ActivityRefusal::Full)
        );
        assert_eq!(
            go(1, Some(t(1000)), false, false, t(1050)),
            Ok(Attendance::Again)
        );
        assert_eq!(
            go(1, Some(t(1000)), false, true, t(1000)),
            Ok(Attendance::Again)
        );
        assert_eq!(
            go(1, Some(t(1000)), false, true, t(1060)),
            Ok(Attendance::CheckedOut)
        );
        assert_eq!(
            go(1, Some(t(1000)), true, true, t(1070)),
            Ok(Attendance::Again)
        );
        let free = Slot {
            capacity: 2,
            ..slot
        };
        assert_eq!(
            attend(&free, &list, MemberId(2), None, false, false, &p, t(1000)),
            Ok(Attendance::Arrived)
        );
    }

    #[test]
    fn closing_waits_for_the_end_and_held_needs_someone_there() {
        let slot = class();
        assert_eq!(may_close(&slot, t(1089)), Err(ActivityRefusal::NotEnded));
        assert!(may_close(&slot, t(1090)).is_ok());
        assert!(!held(0));
        assert!(held(1));
    }
}

//! Who is inside: the door's passages (someone went through, in on a grant,
//! out by the exit button or the exit reader) read in time order, as a
//! head count, the people inside, the one left alone, and the exits that
//! nobody's entry accounts for (tailgating).
//!
//! Sans-IO and clock-free: the centre hands in tonight's passages of one
//! door and the time; nothing here reads a database or a clock.
//!
//! - An entry counts the member (or "someone", a staff member's remote
//!   open) inside. Entering again while counted inside: they left unseen
//!   (through someone else's exit), and are counted once, from now.
//! - A named exit (the exit reader) takes that member out. A member who
//!   leaves without a recorded entry (and no one let in by staff for
//!   nobody named) came in on someone else's scan: tailgating.
//! - An exit without a name (the exit button) takes one person out of the
//!   count without knowing whom; when the count reaches zero everyone is
//!   accounted for. An exit with nobody counted inside is tailgating too:
//!   someone left whom no scan let in.

use crate::ids::MemberId;
use crate::time::Timestamp;

/// Which way someone went through the door.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Way {
    /// In, on a grant (a scan or staff's remote open).
    In,
    /// Out, by the exit button or the exit reader.
    Out,
}

impl Way {
    /// The stable name (as in the JSON and the database).
    pub fn as_str(self) -> &'static str {
        match self {
            Way::In => "in",
            Way::Out => "out",
        }
    }

    /// The way of a stable name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "in" => Some(Way::In),
            "out" => Some(Way::Out),
            _ => None,
        }
    }
}

/// One passage through the door.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Passage {
    /// When the door opened for it.
    pub at: Timestamp,
    /// In or out.
    pub way: Way,
    /// Who, when the door knows (a scan); `None` for the exit button or a
    /// remote open for nobody in particular.
    pub member: Option<MemberId>,
}

/// Someone counted inside.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Inside {
    /// Who (`None`: let in by staff for nobody named).
    pub member: Option<MemberId>,
    /// Since when.
    pub since: Timestamp,
}

/// An exit nobody's entry accounts for: someone came in without a scan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Unaccounted {
    /// When they left.
    pub at: Timestamp,
    /// Who, if the exit reader read their pass.
    pub member: Option<MemberId>,
}

/// The one person inside.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alone {
    /// Who it may be: one member, or (after exits without a name) any of
    /// those counted in, one of whom is still there.
    pub candidates: Vec<Option<MemberId>>,
    /// Inside at least since this (the latest of the candidates' entries).
    pub since: Timestamp,
}

/// Who is inside, after a night's passages.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Occupancy {
    counted: Vec<Inside>,
    unnamed_exits: usize,
    unaccounted: Vec<Unaccounted>,
}

impl Occupancy {
    /// The occupancy after `passages`, oldest first.
    pub fn from_passages(passages: impl IntoIterator<Item = Passage>) -> Self {
        let mut o = Self::default();
        for p in passages {
            o.pass(p);
        }
        o
    }

    /// One more passage (later than all before).
    pub fn pass(&mut self, p: Passage) {
        match (p.way, p.member) {
            (Way::In, member) => {
                if member.is_some() {
                    self.counted.retain(|i| i.member != member);
                }
                self.counted.push(Inside {
                    member,
                    since: p.at,
                });
            }
            (Way::Out, Some(m)) => {
                let before = self.counted.len();
                self.counted.retain(|i| i.member != Some(m));
                if self.counted.len() == before {
                    // Not counted in by name: let in by staff for nobody
                    // named, or in on someone else's scan.
                    if let Some(i) = self.counted.iter().position(|i| i.member.is_none()) {
                        self.counted.remove(i);
                    } else {
                        self.unaccounted.push(Unaccounted {
                            at: p.at,
                            member: Some(m),
                        });
                    }
                }
                self.settle();
            }
            (Way::Out, None) => self.unnamed_out(p.at, None),
        }
    }

    fn unnamed_out(&mut self, at: Timestamp, member: Option<MemberId>) {
        if self.head_count() == 0 {
            self.unaccounted.push(Unaccounted { at, member });
            return;
        }
        self.unnamed_exits += 1;
        self.settle();
    }

    fn settle(&mut self) {
        if self.unnamed_exits >= self.counted.len() {
            // Everyone counted has gone.
            self.counted.clear();
            self.unnamed_exits = 0;
        }
    }

    /// How many people are inside.
    pub fn head_count(&self) -> usize {
        self.counted.len().saturating_sub(self.unnamed_exits)
    }

    /// Those counted in, oldest first; after exits without a name, more
    /// than [`Self::head_count`] (some of them left, whom unknown).
    pub fn counted(&self) -> &[Inside] {
        &self.counted
    }

    /// Exits nobody's entry accounts for, oldest first.
    pub fn unaccounted(&self) -> &[Unaccounted] {
        &self.unaccounted
    }

    /// The one person inside, if there is exactly one.
    pub fn alone(&self) -> Option<Alone> {
        if self.head_count() != 1 {
            return None;
        }
        Some(Alone {
            candidates: self.counted.iter().map(|i| i.member).collect(),
            since: self.counted.iter().map(|i| i.since).max()?,
        })
    }
}

/// When someone alone inside is a welfare alarm: how long, and at which
/// hours (local minutes of the day; the window may run past midnight).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WelfarePolicy {
    /// Alone inside longer than this many minutes.
    pub alone_after_min: u32,
    /// The watch begins (local minute of the day).
    pub night_from_min: u16,
    /// The watch ends (local minute of the day).
    pub night_to_min: u16,
}

impl Default for WelfarePolicy {
    /// Three hours alone, from 22:00 to 07:00.
    fn default() -> Self {
        Self {
            alone_after_min: 180,
            night_from_min: 22 * 60,
            night_to_min: 7 * 60,
        }
    }
}

impl WelfarePolicy {
    /// Whether local minute `minute` is in the watch (from inclusive, to
    /// exclusive; equal ends: all day).
    pub fn watching(&self, minute: u16) -> bool {
        let (from, to) = (self.night_from_min, self.night_to_min);
        match from.cmp(&to) {
            std::cmp::Ordering::Equal => true,
            std::cmp::Ordering::Less => (from..to).contains(&minute),
            std::cmp::Ordering::Greater => minute >= from || minute < to,
        }
    }

    /// The welfare alarm's person: someone alone inside for longer than the
    /// policy allows, at `now` (local minute of the day `minute`).
    pub fn overdue(&self, occupancy: &Occupancy, now: Timestamp, minute: u16) -> Option<Alone> {
        let alone = occupancy.alone()?;
        let limit = std::time::Duration::from_secs(u64::from(self.alone_after_min) * 60);
        let inside_for = now.since(alone.since)?;
        (self.watching(minute) && inside_for >= limit).then_some(alone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(min: i64) -> Timestamp {
        Timestamp::from_unix_millis(1_800_000_000_000 + min * 60_000)
    }
    fn inn(min: i64, m: u32) -> Passage {
        Passage {
            at: t(min),
            way: Way::In,
            member: Some(MemberId(m)),
        }
    }
    fn out(min: i64, m: Option<u32>) -> Passage {
        Passage {
            at: t(min),
            way: Way::Out,
            member: m.map(MemberId),
        }
    }

    #[test]
    fn two_in_one_out_by_the_button_leaves_one_inside_either_of_them() {
        let o = Occupancy::from_passages([inn(0, 1), inn(10, 2), out(20, None)]);
        assert_eq!(o.head_count(), 1);
        let alone = o.alone().unwrap();
        assert_eq!(alone.candidates, [Some(MemberId(1)), Some(MemberId(2))]);
        assert_eq!(alone.since, t(10), "inside at least since the later entry");
        assert!(o.unaccounted().is_empty());
    }

    #[test]
    fn the_exit_reader_names_who_left_and_the_last_out_empties_the_room() {
        let mut o = Occupancy::from_passages([inn(0, 1), inn(10, 2), out(20, Some(1))]);
        assert_eq!(o.alone().unwrap().candidates, [Some(MemberId(2))]);
        o.pass(out(30, None));
        assert_eq!(o.head_count(), 0);
        assert!(o.counted().is_empty());
        assert!(o.alone().is_none());
    }

    #[test]
    fn more_out_than_in_is_tailgating_named_when_the_reader_read_them() {
        let o = Occupancy::from_passages([inn(0, 1), out(5, None), out(6, None), out(7, Some(9))]);
        assert_eq!(o.head_count(), 0);
        assert_eq!(
            o.unaccounted(),
            [
                Unaccounted {
                    at: t(6),
                    member: None
                },
                Unaccounted {
                    at: t(7),
                    member: Some(MemberId(9))
                }
            ]
        );
    }

    #[test]
    fn a_member_who_leaves_by_the_reader_without_having_come_in_tailgated_and_the_count_holds() {
        let mut o = Occupancy::from_passages([inn(0, 1), out(5, Some(2))]);
        assert_eq!(o.head_count(), 1, "the one who scanned is still inside");
        assert_eq!(o.unaccounted()[0].member, Some(MemberId(2)));
        // Let in by staff for nobody named, then leaving by the reader: no
        // tailgating.
        o.pass(Passage {
            at: t(6),
            way: Way::In,
            member: None,
        });
        o.pass(out(7, Some(3)));
        assert_eq!(o.head_count(), 1);
        assert_eq!(o.unaccounted().len(), 1);
    }

    #[test]
    fn entering_again_while_counted_inside_counts_once_from_the_new_entry() {
        let o = Occupancy::from_passages([inn(0, 1), inn(60, 1)]);
        assert_eq!(o.head_count(), 1);
        assert_eq!(o.alone().unwrap().since, t(60));
    }

    #[test]
    fn the_welfare_alarm_comes_after_the_set_time_alone_and_only_at_night() {
        let p = WelfarePolicy::default();
        // In at 23:10 (minute 1390), nobody out.
        let o = Occupancy::from_passages([inn(0, 1)]);
        let at = |min: i64| (t(min), ((1390 + min) % 1440) as u16);
        let (now, minute) = at(179);
        assert!(p.overdue(&o, now, minute).is_none(), "2 h 59 min: not yet");
        let (now, minute) = at(180);
        assert_eq!(
            p.overdue(&o, now, minute).unwrap().candidates,
            [Some(MemberId(1))]
        );
        // The watch ends at 07:00: no alarm by day (staff are in).
        let (now, minute) = at(600);
        assert!(p.overdue(&o, now, minute).is_none());
        // Two inside: not alone, no alarm.
        let two = Occupancy::from_passages([inn(0, 1), inn(1, 2)]);
        let (now, minute) = at(240);
        assert!(p.overdue(&two, now, minute).is_none());
        assert!(
            WelfarePolicy {
                night_from_min: 0,
                night_to_min: 0,
                ..p
            }
            .watching(720)
        );
    }
}

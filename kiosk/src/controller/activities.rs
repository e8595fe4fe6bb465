//! The activities page: who scanned, this week's activities, and the one
//! thing a tap on each does for them now: take a free place, join the
//! waiting list, take a place offered to them, or give up their place or
//! turn. A started, cancelled or closed activity offers nothing.

use keting_core::activity::rules::Standing;
use keting_core::ids::MemberId;
use keting_core::time::Timestamp;
use keting_desk::activities::ActivityView;
use keting_desk::records::ActivityState;

/// The page's steps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Step {
    /// Scan your pass.
    #[default]
    Scan,
    /// The week's activities, each with its one tap.
    List,
}

/// What one tap on an activity does for the member now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tap {
    /// Take a free place.
    SignUp,
    /// Join the waiting list (every place taken or offered).
    Join,
    /// Take the place offered to them.
    TakeOffer,
    /// Give up their place or their turn.
    Cancel,
    /// Nothing (started, cancelled, closed).
    Nothing,
}

/// The tap `view` offers a member whose standing on it is `mine`, at `now`.
pub fn tap(view: &ActivityView, mine: Option<Standing>, now: Timestamp) -> Tap {
    if view.record.state != ActivityState::Open || now >= view.record.plan.starts {
        return Tap::Nothing;
    }
    match mine {
        Some(Standing::Offered { until }) if now < until => Tap::TakeOffer,
        Some(Standing::Place | Standing::Waiting) => Tap::Cancel,
        _ if view.places_left > 0 && view.waiting == 0 => Tap::SignUp,
        _ => Tap::Join,
    }
}

/// The page's state.
#[derive(Clone, Debug, Default)]
pub struct ActivitiesPage {
    member: Option<(MemberId, String)>,
    step: Step,
}

impl ActivitiesPage {
    /// The member who scanned, if any.
    pub fn member(&self) -> Option<(MemberId, &str)> {
        self.member.as_ref().map(|(id, n)| (*id, n.as_str()))
    }

    /// The step shown.
    pub fn step(&self) -> Step {
        self.step
    }

    /// A pass scanned: the list, for them (another member's scan starts over).
    pub fn scanned(&mut self, member: MemberId, name: String) {
        self.member = Some((member, name));
        self.step = Step::List;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keting_core::activity::{ActivityKind, ActivityPlan, Audience};
    use keting_desk::records::ActivityRecord;

    fn view(left: u32, waiting: u32, state: ActivityState) -> ActivityView {
        ActivityView {
            record: ActivityRecord {
                id: 1,
                plan: ActivityPlan {
                    title_zh: "书法班".into(),
                    title_en: "Calligraphy".into(),
                    room: "活动室".into(),
                    starts: Timestamp::from_unix_millis(10_000),
                    ends: Timestamp::from_unix_millis(20_000),
                    capacity: 20,
                    kind: ActivityKind::Class,
                    audience: Audience::Everyone,
                    points_per_hour: 0,
                    organiser_name: String::new(),
                },
                organiser: None,
                series: None,
                repeat_rule: String::new(),
                state,
                attended: 0,
                volunteer_minutes: 0,
                adopted_notice: None,
            },
            places_left: left,
            places_held: 20 - left,
            waiting,
        }
    }

    #[test]
    fn one_tap_takes_a_place_joins_the_queue_takes_an_offer_or_gives_up() {
        let before = Timestamp::from_unix_millis(5_000);
        let open = ActivityState::Open;
        assert_eq!(tap(&view(3, 0, open.clone()), None, before), Tap::SignUp);
        assert_eq!(tap(&view(0, 0, open.clone()), None, before), Tap::Join);
        // A free place held back for someone waiting: join behind them.
        assert_eq!(tap(&view(1, 2, open.clone()), None, before), Tap::Join);
        let offered = Standing::Offered {
            until: Timestamp::from_unix_millis(6_000),
        };
        assert_eq!(
            tap(&view(0, 2, open.clone()), Some(offered), before),
            Tap::TakeOffer
        );
        assert_eq!(
            tap(
                &view(0, 2, open.clone()),
                Some(offered),
                Timestamp::from_unix_millis(6_000)
            ),
            Tap::Join,
            "a lapsed offer is gone"
        );
        assert_eq!(
            tap(&view(0, 2, open.clone()), Some(Standing::Place), before),
            Tap::Cancel
        );
        assert_eq!(
            tap(&view(0, 2, open.clone()), Some(Standing::Waiting), before),
            Tap::Cancel
        );
        assert_eq!(
            tap(&view(3, 0, open), None, Timestamp::from_unix_millis(10_000)),
            Tap::Nothing
        );
        assert_eq!(
            tap(
                &view(3, 0, ActivityState::Cancelled("雨".into())),
                None,
                before
            ),
            Tap::Nothing
        );
    }
}

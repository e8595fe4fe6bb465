//! What residents say, and staff's answers: a resident rates a session or
//! an activity they had (within [`RATE_WITHIN`]), drops a suggestion in the
//! box (at most [`SUGGESTIONS_PER_DAY`] a day), and sees staff's answers;
//! staff list the suggestions (unanswered first) and answer them by name
//! (评单 and 意见箱).

use std::time::Duration;

use keting_core::ids::MemberId;
use keting_core::staff::{Forbidden, StaffAction};
use keting_core::time::Timestamp;
use thiserror::Error;

use super::Actor;
use keting_store::bookings::Booking;
use keting_store::feedback::{self, Suggestion, ToRate};
use keting_store::{Store, StoreError, activities, audit, ratings};

/// A session or an activity can be rated this long after it ended.
pub const RATE_WITHIN: Duration = Duration::from_secs(7 * 86_400);
/// The most suggestions one member makes in a day.
pub const SUGGESTIONS_PER_DAY: u32 = 5;
/// The longest suggestion or answer, in characters.
pub const TEXT_MAX: usize = 500;

/// Why nothing was rated, suggested or answered.
#[derive(Debug, Error)]
pub enum FeedbackError {
    /// Stars are 1 to 5.
    #[error("a rating is 1 to 5")]
    BadStars,
    /// Not the member's to rate: not attended, not over, too long ago, or
    /// not theirs (one answer for all).
    #[error("nothing of yours to rate here")]
    NotYours,
    /// Rated already.
    #[error("rated already")]
    RatedAlready,
    /// Empty, too long, or with control characters or markup.
    #[error("a suggestion or an answer is 1 to {TEXT_MAX} characters, with no < >")]
    BadText,
    /// Over the day's suggestions.
    #[error("at most {SUGGESTIONS_PER_DAY} suggestions a day")]
    TooMany,
    /// No such suggestion.
    #[error("no suggestion {0}")]
    UnknownSuggestion(i64),
    /// The actor may not do this.
    #[error(transparent)]
    Forbidden(Forbidden),
    /// The database.
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for FeedbackError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Forbidden(f) => FeedbackError::Forbidden(f),
            e => FeedbackError::Store(e),
        }
    }
}

impl From<rusqlite::Error> for FeedbackError {
    fn from(e: rusqlite::Error) -> Self {
        FeedbackError::Store(e.into())
    }
}

/// What a resident may rate now: their sessions and activities over
/// within [`RATE_WITHIN`] and not rated yet.
#[derive(Clone, Debug, Default)]
pub struct ToRateNow {
    /// Sessions (bookings) over.
    pub sessions: Vec<Booking>,
    /// Activities attended.
    pub activities: Vec<ToRate>,
}

fn since(now: Timestamp) -> Timestamp {
    Timestamp::from_unix_millis(now.as_unix_millis() - RATE_WITHIN.as_millis() as i64)
}

/// What `member` may rate at `now`.
pub fn to_rate(
    store: &Store,
    member: MemberId,
    now: Timestamp,
) -> Result<ToRateNow, FeedbackError> {
    Ok(ToRateNow {
        sessions: ratings::unrated_since(store.conn(), member, since(now))?,
        activities: feedback::activities_to_rate(store.conn(), member, since(now), now)?,
    })
}

fn only_the_member(actor: Actor, action: StaffAction) -> Result<MemberId, FeedbackError> {
    match actor {
        Actor::Member(m) => Ok(m),
        _ => Err(FeedbackError::Forbidden(Forbidden { role: None, action })),
    }
}

/// The member rates a session they had.
pub fn rate_session(
    store: &mut Store,
    actor: Actor,
    booking: i64,
    stars: u8,
    now: Timestamp,
) -> Result<(), FeedbackError> {
    let member = only_the_member(actor, StaffAction::Bookings)?;
    if !(1..=5).contains(&stars) {
        return Err(FeedbackError::BadStars);
    }
    store.write(|tx| {
        let mine = ratings::unrated_since(tx, member, since(now))?;
        if !mine.iter().any(|b| b.id == booking) {
            return Err(FeedbackError::NotYours);
        }
        ratings::rate(tx, booking, Some(member), stars, now)?;
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "booking.rate",
            &format!("booking {booking}: {stars} star(s)"),
        )?;
        Ok(())
    })
}

/// The member rates an activity they attended.
pub fn rate_activity(
    store: &mut Store,
    actor: Actor,
    activity: i64,
    stars: u8,
    now: Timestamp,
) -> Result<(), FeedbackError> {
    let member = only_the_member(actor, StaffAction::Activities)?;
    if !(1..=5).contains(&stars) {
        return Err(FeedbackError::BadStars);
    }
    store.write(|tx| {
        let mine = feedback::activities_to_rate(tx, member, since(now), now)?;
        if !mine.iter().any(|a| a.id == activity) {
            // Rated already reads as such; anything else is not theirs.
            let attended = activities::attendance(tx, activity)?
                .iter()
                .any(|a| a.member == member);
            return Err(
                if attended && feedback::activity_rated(tx, activity, member)? {
                    FeedbackError::RatedAlready
                } else {
                    FeedbackError::NotYours
                },
            );
        }
        feedback::rate_activity(tx, activity, member, stars, now)?;
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "activity.rate",
            &format!("activity {activity}: {stars} star(s)"),
        )?;
        Ok(())
    })
}

fn clean(text: &str) -> Result<String, FeedbackError> {
    let t = text.trim();
    let n = t.chars().count();
    if n == 0
        || n > TEXT_MAX
        || t.contains(['<', '>'])
        || t.chars().any(|c| c.is_control() && c != '\n')
    {
        return Err(FeedbackError::BadText);
    }
    Ok(t.replace("\r\n", "\n"))
}

/// The member drops a suggestion in the box; its number.
pub fn suggest(
    store: &mut Store,
    actor: Actor,
    text: &str,
    now: Timestamp,
) -> Result<i64, FeedbackError> {
    let member = only_the_member(actor, StaffAction::Members)?;
    let text = clean(&text.replace('\r', ""))?;
    store.write(|tx| {
        let day_ago = Timestamp::from_unix_millis(now.as_unix_millis() - 86_400_000);
        if feedback::suggested_since(tx, member, day_ago)? >= SUGGESTIONS_PER_DAY {
            return Err(FeedbackError::TooMany);
        }
        let id = feedback::suggest(tx, member, &text, now)?;
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "suggestion.add",
            &format!("suggestion {id}"),
        )?;
        Ok(id)
    })
}

/// A member's own suggestions with staff's answers.
pub fn mine(store: &Store, member: MemberId) -> Result<Vec<Suggestion>, FeedbackError> {
    Ok(feedback::of_member(store.conn(), member, 50)?)
}

/// Every suggestion for staff, unanswered first.
pub fn all(store: &Store, actor: Actor) -> Result<Vec<Suggestion>, FeedbackError> {
    if let Actor::Staff(_) = actor {
        super::staff::require(store.conn(), actor, StaffAction::Members)?;
    }
    Ok(feedback::all(store.conn(), 500)?)
}

/// Staff answer suggestion `id` (the resident sees it with the name of the
/// role's holder kept in the audit log, not on their page).
pub fn answer(
    store: &mut Store,
    actor: Actor,
    id: i64,
    text: &str,
    now: Timestamp,
) -> Result<(), FeedbackError> {
    let text = clean(&text.replace('\r', ""))?;
    store.write(|tx| {
        super::staff::require(tx, actor, StaffAction::Members)?;
        if !feedback::answer(tx, id, &text, &actor.audit_name(), now)? {
            return Err(FeedbackError::UnknownSuggestion(id));
        }
        audit::record(
            tx,
            now,
            &actor.audit_name(),
            "suggestion.answer",
            &format!("suggestion {id}"),
        )?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use keting_store::members::{self, NewMember};

    #[test]
    fn a_suggestion_is_answered_by_staff_and_a_resident_rates_only_their_own() {
        let mut store = Store::open_in_memory().unwrap();
        let t = Timestamp::from_unix_millis(1_800_000_000_000);
        let li = store
            .write(|tx| members::add(tx, &NewMember::new("李建国", None, &[]).unwrap(), t))
            .unwrap();
        let staff =
            super::super::staff::staff_for_tests(&mut store, keting_core::staff::StaffRole::Staff);
        let observer = super::super::staff::staff_for_tests(
            &mut store,
            keting_core::staff::StaffRole::Observer,
        );
        assert!(matches!(
            suggest(&mut store, Actor::Member(li), "  ", t),
            Err(FeedbackError::BadText)
        ));
        assert!(matches!(
            suggest(&mut store, Actor::Member(li), "<script>", t),
            Err(FeedbackError::BadText)
        ));
        let id = suggest(&mut store, Actor::Member(li), "阅览室的灯太暗了", t).unwrap();
        for _ in 1..SUGGESTIONS_PER_DAY {
            suggest(&mut store, Actor::Member(li), "再说一句", t).unwrap();
        }
        assert!(matches!(
            suggest(&mut store, Actor::Member(li), "太多了", t),
            Err(FeedbackError::TooMany)
        ));
        assert!(matches!(
            answer(&mut store, Actor::Staff(observer), id, "好", t),
            Err(FeedbackError::Forbidden(_))
        ));
        assert!(matches!(
            answer(&mut store, Actor::Member(li), id, "好", t),
            Err(FeedbackError::Forbidden(_))
        ));
        answer(
            &mut store,
            Actor::Staff(staff),
            id,
            "已经换了新灯管，谢谢您",
            t,
        )
        .unwrap();
        let mine = mine(&store, li).unwrap();
        let answered = mine.iter().find(|s| s.id == id).unwrap();
        assert_eq!(
            answered.answer.as_ref().unwrap().0,
            "已经换了新灯管，谢谢您"
        );
        // Nothing attended: nothing to rate, and staff cannot rate for them.
        assert!(matches!(
            rate_activity(&mut store, Actor::Member(li), 1, 5, t),
            Err(FeedbackError::NotYours)
        ));
        assert!(matches!(
            rate_session(&mut store, Actor::Member(li), 1, 5, t),
            Err(FeedbackError::NotYours)
        ));
        assert!(matches!(
            rate_session(&mut store, Actor::Staff(staff), 1, 5, t),
            Err(FeedbackError::Forbidden(_))
        ));
        assert!(matches!(
            rate_session(&mut store, Actor::Member(li), 1, 9, t),
            Err(FeedbackError::BadStars)
        ));
    }
}

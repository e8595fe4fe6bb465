//! Awarding points on the screen (staff only, from the staff page): the
//! activity chosen from the recent ones, then each volunteer's scan is an
//! award (once per member and activity, under the daily cap) or a refusal
//! with its reason; a wrong award is reversed with a tap, as a reversing
//! posting with the reason "wrong person". Each write is one transaction
//! with the staff member as the audit log's actor.

use std::cell::RefCell;
use std::rc::Rc;

use keting_core::ledger::Points;
use keting_core::ledger::rules::PointsRefusal;
use slint::{ComponentHandle, ModelRc, VecModel};

use super::kiosk_adapter::State;
use super::language::Language;
use super::staff_adapter::as_staff;
use super::{ActivityChoice, AwardRow, KioskAdapter, KioskWindow};
use crate::controller::router::Screen;
use crate::words::{tr, tr_args};
use keting_centre::clock;
use keting_centre::desk;
use keting_centre::desk::points::PointsError;
use keting_centre::store::members;

/// The reason a reversal on the screen records (a ledger memo, kept in
/// both languages).
pub const REVERSAL_REASON: &str = desk::points::WRONG_PERSON;

/// The activities offered (read when the page opens), the one chosen, and
/// the awards made since.
#[derive(Clone, Debug, Default)]
pub(super) struct AwardSession {
    recent: Vec<(String, Points)>,
    activity: Option<(String, Points)>,
    rows: Vec<AwardRow>,
}

fn zh(state: &Rc<RefCell<State>>) -> bool {
    state.borrow().language == Language::Chinese
}

/// Opens the page with the recent activities (the newest chosen).
pub(super) fn open(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    let recent =
        desk::points::recent_activities(state.borrow().desk.store(), 8).unwrap_or_default();
    state.borrow_mut().award = AwardSession {
        activity: recent.first().cloned(),
        recent,
        rows: Vec::new(),
    };
    let adapter = window.global::<KioskAdapter>();
    adapter.set_award_message("".into());
    show(window, state);
    super::kiosk_adapter::show_page(window, state, Screen::Award);
}

fn show(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    let s = state.borrow();
    let adapter = window.global::<KioskAdapter>();
    let choices: Vec<ActivityChoice> = s
        .award
        .recent
        .iter()
        .map(|(name, worth)| ActivityChoice {
            name: name.as_str().into(),
            points: i32::try_from(*worth).unwrap_or(i32::MAX),
            selected: s.award.activity.as_ref() == Some(&(name.clone(), *worth)),
        })
        .collect();
    adapter.set_activities(ModelRc::new(VecModel::from(choices)));
    adapter.set_awards(ModelRc::new(VecModel::from(s.award.rows.clone())));
}

/// An activity was tapped.
pub(super) fn choose(window: &KioskWindow, state: &Rc<RefCell<State>>, name: &str, worth: i32) {
    state.borrow_mut().award.activity = Some((name.to_owned(), Points::from(worth)));
    show(window, state);
}

fn refusal(e: &PointsError, zh: bool) -> String {
    match e {
        PointsError::Refused(PointsRefusal::AlreadyAwarded) => {
            tr(zh, "already awarded for this activity")
        }
        PointsError::Refused(PointsRefusal::OverDailyEarnCap { left }) => {
            tr_args(zh, "over today's cap: {0} points left", &[left])
        }
        other => other.to_string(),
    }
}

/// A volunteer scanned: award them.
pub(super) fn scan(window: &KioskWindow, state: &Rc<RefCell<State>>, text: &str) {
    let zh = zh(state);
    let Some((activity, worth)) = state.borrow().award.activity.clone() else {
        window
            .global::<KioskAdapter>()
            .set_award_message(tr(zh, "Choose the activity first").into());
        return;
    };
    let claims = state.borrow().desk.verifier().verify(text.trim());
    let member = claims.ok().and_then(|c| {
        members::require(state.borrow().desk.store().conn(), c.member)
            .ok()
            .filter(|m| m.epoch == c.epoch)
    });
    let Some(member) = member else {
        window.global::<KioskAdapter>().set_award_message(
            tr(
                zh,
                "This pass cannot be used: replaced, or not this centre's",
            )
            .into(),
        );
        return;
    };
    let now = clock::now();
    let mut refused = None;
    let done = as_staff(
        state,
        "points award",
        |store, actor, cal| match desk::points::award(
            store, actor, member.id, &activity, worth, cal, now,
        ) {
            Ok(a) => Ok(Some((a.posting, a.balance))),
            Err(e @ (PointsError::Refused(_) | PointsError::UnknownMember(_))) => {
                refused = Some(refusal(&e, zh));
                Ok(None)
            }
            Err(e) => Err(e),
        },
    );
    let row = match (done.flatten(), refused) {
        (Some((posting, balance)), _) => AwardRow {
            posting: i32::try_from(posting).unwrap_or(0),
            name: member.name.as_str().into(),
            text: tr_args(zh, "+{0}, {1} in all", &[&worth, &balance]).into(),
            ok: true,
            reversible: true,
        },
        (None, reason) => AwardRow {
            posting: 0,
            name: member.name.as_str().into(),
            text: reason
                .unwrap_or_else(|| tr(zh, "Not saved; please try again").into())
                .into(),
            ok: false,
            reversible: false,
        },
    };
    {
        let mut s = state.borrow_mut();
        s.award.rows.insert(0, row);
    }
    window.global::<KioskAdapter>().set_award_message("".into());
    show(window, state);
}

/// "Undo: wrong person" on an award.
pub(super) fn reverse(window: &KioskWindow, state: &Rc<RefCell<State>>, posting: i32) {
    let zh = zh(state);
    let now = clock::now();
    let done = as_staff(state, "points reverse", |store, actor, cal| {
        desk::points::reverse(store, actor, i64::from(posting), REVERSAL_REASON, cal, now)
    });
    {
        let mut s = state.borrow_mut();
        if let Some(row) = s.award.rows.iter_mut().find(|r| r.posting == posting) {
            row.reversible = false;
            if done.is_some() {
                row.ok = false;
                row.text = tr(zh, "undone").into();
            }
        }
    }
    if done.is_none() {
        window
            .global::<KioskAdapter>()
            .set_award_message(tr(zh, "Cannot undo: the points may have been spent").into());
    }
    show(window, state);
}

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

use super::language::Language;
use super::shell::{self, State};
use super::staff_adapter::{NotDone, as_staff};
use super::{ActivityChoice, AwardAdapter, AwardRow, KioskWindow};
use crate::controller::award::{AwardLine, AwardPage, Outcome};
use crate::controller::router::{ScanMeans, Screen};
use crate::words::{tr, tr_args};
use keting_desk as desk;
use keting_desk::points::PointsError;

/// The reason a reversal on the screen records (a ledger memo, kept in
/// both languages).
pub const REVERSAL_REASON: &str = desk::points::WRONG_PERSON;

fn zh(state: &Rc<RefCell<State>>) -> bool {
    state.borrow().language == Language::Chinese
}

/// Opens the page with the recent activities (the newest chosen).
pub(super) fn open(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    let recent = desk::points::recent_occasions(state.borrow().desk.store(), 8).unwrap_or_default();
    state.borrow_mut().award = AwardPage::open(recent);
    let adapter = window.global::<AwardAdapter>();
    adapter.set_message("".into());
    show(window, state);
    shell::show_page(window, state, Screen::Award);
}

fn show(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    let s = state.borrow();
    let adapter = window.global::<AwardAdapter>();
    let zh = s.language == Language::Chinese;
    let choices: Vec<ActivityChoice> = s
        .award
        .choices()
        .map(|((name, worth), selected)| ActivityChoice {
            name: name.as_str().into(),
            points: i32::try_from(*worth).unwrap_or(i32::MAX),
            selected,
        })
        .collect();
    adapter.set_occasions(ModelRc::new(VecModel::from(choices)));
    let rows: Vec<AwardRow> = s.award.lines().iter().map(|l| row(zh, l)).collect();
    adapter.set_rows(ModelRc::new(VecModel::from(rows)));
}

/// An activity was tapped.
pub(super) fn choose(window: &KioskWindow, state: &Rc<RefCell<State>>, name: &str, worth: i32) {
    state.borrow_mut().award.choose(name, Points::from(worth));
    show(window, state);
}

/// One award line in the screen's language.
fn row(zh: bool, line: &AwardLine) -> AwardRow {
    let (text, ok) = match &line.outcome {
        Outcome::Awarded { worth, balance, .. } => {
            (tr_args(zh, "+{0}, {1} in all", &[worth, balance]), true)
        }
        Outcome::AlreadyAwarded => (tr(zh, "already awarded for this activity"), false),
        Outcome::OverDailyCap { left } => (
            tr_args(zh, "over today's cap: {0} points left", &[left]),
            false,
        ),
        Outcome::Refused(why) => (why.clone(), false),
        Outcome::NotSaved => (tr(zh, "Not saved; please try again"), false),
        Outcome::Undone => (tr(zh, "undone"), false),
    };
    AwardRow {
        posting: match line.outcome {
            Outcome::Awarded { posting, .. } => i32::try_from(posting).unwrap_or(0),
            _ => 0,
        },
        name: line.name.as_str().into(),
        text: text.into(),
        ok,
        reversible: line.reversible().is_some(),
    }
}

/// A volunteer scanned: award them.
pub(super) fn scan(window: &KioskWindow, state: &Rc<RefCell<State>>, text: &str) {
    let zh = zh(state);
    let Some((activity, worth)) = state.borrow().award.activity().cloned() else {
        window
            .global::<AwardAdapter>()
            .set_message(tr(zh, "Choose the activity first").into());
        return;
    };
    let claims = state
        .borrow()
        .desk
        .verifier()
        .verify(text.trim(), shell::now(state));
    let member = claims.ok().and_then(|c| {
        keting_desk::members::get(state.borrow().desk.store(), c.member)
            .ok()
            .filter(|m| m.epoch == c.epoch)
    });
    let Some(member) = member else {
        window.global::<AwardAdapter>().set_message(
            tr(
                zh,
                "This pass cannot be used: replaced, or not this centre's",
            )
            .into(),
        );
        return;
    };
    let now = shell::now(state);
    let outcome = as_staff(
        state,
        keting_core::staff::StaffAction::Points,
        |store, actor, cal| match desk::points::award(
            store, actor, member.id, &activity, worth, cal, now,
        ) {
            Ok(a) => Ok(Outcome::Awarded {
                posting: a.posting,
                worth,
                balance: a.balance,
            }),
            Err(PointsError::Refused(PointsRefusal::AlreadyAwarded)) => Ok(Outcome::AlreadyAwarded),
            Err(PointsError::Refused(PointsRefusal::OverDailyEarnCap { left })) => {
                Ok(Outcome::OverDailyCap { left })
            }
            Err(e @ (PointsError::Refused(_) | PointsError::UnknownMember(_))) => {
                Ok(Outcome::Refused(e.to_string()))
            }
            Err(e) => Err(e),
        },
    )
    .unwrap_or_else(|not| match not {
        NotDone::Role(_) => Outcome::Refused(not.say(zh)),
        NotDone::Failed => Outcome::NotSaved,
    });
    state
        .borrow_mut()
        .award
        .record(member.name.clone(), outcome);
    window.global::<AwardAdapter>().set_message("".into());
    show(window, state);
}

/// "Undo: wrong person" on an award.
pub(super) fn reverse(window: &KioskWindow, state: &Rc<RefCell<State>>, posting: i32) {
    let zh = zh(state);
    let now = shell::now(state);
    let done = as_staff(
        state,
        keting_core::staff::StaffAction::Points,
        |store, actor, cal| {
            desk::points::reverse(store, actor, i64::from(posting), REVERSAL_REASON, cal, now)
        },
    );
    state
        .borrow_mut()
        .award
        .undone(i64::from(posting), done.is_ok());
    match done {
        Ok(_) => {}
        Err(NotDone::Failed) => window
            .global::<AwardAdapter>()
            .set_message(tr(zh, "Cannot undo: the points may have been spent").into()),
        Err(not) => window
            .global::<AwardAdapter>()
            .set_message(not.say(zh).into()),
    }
    show(window, state);
}

/// Wires the award page's callbacks and its scans (a volunteer awarded).
pub(super) fn wire(window: &KioskWindow, state: &Rc<RefCell<State>>) {
    let adapter = window.global::<AwardAdapter>();
    let b = shell::Binder::new(window, state);
    shell::wire!(b, adapter.on_open() => touched |w, s| open(w, s));
    shell::wire!(b, adapter.on_choose(name, worth) => touched |w, s| choose(w, s, &name, worth));
    shell::wire!(b, adapter.on_reverse(posting) => touched |w, s| reverse(w, s, posting));
    state.borrow_mut().hooks.scan(ScanMeans::Award, scan);
}
